/**
 * Retryable writes on a shard and through mongos, transcribed from MongoDB's jstests:
 * - jstests/sharding/retryable_writes.js (runTests: insert, update with upsert and replacement,
 *   delete, findAndModify upsert / pre-image / post-image / remove, retried on a replica set and
 *   through mongos without new oplog entries; runMultiTests: `multi: true` and `limit: 0`);
 * - jstests/replsets/retryable_writes_failover.js (a retry after the primary restarts is not
 *   applied again);
 * - jstests/replsets/retryable_writes_direct_write_to_config_transactions.js (40528);
 * - jstests/noPassthrough/transaction_reaper.js (after the reaper removes a session's
 *   `config.transactions` entry, a retry executes again; logical_session_cache.idl).
 * Reference: shared/reference/mongo-sessions-semantics.md §5.5, checklist 61–63, 82.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Timestamp } from "sessionsim";
import { Cluster, Long, type Connection, type Document } from "sessionsim";
import {
  assertCode,
  assertOk,
  docs,
  lsid,
  operationTime,
  retryable,
  statusSection,
  type Doc,
} from "./fixtures/participant.js";

/** The same command twice: the results must agree and the retry must write nothing. */
async function runTwice(
  cluster: Cluster,
  main: Connection,
  primary: Connection,
  cmd: Doc,
): Promise<{ first: Document; retry: Document }> {
  const first = assertOk(await main.runCommand("test", cmd), "first attempt");
  const before = operationTime(assertOk(await primary.runCommand("test", { find: "user", filter: {} })));
  const retry = assertOk(await main.runCommand("test", cmd), "retry");
  const after = operationTime(assertOk(await primary.runCommand("test", { find: "user", filter: {} })));
  assert.ok(after.equals(before), "the retry wrote no oplog entry (the shard's last write did not move)");
  for (const f of ["n", "nModified", "upserted", "writeErrors", "lastErrorObject", "value"])
    assert.deepEqual(retry[f], first[f], `${f} of the retry equals the original's`);
  void cluster;
  return { first, retry };
}

/** `runTests` of jstests/sharding/retryable_writes.js against `main`, checking on `primary`. */
async function runTests(cluster: Cluster, main: Connection, primary: Connection): Promise<void> {
  const s = lsid();
  const user = async (filter: Doc = {}): Promise<Doc[]> => docs(primary, "test", "user", filter);

  let r = await runTwice(cluster, main, primary, {
    insert: "user",
    documents: [{ _id: 10 }, { _id: 30 }],
    ordered: false,
    ...retryable(s, 34),
  });
  assert.equal(r.first.n, 2);
  assert.deepEqual(r.retry.retriedStmtIds, [0, 1]);
  assert.equal((await user()).length, 2);

  r = await runTwice(cluster, main, primary, {
    update: "user",
    updates: [
      { q: { _id: 10 }, u: { $inc: { x: 1 } } },
      { q: { _id: 20 }, u: { $inc: { y: 1 } }, upsert: true },
      { q: { _id: 30 }, u: { z: 1 } },
    ],
    ordered: false,
    ...retryable(s, 35),
  });
  assert.equal(r.first.n, 3);
  assert.equal(r.first.nModified, 2);
  assert.deepEqual(r.first.upserted, [{ index: 1, _id: 20 }]);
  assert.deepEqual(r.retry.retriedStmtIds, [0, 1, 2]);
  assert.deepEqual(await user(), [
    { _id: 10, x: 1 },
    { _id: 20, y: 1 },
    { _id: 30, z: 1 },
  ]);

  assertOk(
    await main.runCommand("test", {
      insert: "user",
      documents: [
        { _id: 40, x: 1 },
        { _id: 50, y: 1 },
      ],
    }),
  );
  r = await runTwice(cluster, main, primary, {
    delete: "user",
    deletes: [
      { q: { x: 1 }, limit: 1 },
      { q: { y: 1 }, limit: 1 },
    ],
    ordered: false,
    ...retryable(s, 36),
  });
  assert.equal(r.first.n, 2);
  assert.equal((await user({ x: 1 })).length, 1);
  assert.equal((await user({ y: 1 })).length, 1);

  r = await runTwice(cluster, main, primary, {
    findAndModify: "user",
    query: { _id: 60 },
    update: { $inc: { x: 1 } },
    new: true,
    upsert: true,
    ...retryable(s, 37),
  });
  assert.deepEqual(r.first.lastErrorObject, { n: 1, updatedExisting: false, upserted: 60 });
  assert.deepEqual(r.first.value, { _id: 60, x: 1 });
  assert.equal(r.retry.retriedStmtId, 0);
  assert.deepEqual(await user({ _id: 60 }), [{ _id: 60, x: 1 }]);

  r = await runTwice(cluster, main, primary, {
    findAndModify: "user",
    query: { _id: 60 },
    update: { $inc: { x: 1 } },
    new: false,
    ...retryable(s, 38),
  });
  assert.deepEqual(r.first.value, { _id: 60, x: 1 }, "pre-image");
  assert.deepEqual(await user({ _id: 60 }), [{ _id: 60, x: 2 }]);

  r = await runTwice(cluster, main, primary, {
    findAndModify: "user",
    query: { _id: 60 },
    update: { $inc: { x: 1 } },
    new: true,
    ...retryable(s, 39),
  });
  assert.deepEqual(r.first.value, { _id: 60, x: 3 }, "post-image");
  assert.deepEqual(await user({ _id: 60 }), [{ _id: 60, x: 3 }]);

  assertOk(
    await main.runCommand("test", {
      insert: "user",
      documents: [
        { _id: 70, f: 1 },
        { _id: 80, f: 1 },
      ],
    }),
  );
  const count = (await user()).length;
  r = await runTwice(cluster, main, primary, {
    findAndModify: "user",
    query: { f: 1 },
    sort: { _id: 1 },
    remove: true,
    ...retryable(s, 40),
  });
  assert.deepEqual(r.first.lastErrorObject, { n: 1 });
  assert.deepEqual(r.first.value, { _id: 70, f: 1 });
  assert.equal((await user()).length, count - 1, "removed once");
}

