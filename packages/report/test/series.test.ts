// Unit tests of the report's time series (series.ts): session cache size, config.system.sessions
// records, open cursors, transactions by state and coordinator steps, from synthetic traces.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { computeSeries, valueAt, maxOf, type NodeSeries } from "../src/series.js";
import { EPOCH, MIN, S1, S2, TraceBuilder } from "./trace-builder.js";

const node = (s: ReturnType<typeof computeSeries>, name: string): NodeSeries => {
  const n = s.nodes.find((x) => x.node === name);
  assert.ok(n, `no series for ${name}`);
  return n;
};
const at = (ms: number): number => EPOCH + ms;

void describe("session cache size", () => {
  void test("grows with new sessions and empties at a successful refresh", () => {
    const b = new TraceBuilder();
    b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    b.at(20).add("mongos0", "session.vivify", { id: S2, uid: "e3b0" });
    b.at(20).add("shard0", "session.vivify", { id: S1, uid: "e3b0" });
    b.at(5 * MIN);
    b.refresh("mongos0", "shard0", [S1, S2]);
    const s = computeSeries(b.events);
    const m = node(s, "mongos0").cacheSize;
    assert.equal(valueAt(m, at(5)), 0);
    assert.equal(valueAt(m, at(15)), 1);
    assert.equal(valueAt(m, at(25)), 2);
    assert.equal(valueAt(m, at(5 * MIN + 10)), 0);
    assert.equal(maxOf(m), 2);
    assert.equal(valueAt(node(s, "shard0").cacheSize, at(5 * MIN + 10)), 1, "shard0 keeps its own cache");
  });

  void test("a failed refresh keeps the sessions for the next one", () => {
    const b = new TraceBuilder();
    b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    b.at(100).add("mongos0", "refresh.start");
    b.at(101).add("mongos0", "session.vivify", { id: S2, uid: "e3b0" });
    b.at(102).add("mongos0", "refresh.end", {
      ok: false,
      refreshed: 0,
      ended: 0,
      failed: 1,
      cursorsClosed: 0,
      codeName: "NamespaceNotSharded",
    });
    const m = node(computeSeries(b.events), "mongos0").cacheSize;
    assert.equal(valueAt(m, at(100)), 0, "swapped out during the refresh");
    assert.equal(valueAt(m, at(101)), 1);
    assert.equal(valueAt(m, at(102)), 2, "restored and merged with the session added meanwhile");
  });

  void test("a crash empties the cache", () => {
    const b = new TraceBuilder();
    b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    b.at(20).add("mongos0", "node.crash");
    b.at(30).add("mongos0", "node.restart", { incarnation: 2 });
    const m = node(computeSeries(b.events), "mongos0").cacheSize;
    assert.equal(valueAt(m, at(15)), 1);
    assert.equal(valueAt(m, at(25)), 0);
  });
});

