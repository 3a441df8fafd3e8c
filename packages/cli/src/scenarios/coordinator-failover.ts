import type { Scenario } from "./scenario.js";
import { firstBatch, startSession } from "./helpers.js";
import { twoShardCollection, txn } from "./kill-vs-prepare.js";

/** `coordinator-failover`: the coordinator's node crashes between prepare and decision; it recovers from its document and finishes. */
export const coordinatorFailoverScenario: Scenario = {
  name: "coordinator-failover",
  title: "The commit coordinator crashes between prepare and decision, and recovers",
  teaches:
    "The coordinator writes its participant list to config.transaction_coordinators before sending prepare. After a crash it resumes from that document: with no decision yet it sends prepare again, decides, and finishes; prepared participants wait for it.",
  source: "src/mongo/db/s/transaction_coordinator_service.cpp (onStepUp / recovery); src/mongo/db/s/README.md",
  requires: { shards: 2 },
  async run(cluster) {
    const router = cluster.connect(cluster.mongos());
    await twoShardCollection(router, cluster.shardName(1));
    const coordinatorNode = cluster.shard(0);
    const coordinator = cluster.connect(coordinatorNode);
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
    await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "alwaysOn" });
    cluster.note("the client commits; the coordinator has prepared both participants and hangs before its decision");
    const commit = router.send("admin", { commitTransaction: 1, ...txn(a, 1) });
    await cluster.advance(1_000);
    const docs = firstBatch(await coordinator.runCommand("config", { find: "transaction_coordinators", filter: {} }));
    cluster.note(`config.transaction_coordinators on shard0 holds ${docs.length} document (participants, no decision)`);
    cluster.note("shard0 crashes and restarts (its failpoints are gone with it)");
    cluster.crash(coordinatorNode);
    await cluster.restart(coordinatorNode);
    const first = await cluster.wait(commit);
    cluster.note(`the client's commit call → ${first.ok === 1 ? "ok" : String(first.codeName)}`);
    const retry = await router.runCommand("admin", {
      commitTransaction: 1,
      ...txn(a, 1),
      ...(first.recoveryToken ? { recoveryToken: first.recoveryToken } : {}),
    });
    cluster.note(`retrying commitTransaction → ok: ${String(retry.ok)}`);
    await cluster.advance(5_000);
    const balances = firstBatch(await router.runCommand("test", { find: "accounts", filter: {}, sort: { _id: 1 } }));
    cluster.note(`balances: ${balances.map((d) => `${String(d._id)}=${String(d.balance)}`).join(", ")}`);
  },
};
