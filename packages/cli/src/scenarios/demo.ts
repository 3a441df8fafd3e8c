import type { Scenario } from "./scenario.js";
import {
  advanceUntil,
  clock,
  firstBatch,
  includesSession,
  listedSessions,
  localSessions,
  startSession,
} from "./helpers.js";
import { twoShardCollection, txn } from "./kill-vs-prepare.js";

/**
 * The default simulation (`pnpm demo`) on a 2-shard, 1-mongos cluster: a session is local to
 * mongos until its refresh writes it to config.system.sessions; a crash of mongos loses its cache
 * but not the records; and it ends with the product's signature moment — a cross-shard
 * transaction reaches sendingPrepare, killAllSessions is issued, the prepared transaction survives
 * and commits while an unprepared transaction on another session is aborted.
 */
export const demoScenario: Scenario = {
  name: "demo",
  title: "sessionsim demo: local sessions, the refresh, and a kill that spares a prepared transaction",
  teaches:
    "Sessions live in each node's memory until that node's refresh syncs them to config.system.sessions, so a crash loses only what was not yet refreshed; the kill commands abort unprepared transactions and interrupt running operations, but leave a transaction whose coordinator has completed sendingPrepare: it stays prepared and commits.",
  source:
    "https://www.mongodb.com/docs/manual/reference/command/killAllSessions/ ; src/mongo/db/session/logical_session_cache_impl.cpp ; src/mongo/db/session/kill_sessions_local.cpp (killSessionsAbortUnpreparedTransactions)",
  requires: { shards: 2 },
  async run(cluster) {
    const router = cluster.connect(cluster.mongos());
    const hello = await router.runCommand("admin", { hello: 1 });
    cluster.note(
      `mongos0 answers hello as a router (msg: ${String(hello.msg)}, logicalSessionTimeoutMinutes: ${String(hello.logicalSessionTimeoutMinutes)})`,
    );

    cluster.note("1. A client starts a session on mongos0");
    const lsid = await startSession(router);
    cluster.note(`   in mongos0's cache ($listLocalSessions): ${includesSession(await localSessions(router), lsid)}`);
    cluster.note(
      `   in config.system.sessions ($listSessions): ${includesSession(await listedSessions(router), lsid)} — not until mongos0 refreshes`,
    );
    await advanceUntil(cluster, async () => includesSession(await listedSessions(router), lsid), 30_000, 6 * 60_000);
    cluster.note(
      `   at ${clock(cluster)} mongos0's refresh timer has fired: in $listSessions now: ${includesSession(await listedSessions(router), lsid)}`,
    );

    cluster.note("2. mongos0 crashes and restarts: its session cache is gone, config.system.sessions keeps the record");
    cluster.crash(cluster.mongos());
    await cluster.restart(cluster.mongos());
    cluster.note(
      `   $listLocalSessions on mongos0: ${(await localSessions(router)).length} sessions; $listSessions still has the session: ${includesSession(await listedSessions(router), lsid)}`,
    );

    cluster.note("3. Transaction A moves 50 from account 1 (shard0) to account 101 (shard1)");
    await twoShardCollection(router, cluster.shardName(1));
    const a = await startSession(router);
    await router.runCommand("test", {
      update: "accounts",
      updates: [{ q: { _id: 1 }, u: { $inc: { balance: -50 } } }],
      ...txn(a, 1, true),
    });
    await router.runCommand("test", {
      update: "accounts",
      updates: [{ q: { _id: 101 }, u: { $inc: { balance: 50 } } }],
      ...txn(a, 1),
    });
    cluster.note("   transaction B, on another session, inserts on shard0 and stays in progress (unprepared)");
    const b = await startSession(router);
    await router.runCommand("test", { insert: "accounts", documents: [{ _id: 2, balance: 7 }], ...txn(b, 1, true) });
    cluster.note(
      "   the client commits A; its coordinator (shard0) is held before writing its decision (hangBeforeWritingDecision)",
    );
    const coordinator = cluster.connect(cluster.shard(0));
    await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "alwaysOn" });
    const commit = router.send("admin", { commitTransaction: 1, ...txn(a, 1) });
    await cluster.advance(1_000);
    cluster.note("   A's coordinator has completed sendingPrepare: A is prepared on shard0 and shard1");

    cluster.note("4. killAllSessions: [] — every session on every node");
    await router.runCommand("admin", { killAllSessions: [] });
    const interrupted = await cluster.wait(commit);
    cluster.note(
      `   A's commitTransaction call, a running operation of a killed session, was interrupted: ${String(interrupted.codeName ?? "ok")} — but A itself stays prepared`,
    );
    const bNext = await router.runCommand("test", { find: "accounts", filter: {}, ...txn(b, 1) });
    cluster.note(`   B (unprepared) was aborted by the kill: its next statement → ${String(bNext.codeName ?? "ok")}`);

    cluster.note(
      "5. The coordinator is released and the client retries commitTransaction: the decision is commit, both participants commit",
    );
    await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "off" });
    const committed = await router.runCommand("admin", { commitTransaction: 1, ...txn(a, 1) });
    await cluster.advance(1_000);
    const balances = firstBatch(await router.runCommand("test", { find: "accounts", filter: {}, sort: { _id: 1 } }));
    cluster.note(
      `   A (prepared) survived the kill and committed: commitTransaction ok ${String(committed.ok)}; balances ${balances.map((d) => `${String(d._id)}=${String(d.balance)}`).join(", ")} (B's insert of _id 2 is gone)`,
    );
  },
};