void describe("config.system.sessions records", () => {
  void test("a refresh's acknowledged upserts add records on the shard; TTL expiry and deletes remove them", () => {
    const b = new TraceBuilder();
    b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    b.at(11).add("mongos0", "session.start", { id: S2, uid: "e3b0" });
    b.at(5 * MIN);
    b.refresh("mongos0", "shard1", [S1, S2]);
    b.at(6 * MIN).add("mongos0", "session.end", { id: S2, uid: "e3b0" });
    b.at(10 * MIN);
    b.refresh("mongos0", "shard1", [], [S2]);
    b.at(36 * MIN).add("shard1", "ttl.expire", { ns: "config.system.sessions", ids: [{ id: S1, uid: "e3b0" }] });
    const s = computeSeries(b.events);
    assert.equal(valueAt(s.sessionRecords, at(5 * MIN - 1)), 0);
    assert.equal(valueAt(s.sessionRecords, at(5 * MIN + 5)), 2);
    assert.equal(
      valueAt(node(s, "shard1").sessionRecords, at(5 * MIN + 5)),
      2,
      "stored on the shard that acknowledged",
    );
    assert.equal(valueAt(node(s, "mongos0").sessionRecords, at(5 * MIN + 5)), 0);
    assert.equal(
      valueAt(s.sessionRecords, at(10 * MIN + 5)),
      1,
      "the ended session's record is deleted at the next refresh",
    );
    assert.equal(valueAt(s.sessionRecords, at(36 * MIN)), 0, "expired");
  });

  void test("a failed write adds nothing", () => {
    const b = new TraceBuilder();
    b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    b.add("mongos0", "refresh.start");
    b.request(
      "mongos0",
      "shard0",
      "config",
      { update: "system.sessions", updates: [{ q: { _id: { id: S1 } }, upsert: true }] },
      { ok: false, codeName: "HostUnreachable" },
    );
    b.add("mongos0", "refresh.end", { ok: false, refreshed: 0, ended: 0, failed: 1, cursorsClosed: 0 });
    assert.equal(maxOf(computeSeries(b.events).sessionRecords), 0);
  });

  void test("without write messages (a trace without payloads), a successful refresh upserts its cache", () => {
    const b = new TraceBuilder();
    b.at(10).add("mongos0", "session.start", { id: S1, uid: "e3b0" });
    b.at(20).add("mongos0", "refresh.start");
    b.at(30).add("mongos0", "refresh.end", { ok: true, refreshed: 1, ended: 0, failed: 0, cursorsClosed: 0 });
    const s = computeSeries(b.events);
    assert.equal(valueAt(s.sessionRecords, at(25)), 0);
    assert.equal(valueAt(s.sessionRecords, at(30)), 1);
  });

  void test("an upsert of an existing record does not count it twice", () => {
    const b = new TraceBuilder();
    b.refresh("mongos0", "shard0", [S1]);
    b.at(MIN);
    b.refresh("shard0", "shard0", [S1]);
    assert.equal(maxOf(computeSeries(b.events).sessionRecords), 1);
  });
});

void describe("open cursors", () => {
  void test("count opens and closes per node; a crash closes them all", () => {
    const b = new TraceBuilder();
    b.at(1).add("shard0", "cursor.open", { cursorId: "7", ns: "db.c", lsid: S1 });
    b.at(2).add("shard0", "cursor.open", { cursorId: "8", ns: "db.c", lsid: S1 });
    b.at(3).add("shard0", "cursor.close", { cursorId: "7", ns: "db.c", lsid: S1, reason: "exhausted" });
    b.at(4).add("shard0", "cursor.open", { cursorId: "9", ns: "db.c" });
    b.at(5).add("shard0", "node.crash");
    const c = node(computeSeries(b.events), "shard0").openCursors;
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((t) => valueAt(c, at(t))),
      [1, 2, 1, 2, 0],
    );
  });
});

