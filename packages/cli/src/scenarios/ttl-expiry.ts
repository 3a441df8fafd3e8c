import type { Long } from "sessionsim";
import type { Scenario } from "./scenario.js";
import { advanceUntil, clock, includesSession, listedSessions, startSession } from "./helpers.js";

/** `ttl-expiry`: an idle session's record expires after 30 minutes; its cursors die at the next refresh. */
export const ttlExpiryScenario: Scenario = {
  name: "ttl-expiry",
  title: "An idle session expires; its cursor dies at the next refresh",
  teaches:
    "config.system.sessions has a TTL index (lsidTTLIndex, 30 minutes). An idle session's record is deleted by the TTL monitor about 30 minutes after the last refresh that upserted it; the node's next refresh finds the record gone and kills the session's cursors.",
  source:
    'src/mongo/db/session/sessions_collection.cpp (lsidTTLIndex); logical_session_cache_impl.cpp (_refresh steps 9–11); manual "TTL Indexes"',
  async run(cluster) {
    const conn = cluster.connect(cluster.mongos());
    const lsid = await startSession(conn);
    await conn.runCommand("test", {
      insert: "events",
      documents: Array.from({ length: 5 }, (_, i) => ({ _id: i })),
      lsid,
    });
    const found = await conn.runCommand("test", { find: "events", filter: {}, batchSize: 1, lsid });
    const cursorId = (found.cursor as { id: Long }).id;
    cluster.note(`the session opened a cursor on mongos0 (id ${cursorId.toString()}) and then goes idle`);
    await cluster.advance(6 * 60_000);
    cluster.note(
      `at ${clock(cluster)} the record is in config.system.sessions: ${includesSession(await listedSessions(conn), lsid)}`,
    );
    const expired = await advanceUntil(
      cluster,
      async () => !includesSession(await listedSessions(conn), lsid),
      60_000,
      45 * 60_000,
    );
    cluster.note(
      expired
        ? `at ${clock(cluster)} the TTL monitor has deleted the idle session's record`
        : "the record did not expire",
    );
    await cluster.advance(5 * 60_000 + 1);
    const more = await conn.runCommand("test", { getMore: cursorId, collection: "events", lsid });
    cluster.note(
      `at ${clock(cluster)}, after mongos0's refresh, getMore on the cursor → ${more.ok === 1 ? "ok" : String(more.codeName)}`,
    );
  },
};
