import type { Connection, Document } from "sessionsim";
import type { Scenario } from "./scenario.js";
import { startSession } from "./helpers.js";
import { twoShardCollection, txn } from "./kill-vs-prepare.js";

const MINUTE = 60_000;

interface AppSession {
  readonly lsid: Document;
  readonly router: Connection;
  next: number;
  ended: boolean;
}

/**
 * `research-load`: a steady two-hour workload for parameter sweeps. Thirty application sessions
 * on two routers are each used every 2–8 minutes (an insert or a find that leaves a cursor open);
 * a few are ended. Every 10 minutes a cross-shard transaction commits, and half of the time an
 * operator's `killAllSessions` arrives while its coordinator holds both participants prepared.
 * All randomness comes from the run's seed.
 */
export const researchLoadScenario: Scenario = {
  name: "research-load",
  title: "A steady two-hour workload for research sweeps",
  teaches:
    "How refresh intervals, timeouts and faults shape config.system.sessions traffic, expiry and visibility; run it with `sessionsim sweep`.",
  source: "reference §2.5–2.7, §3.7, §5.8",
  requires: { shards: 2, mongos: 2 },
  cluster: { shards: 2, mongos: 2 },
  async run(cluster) {
    const rng = cluster.simulation.random.get("scenario/research-load");
    const routers = [cluster.connect(cluster.mongos(0)), cluster.connect(cluster.mongos(1))];
    const coordinator = cluster.connect(cluster.shard(0));
    await twoShardCollection(routers[0], cluster.shardName(1));
    const start = cluster.now().getTime();
    const sessions: AppSession[] = [];
    for (let i = 0; i < 30; i++) {
      const router = routers[i % 2];
      sessions.push({
        lsid: await startSession(router),
        router,
        next: start + rng.between(0, 8) * MINUTE,
        ended: false,
      });
    }
    const txnSession = await startSession(routers[0]);
    let txnNumber = 0;
    let nextTxn = start + 10 * MINUTE;
    let n = 0;
    while (cluster.now().getTime() < start + 120 * MINUTE) {
      const now = cluster.now().getTime();
      for (const s of sessions) {
        if (s.ended || s.next > now) continue;
        if (rng.chance(0.5))
          await s.router.runCommand("test", { insert: "events", documents: [{ n: n++ }], lsid: s.lsid });
        else await s.router.runCommand("test", { find: "events", filter: {}, batchSize: 1, lsid: s.lsid });
        if (rng.chance(0.02)) {
          await s.router.runCommand("admin", { endSessions: [s.lsid] });
          s.ended = true;
        }
        s.next = now + rng.between(2, 8) * MINUTE;
      }
      if (now >= nextTxn) {
        nextTxn += 10 * MINUTE;
        txnNumber++;
        const r = routers[0];
        await r.runCommand("test", {
          update: "accounts",
          updates: [{ q: { _id: 1 }, u: { $inc: { balance: -1 } } }],
          ...txn(txnSession, txnNumber, true),
        });
        await r.runCommand("test", {
          update: "accounts",
          updates: [{ q: { _id: 101 }, u: { $inc: { balance: 1 } } }],
          ...txn(txnSession, txnNumber),
        });
        const held = rng.chance(0.5);
        if (held)
          await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "alwaysOn" });
        const commit = r.send("admin", { commitTransaction: 1, ...txn(txnSession, txnNumber) });
        await cluster.advance(500);
        if (held) {
          await rng.pick(routers).runCommand("admin", { killAllSessions: [] });
          await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "off" });
        }
        await cluster.wait(commit);
        await r.runCommand("admin", { commitTransaction: 1, ...txn(txnSession, txnNumber) });
      }
      await cluster.advance(30_000);
    }
  },
};
