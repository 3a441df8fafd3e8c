// Unit tests of the "why" explanations (why.ts) on synthetic traces: each answer's reasoning and
// the events it points at.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { analyze } from "../src/analysis.js";
import {
  explain,
  explanationText,
  referencedSeqs,
  whyCursorKilled,
  whyNotListed,
  whyRecordExpired,
  whySurvivedKill,
  answerParts,
} from "../src/why.js";
import { MIN, S1, S2, TraceBuilder } from "./trace-builder.js";

void describe("why is this session not in $listSessions (yet)?", () => {
  void test("the node that saw it has not refreshed since; its next refresh writes it", () => {
    const b = new TraceBuilder();
    const earlier = b.refresh("mongos0", "shard0", []);
    const start = b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    const list = b
      .at(20)
      .request("client1", "mongos0", "config", { aggregate: "system.sessions", pipeline: [{ $listSessions: {} }] });
    b.at(5 * MIN);
    const next = b.refresh("mongos0", "shard1", [S1]);
    const a = analyze(b.events);
    const x = whyNotListed(a, S1, list.deliver.seq);
    const text = explanationText(x);
    assert.equal(x.kind, "notListed");
    assert.match(x.question, /^Why is session 11111111 not in \$listSessions at \+00:00:00\.021\?$/);
    assert.match(text, /mongos0 started it with startSession at \+00:00:00\.010 \(#\d+\) and has not refreshed since/);
    assert.match(text, /its previous refresh was at/);
    assert.match(text, /written at \+00:05:00\.\d+ \(#\d+\) by mongos0's refresh/);
    for (const seq of [start.seq, earlier.start.seq, next.upsert?.seq ?? -1])
      assert.ok(x.causes.includes(seq), `cause ${seq}`);
    assert.equal(x.subject, list.deliver.seq);
  });

  void test("once a refresh wrote it, the answer says it is listed", () => {
    const b = new TraceBuilder();
    b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    const r = b.at(MIN).refresh("mongos0", "shard0", [S1]);
    const x = whyNotListed(analyze(b.events), S1, r.end.seq);
    assert.equal(x.kind, "listed");
    assert.ok(x.causes.includes(r.upsert?.seq ?? -1));
  });

  void test("a crash before the refresh loses the session", () => {
    const b = new TraceBuilder();
    b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    const crash = b.at(20).add("mongos0", "node.crash");
    b.at(30).add("mongos0", "node.restart", { incarnation: 2 });
    const probe = b.at(6 * MIN).add("scenario", "note", { text: "$listSessions now" });
    const x = whyNotListed(analyze(b.events), S1, probe.seq);
    assert.match(
      explanationText(x),
      /then crashed at \+00:00:00\.020 \(#\d+\) before refreshing: the session was only in mongos0's memory/,
    );
    assert.ok(x.causes.includes(crash.seq));
  });

  void test("asked right after first use, the answer tells of the crash that follows", () => {
    const b = new TraceBuilder();
    const start = b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    const crash = b.at(20).add("mongos0", "node.crash");
    const x = whyNotListed(analyze(b.events), S1, start.seq);
    assert.match(explanationText(x), /Then mongos0 crashed at \+00:00:00\.020/);
    assert.ok(x.causes.includes(crash.seq));
  });

  void test("a failed refresh keeps it for the next attempt", () => {
    const b = new TraceBuilder();
    b.at(10).add("shard0", "session.vivify", { id: S1, uid: "e3b0" });
    b.at(MIN).add("shard0", "refresh.start");
    const end = b.add("shard0", "refresh.end", {
      ok: false,
      refreshed: 0,
      ended: 0,
      failed: 1,
      cursorsClosed: 0,
      codeName: "HostUnreachable",
    });
    const probe = b.at(2 * MIN).add("scenario", "note", { text: "probe" });
    const x = whyNotListed(analyze(b.events), S1, probe.seq);
    assert.match(
      explanationText(x),
      /shard0 first saw it at .* its refresh at .* failed \(HostUnreachable\), so it kept the session in its cache/,
    );
    assert.ok(x.causes.includes(end.seq));
    assert.match(explanationText(x), /The run ended before shard0's next refresh/);
  });

  void test("an expired record: which refresh wrote it last, and why nobody wrote it again", () => {
    const b = new TraceBuilder();
    b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    const r = b.at(MIN).refresh("mongos0", "shard0", [S1]);
    const ttl = b
      .at(32 * MIN)
      .add("shard0", "ttl.expire", { ns: "config.system.sessions", ids: [{ id: S1, uid: "e3b0" }] });
    const probe = b.at(33 * MIN).add("scenario", "note", { text: "probe" });
    const text = explanationText(whyNotListed(analyze(b.events), S1, probe.seq));
    assert.match(text, /TTL monitor on shard0 deleted it at \+00:32:00\.000 \(#\d+\) \(expired\)/);
    assert.match(
      text,
      new RegExp(
        `its refresh wrote the record at \\+00:01:00\\.\\d+ \\(#${r.upsert?.seq}\\), and nobody used the session on mongos0 after that`,
      ),
    );
    void ttl;
  });

  // end-is-not-kill: LogicalSessionCacheImpl::_refresh (logical_session_cache_impl.cpp) upserts the
  // session of every running operation (ServiceLiaison::getActiveOpSessions) unless it is being
  // ended in that very refresh, so an ended session's record comes back while its operation runs.
  void test("an ended session's record comes back while an operation in it runs, and expires after", () => {
    const b = new TraceBuilder();
    b.at(1).add("shard0", "session.start", { id: S1, uid: "e3b0" });
    b.at(2).refresh("shard0", "shard0", [S1]);
    const { msgId } = b.at(10).send("client1", "shard0", "sleep", {
      db: "admin",
      command: { sleep: 1, secs: 60, lsid: { id: S1 } },
    });
    const sleep = b.at(11).deliver("client1", "shard0", msgId, "sleep", 10);
    b.add("shard0", "session.vivify", { id: S1, uid: "e3b0" });
    b.at(1000).add("shard0", "session.end", { id: S1, uid: "e3b0" });
    b.at(1010).refresh("shard0", "shard0", [], [S1]);
    const gone = b.at(1020).add("scenario", "note", { text: "$listSessions" });
    const again = b.at(1030).refresh("shard0", "shard0", [S1]);
    const later = b.at(30_000).refresh("shard0", "shard0", [S1]);
    const done = b
      .at(60_011)
      .add("shard0", "cmd.reply", { opId: msgId, command: "sleep", db: "admin", client: "client1", ok: true });
    b.send("shard0", "client1", "sleep:reply");
    b.at(5 * MIN).refresh("shard0", "shard0", []);
    const ttl = b
      .at(31 * MIN)
      .add("shard0", "ttl.expire", { ns: "config.system.sessions", ids: [{ id: S1, uid: "e3b0" }] });
    const a = analyze(b.events);

    const x = whyNotListed(a, S1, gone.seq);
    const text = explanationText(x);
    assert.match(text, /ended by endSessions at \+00:00:01\.000/);
    assert.match(
      text,
      new RegExp(
        `written again at \\+00:00:01\\.\\d+ \\(#${again.upsert?.seq}\\) by shard0's refresh, although the session had been ended: sleep \\(#${sleep.seq}\\), an operation in the session, was still running on shard0`,
      ),
    );
    assert.match(text, /upserts the session of each operation running on the node \(getActiveOpSessions/);
    assert.match(text, /does not stop the operation/);
    assert.match(
      text,
      new RegExp(`The operation finished at \\+00:01:00\\.011 \\(#${done.seq}\\); shard0's refresh at \\+00:00:30`),
    );
    assert.match(
      text,
      /no later refresh wrote it: the record stayed until the TTL monitor on shard0 deleted it at \+00:31:00\.000/,
    );
    assert.doesNotMatch(text, /from then on \$listSessions shows it/);
    for (const seq of [sleep.seq, again.upsert?.seq ?? -1, done.seq, later.upsert?.seq ?? -1, ttl.seq])
      assert.ok(x.causes.includes(seq), `cause ${seq}`);

    const expiry = whyRecordExpired(a, ttl, S1);
    const why = explanationText(expiry);
    assert.match(why, /upserted the record at \+00:00:30\.\d+/);
    assert.match(
      why,
      new RegExp(
        `That refresh wrote it because sleep \\(#${sleep.seq}\\), an operation in the session, was still running on shard0: .*even an ended one\\. The operation finished at \\+00:01:00\\.011`,
      ),
    );
    assert.doesNotMatch(why, /no node used it again/);
  });

  void test("without a running operation, a written record is shown until it is removed", () => {
    const b = new TraceBuilder();
    const start = b.at(1).add("shard0", "session.start", { id: S1, uid: "e3b0" });
    const up = b.at(MIN).refresh("shard0", "shard0", [S1]);
    b.at(2 * MIN).add("shard0", "session.end", { id: S1, uid: "e3b0" });
    b.at(3 * MIN).refresh("shard0", "shard0", [], [S1]);
    const text = explanationText(whyNotListed(analyze(b.events), S1, start.seq));
    assert.match(
      text,
      new RegExp(
        `written at \\+00:01:00\\.\\d+ \\(#${up.upsert?.seq}\\) by shard0's refresh; \\$listSessions shows it from then on, until shard0's refresh deleted it at \\+00:03:00`,
      ),
    );
    assert.doesNotMatch(text, /getActiveOpSessions/);
  });
});

void describe("why did this transaction survive a kill?", () => {
  function killTrace(): {
    b: TraceBuilder;
    prepared: number;
    kill: number;
    step: number;
    commit: number;
    killCmd: number;
  } {
    const b = new TraceBuilder();
    b.at(1).add("shard1", "txn.state", { lsid: S1, txnNumber: 1, from: "None", to: "InProgress" });
    b.at(1).add("shard1", "txn.state", { lsid: S2, txnNumber: 4, from: "None", to: "InProgress" });
    b.at(2).add("shard0", "coord.step", { lsid: S1, txnNumber: 1, step: "waitingForVotes", action: "sendingPrepare" });
    const prep = b.at(3).request("shard0", "shard1", "admin", {
      prepareTransaction: 1,
      lsid: { id: S1 },
      txnNumber: 1,
      autocommit: false,
    });
    const prepared = b.at(4).add("shard1", "txn.state", { lsid: S1, txnNumber: 1, from: "InProgress", to: "Prepared" });
    void prep;
    const step = b.at(5).add("shard0", "coord.step", { lsid: S1, txnNumber: 1, step: "writingDecision" });
    const client = b.at(10).request("client1", "mongos0", "admin", { killAllSessions: [] });
    const fwd = b.at(11).request("mongos0", "shard1", "admin", { killAllSessionsByPattern: [{}] });
    b.add("shard1", "txn.state", { lsid: S2, txnNumber: 4, from: "InProgress", to: "AbortedWithoutPrepare" });
    const kill = b.add("shard1", "kill.local", {
      patterns: ["all"],
      abortedTransactions: 1,
      interruptedOps: 0,
      closedCursors: 0,
      skippedPrepared: 1,
    });
    const commit = b.at(20).add("shard1", "txn.state", { lsid: S1, txnNumber: 1, from: "Prepared", to: "Committed" });
    void fwd;
    return {
      b,
      prepared: prepared.seq,
      kill: kill.seq,
      step: step.seq,
      commit: commit.seq,
      killCmd: client.deliver.seq,
    };
  }

  void test("the participant was Prepared and its coordinator had completed sendingPrepare", () => {
    const { b, prepared, kill, step, commit, killCmd } = killTrace();
    const a = analyze(b.events);
    assert.equal(a.kills.length, 1);
    const k = a.kills[0];
    assert.deepEqual(
      k.prepared.map((t) => [t.lsid, t.txnNumber]),
      [[S1, "1"]],
      "only the prepared transaction is a survivor",
    );
    const x = whySurvivedKill(a, k, k.prepared[0]);
    const text = explanationText(x);
    assert.equal(x.question, "Why did transaction 1 of session 11111111 survive the kill on shard1 at +00:00:00.013?");
    assert.match(
      text,
      /client1 sent killAllSessions \(#\d+\) to mongos0, which forwarded it to every shard as killAllSessionsByPattern/,
    );
    assert.match(text, /aborts only unprepared transactions/);
    assert.match(text, /had been Prepared on shard1 since \+00:00:00\.004/);
    assert.match(text, /completed the sendingPrepare action .* at step writingDecision/);
    assert.match(text, /aborted 1 unprepared transaction on shard1/);
    assert.match(text, /it became committed at \+00:00:00\.020/);
    for (const seq of [prepared, step, commit, killCmd]) assert.ok(x.causes.includes(seq), `cause ${seq}`);
    assert.equal(x.subject, kill);
  });

  void test("explain() offers it", () => {
    const { b } = killTrace();
    assert.deepEqual(explain(b.events).filter((x) => x.kind === "survivedKill").length, 1);
  });
});

void describe("why was this cursor killed?", () => {
  void test("its session was ended: the node's refresh killed its cursors", () => {
    const b = new TraceBuilder();
    b.at(1).add("mongos0", "cursor.open", { cursorId: "42", ns: "db.c", lsid: S1 });
    const end = b.at(2).add("mongos0", "session.end", { id: S1, uid: "e3b0" });
    const r = b.at(5 * MIN).add("mongos0", "refresh.start");
    const close = b.add("mongos0", "cursor.close", { cursorId: "42", ns: "db.c", lsid: S1, reason: "sessionEnded" });
    b.add("mongos0", "refresh.end", { ok: true, refreshed: 0, ended: 1, failed: 0, cursorsClosed: 1 });
    const x = whyCursorKilled(analyze(b.events), close);
    assert.ok(x);
    assert.match(
      explanationText(x),
      /ended with endSessions on mongos0 at \+00:00:00\.002.*endSessions only queues the end/s,
    );
    assert.ok(x.causes.includes(end.seq) && x.causes.includes(r.seq));
  });

  void test("its session's record was gone at the node's refresh (expired)", () => {
    const b = new TraceBuilder();
    b.at(10).add("shard0", "session.vivify", { id: S1, uid: "e3b0" });
    b.at(11).add("shard0", "cursor.open", { cursorId: "9", ns: "db.c", lsid: S1 });
    const up = b.at(MIN).refresh("shard0", "shard0", [S1]);
    const ttl = b.at(32 * MIN).add("shard0", "ttl.expire", { ns: "config.system.sessions", ids: [S1] });
    b.at(36 * MIN).add("shard0", "refresh.start");
    b.request("shard0", "shard0", "config", { find: "system.sessions", filter: { _id: { $in: [{ id: S1 }] } } });
    const close = b.add("shard0", "cursor.close", { cursorId: "9", ns: "db.c", lsid: S1, reason: "sessionExpired" });
    const x = whyCursorKilled(analyze(b.events), close);
    assert.ok(x);
    const text = explanationText(x);
    assert.match(text, /looked session 11111111 up \(find \(#\d+\)\) and found no record, so it killed cursor 9/);
    assert.match(text, /TTL monitor on shard0 deleted it at \+00:32:00\.000/);
    assert.match(text, /An open cursor does not keep its session alive/);
    assert.ok(x.causes.includes(ttl.seq) && x.causes.includes(up.upsert?.seq ?? -1));
  });

  void test("a kill command matched its session", () => {
    const b = new TraceBuilder();
    b.at(1).add("shard0", "cursor.open", { cursorId: "5", ns: "db.c", lsid: S1 });
    const kill = b.at(2).request("mongos0", "shard0", "admin", { killAllSessionsByPattern: [{ lsid: { id: S1 } }] });
    const close = b.add("shard0", "cursor.close", { cursorId: "5", ns: "db.c", lsid: S1, reason: "killSessions" });
    const x = whyCursorKilled(analyze(b.events), close);
    assert.ok(x);
    assert.match(
      explanationText(x),
      /killAllSessionsByPattern \(#\d+\) from mongos0 matched session 11111111 on shard0/,
    );
    assert.match(explanationText(x), /The session itself survives a kill/);
    assert.ok(x.causes.includes(kill.deliver.seq));
  });

  void test("an exhausted cursor needs no explanation", () => {
    const b = new TraceBuilder();
    const close = b.add("shard0", "cursor.close", { cursorId: "5", ns: "db.c", lsid: S1, reason: "exhausted" });
    assert.equal(whyCursorKilled(analyze(b.events), close), undefined);
  });
});

void describe("why did this record expire?", () => {
  void test("last refresh that upserted it + 30 minutes, then the TTL monitor's pass", () => {
    const b = new TraceBuilder();
    b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    b.at(20).request("client1", "mongos0", "db", { find: "c", lsid: { id: S1 } });
    const early = b.at(MIN).refresh("mongos0", "shard0", [S1]);
    const last = b.at(2 * MIN).refresh("shard0", "shard0", [S1]);
    const timer = b.at(32 * MIN + 30_000).add("shard0", "timer.fire", { label: "TTLMonitor" });
    const ttl = b.add("shard0", "ttl.expire", {
      ns: "config.system.sessions",
      ids: [{ id: { $uuid: S1 }, uid: "e3b0" }],
    });
    const a = analyze(b.events);
    const x = whyRecordExpired(a, ttl, S1);
    const text = explanationText(x);
    assert.equal(x.question, "Why did session 11111111's record expire at +00:32:30.000?");
    assert.match(text, /shard0's refresh upserted the record at \+00:02:00\.\d+/);
    assert.match(
      text,
      /deletes a record 30 minutes \(localLogicalSessionTimeoutMinutes\) after its lastUse: from \+00:32:00\.\d+ on/,
    );
    assert.match(text, /runs every 60 seconds, deleted it at \+00:32:30\.000 \(#\d+\), 30 s after that/);
    assert.ok(x.causes.includes(last.upsert?.seq ?? -1));
    assert.ok(!x.causes.includes(early.upsert?.seq ?? -1), "an earlier refresh is not the cause");
    assert.ok(x.causes.includes(timer.seq));
  });
});

void test("explain() covers every kind, in trace order, with references that resolve", () => {
  const b = new TraceBuilder();
  b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
  b.at(11).add("mongos0", "cursor.open", { cursorId: "1", ns: "db.c", lsid: S1 });
  b.at(MIN).refresh("mongos0", "shard0", [S1]);
  b.at(32 * MIN).add("shard0", "ttl.expire", { ns: "config.system.sessions", ids: [S1] });
  b.at(35 * MIN).add("mongos0", "refresh.start");
  b.add("mongos0", "cursor.close", { cursorId: "1", ns: "db.c", lsid: S1, reason: "sessionExpired" });
  b.add("mongos0", "refresh.end", { ok: true, refreshed: 0, ended: 0, failed: 0, cursorsClosed: 1 });
  const all = explain(b.events);
  assert.deepEqual(
    all.map((x) => x.kind),
    ["notListed", "recordExpired", "cursorKilled"],
  );
  const seqs = new Set(b.events.map((e) => e.seq));
  for (const x of all) {
    for (const s of x.answer) for (const r of referencedSeqs(s)) assert.ok(seqs.has(r), `reference #${r} resolves`);
    assert.ok(x.causes.every((c) => seqs.has(c)));
    assert.ok(!x.causes.includes(x.subject));
  }
  assert.deepEqual(answerParts("see ⟨+00:00:01.000|#7⟩ now"), [
    { text: "see " },
    { ref: 7, label: "+00:00:01.000" },
    { text: " now" },
  ]);
});
