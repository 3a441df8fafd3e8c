/**
 * Transaction benchmarks, committed transactions per wall second through mongos:
 * - `txn.singleShardCommitsPerSec`: one insert statement on one shard, then `commitTransaction`,
 *   which mongos sends straight to the one participant (2-shard cluster, collection on shard0);
 * - `txn.crossShardCommitsPerSec`: one insert statement writing on each of 3 shards, then
 *   `commitTransaction`, which mongos hands to the coordinator shard for a two-phase commit.
 */
import { Cluster, Long, UUID, type Connection, type Document } from "sessionsim";
import type { Figure } from "./figure.js";

function check(r: Document, what: string): void {
  if (r.ok !== 1) throw new Error(`${what} failed: ${String(r.errmsg)}`);
}

/** Runs `transactions` transactions of `documents(i)` on one session; returns commits per wall second. */
async function commitsPerSec(
  router: Connection,
  transactions: number,
  documents: (i: number) => Document[],
): Promise<number> {
  const lsid = { id: new UUID() };
  const start = performance.now();
  for (let i = 1; i <= transactions; i++) {
    const txn = { lsid, txnNumber: Long.fromNumber(i), autocommit: false };
    check(
      await router.runCommand("bench", { insert: "c", documents: documents(i), ...txn, startTransaction: true }),
      "insert",
    );
    check(await router.runCommand("admin", { commitTransaction: 1, ...txn }), "commitTransaction");
  }
  return transactions / ((performance.now() - start) / 1000);
}

async function singleShardCommitsPerSec(transactions: number): Promise<number> {
  const cluster = await Cluster.start({ seed: 42, shards: 2 });
  const router = cluster.connect(cluster.mongos());
  check(
    await router.runCommand("admin", { enableSharding: "bench", primaryShard: cluster.shardName(0) }),
    "enableSharding",
  );
  const rate = await commitsPerSec(router, transactions, (i) => [{ _id: i }]);
  await cluster.stop();
  return rate;
}

async function crossShardCommitsPerSec(transactions: number): Promise<number> {
  const cluster = await Cluster.start({ seed: 43, shards: 3 });
  const router = cluster.connect(cluster.mongos());
  const admin = (cmd: Document): Promise<Document> => router.runCommand("admin", cmd);
  check(await admin({ enableSharding: "bench", primaryShard: cluster.shardName(0) }), "enableSharding");
  check(await admin({ shardCollection: "bench.c", key: { _id: 1 } }), "shardCollection");
  // shard0 owns _id < 0, shard1 [0, 1e9), shard2 >= 1e9.
  for (const [middle, to] of [
    [0, 1],
    [1e9, 2],
  ] as const) {
    check(await admin({ split: "bench.c", middle: { _id: middle } }), "split");
    check(await admin({ moveChunk: "bench.c", find: { _id: middle }, to: cluster.shardName(to) }), "moveChunk");
  }
  const rate = await commitsPerSec(router, transactions, (i) => [{ _id: -i }, { _id: i }, { _id: 1e9 + i }]);
  await cluster.stop();
  return rate;
}

export async function txnBench(): Promise<Figure[]> {
  await singleShardCommitsPerSec(300); // warm up
  const single = Math.max(await singleShardCommitsPerSec(3000), await singleShardCommitsPerSec(3000));
  await crossShardCommitsPerSec(100);
  const cross = Math.max(await crossShardCommitsPerSec(1000), await crossShardCommitsPerSec(1000));
  return [
    { name: "txn.singleShardCommitsPerSec", value: Math.round(single), unit: "txn/s" },
    { name: "txn.crossShardCommitsPerSec", value: Math.round(cross), unit: "txn/s" },
  ];
}
