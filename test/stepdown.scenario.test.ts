/**
 * `replSetStepDown` on sessionsim's single-member replica sets, transcribed from MongoDB's jstests:
 * - jstests/replsets/stepdown_kill_other_ops.js, stepdown_needs_electable_secondary.js (a single
 *   node cannot step down without `force`: 262 after `secondaryCatchUpPeriodSecs`);
 * - jstests/replsets/prepared_transaction_on_failover.js, abort_in_progress_transactions_on_step_up.js
 *   (unprepared transactions are aborted with InterruptedDueToReplStateChange, prepared ones
 *   survive the stepdown and commit afterwards);
 * - jstests/replsets/not_primary_errors_returned_if_client_sends_helloOk.js (NotWritablePrimary,
 *   NotPrimaryNoSecondaryOk);
 * - jstests/sharding/txn_two_phase_commit_failover.js (the coordinator's node steps down, then
 *   resumes from its document).
 * Server sources: `repl_set_commands.cpp` (CmdReplSetStepDown), `replication_coordinator_impl.cpp`
 * (stepDown, `_handleTimePassing`), `topology_coordinator.cpp` (tryToStartStepDown),
 * `service_entry_point_shard_role.cpp` (not-primary checks), `transaction_coordinator_service.cpp`.
 * Reference: shared/reference/mongo-sessions-semantics.md §5.9, checklist 80.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Cluster, type Connection, type Document, type Timestamp } from "sessionsim";
import { assertCode, assertOk, blockCommands, docs, lsid, txn, type Doc } from "./fixtures/participant.js";
import {
  commitHeldBeforeDecision,
  coordinatorDocs,
  events,
  idsOnShard,
  newSession,
  preparedCount,
  startTxnCluster,
} from "./fixtures/two-phase-commit.js";

async function shardCluster(seed = 31): Promise<{ cluster: Cluster; shard: Connection }> {
  const cluster = await Cluster.start({ shards: 1, seed });
  return { cluster, shard: cluster.connect(cluster.shard(0)) };
}

const insertIn = (conn: Connection, s: Doc, n: number, ids: unknown[], start = false): Promise<Document> =>
  conn.runCommand("test", { insert: "c", documents: ids.map((_id) => ({ _id })), ...txn(s, n, start) });

async function hello(conn: Connection): Promise<Document> {
  return assertOk(await conn.runCommand("admin", { hello: 1 }));
}

void describe("replSetStepDown on a single-member replica set (repl_set_commands.cpp)", () => {
  void test("without force: writes refused while it tries, unprepared transactions aborted, then 262 after secondaryCatchUpPeriodSecs", async () => {
    const { cluster, shard } = await shardCluster();
    const unprepared = lsid();
    const prepared = lsid();
    assertOk(await insertIn(shard, unprepared, 1, [1], true));
    assertOk(await insertIn(shard, prepared, 1, [2], true));
    const ts = assertOk(await shard.runCommand("admin", { prepareTransaction: 1, ...txn(prepared, 1) }))
      .prepareTimestamp as Timestamp;
    const t0 = cluster.now().getTime();
    const stepDown = shard.send("admin", { replSetStepDown: 60 });
    await cluster.advance(1000);
    assert.equal(stepDown.done, false, "waits for an electable secondary");
    const h = await hello(shard);
    assert.equal(h.isWritablePrimary, false, "not writable while the stepdown is attempted");
    assert.equal(h.secondary, false);
    assertCode(await shard.runCommand("test", { insert: "c", documents: [{ _id: 3 }] }), "NotWritablePrimary", 10107);
    const r = await cluster.wait(stepDown);
    assertCode(r, "ExceededTimeLimit", 262);
    assert.match(
      String(r.errmsg),
      /^No electable secondaries caught up as of \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00\. Please use the replSetStepDown command with the argument \{force: true\} to force node to step down\.$/,
    );
    const elapsed = cluster.now().getTime() - t0;
    assert.ok(elapsed >= 10_000 && elapsed < 10_100, `secondaryCatchUpPeriodSecs defaults to 10 (${elapsed} ms)`);
    assert.equal((await hello(shard)).isWritablePrimary, true, "still primary");
    assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 3 }] }));
    // The attempt aborted the unprepared transaction and kept the prepared one.
    assertCode(
      await shard.runCommand("admin", { commitTransaction: 1, ...txn(unprepared, 1) }),
      "NoSuchTransaction",
      251,
    );
    assertOk(await shard.runCommand("admin", { commitTransaction: 1, ...txn(prepared, 1), commitTimestamp: ts }));
    assert.deepEqual(
      (await docs(shard, "test", "c")).map((d) => d._id),
      [2, 3],
    );
  });

  void test("force: the node is SECONDARY for the period: unprepared aborted with 11602, prepared kept, writes and reads refused, then primary again", async () => {
    const { cluster, shard } = await shardCluster(32);
    const unprepared = lsid();
    const prepared = lsid();
    assertOk(await insertIn(shard, unprepared, 1, [1], true));
    assertOk(await insertIn(shard, prepared, 1, [2], true));
    const ts = assertOk(await shard.runCommand("admin", { prepareTransaction: 1, ...txn(prepared, 1) }))
      .prepareTimestamp as Timestamp;
    // A statement of the unprepared transaction is running when the stepdown comes.
    await blockCommands(cluster, cluster.shard(0), ["find"], 60_000);
    const running = shard.send("test", { find: "c", ...txn(unprepared, 1) });
    await cluster.advance(10);
    const counter0 = ((await hello(shard)).topologyVersion as { counter: { toNumber(): number } }).counter.toNumber();

    assertOk(await shard.runCommand("admin", { replSetStepDown: 5, force: true }));
    const interrupted = await cluster.wait(running);
    assertCode(interrupted, "InterruptedDueToReplStateChange", 11602, "operation was interrupted");
    assert.deepEqual(interrupted.errorLabels, ["TransientTransactionError"]);

    const h = await hello(shard);
    assert.equal(h.isWritablePrimary, false);
    assert.equal(h.secondary, true);
    assert.equal(h.primary, undefined, "a one-member set has no primary meanwhile");
    assert.ok(
      (h.topologyVersion as { counter: { toNumber(): number } }).counter.toNumber() > counter0,
      "topologyVersion.counter grows",
    );
    assertCode(
      await shard.runCommand("test", { insert: "c", documents: [{ _id: 3 }] }),
      "NotWritablePrimary",
      10107,
      "not primary",
    );
    assertCode(
      await shard.runCommand("test", { find: "c" }),
      "NotPrimaryNoSecondaryOk",
      13435,
      "not primary and secondaryOk=false",
    );
    const secondaryRead = assertOk(
      await shard.runCommand("test", { find: "c", $readPreference: { mode: "secondaryPreferred" } }),
    );
    assert.deepEqual((secondaryRead.cursor as { firstBatch: Doc[] }).firstBatch, [], "the prepared write is invisible");
    assertCode(
      await shard.runCommand("admin", { commitTransaction: 1, ...txn(prepared, 1), commitTimestamp: ts }),
      "NotWritablePrimary",
      10107,
    );
    assertCode(await insertIn(shard, lsid(), 1, [9], true), "NotWritablePrimary", 10107);
    const t = await shard.runCommand("admin", { serverStatus: 1 });
    assert.equal(Number((t.transactions as Doc).currentPrepared), 1, "still prepared while secondary");

    await cluster.advance(5000);
    assert.equal((await hello(shard)).isWritablePrimary, true, "elected again when the period is over");
    assert.deepEqual(
      events(cluster, "repl.state", cluster.shard(0)).map((e) => [e.from, e.to, e.reason]),
      [
        ["PRIMARY", "SECONDARY", "replSetStepDown"],
        ["SECONDARY", "PRIMARY", "stepUp"],
      ],
    );
    assertCode(
      await shard.runCommand("admin", { commitTransaction: 1, ...txn(unprepared, 1) }),
      "NoSuchTransaction",
      251,
    );
    assertOk(await shard.runCommand("admin", { commitTransaction: 1, ...txn(prepared, 1), commitTimestamp: ts }));
    assert.deepEqual(
      (await docs(shard, "test", "c")).map((d) => d._id),
      [2],
    );
    assertOk(await insertIn(shard, prepared, 2, [4], true), "the session goes on");
  });

  void test("running writes and sleeps in a conflicting lock mode are interrupted; a sleep without locks is not", async () => {
    const { cluster, shard } = await shardCluster(33);
    await blockCommands(cluster, cluster.shard(0), ["insert"], 60_000);
    const write = shard.send("test", { insert: "c", documents: [{ _id: 1 }] });
    const readLocked = shard.send("admin", { sleep: 1, millis: 2000 });
    const unlocked = shard.send("admin", { sleep: 1, millis: 2000, lock: "none" });
    await cluster.advance(10);
    assertOk(await shard.runCommand("admin", { replSetStepDown: 30, force: true }));
    assertCode(await cluster.wait(write), "InterruptedDueToReplStateChange", 11602);
    assertCode(await cluster.wait(readLocked), "InterruptedDueToReplStateChange", 11602);
    assertOk(await cluster.wait(unlocked));
  });

  void test("argument checks and refusals", async () => {
    const { cluster, shard } = await shardCluster(34);
    assertCode(
      await shard.runCommand("admin", { replSetStepDown: -1 }),
      "BadValue",
      2,
      "stepdown period must be a positive integer",
    );
    assertCode(
      await shard.runCommand("admin", { replSetStepDown: 5, secondaryCatchUpPeriodSecs: 10 }),
      "BadValue",
      2,
      "stepdown period must be longer than secondaryCatchUpPeriodSecs",
    );
    assertCode(
      await shard.runCommand("admin", { replSetStepDown: 5, secondaryCatchUpPeriodSecs: -1 }),
      "BadValue",
      2,
      "secondaryCatchUpPeriodSecs period must be a positive or absent",
    );
    assertCode(
      await shard.runCommand("admin", { replSetStepDown: 5, secondaryCatchUpPeriodSecs: "x" }),
      "TypeMismatch",
      14,
    );
    assertCode(await shard.runCommand("test", { replSetStepDown: 5, force: true }), "Unauthorized", 13);
    assertCode(
      await cluster.connect(cluster.mongos()).runCommand("admin", { replSetStepDown: 5, force: true }),
      "CommandNotFound",
      59,
    );
    // 0 means 60 s.
    assertOk(await shard.runCommand("admin", { replSetStepDown: 0, force: true }));
    assertCode(
      await shard.runCommand("admin", { replSetStepDown: 5, force: true }),
      "NotWritablePrimary",
      10107,
      "not primary so can't step down",
    );
    await cluster.advance(59_000);
    assert.equal((await hello(shard)).secondary, true);
    await cluster.advance(1000);
    assert.equal((await hello(shard)).isWritablePrimary, true);
  });

  void test("the config server steps down too; a crash and restart make it primary again at once", async () => {
    const { cluster } = await shardCluster(35);
    const config = cluster.connect(cluster.config());
    assertOk(await config.runCommand("admin", { replSetStepDown: 60, force: true }));
    assert.equal((await hello(config)).secondary, true);
    cluster.crash(cluster.config());
    await cluster.restart(cluster.config());
    assert.equal((await hello(cluster.connect(cluster.config()))).isWritablePrimary, true);
  });
});

void describe("stepdown and the two-phase commit (txn_two_phase_commit_failover.js with stepdowns)", () => {
  const COMMITTED = [[-5], [5], [15]];
  const allIds = async (cluster: Cluster): Promise<number[][]> => [
    await idsOnShard(cluster, 0),
    await idsOnShard(cluster, 1),
    await idsOnShard(cluster, 2),
  ];

  /** A transaction that wrote on all three shards, its commit held before the coordinator's decision. */
  const heldCommitOnThreeShards = async (seed: number) => {
    const { cluster, router } = await startTxnCluster({ seed });
    const s = await newSession(router);
    assertOk(
      await router.runCommand("test", {
        insert: "foo",
        documents: [{ _id: -5 }, { _id: 5 }, { _id: 15 }],
        ...txn(s, 1, true),
      }),
    );
    return { cluster, router, s, ...(await commitHeldBeforeDecision(cluster, router, s, 1)) };
  };

  void test("a prepared participant steps down: the coordinator's commit is retried until it is primary again", async () => {
    const { cluster, coordinator, commit } = await heldCommitOnThreeShards(41);
    assert.equal(await preparedCount(cluster, 3), 3);
    // shard1, prepared, steps down for 5 s: its prepared transaction survives.
    assertOk(await cluster.connect(cluster.shard(1)).runCommand("admin", { replSetStepDown: 5, force: true }));
    assertOk(await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "off" }));
    assertOk(await cluster.wait(commit), "the decision is durable");
    await cluster.advance(2000);
    assert.deepEqual(await idsOnShard(cluster, 0), [-5]);
    assert.deepEqual(await idsOnShard(cluster, 2), [15]);
    assert.equal(await preparedCount(cluster, 3), 1, "shard1 is still prepared: it refuses the commit while secondary");
    await cluster.advance(5000);
    assert.deepEqual(await allIds(cluster), COMMITTED);
    assert.equal(await preparedCount(cluster, 3), 0);
    assert.deepEqual(await coordinatorDocs(cluster, 0), []);
  });

  void test("the coordinator's node steps down before the decision: commit fails 11602, step-up resumes the coordinator, which commits", async () => {
    const { cluster, router, s, coordinator, commit } = await heldCommitOnThreeShards(42);
    assertOk(await coordinator.runCommand("admin", { replSetStepDown: 5, force: true }));
    const first = await cluster.wait(commit);
    assertCode(first, "InterruptedDueToReplStateChange", 11602);
    const ended = events(cluster, "coord.end", cluster.shard(0));
    assert.deepEqual(
      ended.map((e) => [e.ok, e.codeName]),
      [[false, "InterruptedDueToReplStateChange"]],
    );
    const left = assertOk(
      await coordinator.runCommand("config", {
        find: "transaction_coordinators",
        $readPreference: { mode: "secondaryPreferred" },
      }),
    );
    assert.equal((left.cursor as { firstBatch: Doc[] }).firstBatch.length, 1, "its participant list stays");
    assert.equal(await preparedCount(cluster, 3), 3, "every participant (shard0's too) stays prepared");
    assertOk(await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "off" }));
    await cluster.advance(6000);
    const recovered = events(cluster, "coord.create", cluster.shard(0)).filter((e) => e.recovered);
    assert.equal(recovered.length, 1, "step-up resumed the coordinator from its document");
    assert.deepEqual(await allIds(cluster), COMMITTED);
    assert.equal(await preparedCount(cluster, 3), 0);
    assertOk(
      await router.runCommand("admin", { commitTransaction: 1, ...txn(s, 1) }),
      "a retried commit learns the decision",
    );
  });
});
