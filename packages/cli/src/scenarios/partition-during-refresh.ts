import type { Scenario } from "./scenario.js";
import { includesSession, listedSessions, localSessions, startSession } from "./helpers.js";

/** `partition-during-refresh`: a refresh fails while a shard is unreachable; nothing is lost; it syncs after heal. */
export const partitionDuringRefreshScenario: Scenario = {
  name: "partition-during-refresh",
  title: "A refresh that cannot reach the sessions collection loses nothing",
  teaches:
    "A refresh whose upserts fail puts the sessions back into the cache for the next refresh (8.0-era partial-failure handling); they reach config.system.sessions once the network heals.",
  source: "src/mongo/db/session/logical_session_cache_impl.cpp (_refresh: failed batches go back to _activeSessions)",
  async run(cluster) {
    const router = cluster.mongos();
    const conn = cluster.connect(router);
    const lsid = await startSession(conn);
    const shards = cluster.nodes().filter((n) => n.startsWith("shard"));
    cluster.note("the network between mongos0 and every shard fails");
    cluster.partition([router], shards);
    const failed = await conn.runCommand("admin", { refreshLogicalSessionCacheNow: 1 });
    cluster.note(
      `mongos0's refresh → ok: ${String(failed.ok)}${failed.ok === 1 ? "" : ` (${String(failed.codeName)})`}`,
    );
    cluster.note(`the session is still in mongos0's cache: ${includesSession(await localSessions(conn), lsid)}`);
    cluster.heal();
    cluster.note("the network heals; mongos0 refreshes again");
    const ok = await conn.runCommand("admin", { refreshLogicalSessionCacheNow: 1 });
    cluster.note(
      `refresh → ok: ${String(ok.ok)}; in config.system.sessions: ${includesSession(await listedSessions(conn), lsid)}`,
    );
  },
};
