/**
 * Transactions on a shard (the transaction participant), session checkout and cluster time,
 * transcribed from MongoDB's jstests:
 * - jstests/core/txns/multi_statement_transaction_command_args.js and
 *   jstests/core/txns/commands_banning_txnnumber_outside_transactions.js (txnNumber rules, 50768);
 * - jstests/core/txns/errors_on_committed_transaction.js, finished_transaction_error_handling.js,
 *   multi_statement_transaction_abort.js (aborted / committed transactions);
 * - jstests/core/txns/commit_prepared_transaction.js, commit_prepared_transaction_errors.js,
 *   abort_prepared_transaction.js, prepare_prepared_transaction.js, prepare_committed_transaction.js,
 *   ensure_active_txn_for_prepare_transaction.js, disallow_operations_on_prepared_transaction.js;
 * - jstests/core/txns/repeatable_reads_in_transaction.js, libs/write_conflicts.js, prepare_conflict.js
 *   (isolation, WriteConflict);
 * - jstests/replsets/recover_prepared_transaction_state.js, recover_committed_aborted_prepared_transactions.js
 *   (a prepared transaction survives a restart);
 * - jstests/core/txns/new_transactions_on_session_with_prepared_txn_block_behind_prepare.js;
 * - jstests/core/txns/abort_expired_transaction.js, kill_op_on_txn_expiry.js (lifetime limit);
 * - jstests/noPassthrough/server_transaction_metrics.js (serverStatus.transactions);
 * - jstests/sharding/causal_consistency_shell_support.js, jstests/replsets/read_concern_after_cluster_time? —
 *   read_concern_mongod.cpp's afterClusterTime check (cluster time).
 * Reference: shared/reference/mongo-sessions-semantics.md §5.1–5.6, §5.9, §6.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Binary, Cluster, Long, Timestamp, type Connection, type Document } from "sessionsim";
import {
  assertCode,
  assertOk,
  blockCommands,
  clusterTime,
  docs,
  lsid,
  operationTime,
  retryable,
  statusSection,
  txn,
  txnStates,
  type Doc,
} from "./fixtures/participant.js";

async function shardCluster(shards = 1): Promise<{ cluster: Cluster; shard: Connection }> {
  const cluster = await Cluster.start({ shards, seed: 7 });
  return { cluster, shard: cluster.connect(cluster.shard(0)) };
}

const insertIn = (conn: Connection, s: Doc, n: number, ids: unknown[], start = false): Promise<Document> =>
  conn.runCommand("test", { insert: "c", documents: ids.map((_id) => ({ _id })), ...txn(s, n, start) });

const commit = (conn: Connection, s: Doc, n: number, extra: Doc = {}): Promise<Document> =>
  conn.runCommand("admin", { commitTransaction: 1, ...txn(s, n), ...extra });

const abort = (conn: Connection, s: Doc, n: number): Promise<Document> =>
  conn.runCommand("admin", { abortTransaction: 1, ...txn(s, n) });

const prepare = (conn: Connection, s: Doc, n: number): Promise<Document> =>
  conn.runCommand("admin", { prepareTransaction: 1, ...txn(s, n) });

const ids = (list: Doc[]): unknown[] => list.map((d) => d._id);

void describe("txnNumber rules on a shard (transaction_participant.cpp beginOrContinue; reference §5.3)", () => {
  void test("a lower txnNumber is TransactionTooOld, with the server's messages for retryable writes and transactions", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 5, [1], true));
    assertOk(await commit(shard, s, 5));
    const rw = await shard.runCommand("test", { insert: "c", documents: [{ _id: 2 }], ...retryable(s, 4) });
    assertCode(rw, "TransactionTooOld", 225, "Retryable write with txnNumber 4 is prohibited on session");
    assert.ok(
      String(rw.errmsg).endsWith("because a newer transaction with txnNumber 5 has already started on this session."),
    );
    const t = await insertIn(shard, s, 3, [3], true);
    assertCode(t, "TransactionTooOld", 225, "Cannot start transaction with { txnNumber: 3 } on session");
    assert.ok(
      String(t.errmsg).includes(
        "because a newer transaction with txnNumberAndRetryCounter { txnNumber: 5, txnRetryCounter: 0 } has already started",
      ),
    );
  });

  void test("continuing a transaction that is not the active one is NoSuchTransaction (251)", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    assertCode(
      await insertIn(shard, s, 2, [2]),
      "NoSuchTransaction",
      251,
      "Given transaction number 2 does not match any in-progress transactions. The active transaction number is 1",
    );
    // A txnNumber that was a retryable write is not a transaction either.
    assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 3 }], ...retryable(s, 7) }));
    assertCode(await insertIn(shard, s, 7, [4]), "NoSuchTransaction", 251, "The active transaction number is 7");
  });

  void test("startTransaction at the active number: 50911 while in progress, allowed again after an abort (shard servers)", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    const r = await insertIn(shard, s, 1, [2], true);
    assertCode(
      r,
      "Location50911",
      50911,
      "and transaction number { txnNumber: 1, txnRetryCounter: 0 } because a transaction with the same transaction number is in state TxnState::InProgress",
    );
    assertOk(await abort(shard, s, 1));
    // Routers retry the first statement of a transaction at the same number after an abort.
    assertOk(await insertIn(shard, s, 1, [3], true));
    assertOk(await commit(shard, s, 1));
    assert.deepEqual(ids(await docs(shard, "test", "c")), [3]);
  });

  void test("after abort every statement is NoSuchTransaction; after commit TransactionCommitted, but commitTransaction again succeeds", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    assertOk(await abort(shard, s, 1));
    assertCode(
      await insertIn(shard, s, 1, [2]),
      "NoSuchTransaction",
      251,
      "Transaction with { txnNumber: 1 } has been aborted.",
    );
    assertCode(await abort(shard, s, 1), "NoSuchTransaction", 251);
    assertCode(await commit(shard, s, 1), "NoSuchTransaction", 251);

    assertOk(await insertIn(shard, s, 2, [2], true));
    assertOk(await commit(shard, s, 2));
    assertCode(
      await insertIn(shard, s, 2, [3]),
      "TransactionCommitted",
      256,
      "Transaction with { txnNumber: 2 } has been committed.",
    );
    assertCode(await abort(shard, s, 2), "TransactionCommitted", 256);
    assertOk(await commit(shard, s, 2), "commit is retryable");
    assert.deepEqual(ids(await docs(shard, "test", "c")), [2]);
  });

  void test("a statement's error aborts the transaction (TransientTransactionError label on the later NoSuchTransaction)", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    const dup = await insertIn(shard, s, 1, [1]);
    assertCode(dup, "DuplicateKey", 11000);
    const next = await insertIn(shard, s, 1, [2]);
    assertCode(next, "NoSuchTransaction", 251, "has been aborted.");
    assert.deepEqual(next.errorLabels, ["TransientTransactionError"]);
    assert.deepEqual(await docs(shard, "test", "c"), []);
  });

  void test("starting a newer transaction implicitly aborts the in-progress one; its writes are gone", async () => {
    const { cluster, shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    assertOk(await insertIn(shard, s, 2, [2], true));
    assertOk(await commit(shard, s, 2));
    assert.deepEqual(ids(await docs(shard, "test", "c")), [2]);
    assertCode(await insertIn(shard, s, 1, [3]), "TransactionTooOld", 225);
    const states = txnStates(cluster, cluster.shard(0)).map((e) => [e.from, e.to, e.reason]);
    assert.deepEqual(states.slice(0, 3), [
      ["None", "InProgress", "startTransaction"],
      ["InProgress", "AbortedWithoutPrepare", "newerTxnNumber"],
      ["AbortedWithoutPrepare", "None", "newTxnNumber"],
    ]);
  });

  void test("retrying a retryable write whose number was then used by a transaction: IncompleteTransactionHistory (217)", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    assertOk(await commit(shard, s, 1));
    const r = await shard.runCommand("test", { insert: "c", documents: [{ _id: 1 }], ...retryable(s, 1) });
    assertCode(
      r,
      "IncompleteTransactionHistory",
      217,
      "Cannot retry a retryable write that has been converted into a transaction",
    );
  });

  void test("retrying at the number of a prepared transaction waits for it (no 267), then is IncompleteTransactionHistory (217)", async () => {
    // The service entry point catches beginOrContinue's PreparedTransactionInProgress ("Retryable
    // write that has been converted to a transaction is in prepare") and waits for onExitPrepare,
    // as for a new number (checklist 63 and 65).
    const { cluster, shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    const ts = assertOk(await prepare(shard, s, 1)).prepareTimestamp as Timestamp;
    const retry = shard.send("test", { insert: "c", documents: [{ _id: 1 }], ...retryable(s, 1) });
    await cluster.advance(5000);
    assert.equal(retry.done, false, "waits behind the prepared transaction");
    assertCode(
      await shard.runCommand("test", { insert: "c", documents: [{ _id: 1 }], ...retryable(s, 1), maxTimeMS: 50 }),
      "MaxTimeMSExpired",
      50,
    );
    assertOk(await commit(shard, s, 1, { commitTimestamp: ts }));
    assertCode(
      await cluster.wait(retry),
      "IncompleteTransactionHistory",
      217,
      "Cannot retry a retryable write that has been converted into a transaction",
    );
  });

  void test("txnNumber without autocommit on a command that is not a retryable write: 50768; count in a transaction: 263", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertCode(
      await shard.runCommand("test", { find: "c", ...retryable(s, 1) }),
      "Location50768",
      50768,
      "txnNumber may only be provided for multi-document transactions and retryable write commands. autocommit:false was not provided, and find is not a retryable write command.",
    );
    assertCode(
      await shard.runCommand("admin", { commitTransaction: 1, ...retryable(s, 1) }),
      "Location50768",
      50768,
      "commitTransaction is not a retryable write command",
    );
    assertCode(
      await shard.runCommand("test", { count: "c", ...txn(s, 2, true) }),
      "OperationNotSupportedInTransaction",
      263,
      "Cannot run 'count' in a multi-document transaction.",
    );
    assertCode(
      await shard.runCommand("test", { listIndexes: "c", ...txn(s, 3, true) }),
      "OperationNotSupportedInTransaction",
      263,
      "Cannot run 'listIndexes' in a multi-document transaction.",
    );
  });

  void test("commitTransaction / abortTransaction only on admin; prepareTransaction is not a mongos command", async () => {
    const { cluster, shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    assertCode(
      await shard.runCommand("test", { commitTransaction: 1, ...txn(s, 1) }),
      "Unauthorized",
      13,
      "commitTransaction may only be run against the admin database.",
    );
    const mongos = cluster.connect(cluster.mongos());
    assertCode(await mongos.runCommand("admin", { prepareTransaction: 1, ...txn(s, 1) }), "CommandNotFound", 59);
  });
});

void describe("commit, abort and prepare on a shard (jstests/core/txns/*prepare*.js)", () => {
  void test("prepare returns prepareTimestamp; preparing again returns the same one; commit needs commitTimestamp >= it", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    const p1 = assertOk(await prepare(shard, s, 1));
    assert.ok(p1.prepareTimestamp instanceof Timestamp);
    assert.equal(p1.readOnly, false);
    const p2 = assertOk(await prepare(shard, s, 1));
    assert.ok((p2.prepareTimestamp as Timestamp).equals(p1.prepareTimestamp), "re-prepare returns the same timestamp");
    const ts = p1.prepareTimestamp;
    assertCode(
      await commit(shard, s, 1),
      "InvalidOptions",
      72,
      "commitTransaction must provide commitTimestamp to prepared transaction.",
    );
    assertCode(
      await commit(shard, s, 1, { commitTimestamp: Timestamp.fromBits(0, 0) }),
      "InvalidOptions",
      72,
      "'commitTimestamp' cannot be null",
    );
    assertCode(
      await commit(shard, s, 1, { commitTimestamp: Timestamp.fromBits(ts.low - 1, ts.high) }),
      "InvalidOptions",
      72,
      "'commitTimestamp' must be greater than or equal to 'prepareTimestamp'",
    );
    assertCode(await commit(shard, s, 1, { commitTimestamp: 5 }), "TypeMismatch", 14);
    assert.deepEqual(await docs(shard, "test", "c"), [], "still prepared, not visible");
    assertOk(await commit(shard, s, 1, { commitTimestamp: ts }));
    assert.deepEqual(ids(await docs(shard, "test", "c")), [1]);
    assertOk(await commit(shard, s, 1, { commitTimestamp: ts }), "re-commit");
    assertCode(await prepare(shard, s, 1), "TransactionCommitted", 256);
  });

  void test("an unprepared transaction refuses commitTimestamp; a prepared one refuses other statements (267)", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    assertCode(
      await commit(shard, s, 1, { commitTimestamp: Timestamp.fromBits(3, 3) }),
      "InvalidOptions",
      72,
      "cannot provide commitTimestamp to unprepared transaction",
    );
    assertOk(await insertIn(shard, s, 2, [2], true));
    assertOk(await prepare(shard, s, 2));
    const msg = "Cannot call any operation other than abort, prepare or commit on a prepared transaction";
    assertCode(await insertIn(shard, s, 2, [3]), "PreparedTransactionInProgress", 267, msg);
    assertCode(await shard.runCommand("test", { find: "c", ...txn(s, 2) }), "PreparedTransactionInProgress", 267, msg);
    assertOk(await abort(shard, s, 2));
    assertCode(await insertIn(shard, s, 2, [3]), "NoSuchTransaction", 251, "has been aborted.");
    assert.deepEqual(await docs(shard, "test", "c"), []);
  });

  void test("prepareTransaction needs an active transaction: NoSuchTransaction; without a txnNumber: CommandFailed", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertCode(await prepare(shard, s, 0), "NoSuchTransaction", 251, "does not match any in-progress transactions");
    assertCode(
      await shard.runCommand("admin", { prepareTransaction: 1 }),
      "CommandFailed",
      125,
      "prepareTransaction must be run within a transaction",
    );
  });

  void test("config.transactions rows: prepared → committed, aborted after prepare; unprepared aborts write nothing", async () => {
    const { shard } = await shardCluster();
    const a = lsid();
    const b = lsid();
    const c = lsid();
    assertOk(await insertIn(shard, a, 1, [1], true));
    const ts = assertOk(await prepare(shard, a, 1)).prepareTimestamp as Timestamp;
    let rows = await docs(shard, "config", "transactions");
    assert.equal(rows.length, 1);
    assert.equal(rows[0].state, "prepared");
    assert.ok((rows[0].txnNum as Long).equals(Long.fromNumber(1)));
    assert.ok(((rows[0].startOpTime as Doc).ts as Timestamp).equals(ts));
    assert.ok(rows[0].lastWriteDate instanceof Date);
    assertOk(await commit(shard, a, 1, { commitTimestamp: ts }));
    assertOk(await insertIn(shard, b, 4, [2], true));
    assertOk(await prepare(shard, b, 4));
    assertOk(await abort(shard, b, 4));
    assertOk(await insertIn(shard, c, 9, [3], true));
    assertOk(await abort(shard, c, 9));
    rows = await docs(shard, "config", "transactions");
    const byId = new Map(rows.map((r) => [String((r._id as Doc).id), r]));
    assert.equal(byId.get(String(a.id))?.state, "committed");
    assert.equal(byId.get(String(b.id))?.state, "aborted");
    assert.equal(byId.has(String(c.id)), false);
  });
});

void describe("isolation and conflicts (repeatable_reads_in_transaction.js, libs/write_conflicts.js, prepare_conflict.js)", () => {
  void test("a transaction's writes are invisible to others until commit; its own statements see them", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 0, v: "old" }] }));
    assertOk(await insertIn(shard, s, 1, [1], true));
    assertOk(
      await shard.runCommand("test", {
        update: "c",
        updates: [{ q: { _id: 0 }, u: { $set: { v: "new" } } }],
        ...txn(s, 1),
      }),
    );
    const inside = assertOk(await shard.runCommand("test", { find: "c", sort: { _id: 1 }, ...txn(s, 1) }));
    assert.deepEqual((inside.cursor as { firstBatch: Doc[] }).firstBatch, [{ _id: 0, v: "new" }, { _id: 1 }]);
    assert.equal(inside.readOnly, false);
    assert.deepEqual(await docs(shard, "test", "c"), [{ _id: 0, v: "old" }]);
    assertOk(await commit(shard, s, 1));
    assert.deepEqual(await docs(shard, "test", "c"), [{ _id: 0, v: "new" }, { _id: 1 }]);
  });

  void test("the first statement of a read-only transaction replies readOnly: true", async () => {
    const { shard } = await shardCluster();
    const s = lsid();
    const r = assertOk(await shard.runCommand("test", { find: "c", ...txn(s, 1, true) }));
    assert.equal(r.readOnly, true);
    assertOk(await commit(shard, s, 1));
  });

  void test("writing a document another transaction wrote is WriteConflict (112) with TransientTransactionError; a prepared one too, reads see the old version", async () => {
    const { shard } = await shardCluster();
    const a = lsid();
    const b = lsid();
    assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 0, v: 0 }] }));
    assertOk(
      await shard.runCommand("test", {
        update: "c",
        updates: [{ q: { _id: 0 }, u: { $set: { v: 1 } } }],
        ...txn(a, 1, true),
      }),
    );
    const wc = await shard.runCommand("test", {
      update: "c",
      updates: [{ q: { _id: 0 }, u: { $set: { v: 2 } } }],
      ...txn(b, 1, true),
    });
    assertCode(wc, "WriteConflict", 112);
    assert.deepEqual(wc.errorLabels, ["TransientTransactionError"]);
    assertCode(await abort(shard, b, 1), "NoSuchTransaction", 251);

    const ts = assertOk(await prepare(shard, a, 1)).prepareTimestamp as Timestamp;
    const plainWrite = await shard.runCommand("test", {
      update: "c",
      updates: [{ q: { _id: 0 }, u: { $set: { v: 3 } } }],
    });
    assertOk(plainWrite);
    assert.equal((plainWrite.writeErrors as Doc[])[0].code, 112);
    assert.deepEqual(
      await docs(shard, "test", "c"),
      [{ _id: 0, v: 0 }],
      "outside reads see the pre-transaction version",
    );
    assertOk(await commit(shard, a, 1, { commitTimestamp: ts }));
    assert.deepEqual(await docs(shard, "test", "c"), [{ _id: 0, v: 1 }]);
    assertOk(await shard.runCommand("test", { update: "c", updates: [{ q: { _id: 0 }, u: { $set: { v: 3 } } }] }));
  });
});

void describe("prepared transactions are durable (recover_prepared_transaction_state.js; reference §5.9)", () => {
  void test("after a crash and restart the transaction is still prepared, still locking, and commits afterwards", async () => {
    const { cluster, shard } = await shardCluster();
    const node = cluster.shard(0);
    const p = lsid();
    const q = lsid();
    assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 0, v: 0 }] }));
    assertOk(
      await shard.runCommand("test", {
        update: "c",
        updates: [{ q: { _id: 0 }, u: { $set: { v: 1 } } }],
        ...txn(p, 3, true),
      }),
    );
    const ts = assertOk(await prepare(shard, p, 3)).prepareTimestamp as Timestamp;
    assertOk(await insertIn(shard, q, 1, [7], true), "an unprepared transaction, lost at the crash");
    cluster.crash(node);
    await cluster.restart(node);
    const after = cluster.connect(node);
    assert.equal((await statusSection(cluster, node, "transactions")).currentPrepared, 1);
    const blocked = await after.runCommand("test", {
      update: "c",
      updates: [{ q: { _id: 0 }, u: { $set: { v: 9 } } }],
    });
    assert.equal((blocked.writeErrors as Doc[])[0].code, 112, "the prepared write set still locks its document");
    const again = assertOk(await prepare(after, p, 3));
    assert.ok((again.prepareTimestamp as Timestamp).equals(ts));
    assertCode(await insertIn(after, q, 1, [8]), "NoSuchTransaction", 251);
    assertOk(await commit(after, p, 3, { commitTimestamp: ts }));
    assert.deepEqual(await docs(after, "test", "c"), [{ _id: 0, v: 1 }]);
    const recovered = txnStates(cluster, node).filter((e) => e.reason === "refreshFromStorage");
    assert.deepEqual(
      recovered.map((e) => [e.from, e.to, e.txnNumber]),
      [["None", "Prepared", 3]],
    );
  });

  void test("a prepared transaction can also be aborted after the restart", async () => {
    const { cluster, shard } = await shardCluster();
    const node = cluster.shard(0);
    const p = lsid();
    assertOk(await insertIn(shard, p, 1, [1], true));
    assertOk(await prepare(shard, p, 1));
    cluster.crash(node);
    await cluster.restart(node);
    const after = cluster.connect(node);
    assertOk(await abort(after, p, 1));
    assert.deepEqual(await docs(after, "test", "c"), []);
    assertOk(await after.runCommand("test", { insert: "c", documents: [{ _id: 1 }] }), "the lock is released");
  });
});

void describe("session checkout (session_catalog.cpp; reference §5.2)", () => {
  void test("a second operation with a txnNumber on the session waits (no error) until the first checks in", async () => {
    const { cluster, shard } = await shardCluster();
    const s = lsid();
    await blockCommands(cluster, cluster.shard(0), ["insert"], 1000);
    const first = shard.send("test", { insert: "c", documents: [{ _id: 1 }], ...retryable(s, 1) });
    await cluster.advance(10);
    const second = shard.send("test", { insert: "c", documents: [{ _id: 2 }], ...retryable(s, 2) });
    const noTxn = shard.send("test", { find: "c", lsid: s });
    await cluster.advance(500);
    assert.equal(first.done, false);
    assert.equal(second.done, false, "the second waits for the session");
    assert.equal(noTxn.done, true, "an operation without txnNumber does not check the session out");
    const r2 = await cluster.wait(second);
    assert.equal(first.done, true, "the first finished before the second could start");
    assertOk(r2);
    assertOk(await cluster.wait(first));
    assert.deepEqual(ids(await docs(shard, "test", "c")), [1, 2]);
    assert.ok(operationTime(r2).greaterThan(operationTime(first.reply as Document)));
  });

  void test("mongos also serialises operations with a txnNumber on one session", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 3 });
    const router = cluster.connect(cluster.mongos());
    const s = lsid();
    await blockCommands(cluster, cluster.mongos(), ["insert"], 1000);
    const first = router.send("test", { insert: "c", documents: [{ _id: 1 }], ...retryable(s, 1) });
    await cluster.advance(10);
    const second = router.send("test", { insert: "c", documents: [{ _id: 2 }], ...retryable(s, 2) });
    await cluster.advance(500);
    assert.equal(second.done, false);
    assertOk(await cluster.wait(second));
    assert.equal(first.done, true);
  });

  void test("a new transaction number on a session whose transaction is prepared waits until it commits", async () => {
    const { cluster, shard } = await shardCluster();
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    const ts = assertOk(await prepare(shard, s, 1)).prepareTimestamp as Timestamp;
    const next = shard.send("test", { insert: "c", documents: [{ _id: 2 }], ...txn(s, 2, true) });
    await cluster.advance(5000);
    assert.equal(next.done, false, "blocks behind the prepared transaction");
    assertOk(await commit(shard, s, 1, { commitTimestamp: ts }));
    assertOk(await cluster.wait(next));
    assertOk(await commit(shard, s, 2));
    assert.deepEqual(ids(await docs(shard, "test", "c")), [1, 2]);
  });
});

void describe("transactionLifetimeLimitSeconds (abort_expired_transaction.js; reference §5.6)", () => {
  void test("an in-progress transaction older than the limit is aborted; a prepared one never", async () => {
    const { cluster, shard } = await shardCluster();
    const inProgress = lsid();
    const prepared = lsid();
    assertOk(await insertIn(shard, inProgress, 1, [1], true));
    assertOk(await insertIn(shard, prepared, 1, [2], true));
    const ts = assertOk(await prepare(shard, prepared, 1)).prepareTimestamp as Timestamp;
    await cluster.advance(91_000);
    assertCode(await insertIn(shard, inProgress, 1, [3]), "NoSuchTransaction", 251, "has been aborted.");
    assertOk(await commit(shard, prepared, 1, { commitTimestamp: ts }));
    assert.deepEqual(ids(await docs(shard, "test", "c")), [2]);
    const expired = txnStates(cluster, cluster.shard(0)).filter((e) => e.reason === "transactionLifetimeLimitSeconds");
    assert.equal(expired.length, 1);
    assert.equal(expired[0].to, "AbortedWithoutPrepare");
  });

  void test("with transactionLifetimeLimitSeconds: 1 the job runs every second", async () => {
    const { cluster, shard } = await shardCluster();
    assertOk(await shard.runCommand("admin", { setParameter: 1, transactionLifetimeLimitSeconds: 1 }));
    await cluster.advance(60_000); // the next pass uses the new period
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    await cluster.advance(2500);
    assertCode(await commit(shard, s, 1), "NoSuchTransaction", 251);
  });

  void test("the operation running in an expiring transaction is interrupted with TransactionExceededLifetimeLimitSeconds (290)", async () => {
    const { cluster, shard } = await shardCluster();
    assertOk(await shard.runCommand("admin", { setParameter: 1, transactionLifetimeLimitSeconds: 1 }));
    await cluster.advance(60_000);
    const s = lsid();
    assertOk(await insertIn(shard, s, 1, [1], true));
    await blockCommands(cluster, cluster.shard(0), ["find"], 10_000);
    const r = await shard.runCommand("test", { find: "c", ...txn(s, 1) });
    assertCode(r, "TransactionExceededLifetimeLimitSeconds", 290);
    assertCode(await commit(shard, s, 1), "NoSuchTransaction", 251);
  });
});

void describe("serverStatus.transactions (server_transaction_metrics.js)", () => {
  void test("counts started, committed, aborted, prepared and the open ones", async () => {
    const { cluster, shard } = await shardCluster();
    const [a, b, c] = [lsid(), lsid(), lsid()];
    assertOk(await insertIn(shard, a, 1, [1], true));
    assertOk(await commit(shard, a, 1));
    assertOk(await insertIn(shard, b, 1, [2], true));
    assertOk(await abort(shard, b, 1));
    assertOk(await insertIn(shard, c, 1, [3], true));
    assertOk(await prepare(shard, c, 1));
    const t = await statusSection(cluster, cluster.shard(0), "transactions");
    assert.deepEqual(
      {
        totalStarted: t.totalStarted,
        totalCommitted: t.totalCommitted,
        totalAborted: t.totalAborted,
        totalPrepared: t.totalPrepared,
        currentOpen: t.currentOpen,
        currentPrepared: t.currentPrepared,
        currentActive: t.currentActive,
        currentInactive: t.currentInactive,
      },
      {
        totalStarted: 3,
        totalCommitted: 1,
        totalAborted: 1,
        totalPrepared: 1,
        currentOpen: 1,
        currentPrepared: 1,
        currentActive: 0,
        currentInactive: 1,
      },
    );
    for (const f of ["retriedCommandsCount", "retriedStatementsCount", "transactionsCollectionWriteCount"])
      assert.equal(typeof t[f], "number");
  });
});

void describe("cluster time (reference §6, checklist 83–86)", () => {
  void test("every reply — success or error, mongos, shard, config server — carries a signed $clusterTime and operationTime", async () => {
    const cluster = await Cluster.start({ shards: 2, seed: 5 });
    const router = cluster.connect(cluster.mongos());
    assertOk(await router.runCommand("test", { insert: "c", documents: [{ _id: 1 }] }));
    for (const node of cluster.nodes()) {
      const conn = cluster.connect(node);
      for (const r of [await conn.runCommand("admin", { ping: 1 }), await conn.runCommand("admin", { bogus: 1 })]) {
        const ct = r.$clusterTime as { clusterTime: unknown; signature: { hash: Binary; keyId: Long } };
        assert.ok(ct.clusterTime instanceof Timestamp, `${node}: ${JSON.stringify(r)}`);
        assert.ok(ct.signature.hash instanceof Binary);
        assert.deepEqual([...ct.signature.hash.buffer.subarray(0, ct.signature.hash.position)], new Array(20).fill(0));
        assert.ok(ct.signature.keyId instanceof Long && ct.signature.keyId.isZero());
        assert.ok(r.operationTime instanceof Timestamp, node);
        assert.ok(!r.operationTime.greaterThan(ct.clusterTime), "operationTime <= $clusterTime");
      }
    }
  });

  void test("writes tick the cluster time; reads report the last write; gossip advances a node's clock", async () => {
    const { cluster, shard } = await shardCluster();
    const w1 = assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 1 }, { _id: 2 }] }));
    const w2 = assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 3 }] }));
    assert.ok(operationTime(w2).greaterThan(operationTime(w1)));
    const read = assertOk(await shard.runCommand("test", { find: "c" }));
    assert.ok(operationTime(read).equals(operationTime(w2)), "a read's operationTime is the last write");
    const ahead = Timestamp.fromBits(5, clusterTime(read).high + 100);
    const g = assertOk(
      await shard.runCommand("admin", {
        ping: 1,
        $clusterTime: {
          clusterTime: ahead,
          signature: { hash: new Binary(new Uint8Array(20)), keyId: Long.fromNumber(0) },
        },
      }),
    );
    assert.ok(clusterTime(g).equals(ahead), "the node adopted the larger gossiped time");
    assert.ok(operationTime(g).equals(operationTime(w2)), "gossip is not a write");
    void cluster;
  });

  void test("readConcern afterClusterTime ahead of the node's cluster time is InvalidOptions (72); otherwise the read proceeds", async () => {
    const { shard } = await shardCluster();
    const now = clusterTime(assertOk(await shard.runCommand("admin", { ping: 1 })));
    const future = Timestamp.fromBits(1, now.high + 10);
    const r = await shard.runCommand("test", { find: "c", readConcern: { afterClusterTime: future } });
    assertCode(
      r,
      "InvalidOptions",
      72,
      `readConcern afterClusterTime value must not be greater than the current clusterTime. Requested clusterTime: { ts: Timestamp(${future.high}, 1) }; current clusterTime: { ts: Timestamp(${now.high}, ${now.low}) }`,
    );
    assertOk(await shard.runCommand("test", { find: "c", readConcern: { afterClusterTime: now } }));
    const sig = { hash: new Binary(new Uint8Array(20)), keyId: Long.fromNumber(0) };
    assertOk(
      await shard.runCommand("test", {
        find: "c",
        readConcern: { afterClusterTime: future },
        $clusterTime: { clusterTime: future, signature: sig },
      }),
      "with the time gossiped first",
    );
  });

  void test("mongos returns the largest operationTime of the shards it contacted", async () => {
    const cluster = await Cluster.start({ shards: 2, seed: 9 });
    const router = cluster.connect(cluster.mongos());
    const admin = (cmd: Doc): Promise<Document> => router.runCommand("admin", cmd);
    assertOk(await admin({ enableSharding: "test", primaryShard: cluster.shardName(0) }));
    assertOk(await admin({ shardCollection: "test.c", key: { _id: 1 } }));
    assertOk(await admin({ split: "test.c", middle: { _id: 0 } }));
    assertOk(await admin({ moveChunk: "test.c", find: { _id: 0 }, to: cluster.shardName(1) }));
    assertOk(await router.runCommand("test", { insert: "c", documents: [{ _id: -1 }, { _id: 1 }] }));
    // Five more writes on shard1 only, directly: its last write is now the later one.
    const shard1 = cluster.connect(cluster.shard(1));
    let last = Timestamp.fromBits(0, 0);
    for (let i = 2; i < 7; i++)
      last = operationTime(assertOk(await shard1.runCommand("test", { insert: "c", documents: [{ _id: i }] })));
    const shard0Read = operationTime(
      assertOk(await cluster.connect(cluster.shard(0)).runCommand("test", { find: "c" })),
    );
    assert.ok(last.greaterThan(shard0Read));
    const r = assertOk(await router.runCommand("test", { find: "c", filter: {} }));
    assert.ok(
      operationTime(r).equals(last),
      `mongos operationTime ${String(operationTime(r))} = shard1's ${String(last)}`,
    );
    assert.ok(!clusterTime(r).lessThan(last), "mongos advanced its clock from the shards' replies");
  });
});