/** `runMultiTests`: only the `multi: true` update and the `limit: 0` delete fail, with InvalidOptions. */
async function runMultiTests(main: Connection): Promise<void> {
  const s = lsid();
  let res = assertOk(
    await main.runCommand("test_multi", {
      update: "user",
      updates: [
        { q: { x: 1 }, u: { y: 1 } },
        { q: { x: 2 }, u: { z: 1 }, multi: true },
      ],
      ordered: true,
      ...retryable(s, 1),
    }),
  );
  let errors = res.writeErrors as Doc[];
  assert.equal(errors.length, 1);
  assert.equal(errors[0].index, 1);
  assert.equal(errors[0].code, 72);
  assert.equal(errors[0].errmsg, "Cannot use (or request) retryable writes with multi=true");
  res = assertOk(
    await main.runCommand("test_multi", {
      delete: "user",
      deletes: [
        { q: { x: 1 }, limit: 1 },
        { q: { y: 1 }, limit: 0 },
      ],
      ordered: false,
      ...retryable(s, 1),
    }),
  );
  errors = res.writeErrors as Doc[];
  assert.equal(errors.length, 1);
  assert.equal(errors[0].index, 1);
  assert.equal(errors[0].code, 72);
  assert.equal(errors[0].errmsg, "Cannot use (or request) retryable writes with limit=0");
}

