/**
 * The reaper's in-memory half: session-catalog entries of sessions idle longer than
 * `TransactionRecordMinimumLifetimeMinutes` and gone from `config.system.sessions` are erased on
 * mongods and on mongos, unless the session is still in use. Transcribed from:
 * - jstests/noPassthrough/transaction_reaper.js (the session's record is deleted from
 *   config.system.sessions through the router, then `reapLogicalSessionCacheNow`);
 * - jstests/sharding/internal_txns/reap_sessions_with_active_yielders.js (mongos and shards reap
 *   after `reapLogicalSessionCacheNow` on each);
 * - the rules of `MongoDSessionCatalog::reapSessionsOlderThan`
 *   (`src/mongo/db/session/session_catalog_mongod.cpp`:
 *   `removeExpiredTransactionSessionsNotInUseFromMemory`, then
 *   `removeExpiredTransactionSessionsFromDisk` skipping the sessions still in use) and
 *   `RouterSessionCatalog::reapSessionsOlderThan` (`src/mongo/s/session_catalog_router.cpp`);
 *   `TransactionParticipant::canBeReaped` (no open — in-progress or prepared — transaction).
 * Reference: shared/reference/mongo-sessions-semantics.md §2.7, §5.9, checklist 81.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Cluster, type Connection, type Document, type UUID } from "sessionsim";
import { assertCode, assertOk, docs, lsid, retryable, txn, type Doc } from "./fixtures/participant.js";

const REAP = { reapLogicalSessionCacheNow: 1 };
const MINUTES = 60_000;

/** `serverStatus.logicalSessionRecordCache.sessionCatalogSize` of a node. */
async function catalogSize(cluster: Cluster, node: string): Promise<number> {
  const r = assertOk(await cluster.connect(node).runCommand("admin", { serverStatus: 1 }), "serverStatus");
  return (r.logicalSessionRecordCache as Doc).sessionCatalogSize as number;
}

/** Deletes the session's config.system.sessions record through mongos, as the jstests do. */
async function deleteSessionRecord(mongos: Connection, session: Doc): Promise<void> {
  const r = assertOk(
    await mongos.runCommand("config", {
      delete: "system.sessions",
      deletes: [{ q: { "_id.id": session.id as UUID }, limit: 0 }],
    }),
    "delete from config.system.sessions",
  );
  assert.equal(r.n, 1, "the session had a record");
}

/** Writes every node's cached sessions to config.system.sessions. */
async function refreshAll(cluster: Cluster): Promise<void> {
  for (const node of cluster.nodes())
    assertOk(await cluster.connect(node).runCommand("admin", { refreshLogicalSessionCacheNow: 1 }), `refresh ${node}`);
}

const insert = (conn: Connection, id: unknown, fields: Doc): Promise<Document> =>
  conn.runCommand("test", { insert: "c", documents: [{ _id: id }], ...fields });

/** A TransactionTooOld (225) refusal: the shard's command error, or mongos's write error for it. */
function assertTooOld(r: Document): void {
  const e = r.ok === 1 ? ((r.writeErrors as Doc[] | undefined)?.[0] ?? r) : r;
  assert.equal(e.code, 225, `expected TransactionTooOld, got ${JSON.stringify(r)}`);
  assert.match(String(e.errmsg), /^Retryable write with txnNumber 4 is prohibited on session/);
}

/** The reap.end events of a node. */
function reapEnds(cluster: Cluster, node: string): Document[] {
  return cluster.trace().filter((e) => e.type === "reap.end" && e.node === node) as unknown as Document[];
}

/** A one-shard cluster without periodic refreshes and reaps (tests trigger them). */
async function start(
  seed: number,
  parameters: Doc = {},
): Promise<{ cluster: Cluster; mongos: Connection; shard: Connection }> {
  const cluster = await Cluster.start({
    shards: 1,
    seed,
    parameters: { disableLogicalSessionCacheRefresh: true, ...parameters },
  });
  return { cluster, mongos: cluster.connect(cluster.mongos()), shard: cluster.connect(cluster.shard(0)) };
}

