import type { Scenario } from "./scenario.js";
import { advanceUntil, clock, includesSession, listedSessions, localSessions, startSession } from "./helpers.js";

/**
 * `session-sync`: a new session is in `$listLocalSessions` at once and in `$listSessions` only
 * after the node's refresh; each node syncs on its own timer.
 */
export const sessionSyncScenario: Scenario = {
  name: "session-sync",
  title: "A session is local first, and reaches config.system.sessions at its node's refresh",
  teaches:
    "startSession records the session only in the receiving node's in-memory cache; each node upserts its cache into config.system.sessions on its own refresh timer (logicalSessionRefreshMillis, 5 minutes).",
  source:
    "https://www.mongodb.com/docs/manual/reference/operator/aggregation/listLocalSessions/ ; src/mongo/db/session/logical_session_cache_impl.cpp (_refresh)",
  requires: { mongos: 2 },
  cluster: { shards: 2, mongos: 2 },
  async run(cluster) {
    const m0 = cluster.connect(cluster.mongos(0));
    const m1 = cluster.connect(cluster.mongos(1));
    cluster.note("a client starts a session on mongos0");
    const lsid = await startSession(m0);
    cluster.note(`$listLocalSessions on mongos0 shows it: ${includesSession(await localSessions(m0), lsid)}`);
    cluster.note(
      `$listLocalSessions on mongos1 shows it: ${includesSession(await localSessions(m1), lsid)} (each node has its own cache)`,
    );
    cluster.note(
      `$listSessions shows it: ${includesSession(await listedSessions(m0), lsid)} (nothing is written until mongos0 refreshes)`,
    );
    const synced = await advanceUntil(
      cluster,
      async () => includesSession(await listedSessions(m1), lsid),
      15_000,
      6 * 60_000,
    );
    cluster.note(
      synced
        ? `at ${clock(cluster)} mongos0's refresh timer fired: the session is now in config.system.sessions, visible from every node`
        : "the session did not reach config.system.sessions within 6 minutes",
    );
    cluster.note(
      `mongos0's cache is empty again after its refresh: ${!includesSession(await localSessions(m0), lsid)}`,
    );
  },
};
