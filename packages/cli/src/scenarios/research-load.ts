import type { Connection, Document } from "sessionsim";
import type { Scenario } from "./scenario.js";
import { startSession } from "./helpers.js";
import { twoShardCollection, txn } from "./kill-vs-prepare.js";

const MINUTE = 60_000;

/**
 * `research-load`: a steady workload for parameter sweeps. Clients on two routers start sessions,
 * use them at random intervals (some go idle for long stretches, some are ended), open cursors,
 * run cross-shard transactions, and an operator runs killAllSessions now and then — for two hours
 * of virtual time. All randomness comes from the run's seed.
 */
export const researchLoadScenario: Scenario = {
  name: "research-load",
  title: "A steady two-hour workload for research sweeps",
  teaches:
    "How refresh intervals, timeouts and faults shape config.system.sessions traffic, expiry and visibility; run it with `sessionsim sweep`.",
  source: "reference §2.5–2.7, §3.7, §5.8",
  cluster: { shards: 2, mongos: 2 },
  async run(cluster) {
    const rng = cluster.simulation.random.get("scenario/research-load");
    const routers: Connection[] = [cluster.connect(cluster.mongos(0)), cluster.connect(cluster.mongos(1))];
    await twoShardCollection(routers[0], cluster.shardName(1));
    const sessions: { lsid: Document; router: Connection; txnNumber: number; idleUntil: number; ended: boolean }[] = [];
    const end = cluster.now().getTime() + 120 * MINUTE;
    let next = 0;
    while (cluster.now().getTime() < end) {
      const now = cluster.now().getTime();
      const roll = rng.next();
      if (sessions.length < 40 && roll < 0.15) {
        const router = rng.pick(routers);
        sessions.push({ lsid: await startSession(router), router, txnNumber: 0, idleUntil: now, ended: false });
      } else if (sessions.length > 0 && roll < 0.85) {
        const s = rng.pick(sessions);
        if (!s.ended && s.idleUntil <= now) {
          const action = rng.next();
          if (action < 0.5) {
            await s.router.runCommand("test", { insert: "events", documents: [{ n: next++ }], lsid: s.lsid });
          } else if (action < 0.75) {
            await s.router.runCommand("test", { find: "events", filter: {}, batchSize: 1, lsid: s.lsid });
          } else if (action < 0.9) {
            s.txnNumber++;
            const t = txn(s.lsid, s.txnNumber, true);
            await s.router.runCommand("test", { update: "accounts", updates: [{ q: { _id: 1 }, u: { $inc: { balance: -1 } } }], ...t });
            await s.router.runCommand("test", { update: "accounts", updates: [{ q: { _id: 101 }, u: { $inc: { balance: 1 } } }], ...txn(s.lsid, s.txnNumber) });
            s.router.send("admin", { commitTransaction: 1, ...txn(s.lsid, s.txnNumber) });
          } else if (action < 0.95) {
            s.idleUntil = now + rng.between(10, 60) * MINUTE; // goes idle for a while
          } else {
            await s.router.runCommand("admin", { endSessions: [s.lsid] });
            s.ended = true;
          }
        }
      } else if (roll > 0.995) {
        await rng.pick(routers).runCommand("admin", { killAllSessions: [] });
      }
      await cluster.advance(rng.between(5_000, 60_000));
    }
  },
};
