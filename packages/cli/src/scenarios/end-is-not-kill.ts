import type { Document } from "sessionsim";
import type { Scenario } from "./scenario.js";
import { advanceUntil, clock, firstBatch, idOf, includesSession, listedSessions, startSession } from "./helpers.js";

/** The session's record in a `$listSessions` result, if there is one. */
function recordOf(docs: readonly Document[], lsid: Document): Document | undefined {
  return docs.find((d) => idOf(d) === idOf(lsid));
}

/** A record's `lastUse` as virtual time since the start, e.g. `0m01s`. */
function lastUseOf(record: Document | undefined): string {
  const lastUse = record?.lastUse;
  if (!(lastUse instanceof Date)) return "?";
  const ms = lastUse.getTime() - Date.UTC(2026, 0, 1);
  return `${Math.floor(ms / 60_000)}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, "0")}s`;
}

/**
 * `end-is-not-kill`: `endSessions` leaves a running operation alone; the record disappears at
 * the next refresh — and comes back while the operation still runs, because a refresh upserts the
 * session of every running operation (`ServiceLiaison::getActiveOpSessions`). Once the operation
 * is over nothing refreshes the session, and its record expires.
 */
export const endIsNotKillScenario: Scenario = {
  name: "end-is-not-kill",
  title: "endSessions is not a kill",
  teaches:
    "endSessions only queues the session for removal: a running operation in it carries on; at the node's next refresh the record is deleted from config.system.sessions and the node's cursors for it are closed. While the operation still runs, the node's later refreshes write the record again: a refresh upserts the session of every operation running on the node, ended or not (only the refresh that processes the end skips it). Once the operation is over, nothing refreshes the session, and its record expires 30 minutes after the last write.",
  source:
    "https://www.mongodb.com/docs/manual/reference/command/endSessions/ ; src/mongo/db/session/logical_session_cache_impl.cpp (endSessions, _refresh steps 6, 8 and 11) ; src/mongo/db/session/service_liaison_impl.cpp (getActiveOpSessions)",
  async run(cluster) {
    const shard = cluster.connect(cluster.shard(0));
    const lsid = await startSession(shard);
    await shard.runCommand("admin", { refreshLogicalSessionCacheNow: 1 });
    cluster.note(`the session is in config.system.sessions: ${includesSession(await listedSessions(shard), lsid)}`);
    cluster.note("an operation runs in the session on shard0 for 60 s (sleep)");
    const sleeping = shard.send("admin", { sleep: 1, secs: 60, lock: "none", lsid });
    await cluster.advance(1_000);
    cluster.note("the client ends the session while the operation runs");
    const ended = await shard.runCommand("admin", { endSessions: [lsid] });
    cluster.note(`endSessions → ok: ${String(ended.ok)}`);
    const ops = firstBatch(
      await shard.runCommand("admin", {
        aggregate: 1,
        pipeline: [{ $currentOp: { allUsers: true } }, { $match: { "command.sleep": 1 } }],
        cursor: {},
      }),
    );
    cluster.note(`$currentOp still shows the sleep: ${ops.length === 1}, killPending: ${String(ops[0]?.killPending)}`);
    cluster.note("shard0 refreshes its cache");
    await shard.runCommand("admin", { refreshLogicalSessionCacheNow: 1 });
    cluster.note(
      `after the refresh the record is gone from config.system.sessions: ${!includesSession(await listedSessions(shard), lsid)}`,
    );

    cluster.note("shard0 refreshes again while the sleep still runs");
    await shard.runCommand("admin", { refreshLogicalSessionCacheNow: 1 });
    const back = recordOf(await listedSessions(shard), lsid);
    cluster.note(
      `the record is back: ${back !== undefined} (lastUse ${lastUseOf(back)}) — a refresh upserts the session of every operation running on the node (getActiveOpSessions), ended or not; only the refresh that processed endSessions skipped it`,
    );

    const reply = await cluster.wait(sleeping);
    cluster.note(
      `at ${clock(cluster)} the sleep finished normally: ok ${String(reply.ok)} — ending a session never interrupts its operations`,
    );
    await cluster.advance(6 * 60_000);
    const kept = recordOf(await listedSessions(shard), lsid);
    cluster.note(
      `at ${clock(cluster)}, after shard0's next periodic refresh, the record is still there with lastUse ${lastUseOf(kept)} (set by the last refresh while the sleep ran): with the operation over, nothing refreshes the ended session any more — it is not in shard0's cache and nothing runs in it`,
    );
    // The TTL index deletes it localLogicalSessionTimeoutMinutes (30) after lastUse; the monitor runs every 60 s.
    const lastUse = kept?.lastUse;
    if (lastUse instanceof Date)
      await cluster.advance(Math.max(0, lastUse.getTime() + 30 * 60_000 - cluster.now().getTime()));
    const expired = await advanceUntil(
      cluster,
      async () => !includesSession(await listedSessions(shard), lsid),
      60_000,
      10 * 60_000,
    );
    cluster.note(
      expired
        ? `at ${clock(cluster)} the TTL monitor has deleted the record, about 30 minutes after its lastUse ${lastUseOf(kept)}: an ended session that a running operation kept writing simply expires`
        : "the record did not expire",
    );
  },
};
