// Unit tests of the invariant library on synthetic traces: each invariant flags a planted
// violation and stays quiet on the correct variant of the same story.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Binary, UUID, type TraceEvent } from "sessionsim";
import {
  cacheWithinMaxSessions,
  checkTrace,
  crossShardAtomicity,
  invariantContext,
  killMatcher,
  killNeverAbortsPrepared,
  noCursorSurvivesKill,
  noNodeBug,
  sessionKey,
  sessionUid,
  ttlNotEarly,
  txnNumberMonotone,
  uidHex,
  type SafetyInvariant,
} from "@sessionsim/testing";

const T0 = Date.UTC(2026, 0, 1);
const LSID = "6f1a3c4e-2b7d-4e59-9a1c-0d2e3f405162";
const ID = new UUID(LSID);
const NOAUTH = new Binary(new Uint8Array(Buffer.from(uidHex(sessionUid(false, undefined)), "hex")), 0);

/** Builds a trace from partial events (time in seconds after the epoch, seq in order). */
function trace(...events: (Record<string, unknown> & { t: number; node: string; type: string })[]): TraceEvent[] {
  return events.map(({ t, ...e }, seq) => ({ time: T0 + t * 1000, seq, ...e }) as unknown as TraceEvent);
}

let msg = 0;
/** A request from `from` to `to` (net.send + net.deliver), optionally answered (cmd.reply). */
function request(
  t: number,
  from: string,
  to: string,
  command: Record<string, unknown>,
  reply?: { ok: boolean; codeName?: string },
) {
  const msgId = ++msg;
  const name = Object.keys(command)[0];
  const out: (Record<string, unknown> & { t: number; node: string; type: string })[] = [
    { t, node: from, type: "net.send", to, msgId, label: name, payload: { db: "admin", command } },
    { t, node: to, type: "net.deliver", from, msgId, label: name, sentAt: T0 + t * 1000 },
  ];
  if (reply !== undefined)
    out.push({ t, node: to, type: "cmd.reply", opId: msgId, command: name, db: "admin", client: from, ...reply });
  return out;
}

const txn = (t: number, node: string, txnNumber: number, from: string, to: string, reason = "test") => ({
  t,
  node,
  type: "txn.state",
  lsid: LSID,
  txnNumber,
  from,
  to,
  reason,
});

function violationsOf(inv: SafetyInvariant, events: TraceEvent[], params: Record<string, number> = {}) {
  return checkTrace(events, invariantContext({ parameters: params }), [inv]);
}

