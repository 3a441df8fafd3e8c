// The stories the demo and the teaching guide tell, checked on their traces (not their wording):
// `pnpm demo` ends with the signature moment (issue 4 §9) after the session-sync part (issue 3 §9);
// end-is-not-kill shows an ended session's record coming back while its operation runs
// (logical_session_cache_impl.cpp `_refresh`, ServiceLiaison::getActiveOpSessions) and expiring after.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TraceEvent } from "sessionsim";
import { findScenario } from "../src/scenarios/index.js";
import { runScenario } from "../src/run-scenario.js";

type Ev = TraceEvent & Record<string, unknown>;

async function traceOf(name: string, seed: number): Promise<Ev[]> {
  const scenario = findScenario(name);
  assert.ok(scenario, name);
  const { cluster } = await runScenario(scenario, { seed });
  const trace = cluster.trace() as Ev[];
  await cluster.stop();
  return trace;
}

const notes = (trace: readonly Ev[]): Ev[] => trace.filter((e) => e.type === "note");
const noteIndex = (trace: readonly Ev[], re: RegExp): number => notes(trace).findIndex((e) => re.test(String(e.text)));

for (const seed of [1, 7])
  void describe(`demo (seed ${seed})`, () => {
    let trace: Ev[] = [];
    void test("runs", async () => {
      trace = await traceOf("demo", seed);
    });

    void test("a session is local at once, in $listSessions only after mongos0's refresh", () => {
      const order = [
        /\$listLocalSessions\): true/,
        /\$listSessions\): false — not until mongos0 refreshes/,
        /refresh timer has fired: in \$listSessions now: true/,
      ].map((re) => noteIndex(trace, re));
      assert.ok(
        order.every((i) => i >= 0),
        JSON.stringify(notes(trace).map((n) => n.text)),
      );
      assert.deepEqual(
        [...order].sort((p, q) => p - q),
        order,
      );
      const listed = notes(trace)[order[2]];
      const refresh = trace.find((e) => e.type === "refresh.end" && e.node === "mongos0" && e.ok === true);
      assert.ok(refresh !== undefined && refresh.seq < listed.seq, "listed after mongos0's refresh");
    });

    void test("it ends with the signature moment: prepared survives the kill and commits, unprepared is aborted", () => {
      const issued = trace.find((e) => e.type === "net.deliver" && e.label === "killAllSessions");
      assert.ok(issued, "killAllSessions is issued");
      const firstKill = issued.seq;
      const kill = trace.filter((e) => e.type === "kill.local" && e.seq > firstKill);
      assert.equal(kill.length, 2, "killAllSessions reaches both shards");
      const coord = trace.find((e) => e.type === "coord.create");
      assert.ok(coord, "A has a coordinator");
      const a = coord.lsid;
      const states = (lsid: unknown) => trace.filter((e) => e.type === "txn.state" && e.lsid === lsid);
      // A reached sendingPrepare and both participants were prepared before the kill...
      assert.ok(
        trace.some(
          (e) => e.type === "coord.step" && e.lsid === a && e.action === "sendingPrepare" && e.seq < firstKill,
        ),
        "A's coordinator reached sendingPrepare before the kill",
      );
      const prepared = states(a).filter((e) => e.to === "Prepared" && e.seq < firstKill);
      assert.deepEqual(new Set(prepared.map((e) => e.node)), new Set(["shard0", "shard1"]));
      assert.ok(
        kill.every((k) => Number(k.skippedPrepared) === 1),
        "each shard's kill left A's prepared transaction alone",
      );
      // ...nothing aborted it, and it committed on both after the kill.
      assert.ok(!states(a).some((e) => String(e.to).startsWith("Aborted")), "A is never aborted");
      const committed = states(a).filter((e) => e.to === "Committed");
      assert.deepEqual(new Set(committed.map((e) => e.node)), new Set(["shard0", "shard1"]));
      assert.ok(
        committed.every((e) => e.seq > firstKill),
        "A commits after the kill",
      );
      // B, unprepared on another session, was aborted by the kill itself.
      const bAbort = trace.find(
        (e) =>
          e.type === "txn.state" && e.lsid !== a && e.to === "AbortedWithoutPrepare" && /kill/.test(String(e.reason)),
      );
      assert.ok(bAbort && bAbort.seq > firstKill, "B is aborted by the kill");
      assert.equal(bAbort.node, "shard0");
      // The story ends there: no crash or restart after the kill, and the last note is A's commit.
      assert.ok(
        !trace.some((e) => (e.type === "node.crash" || e.type === "node.restart") && e.seq > firstKill),
        "no crash after the kill",
      );
      assert.ok(
        trace.some((e) => e.type === "node.crash" && e.seq < firstKill),
        "the crash part comes before",
      );
      const last = notes(trace).at(-1);
      assert.match(String(last?.text), /A \(prepared\) survived the kill and committed: commitTransaction ok 1/);
      assert.match(String(last?.text), /1=50, 101=50/);
      assert.ok((last?.seq ?? 0) > Math.max(...committed.map((e) => e.seq)), "the last note follows the commit");
    });
  });

for (const seed of [1, 3])
  void describe(`end-is-not-kill (seed ${seed})`, () => {
    void test("the ended session's record is deleted, comes back while the sleep runs, then only expires", async () => {
      const trace = await traceOf("end-is-not-kill", seed);
      const end = trace.find((e) => e.type === "session.end");
      assert.ok(end, "the session is ended");
      const sleepReply = trace.find((e) => e.type === "cmd.reply" && e.command === "sleep");
      assert.ok(sleepReply && sleepReply.ok === true, "the sleep finishes normally");
      const shardRefreshes = trace.filter((e) => e.type === "refresh.end" && e.node === "shard0" && e.seq > end.seq);
      // The refresh that processes endSessions deletes the record and writes nothing...
      assert.equal(shardRefreshes[0].ended, 1);
      assert.equal(shardRefreshes[0].refreshed, 0);
      // ...the next one, with the sleep still running, writes it again (getActiveOpSessions)...
      assert.ok(shardRefreshes[1].seq < sleepReply.seq, "a refresh while the sleep runs");
      assert.equal(shardRefreshes[1].refreshed, 1);
      // ...and once the sleep is over no refresh writes it: the TTL index deletes it.
      const after = shardRefreshes.filter((e) => e.seq > sleepReply.seq);
      assert.ok(after.length >= 1 && after.every((e) => e.refreshed === 0), "no refresh writes it after the sleep");
      const ttl = trace.find((e) => e.type === "ttl.expire" && e.ns === "config.system.sessions");
      assert.ok(ttl && ttl.seq > sleepReply.seq, "the TTL index deletes the record");
      assert.ok(noteIndex(trace, /the record is back: true/) >= 0, "narrated");
      assert.ok(
        noteIndex(trace, /TTL monitor has deleted the record/) > noteIndex(trace, /the sleep finished normally/),
      );
    });
  });
