import type { Scenario } from "./scenario.js";
import { clock, firstBatch, includesSession, listedSessions, startSession } from "./helpers.js";

/**
 * `end-is-not-kill`: `endSessions` leaves a running operation alone; the record disappears at
 * the next refresh.
 */
export const endIsNotKillScenario: Scenario = {
  name: "end-is-not-kill",
  title: "endSessions is not a kill",
  teaches:
    "endSessions only queues the session for removal: a running operation in it carries on; at the node's next refresh the record is deleted from config.system.sessions and the node's cursors for it are closed.",
  source:
    "https://www.mongodb.com/docs/manual/reference/command/endSessions/ ; src/mongo/db/session/logical_session_cache_impl.cpp (endSessions, _refresh steps 8 and 11)",
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
    const reply = await cluster.wait(sleeping);
    cluster.note(
      `at ${clock(cluster)} the sleep finished normally: ok ${String(reply.ok)} — ending a session never interrupts its operations`,
    );
  },
};
