/**
 * Property-testing benchmarks:
 * - `prop.runsPerSec`: complete runs per wall second of the standard property — 2 shards, 2 mongos,
 *   exactly 100 commands with every fault kind, at least 1 hour of virtual time, liveness checked
 *   after faults stop — on one thread (the explore worker's code path: one seed = one case). A
 *   sweep worker runs thousands of seeds, so this is its steady rate: 60 seeds timed after 20
 *   others have warmed the JIT (the first seeds of a process run at about half that rate).
 * - `explore.runsPerSec.workers2`: the same runs through `sessionsim explore` with 2 worker threads.
 * - `sim.timeCompression`: virtual time / wall time for 1 simulated hour of a 2-shard, 2-mongos
 *   cluster with 1,000 sessions and 100 operations per second of client load.
 */
import { availableParallelism } from "node:os";
import { Cluster, Long, UUID, type Connection } from "sessionsim";
import { explore, runSeed, type ExploreSettings } from "@sessionsim/cli";
import type { Figure } from "./figure.js";

const SETTINGS: ExploreSettings = {
  faults: "all",
  commands: 100,
  shards: 2,
  mongos: 2,
  determinism: false,
  exactCommands: true,
};

async function runsPerSecOneThread(first: number, seeds: number): Promise<{ rate: number; failed: number }> {
  let failed = 0;
  const start = performance.now();
  for (let s = first; s < first + seeds; s++) if ((await runSeed(SETTINGS, s)).failed) failed++;
  return { rate: seeds / ((performance.now() - start) / 1000), failed };
}

async function runsPerSecWorkers(seeds: number, workers: number): Promise<number> {
  const start = performance.now();
  const r = await explore({ settings: SETTINGS, runs: seeds, seed: 100_001, workers });
  if (r.runs !== seeds) throw new Error("explore lost seeds");
  return seeds / ((performance.now() - start) / 1000);
}

/** 1 hour of a 2-shard, 2-mongos cluster: 1,000 sessions, 100 operations per second. */
async function timeCompression(): Promise<number> {
  const cluster = await Cluster.start({ seed: 3, shards: 2, mongos: 2 });
  const admin = cluster.connect(cluster.mongos(0));
  await admin.runCommand("admin", { shardCollection: "test.load", key: { _id: 1 } });
  await admin.runCommand("admin", { split: "test.load", middle: { _id: 0 } });
  await admin.runCommand("admin", { moveChunk: "test.load", find: { _id: 1 }, to: cluster.shardName(1) });
  const conns: Connection[] = Array.from({ length: 20 }, (_, i) => cluster.connect(cluster.mongos(i % 2)));
  const sessions = Array.from({ length: 1000 }, (_, i) => ({ id: sessionId(i) }));
  let op = 0;
  const virtualMs = 3_600_000;
  const start = performance.now();
  // 100 operations per second: one every 10 ms of virtual time, spread over sessions and routers.
  for (let t = 0; t < virtualMs; t += 10) {
    const lsid = sessions[op % sessions.length];
    const conn = conns[op % conns.length];
    const key = ((op * 7919) % 2000) - 1000;
    switch (op % 4) {
      case 0:
        conn.send("test", {
          update: "load",
          updates: [{ q: { _id: key }, u: { $set: { at: op } }, upsert: true }],
          lsid,
        });
        break;
      case 1:
        conn.send("test", { find: "load", filter: { _id: key }, lsid });
        break;
      case 2:
        conn.send("test", {
          update: "load",
          updates: [{ q: { _id: key }, u: { $inc: { v: 1 } } }],
          lsid,
          txnNumber: Long.fromNumber(op),
        });
        break;
      default:
        conn.send("test", { count: "load", query: { _id: key }, lsid });
    }
    op++;
    await cluster.advance(10);
  }
  const wallMs = performance.now() - start;
  await cluster.stop();
  return virtualMs / wallMs;
}

function sessionId(i: number): UUID {
  // A version-4-shaped UUID built from the index (deterministic, distinct).
  const b = new Uint8Array(16);
  b[0] = 0x5e;
  b[6] = 0x40;
  b[8] = 0x80;
  new DataView(b.buffer).setUint32(12, i);
  return new UUID(b);
}

/** `prop.runsPerSec` (one thread). */
export async function propBench(): Promise<Figure[]> {
  await runsPerSecOneThread(200_001, 20); // warm-up seeds, apart from the timed ones
  const one = await runsPerSecOneThread(100_001, 60);
  if (one.failed > 0) console.error(`prop.runsPerSec: ${one.failed} of 60 seeds failed (their shrinking is included)`);
  return [{ name: "prop.runsPerSec", value: Number(one.rate.toFixed(2)), unit: "runs/s" }];
}

/** `explore.runsPerSec.workers2`. */
export async function exploreBench(): Promise<Figure[]> {
  const workers = Math.min(2, Math.max(1, availableParallelism()));
  const rate = await runsPerSecWorkers(100, workers);
  return [{ name: "explore.runsPerSec.workers2", value: Number(rate.toFixed(2)), unit: "runs/s" }];
}

/** `sim.timeCompression`. */
export async function simBench(): Promise<Figure[]> {
  return [{ name: "sim.timeCompression", value: Math.round(await timeCompression()), unit: "x" }];
}