void describe("transactions by state", () => {
  void test("follow txn.state events; names lose MongoDB's capital and k prefix", () => {
    const b = new TraceBuilder();
    const st = (t: number, lsid: string, from: string, to: string): void => {
      b.at(t).add("shard0", "txn.state", { lsid, txnNumber: 1, from, to });
    };
    st(1, S1, "None", "InProgress");
    st(2, S2, "None", "InProgress");
    st(3, S1, "InProgress", "Prepared");
    st(4, S2, "InProgress", "kAbortedWithoutPrepare");
    st(5, S1, "Prepared", "Committed");
    const tx = node(computeSeries(b.events), "shard0").transactions;
    assert.deepEqual(Object.keys(tx).sort(), ["abortedWithoutPrepare", "committed", "inProgress", "prepared"]);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((t) => valueAt(tx.inProgress, at(t))),
      [1, 2, 1, 0, 0],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((t) => valueAt(tx.prepared, at(t))),
      [0, 0, 1, 1, 0],
    );
    assert.equal(valueAt(tx.committed, at(5)), 1);
  });

  void test("a crash forgets in-progress transactions but not prepared ones", () => {
    const b = new TraceBuilder();
    b.at(1).add("shard0", "txn.state", { lsid: S1, txnNumber: 1, from: "None", to: "InProgress" });
    b.at(1).add("shard0", "txn.state", { lsid: S2, txnNumber: 3, from: "None", to: "InProgress" });
    b.at(2).add("shard0", "txn.state", { lsid: S2, txnNumber: 3, from: "InProgress", to: "Prepared" });
    b.at(3).add("shard0", "node.crash");
    const tx = node(computeSeries(b.events), "shard0").transactions;
    assert.equal(valueAt(tx.inProgress, at(3)), 0);
    assert.equal(valueAt(tx.prepared, at(3)), 1);
  });

  void test("without txn.state events, the transaction commands' replies give the states", () => {
    const b = new TraceBuilder();
    const lsid = { id: S1 };
    b.request("mongos0", "shard0", "bank", {
      update: "accounts",
      updates: [],
      lsid,
      txnNumber: 1,
      autocommit: false,
      startTransaction: true,
    });
    b.request("client1", "shard0", "admin", { prepareTransaction: 1, lsid, txnNumber: 1, autocommit: false });
    const tx = node(computeSeries(b.events), "shard0").transactions;
    assert.equal(maxOf(tx.inProgress), 1);
    assert.equal(valueAt(tx.prepared, at(10)), 1);
  });
});

void describe("coordinator steps", () => {
  void test("one interval per step, a step repeated with its action merged, ended by coord.end or a crash", () => {
    const b = new TraceBuilder();
    const step = (t: number, s: string, action?: string): void => {
      b.at(t).add("shard0", "coord.step", {
        lsid: S1,
        txnNumber: 1,
        step: s,
        ...(action === undefined ? {} : { action }),
      });
    };
    b.at(0).add("shard0", "coord.create", { lsid: S1, txnNumber: 1, recovered: false });
    step(10, "writingParticipantList");
    step(10, "writingParticipantList", "writingParticipantList");
    step(20, "waitingForVotes");
    step(20, "waitingForVotes", "sendingPrepare");
    step(30, "writingDecision");
    b.at(40).add("shard0", "coord.end", { lsid: S1, txnNumber: 1, ok: true });
    const iv = node(computeSeries(b.events), "shard0").coordinator;
    assert.deepEqual(
      iv.map((i) => [i.step, i.action, i.start - EPOCH, i.end - EPOCH]),
      [
        ["writingParticipantList", undefined, 10, 20],
        ["waitingForVotes", "sendingPrepare", 20, 30],
        ["writingDecision", undefined, 30, 40],
      ],
    );
  });

  void test("a crash ends the running step", () => {
    const b = new TraceBuilder();
    b.at(10).add("shard0", "coord.step", { lsid: S1, txnNumber: 1, step: "waitingForVotes" });
    b.at(15).add("shard0", "node.crash");
    b.at(50).add("shard1", "note", { text: "later" });
    const iv = node(computeSeries(b.events), "shard0").coordinator;
    assert.equal(iv[0].end - EPOCH, 15);
  });
});

void test("unknown event types and clients are ignored gracefully", () => {
  const b = new TraceBuilder();
  b.at(1).add("shard0", "something.new", { whatever: [1, 2] });
  b.at(2).add("client1", "note", { text: "hi" });
  b.request("client1", "mongos0", "admin", { ping: 1 });
  const s = computeSeries(b.events);
  assert.deepEqual(
    s.nodes.map((n) => n.node),
    ["mongos0", "shard0"],
  );
  assert.equal(maxOf(node(s, "shard0").cacheSize), 0);
});

void test("an empty trace has empty series", () => {
  const s = computeSeries([]);
  assert.deepEqual(s.nodes, []);
  assert.equal(maxOf(s.sessionRecords), 0);
});