void describe("safety invariants on synthetic traces", () => {
  void test("no-node-bug flags a node.bug with the request that caused it", () => {
    const v = violationsOf(
      noNodeBug,
      trace(...request(1, "client1", "mongos0", { split: {} }), {
        t: 1,
        node: "mongos0",
        type: "node.bug",
        opId: 1,
        command: "split",
        error: "TypeError: boom",
      }),
    );
    assert.equal(v.length, 1);
    assert.match(v[0].message, /TypeError: boom/);
    assert.equal(v[0].events.at(-1)?.type, "node.bug");
    assert.ok(v[0].events.some((e) => e.type === "net.send"));
  });

  void test("kill-never-aborts-prepared: a prepared participant aborted by a kill is flagged; by abortTransaction it is not", () => {
    const prepared = [txn(1, "shard0", 1, "None", "InProgress"), txn(2, "shard0", 1, "InProgress", "Prepared")];
    const byKill = trace(
      ...prepared,
      ...request(3, "mongos0", "shard0", { killAllSessionsByPattern: [] }, { ok: true }),
      txn(3, "shard0", 1, "Prepared", "AbortedWithPrepare"),
    );
    const v = violationsOf(killNeverAbortsPrepared, byKill);
    assert.equal(v.length, 1);
    assert.match(v[0].message, /without an abortTransaction.*killAllSessionsByPattern/);
    const byDecision = trace(
      ...prepared,
      ...request(
        3,
        "shard0",
        "shard0",
        { abortTransaction: 1, lsid: { id: ID, uid: NOAUTH }, txnNumber: 1 },
        { ok: true },
      ),
      txn(3, "shard0", 1, "Prepared", "AbortedWithPrepare"),
    );
    assert.deepEqual(violationsOf(killNeverAbortsPrepared, byDecision), []);
  });

  void test("cross-shard-atomicity: committed on one participant, aborted after prepare on another", () => {
    const v = violationsOf(
      crossShardAtomicity,
      trace(txn(1, "shard0", 4, "Prepared", "Committed"), txn(1, "shard1", 4, "Prepared", "AbortedWithPrepare")),
    );
    assert.equal(v.length, 1);
    assert.deepEqual(
      violationsOf(
        crossShardAtomicity,
        trace(txn(1, "shard0", 4, "Prepared", "Committed"), txn(1, "shard1", 4, "Prepared", "Committed")),
      ),
      [],
    );
    const againstDecision = trace(
      { t: 1, node: "shard0", type: "coord.decision", lsid: LSID, txnNumber: 4, decision: "commit" },
      txn(2, "shard1", 4, "Prepared", "AbortedWithPrepare"),
    );
    assert.equal(violationsOf(crossShardAtomicity, againstDecision).length, 1);
  });

  void test("txn-number-monotone: a session going back to an older number; restarts keep durable numbers", () => {
    assert.equal(
      violationsOf(
        txnNumberMonotone,
        trace(txn(1, "shard0", 5, "None", "InProgress"), txn(2, "shard0", 3, "None", "InProgress")),
      ).length,
      1,
    );
    // After a crash only durable numbers survive: an unprepared transaction's number may be reused.
    assert.deepEqual(
      violationsOf(
        txnNumberMonotone,
        trace(
          txn(1, "shard0", 2, "None", "Committed"),
          txn(2, "shard0", 5, "None", "InProgress"),
          { t: 3, node: "shard0", type: "node.crash" },
          txn(4, "shard0", 3, "None", "InProgress"),
        ),
      ),
      [],
    );
    assert.equal(
      violationsOf(
        txnNumberMonotone,
        trace(
          txn(1, "shard0", 2, "None", "Committed"),
          { t: 3, node: "shard0", type: "node.crash" },
          txn(4, "shard0", 1, "None", "InProgress"),
        ),
      ).length,
      1,
    );
  });

  void test("ttl-not-early: a record deleted before lastUse + timeout", () => {
    const upsert = request(
      0,
      "mongos0",
      "shard0",
      { update: "system.sessions", updates: [{ q: { _id: { id: ID, uid: NOAUTH } }, u: [], upsert: true }] },
      { ok: true },
    );
    (upsert[0].payload as { db: string }).db = "config";
    const early = trace(...upsert, {
      t: 600,
      node: "shard0",
      type: "ttl.expire",
      ns: "config.system.sessions",
      ids: [{ id: ID, uid: NOAUTH }],
    });
    assert.equal(violationsOf(ttlNotEarly, early).length, 1);
    const onTime = trace(...upsert, {
      t: 1801,
      node: "shard0",
      type: "ttl.expire",
      ns: "config.system.sessions",
      ids: [{ id: ID, uid: NOAUTH }],
    });
    assert.deepEqual(violationsOf(ttlNotEarly, onTime), []);
  });

  void test("ttl-not-early compares whole milliseconds, as BSON dates do (found by the 10,000-seed sweep, seed 4813)", () => {
    // The upsert lands 0.4 ms into a millisecond: its lastUse is that millisecond; the TTL
    // monitor may delete it at exactly lastUse + 1800 s, not 0.4 ms later.
    const upsert = request(
      0.0004,
      "mongos0",
      "shard0",
      { update: "system.sessions", updates: [{ q: { _id: { id: ID, uid: NOAUTH } }, u: [], upsert: true }] },
      { ok: true },
    );
    (upsert[0].payload as { db: string }).db = "config";
    const expire = (t: number) => ({
      t,
      node: "shard0",
      type: "ttl.expire",
      ns: "config.system.sessions",
      ids: [{ id: ID, uid: NOAUTH }],
    });
    assert.deepEqual(violationsOf(ttlNotEarly, trace(...upsert, expire(1800))), []);
    assert.equal(violationsOf(ttlNotEarly, trace(...upsert, expire(1799.999))).length, 1, "one millisecond early");
  });

  void test("no-cursor-survives-kill: a matching cursor still open after the kill answered", () => {
    const open = { t: 1, node: "mongos0", type: "cursor.open", cursorId: "7", ns: "test.items", lsid: LSID };
    const use = request(1, "client1", "mongos0", { find: "items", lsid: { id: ID } }, { ok: true });
    const survives = trace(
      ...use,
      open,
      ...request(2, "client2", "mongos0", { killSessions: [{ id: ID }] }, { ok: true }),
    );
    assert.equal(violationsOf(noCursorSurvivesKill, survives).length, 1);
    const closed = trace(
      ...use,
      open,
      ...request(2, "client2", "mongos0", { killSessions: [{ id: ID }] }).slice(0, 2),
      {
        t: 2,
        node: "mongos0",
        type: "cursor.close",
        cursorId: "7",
        ns: "test.items",
        lsid: LSID,
        reason: "killSessions",
      },
      {
        t: 2,
        node: "mongos0",
        type: "cmd.reply",
        opId: 99,
        command: "killSessions",
        db: "admin",
        client: "client2",
        ok: true,
      },
    );
    assert.deepEqual(violationsOf(noCursorSurvivesKill, closed), []);
  });

  void test("cache-within-max-sessions: more sessions added than maxSessions between refreshes", () => {
    const vivify = (t: number, i: number) => ({
      t,
      node: "mongos0",
      type: "session.vivify",
      id: `00000000-0000-4000-8000-00000000000${i}`,
      uid: "ab",
    });
    assert.equal(
      violationsOf(cacheWithinMaxSessions, trace(vivify(1, 1), vivify(2, 2), vivify(3, 3)), { maxSessions: 2 }).length,
      1,
    );
    const refreshed = trace(
      vivify(1, 1),
      vivify(2, 2),
      { t: 3, node: "mongos0", type: "refresh.start" },
      { t: 3, node: "mongos0", type: "refresh.end", ok: true, refreshed: 2, ended: 0, failed: 0, cursorsClosed: 0 },
      vivify(4, 3),
    );
    assert.deepEqual(violationsOf(cacheWithinMaxSessions, refreshed, { maxSessions: 2 }), []);
  });
});