void describe("reaping idle sessions from memory (session_catalog_mongod.cpp, session_catalog_router.cpp; checklist 81)", () => {
  void test("a retryable-write session gone from config.system.sessions for 30 minutes is forgotten on the shard and mongos: a lower txnNumber is accepted again", async () => {
    const { cluster, mongos, shard } = await start(81);
    const s = lsid();
    for (const n of [3, 4, 5]) assertOk(await insert(mongos, n, retryable(s, n)), `retryable insert ${n}`);
    assertTooOld(await insert(mongos, 40, retryable(s, 4)));
    await refreshAll(cluster);
    assert.equal(await catalogSize(cluster, cluster.shard(0)), 1);
    assert.equal(await catalogSize(cluster, cluster.mongos()), 1);

    await deleteSessionRecord(mongos, s);
    await cluster.advance(31 * MINUTES);
    assertOk(await shard.runCommand("admin", REAP), "reap on the shard");
    assertOk(await mongos.runCommand("admin", REAP), "reap on mongos");

    assert.equal(await catalogSize(cluster, cluster.shard(0)), 0, "the shard's session-catalog entry is gone");
    assert.equal(await catalogSize(cluster, cluster.mongos()), 0, "mongos's session-catalog entry is gone");
    assert.equal((await docs(shard, "config", "transactions")).length, 0, "and the shard's config.transactions row");
    const shardReap = reapEnds(cluster, cluster.shard(0)).at(-1);
    assert.equal(shardReap?.reapedFromMemory, 1);
    assert.equal(shardReap?.reaped, 1, "one config.transactions entry deleted");
    const mongosReap = reapEnds(cluster, cluster.mongos()).at(-1);
    assert.equal(mongosReap?.reapedFromMemory, 1);
    // mongos reports the sessions it reaped as lastTransactionReaperJobEntriesCleanedUp (`_reap`).
    const stats = assertOk(await mongos.runCommand("admin", { serverStatus: 1 })).logicalSessionRecordCache as Doc;
    assert.equal(stats.lastTransactionReaperJobEntriesCleanedUp, 1);

    const again = assertOk(await insert(mongos, 44, retryable(s, 4)), "a lower txnNumber after the reap");
    assert.equal(again.n, 1);
    assert.deepEqual(
      (await docs(shard, "test", "c")).map((d) => d._id),
      [3, 4, 5, 44],
    );
  });

  void test("the reaper's own expiry path: the TTL monitor removes the record, the periodic reap forgets the session", async () => {
    // transaction_reaper.js with the jobs running: localLogicalSessionTimeoutMinutes 1 lets the
    // record expire through the TTL index instead of being deleted by hand.
    const cluster = await Cluster.start({
      shards: 1,
      seed: 82,
      parameters: { localLogicalSessionTimeoutMinutes: 1, ttlMonitorSleepSecs: 1 },
    });
    const mongos = cluster.connect(cluster.mongos());
    const s = lsid();
    assertOk(await insert(mongos, 1, retryable(s, 7)));
    await cluster.advance(45 * MINUTES);
    assert.equal(await catalogSize(cluster, cluster.shard(0)), 0);
    assert.equal(await catalogSize(cluster, cluster.mongos()), 0);
    assert.ok(
      reapEnds(cluster, cluster.shard(0)).some((e) => e.reapedFromMemory === 1),
      "a periodic reap erased the entry",
    );
    assertOk(await insert(mongos, 2, retryable(s, 6)), "a lower txnNumber after the reap");
  });

  void test("a session whose record is still in config.system.sessions is not reaped", async () => {
    // Records live 60 minutes here, so the one written at the start is still there after 31.
    const { cluster, mongos, shard } = await start(83, { localLogicalSessionTimeoutMinutes: 60 });
    const s = lsid();
    for (const n of [3, 4, 5]) assertOk(await insert(mongos, n, retryable(s, n)));
    await refreshAll(cluster);
    await cluster.advance(31 * MINUTES);
    assertOk(await shard.runCommand("admin", REAP));
    assertOk(await mongos.runCommand("admin", REAP));
    assert.equal(await catalogSize(cluster, cluster.shard(0)), 1);
    assert.equal(await catalogSize(cluster, cluster.mongos()), 1);
    assert.equal(reapEnds(cluster, cluster.shard(0)).at(-1)?.reapedFromMemory, 0);
    assert.equal((await docs(shard, "config", "transactions")).length, 1, "its config.transactions row stays");
    assertTooOld(await insert(mongos, 44, retryable(s, 4)));
  });

  void test("a session used within the last 30 minutes is not reaped even when its record is gone", async () => {
    const { cluster, mongos, shard } = await start(84);
    const s = lsid();
    for (const n of [3, 4, 5]) assertOk(await insert(mongos, n, retryable(s, n)));
    await refreshAll(cluster);
    await deleteSessionRecord(mongos, s);
    await cluster.advance(29 * MINUTES);
    assertOk(await shard.runCommand("admin", REAP));
    assert.equal(await catalogSize(cluster, cluster.shard(0)), 1, "lastCheckout is 29 minutes old");
    assertTooOld(await insert(mongos, 44, retryable(s, 4)));
  });

  void test("a session with a prepared transaction keeps its entry, and its config.transactions row is skipped", async () => {
    // reference §5.9: "the in-memory session is not reaped while the transaction is open ... and
    // its config.transactions entry is skipped while the session is still in memory".
    const { cluster, mongos, shard } = await start(85);
    const s = lsid();
    assertOk(await insert(shard, 1, txn(s, 6, true)), "insert in a transaction");
    assertOk(await shard.runCommand("admin", { prepareTransaction: 1, ...txn(s, 6) }), "prepareTransaction");
    await refreshAll(cluster);
    await deleteSessionRecord(mongos, s);
    await cluster.advance(31 * MINUTES);
    assertOk(await shard.runCommand("admin", REAP));

    assert.equal(await catalogSize(cluster, cluster.shard(0)), 1, "the prepared session stays in memory");
    const rows = await docs(shard, "config", "transactions");
    assert.equal(rows.length, 1, "its row is older than 30 minutes and its session is gone, yet kept");
    assert.equal(rows[0].state, "prepared");
    const status = assertOk(await shard.runCommand("admin", { serverStatus: 1 })).transactions as Doc;
    assert.equal(Number(status.currentPrepared), 1);
    assertOk(await shard.runCommand("admin", { abortTransaction: 1, ...txn(s, 6) }), "the transaction can still end");
  });

  void test("a session with an in-progress transaction keeps its entry and its older retryable write's row", async () => {
    const { cluster, mongos, shard } = await start(86, { transactionLifetimeLimitSeconds: 7200 });
    const s = lsid();
    assertOk(await insert(shard, 5, retryable(s, 5)), "retryable write");
    assertOk(await insert(shard, 6, txn(s, 6, true)), "insert in a transaction");
    await refreshAll(cluster);
    await deleteSessionRecord(mongos, s);
    await cluster.advance(31 * MINUTES);
    assertOk(await shard.runCommand("admin", REAP));

    assert.equal(await catalogSize(cluster, cluster.shard(0)), 1);
    const rows = await docs(shard, "config", "transactions");
    assert.equal(rows.length, 1, "the retryable write's row is skipped while the session is in use");
    assertOk(await shard.runCommand("admin", { commitTransaction: 1, ...txn(s, 6) }), "the transaction commits");
    assert.deepEqual(
      (await docs(shard, "test", "c")).map((d) => d._id),
      [5, 6],
    );
  });

  void test("mongos forgets a router session's transaction: a lower txnNumber can start a new transaction", async () => {
    const { cluster, mongos, shard } = await start(87);
    const s = lsid();
    assertOk(await insert(mongos, 1, txn(s, 5, true)), "insert in a transaction through mongos");
    assertOk(await mongos.runCommand("admin", { commitTransaction: 1, ...txn(s, 5) }), "commit");
    assertCode(await insert(mongos, 2, txn(s, 4, true)), "TransactionTooOld", 225);
    await refreshAll(cluster);
    await deleteSessionRecord(mongos, s);
    await cluster.advance(31 * MINUTES);
    assertOk(await shard.runCommand("admin", REAP));
    assertOk(await mongos.runCommand("admin", REAP));

    assert.equal(await catalogSize(cluster, cluster.mongos()), 0);
    assertOk(await insert(mongos, 2, txn(s, 4, true)), "txnNumber 4 starts a transaction after the reap");
    assertOk(await mongos.runCommand("admin", { commitTransaction: 1, ...txn(s, 4) }));
    assert.deepEqual(
      (await docs(shard, "test", "c")).map((d) => d._id),
      [1, 2],
    );
  });
});
