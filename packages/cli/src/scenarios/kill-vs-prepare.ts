import type { Connection, Document } from "sessionsim";
import type { Scenario } from "./scenario.js";
import { firstBatch, startSession } from "./helpers.js";

/** Shards `test.accounts` on `_id` with one chunk per shard: ids < 100 on shard0, the rest on shard1. */
export async function twoShardCollection(router: Connection, shard1: string): Promise<void> {
  await router.runCommand("admin", { shardCollection: "test.accounts", key: { _id: 1 } });
  await router.runCommand("admin", { split: "test.accounts", middle: { _id: 100 } });
  await router.runCommand("admin", { moveChunk: "test.accounts", find: { _id: 100 }, to: shard1 });
  await router.runCommand("test", {
    insert: "accounts",
    documents: [
      { _id: 1, balance: 100 },
      { _id: 101, balance: 0 },
    ],
  });
}

/** The transaction statement fields for `lsid` / `txnNumber`. */
export function txn(lsid: Document, txnNumber: number, first = false): Document {
  return { lsid, txnNumber, autocommit: false, ...(first ? { startTransaction: true } : {}) };
}

/**
 * `kill-vs-prepare`: `killAllSessions` aborts an unprepared transaction but leaves one whose
 * coordinator completed `sendingPrepare`; it commits afterwards.
 */
export const killVsPrepareScenario: Scenario = {
  name: "kill-vs-prepare",
  title: "killAllSessions leaves a prepared transaction alone",
  teaches:
    'The kill commands abort unprepared transactions but ignore sessions whose transaction is prepared — a cross-shard transaction whose commit coordinator has completed "sendingPrepare". Only the coordinator\'s decision can end it.',
  source:
    "https://www.mongodb.com/docs/manual/reference/command/killAllSessions/ ; src/mongo/db/session/kill_sessions_local.cpp (killSessionsAbortUnpreparedTransactions)",
  requires: { shards: 2 },
  async run(cluster) {
    const router = cluster.connect(cluster.mongos());
    await twoShardCollection(router, cluster.shardName(1));
    const coordinator = cluster.connect(cluster.shard(0));

    cluster.note("transaction A moves 50 from account 1 (shard0) to account 101 (shard1)");
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
    cluster.note("transaction B, on another session, updates account 1's neighbour on shard0 and stays in progress");
    const b = await startSession(router);
    await router.runCommand("test", { insert: "accounts", documents: [{ _id: 2, balance: 7 }], ...txn(b, 1, true) });

    cluster.note("the coordinator (shard0) is held before writing its decision: both participants are prepared");
    await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "alwaysOn" });
    const commit = router.send("admin", { commitTransaction: 1, ...txn(a, 1) });
    await cluster.advance(1_000);

    cluster.note("an operator runs killAllSessions: []");
    const kill = await router.runCommand("admin", { killAllSessions: [] });
    cluster.note(`killAllSessions → ok: ${String(kill.ok)}`);
    const bNext = await router.runCommand("test", { find: "accounts", filter: {}, ...txn(b, 1) });
    cluster.note(`transaction B's next statement → ${bNext.ok === 1 ? "ok" : String(bNext.codeName)} (it was aborted)`);

    const interrupted = await cluster.wait(commit);
    cluster.note(
      `A's pending commitTransaction call → ${interrupted.ok === 1 ? "ok" : String(interrupted.codeName)}: the kill interrupts operations of session A, but not its prepared transaction`,
    );
    cluster.note("the coordinator is released; the client retries commitTransaction");
    await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "off" });
    const committed = await router.runCommand("admin", { commitTransaction: 1, ...txn(a, 1) });
    cluster.note(`transaction A's commit → ok: ${String(committed.ok)}`);
    await cluster.advance(1_000);
    const balances = firstBatch(await router.runCommand("test", { find: "accounts", filter: {}, sort: { _id: 1 } }));
    cluster.note(
      `balances: ${balances.map((d) => `${String(d._id)}=${String(d.balance)}`).join(", ")} — A survived the kill and committed on both shards`,
    );
  },
};