void describe("retryable writes (jstests/sharding/retryable_writes.js)", () => {
  void test("on a shard's primary: retries return the original results and are not applied again", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 11 });
    const primary = cluster.connect(cluster.shard(0));
    await runTests(cluster, primary, primary);
  });

  void test("through mongos: the same, with the shard's retriedStmtIds passed on", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 12 });
    await runTests(cluster, cluster.connect(cluster.mongos()), cluster.connect(cluster.shard(0)));
  });

  void test("multi: true updates and limit: 0 deletes are InvalidOptions write errors, on a shard and through mongos", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 13 });
    await runMultiTests(cluster.connect(cluster.shard(0)));
    await runMultiTests(cluster.connect(cluster.mongos()));
  });

  void test("statement ids: explicit stmtIds are honoured; a retry runs only the statements not executed yet", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 14 });
    const shard = cluster.connect(cluster.shard(0));
    const s = lsid();
    assertOk(
      await shard.runCommand("test", {
        insert: "user",
        documents: [{ _id: 1 }, { _id: 2 }],
        stmtIds: [5, 6],
        ...retryable(s, 1),
      }),
    );
    const r = assertOk(
      await shard.runCommand("test", {
        insert: "user",
        documents: [{ _id: 2 }, { _id: 3 }],
        stmtIds: [6, 7],
        ...retryable(s, 1),
      }),
    );
    assert.equal(r.n, 2);
    assert.deepEqual(r.retriedStmtIds, [6]);
    assert.deepEqual(
      (await docs(shard, "test", "user")).map((d) => d._id),
      [1, 2, 3],
    );
    assertCode(
      await shard.runCommand("test", { insert: "user", documents: [{ _id: 4 }], stmtIds: [1, 2], ...retryable(s, 1) }),
      "InvalidLength",
      16,
      "Number of statement ids must match the number of batch entries. Got 2 statement ids but 1 operations.",
    );
  });

  void test("through mongos, statements split over two shards keep their ids: a retry with one more statement runs only that one", async () => {
    const cluster = await Cluster.start({ shards: 2, seed: 15 });
    const router = cluster.connect(cluster.mongos());
    const admin = (cmd: Doc): Promise<Document> => router.runCommand("admin", cmd);
    assertOk(await admin({ enableSharding: "test", primaryShard: cluster.shardName(0) }));
    assertOk(await admin({ shardCollection: "test.user", key: { _id: 1 } }));
    assertOk(await admin({ split: "test.user", middle: { _id: 0 } }));
    assertOk(await admin({ moveChunk: "test.user", find: { _id: 0 }, to: cluster.shardName(1) }));
    const s = lsid();
    const upd = (id: number): Doc => ({ q: { _id: id }, u: { $inc: { n: 1 } }, upsert: true });
    assertOk(await router.runCommand("test", { update: "user", updates: [upd(-1), upd(1)], ...retryable(s, 3) }));
    const r = assertOk(
      await router.runCommand("test", { update: "user", updates: [upd(-1), upd(1), upd(-2)], ...retryable(s, 3) }),
    );
    assert.deepEqual(r.retriedStmtIds, [0, 1]);
    assert.equal(r.n, 3);
    const all = [
      ...(await docs(cluster.connect(cluster.shard(0)), "test", "user")),
      ...(await docs(cluster.connect(cluster.shard(1)), "test", "user")),
    ];
    assert.deepEqual(
      all.map((d) => [d._id, d.n]).sort((a, b) => Number(a[0]) - Number(b[0])),
      [
        [-2, 1],
        [-1, 1],
        [1, 1],
      ],
    );
  });

  void test("a lower txnNumber is TransactionTooOld; config.transactions holds {txnNum, lastWriteOpTime, lastWriteDate} without state", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 16 });
    const shard = cluster.connect(cluster.shard(0));
    const s = lsid();
    const w = assertOk(await shard.runCommand("test", { insert: "user", documents: [{ _id: 1 }], ...retryable(s, 8) }));
    assertCode(
      await shard.runCommand("test", { insert: "user", documents: [{ _id: 2 }], ...retryable(s, 7) }),
      "TransactionTooOld",
      225,
    );
    const rows = await docs(shard, "config", "transactions");
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.deepEqual(Object.keys(row), ["_id", "txnNum", "lastWriteOpTime", "lastWriteDate"]);
    assert.ok((row.txnNum as Long).equals(Long.fromNumber(8)));
    assert.ok(((row.lastWriteOpTime as Doc).ts as Timestamp).equals(operationTime(w)));
    assert.deepEqual(Object.keys(row._id as Doc), ["id", "uid"]);
    assertCode(
      await shard.runCommand("config", { insert: "transactions", documents: [{ _id: 1 }], ...retryable(s, 9) }),
      "Location40528",
      40528,
      "Direct writes against config.transactions cannot be performed using a transaction or on a session.",
    );
    const t = await statusSection(cluster, cluster.shard(0), "transactions");
    assert.equal(t.transactionsCollectionWriteCount, 1);
  });

  void test("serverStatus counts retried commands and statements", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 17 });
    const shard = cluster.connect(cluster.shard(0));
    const s = lsid();
    const cmd = { insert: "user", documents: [{ _id: 1 }, { _id: 2 }, { _id: 3 }], ...retryable(s, 1) };
    assertOk(await shard.runCommand("test", cmd));
    assertOk(await shard.runCommand("test", cmd));
    assertOk(await shard.runCommand("test", cmd));
    const t = await statusSection(cluster, cluster.shard(0), "transactions");
    assert.equal(t.retriedCommandsCount, 2);
    assert.equal(t.retriedStatementsCount, 6);
    assert.equal(t.transactionsCollectionWriteCount, 3);
  });
});

