/**
 * Transaction benchmarks: single-shard transactions through mongos (one insert statement, then
 * `commitTransaction`, which mongos sends straight to the one participant), committed per wall
 * second, on a 2-shard cluster with the collection on shard0.
 */
import { Cluster, Long, UUID } from "sessionsim";
import type { Figure } from "./figure.js";

async function singleShardCommitsPerSec(transactions: number): Promise<number> {
  const cluster = await Cluster.start({ seed: 42, shards: 2 });
  const router = cluster.connect(cluster.mongos());
  const admin = await router.runCommand("admin", { enableSharding: "bench", primaryShard: cluster.shardName(0) });
  if (admin.ok !== 1) throw new Error(`enableSharding failed: ${String(admin.errmsg)}`);
  const lsid = { id: new UUID() };
  const start = performance.now();
  for (let i = 1; i <= transactions; i++) {
    const txn = { lsid, txnNumber: Long.fromNumber(i), autocommit: false };
    const w = await router.runCommand("bench", {
      insert: "c",
      documents: [{ _id: i }],
      ...txn,
      startTransaction: true,
    });
    if (w.ok !== 1) throw new Error(`insert failed: ${String(w.errmsg)}`);
    const c = await router.runCommand("admin", { commitTransaction: 1, ...txn });
    if (c.ok !== 1) throw new Error(`commit failed: ${String(c.errmsg)}`);
  }
  const secs = (performance.now() - start) / 1000;
  await cluster.stop();
  return transactions / secs;
}

export async function txnBench(): Promise<Figure[]> {
  await singleShardCommitsPerSec(300); // warm up
  const rate = Math.max(await singleShardCommitsPerSec(3000), await singleShardCommitsPerSec(3000));
  return [{ name: "txn.singleShardCommitsPerSec", value: Math.round(rate), unit: "txn/s" }];
}