void describe("kill matcher (SessionKiller::Matcher)", () => {
  const alice = { user: "alice", db: "test" };
  const aliceUid = uidHex(sessionUid(true, alice));
  const bobUid = uidHex(sessionUid(true, { user: "bob", db: "test" }));
  const k = (uid: string) => sessionKey("6f1a3c4e2b7d4e599a1c0d2e3f405162", uid);
  void test("killSessions: [] kills the caller's sessions with auth, everything without", () => {
    assert.ok(killMatcher({ db: "admin", command: { killSessions: [] }, user: alice }, true)(k(aliceUid)));
    assert.ok(!killMatcher({ db: "admin", command: { killSessions: [] }, user: alice }, true)(k(bobUid)));
    assert.ok(killMatcher({ db: "admin", command: { killSessions: [] } }, false)(k(bobUid)));
  });
  void test("patterns: uid wins over lsid; users-only patterns kill everything", () => {
    const byUid = killMatcher(
      { db: "admin", command: { killAllSessionsByPattern: [{ uid: new Binary(Buffer.from(bobUid, "hex"), 0) }] } },
      true,
    );
    assert.ok(byUid(k(bobUid)) && !byUid(k(aliceUid)));
    assert.ok(
      killMatcher({ db: "admin", command: { killAllSessionsByPattern: [{ users: [alice] }] } }, true)(k(bobUid)),
    );
    assert.ok(killMatcher({ db: "admin", command: { killAllSessions: [alice] } }, true)(k(aliceUid)));
    assert.ok(!killMatcher({ db: "admin", command: { killAllSessions: [alice] } }, true)(k(bobUid)));
  });
});