void describe("retryable writes survive a restart of the shard (jstests/replsets/retryable_writes_failover.js)", () => {
  void test("directly and through mongos, a retry after the shard restarted returns the original result and writes nothing", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 21 });
    const node = cluster.shard(0);
    const router = cluster.connect(cluster.mongos());
    const s = lsid();
    const inc = {
      update: "user",
      updates: [
        { q: { _id: 1 }, u: { $inc: { n: 1 } }, upsert: true },
        { q: { _id: 2 }, u: { $inc: { n: 1 } }, upsert: true },
      ],
      ...retryable(s, 1),
    };
    const first = assertOk(await router.runCommand("test", inc));
    const fam = {
      findAndModify: "user",
      query: { _id: 1 },
      update: { $inc: { n: 10 } },
      new: true,
      ...retryable(s, 2),
    };
    const famFirst = assertOk(await cluster.connect(node).runCommand("test", fam));
    cluster.crash(node);
    await cluster.restart(node);
    const shard = cluster.connect(node);
    const famRetry = assertOk(await shard.runCommand("test", fam));
    assert.deepEqual(famRetry.value, famFirst.value);
    assert.equal(famRetry.retriedStmtId, 0);
    // The older number was superseded by txnNumber 2: TransactionTooOld, even after the restart
    // (mongos reports a shard's batch error as a write error for each statement).
    const old = assertOk(await router.runCommand("test", inc));
    assert.deepEqual(
      (old.writeErrors as Doc[]).map((e) => e.code),
      [225, 225],
    );
    const s2 = lsid();
    const inc2 = { ...inc, ...retryable(s2, 5) };
    assertOk(await router.runCommand("test", inc2));
    cluster.crash(node);
    await cluster.restart(node);
    const again = assertOk(await router.runCommand("test", inc2));
    assert.deepEqual(again.retriedStmtIds, [0, 1]);
    assert.equal(again.n, 2);
    assert.deepEqual(await docs(cluster.connect(node), "test", "user"), [
      { _id: 1, n: 12 },
      { _id: 2, n: 2 },
    ]);
    void first;
  });
});

void describe("after the reaper removed the session's config.transactions entry (jstests/noPassthrough/transaction_reaper.js)", () => {
  void test("a retry executes again", async () => {
    const cluster = await Cluster.start({
      shards: 1,
      seed: 31,
      parameters: {
        localLogicalSessionTimeoutMinutes: 1,
        TransactionRecordMinimumLifetimeMinutes: 0,
        ttlMonitorSleepSecs: 1,
      },
    });
    const shard = cluster.connect(cluster.shard(0));
    const s = lsid();
    const inc = {
      update: "user",
      updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } }, upsert: true }],
      ...retryable(s, 1),
    };
    assertOk(await shard.runCommand("test", inc));
    assert.deepEqual((await shard.runCommand("test", inc)).retriedStmtIds, [0]);
    assert.equal((await docs(shard, "config", "transactions")).length, 1);
    // Let the session leave config.system.sessions (it is not used any more), then reap.
    await cluster.advance(10 * 60_000);
    assertOk(await shard.runCommand("admin", { reapLogicalSessionCacheNow: 1 }));
    assert.equal((await docs(shard, "config", "transactions")).length, 0, "the reaper removed the entry");
    const r = assertOk(await shard.runCommand("test", inc));
    assert.equal(r.retriedStmtIds, undefined, "executed again");
    assert.deepEqual(await docs(shard, "test", "user"), [{ _id: 1, n: 2 }]);
  });
});
