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
 * mongos until its refresh writes it to config.system.sessions; then the product's signature
 * moment — killAllSessions aborts an unprepared transaction but leaves a prepared cross-shard
 * transaction alone, which commits afterwards; and a crash shows what is volatile.
 */
export const demoScenario: Scenario = {
  name: "demo",
  title: "sessionsim demo: local sessions, the refresh, and a kill that spares a prepared transaction",
  teaches:
    "Sessions live in each node's memory until that node's refresh syncs them to config.system.sessions; the kill commands abort unprepared transactions but ignore prepared ones; a crash loses in-memory state only.",
  source:
    "https://www.mongodb.com/docs/manual/reference/command/killAllSessions/ ; src/mongo/db/session/logical_session_cache_impl.cpp ; src/mongo/db/session/kill_sessions_local.cpp",
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

    cluster.note("2. Transaction A moves 50 between accounts on shard0 and shard1; transaction B writes on shard0");
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
    const b = await startSession(router);
    await router.runCommand("test", { insert: "accounts", documents: [{ _id: 2, balance: 7 }], ...txn(b, 1, true) });
    const coordinator = cluster.connect(cluster.shard(0));
    await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "alwaysOn" });
    const commit = router.send("admin", { commitTransaction: 1, ...txn(a, 1) });
    await cluster.advance(1_000);
    cluster.note("   A's coordinator (shard0) has completed sendingPrepare: both participants are prepared");

    cluster.note("3. killAllSessions: []");
    await router.runCommand("admin", { killAllSessions: [] });
    const bNext = await router.runCommand("test", { find: "accounts", filter: {}, ...txn(b, 1) });
    cluster.note(`   B (unprepared) was aborted: its next statement → ${String(bNext.codeName ?? "ok")}`);
    await cluster.wait(commit);
    await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "off" });
    const committed = await router.runCommand("admin", { commitTransaction: 1, ...txn(a, 1) });
    await cluster.advance(1_000);
    const balances = firstBatch(await router.runCommand("test", { find: "accounts", filter: {}, sort: { _id: 1 } }));
    cluster.note(
      `   A (prepared) survived and commits: ok ${String(committed.ok)}; balances ${balances.map((d) => `${String(d._id)}=${String(d.balance)}`).join(", ")}`,
    );

    cluster.note("4. mongos0 crashes and restarts: its session cache is gone, config.system.sessions keeps the record");
    cluster.crash(cluster.mongos());
    await cluster.restart(cluster.mongos());
    cluster.note(
      `   $listLocalSessions on mongos0: ${(await localSessions(router)).length} sessions; $listSessions still has the first session: ${includesSession(await listedSessions(router), lsid)}`,
    );
  },
};
