/**
 * `readConcern.afterClusterTime` / `atClusterTime` on a node whose last write is older than the
 * requested time: it writes a no-op oplog entry first (`makeNoopWriteIfNeeded`,
 * `read_concern_mongod.cpp`), so the read — and its `operationTime` — is at or after that time.
 * Transcribed from jstests/noPassthrough/readConcern_atClusterTime_noop_write.js (a write on one
 * shard, then a read at its time on the other shard, whose cluster time only learned the time by
 * gossip). Reference: shared/reference/mongo-sessions-semantics.md §6, checklist 85.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Binary, Cluster, Long, type Connection, type Timestamp } from "sessionsim";
import { assertOk, clusterTime, lsid, operationTime, txn, type Doc } from "./fixtures/participant.js";

const signed = (t: Timestamp): Doc => ({
  clusterTime: t,
  signature: { hash: new Binary(new Uint8Array(20)), keyId: Long.fromNumber(0) },
});

async function twoShards(): Promise<{ cluster: Cluster; shard0: Connection; shard1: Connection }> {
  const cluster = await Cluster.start({ shards: 2, seed: 21 });
  return { cluster, shard0: cluster.connect(cluster.shard(0)), shard1: cluster.connect(cluster.shard(1)) };
}

void describe("afterClusterTime beyond the node's last write: a no-op write, then the read (read_concern_mongod.cpp)", () => {
  void test("a read on shard1 after shard0's writes answers with an operationTime at or after the requested time", async () => {
    const { shard0, shard1 } = await twoShards();
    const w = assertOk(
      await shard0.runCommand("test", { insert: "c", documents: [{ _id: 1 }, { _id: 2 }, { _id: 3 }] }),
    );
    const t = clusterTime(w);
    const before = operationTime(assertOk(await shard1.runCommand("test", { find: "c" })));
    assert.ok(before.lessThan(t), "shard1's last write is older than shard0's writes");
    const r = assertOk(
      await shard1.runCommand("test", { find: "c", readConcern: { afterClusterTime: t }, $clusterTime: signed(t) }),
    );
    assert.ok(!operationTime(r).lessThan(t), `operationTime ${String(operationTime(r))} >= ${String(t)}`);
    // The no-op is shard1's last write now: a plain read reports it too.
    const after = operationTime(assertOk(await shard1.runCommand("test", { find: "c" })));
    assert.ok(after.equals(operationTime(r)));
  });

  void test("no no-op when the node has already written at or after the requested time", async () => {
    const { shard0 } = await twoShards();
    const w = assertOk(await shard0.runCommand("test", { insert: "c", documents: [{ _id: 1 }] }));
    const t = operationTime(w);
    const r1 = assertOk(await shard0.runCommand("test", { find: "c", readConcern: { afterClusterTime: t } }));
    const r2 = assertOk(await shard0.runCommand("test", { find: "c", readConcern: { afterClusterTime: t } }));
    assert.ok(operationTime(r1).equals(t), "the read is at the node's last write");
    assert.ok(operationTime(r2).equals(t), "and writes nothing");
  });

  void test("atClusterTime of a snapshot transaction's first statement also makes the no-op write", async () => {
    const { shard0, shard1 } = await twoShards();
    const t = operationTime(assertOk(await shard0.runCommand("test", { insert: "c", documents: [{ _id: 1 }] })));
    const s = lsid();
    const r = assertOk(
      await shard1.runCommand("test", {
        find: "c",
        readConcern: { level: "snapshot", atClusterTime: t },
        $clusterTime: signed(t),
        ...txn(s, 1, true),
      }),
    );
    assert.ok(!operationTime(r).lessThan(t));
    assertOk(await shard1.runCommand("admin", { commitTransaction: 1, ...txn(s, 1) }));
  });

  void test("through mongos: a causally consistent read on the other shard sees an operationTime at or after the write", async () => {
    const cluster = await Cluster.start({ shards: 2, seed: 22 });
    const router = cluster.connect(cluster.mongos());
    const admin = (cmd: Doc): Promise<Doc> => router.runCommand("admin", cmd);
    assertOk(await admin({ enableSharding: "test0", primaryShard: cluster.shardName(0) }));
    assertOk(await admin({ enableSharding: "test1", primaryShard: cluster.shardName(1) }));
    const w = assertOk(await router.runCommand("test0", { insert: "c", documents: [{ _id: 1 }, { _id: 2 }] }));
    const t = operationTime(w);
    const r = assertOk(
      await router.runCommand("test1", { find: "c", readConcern: { afterClusterTime: t }, $clusterTime: signed(t) }),
    );
    assert.ok(!operationTime(r).lessThan(t), `operationTime ${String(operationTime(r))} >= ${String(t)}`);
  });
});
