import type { Scenario } from "./scenario.js";
import { advanceUntil, includesSession, listedSessions, startSession } from "./helpers.js";

/**
 * `crash-before-refresh`: a mongos crashes before its refresh; its sessions never reach
 * `config.system.sessions` until used again.
 */
export const crashBeforeRefreshScenario: Scenario = {
  name: "crash-before-refresh",
  title: "A mongos crash loses the sessions it had not refreshed yet",
  teaches:
    "The session cache is in memory only. Sessions a mongos saw since its last refresh are lost when it crashes, and reach config.system.sessions only when a client uses them again.",
  source: "src/mongo/db/session/logical_session_cache_impl.cpp (in-memory _activeSessions); reference §2.6",
  async run(cluster) {
    const router = cluster.mongos();
    const conn = cluster.connect(router);
    const lsid = await startSession(conn);
    cluster.note("a session started on mongos0; mongos0 crashes before its refresh timer fires");
    cluster.crash(router);
    await cluster.restart(router);
    const listed = await advanceUntil(
      cluster,
      async () => includesSession(await listedSessions(conn), lsid),
      60_000,
      11 * 60_000,
    );
    cluster.note(`after two refresh intervals the session is in config.system.sessions: ${listed}`);
    cluster.note("the client uses the session again (refreshSessions counts as a use)");
    await conn.runCommand("admin", { refreshSessions: [lsid] });
    await conn.runCommand("admin", { refreshLogicalSessionCacheNow: 1 });
    cluster.note(`after mongos0's next refresh it is there: ${includesSession(await listedSessions(conn), lsid)}`);
  },
};
