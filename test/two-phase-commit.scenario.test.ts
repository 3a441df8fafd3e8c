/**
 * Cross-shard transactions through mongos: the TransactionRouter's commit paths and the shard's
 * TransactionCoordinator, transcribed from MongoDB's jstests:
 * - jstests/sharding/txn_two_phase_commit_basic.js (commit, abort by a participant, simulated
 *   network failures with failCommand on prepare/commit/abort; the coordinator document);
 * - jstests/sharding/txn_two_phase_commit_failover.js and libs/sharded_transactions_helpers.js
 *   `getCoordinatorFailpoints()` (the coordinator's node fails at every step; here it crashes and
 *   restarts instead of stepping down);
 * - jstests/sharding/txn_recover_decision_using_recovery_router.js (recoveryToken, a second
 *   mongos, 50940, empty token, recovery shard aborting an in-progress participant);
 * - jstests/sharding/txn_two_phase_commit_server_status.js (serverStatus.twoPhaseCommitCoordinator);
 * - jstests/sharding/txn_commit_optimizations_for_read_only_shards.js (single-shard, read-only and
 *   single-write-shard commit paths);
 * - src/mongo/s/transaction_router.cpp / transaction_router_test.cpp (txnNumber errors).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Long, type Cluster, type Connection, type Document } from "sessionsim";
import {
  advanceUntil,
  commitHeldBeforeDecision,
  coordinatorDocs,
  events,
  idsOnShard,
  newSession,
  preparedCount,
  startTxnCluster,
  statusSection,
  txn,
  type Doc,
} from "./fixtures/two-phase-commit.js";

function assertOk(r: Document, what = "command"): void {
  assert.equal(r.ok, 1, `${what}: ${JSON.stringify({ code: r.code, codeName: r.codeName, errmsg: r.errmsg })}`);
}

function assertCode(r: Document, codeName: string, code?: number): void {
  assert.equal(r.ok, 0, `expected ${codeName}, got ${JSON.stringify(r)}`);
  assert.equal(r.codeName, codeName, String(r.errmsg));
  if (code !== undefined) assert.equal(r.code, code);
}

/** Inserts −5 (shard0), 5 (shard1) and 15 (shard2) in one transaction statement, as the jstest does. */
async function insertOnEveryShard(router: Connection, lsid: Doc, n: number): Promise<Document> {
  const r = await router.runCommand("test", {
    insert: "foo",
    documents: [{ _id: -5 }, { _id: 5 }, { _id: 15 }],
    ...txn(lsid, n, true),
  });
  assertOk(r, "insert");
  return r;
}

async function allIds(cluster: Cluster): Promise<number[][]> {
  return [await idsOnShard(cluster, 0), await idsOnShard(cluster, 1), await idsOnShard(cluster, 2)];
}

const COMMITTED = [[-5], [5], [15]];
const NOTHING: number[][] = [[], [], []];

void describe("two-phase commit through mongos (txn_two_phase_commit_basic.js)", () => {
  void test("a cross-shard transaction commits on every shard, visible only after the commit", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 11 });
    const lsid = await newSession(router);
    const first = await insertOnEveryShard(router, lsid, 1);
    // The first shard targeted is the coordinator and, having written first, the recovery shard.
    assert.deepEqual(first.recoveryToken, { recoveryShardId: "shard0" });
    assert.deepEqual(await allIds(cluster), NOTHING, "uncommitted writes are invisible outside the transaction");

    const { coordinator, commit } = await commitHeldBeforeDecision(cluster, router, lsid, 1);
    // Every participant is prepared; the coordinator has written its participant list, no decision yet.
    const docs = await coordinatorDocs(cluster, 0);
    assert.equal(docs.length, 1);
    assert.deepEqual([...(docs[0].participants as string[])].sort(), ["shard0", "shard1", "shard2"]);
    assert.equal(docs[0].decision, undefined);
    assert.equal(await preparedCount(cluster, 3), 3);
    assert.deepEqual(await allIds(cluster), NOTHING, "prepared writes are invisible");
    const inSteps = (await statusSection(cluster, cluster.shard(0), "twoPhaseCommitCoordinator")).currentInSteps as Doc;
    assert.equal(inSteps.writingDecision, 1);

    assertOk(await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "off" }));
    const reply = await cluster.wait(commit);
    assertOk(reply, "commitTransaction");
    assert.deepEqual(reply.recoveryToken, { recoveryShardId: "shard0" });
    await cluster.advance(1000);
    assert.deepEqual(await allIds(cluster), COMMITTED);
    assert.deepEqual(await coordinatorDocs(cluster, 0), [], "the coordinator deleted its document");
    assert.equal(await preparedCount(cluster, 3), 0);

    // The steps in order, with the workers' actions.
    const steps = events(cluster, "coord.step", cluster.shard(0)).map((e) =>
      e.action === undefined ? e.step : `${e.step}/${e.action}`,
    );
    assert.deepEqual(steps, [
      "writingParticipantList",
      "writingParticipantList/writingParticipantList",
      "waitingForVotes",
      "waitingForVotes/sendingPrepare",
      "writingDecision",
      "writingDecision/writingDecision",
      "waitingForDecisionAcks",
      "waitingForDecisionAcks/sendingCommit",
      "deletingCoordinatorDoc",
      "deletingCoordinatorDoc/deletingCoordinatorDoc",
    ]);
    const decision = events(cluster, "coord.decision");
    assert.equal(decision.length, 1);
    assert.equal(decision[0].decision, "commit");
    assert.equal(typeof decision[0].commitTimestamp, "string");
    const router0 = events(cluster, "txn.router").filter((e) => e.action === "commit");
    assert.deepEqual(
      router0.map((e) => [e.commitType, e.shards]),
      [["twoPhaseCommit", ["shard0"]]],
    );
    // txn_two_phase_commit_server_status.js
    assert.deepEqual(await statusSection(cluster, cluster.shard(0), "twoPhaseCommitCoordinator"), {
      totalCreated: 1,
      totalStartedTwoPhaseCommit: 1,
      totalAbortedTwoPhaseCommit: 0,
      totalCommittedTwoPhaseCommit: 1,
      currentInSteps: {
        writingParticipantList: 0,
        waitingForVotes: 0,
        writingDecision: 0,
        waitingForDecisionAcks: 0,
        deletingCoordinatorDoc: 0,
      },
    });
    await cluster.stop();
  });

  void test("a participant aborted directly votes abort: nothing is visible anywhere", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 12 });
    const lsid = await newSession(router);
    await insertOnEveryShard(router, lsid, 1);
    assertOk(
      await cluster.connect(cluster.shard(2)).runCommand("admin", { abortTransaction: 1, ...txn(lsid, 1) }),
      "direct abort",
    );
    const reply = await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) });
    assertCode(reply, "NoSuchTransaction", 251);
    assert.match(String(reply.errmsg), /^Transaction was aborted :: caused by :: from shard shard2 :: caused by :: /);
    await cluster.advance(1000);
    assert.deepEqual(await allIds(cluster), NOTHING);
    assert.equal(await preparedCount(cluster, 3), 0);
    assert.deepEqual(
      events(cluster, "coord.decision").map((e) => [e.decision, e.codeName]),
      [["abort", "NoSuchTransaction"]],
    );
    const tpc = await statusSection(cluster, cluster.shard(0), "twoPhaseCommitCoordinator");
    assert.equal(tpc.totalAbortedTwoPhaseCommit, 1);
    assert.deepEqual(await coordinatorDocs(cluster, 0), []);
    await cluster.stop();
  });

  void test("a VoteAbort error to prepareTransaction (failCommand NoSuchTransaction) decides abort", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 13 });
    const lsid = await newSession(router);
    await insertOnEveryShard(router, lsid, 1);
    assertOk(
      await cluster.connect(cluster.shard(1)).runCommand("admin", {
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["prepareTransaction"], errorCode: 251, failInternalCommands: true },
      }),
    );
    const reply = await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) });
    assertCode(reply, "NoSuchTransaction");
    await cluster.advance(1000);
    assert.deepEqual(await allIds(cluster), NOTHING);
    assert.equal(await preparedCount(cluster, 3), 0, "participants that had prepared were told to abort");
    await cluster.stop();
  });

  for (const shouldCommit of [true, false]) {
    void test(`${shouldCommit ? "commit" : "abort"} survives simulated network failures (failCommand NotWritablePrimary, closed connections)`, async () => {
      const { cluster, router } = await startTxnCluster({ seed: shouldCommit ? 14 : 15 });
      const lsid = await newSession(router);
      await insertOnEveryShard(router, lsid, 1);
      if (!shouldCommit)
        assertOk(await cluster.connect(cluster.shard(2)).runCommand("admin", { abortTransaction: 1, ...txn(lsid, 1) }));
      for (const i of [1, 2]) {
        const shard = cluster.connect(cluster.shard(i));
        assertOk(
          await shard.runCommand("admin", {
            configureFailPoint: "failCommand",
            mode: { times: 10 },
            data: {
              errorCode: 10107,
              failCommands: ["prepareTransaction", "abortTransaction", "commitTransaction"],
              failInternalCommands: true,
            },
          }),
        );
      }
      assertOk(
        await cluster.connect(cluster.shard(0)).runCommand("admin", {
          configureFailPoint: "failRemoteTransactionCommand",
          mode: { times: 3 },
          data: { code: 91, command: shouldCommit ? "commitTransaction" : "abortTransaction" },
        }),
      );
      const reply = await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) });
      if (shouldCommit) assertOk(reply, "commitTransaction");
      else assertCode(reply, "NoSuchTransaction");
      await cluster.advance(60_000);
      assert.deepEqual(await allIds(cluster), shouldCommit ? COMMITTED : NOTHING);
      assert.deepEqual(await coordinatorDocs(cluster, 0), []);
      assert.equal(await preparedCount(cluster, 3), 0);
      // The retries really happened.
      const failed = cluster
        .trace()
        .filter((e) => e.type === "cmd.reply" && !e.ok && e.codeName === "NotWritablePrimary");
      assert.ok(failed.length >= 10, `expected failCommand errors, saw ${failed.length}`);
      await cluster.stop();
    });
  }

  void test("dropped prepare messages are retried with backoff until the participant answers", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 16 });
    const lsid = await newSession(router);
    await insertOnEveryShard(router, lsid, 1);
    // The coordinator gives up on an unanswered request after 2 s (mongos waits the default 60 s).
    assertOk(
      await cluster.connect(cluster.shard(0)).runCommand("admin", { setParameter: 1, internalRequestTimeoutMS: 2000 }),
    );
    cluster.partition([cluster.shard(0)], [cluster.shard(2)]);
    const commit = router.send("admin", { commitTransaction: 1, ...txn(lsid, 1) });
    await cluster.advance(7000);
    assert.equal(commit.done, false, "the coordinator keeps retrying prepare to the unreachable shard");
    cluster.heal();
    assertOk(await cluster.wait(commit), "commitTransaction");
    await cluster.advance(1000);
    assert.deepEqual(await allIds(cluster), COMMITTED);
    await cluster.stop();
  });
});

/**
 * `getCoordinatorFailpoints()` (jstests/sharding/libs/sharded_transactions_helpers.js): where the
 * coordinator stops, and whether the transaction can still commit once its node crashed there.
 * A crash loses the coordinator shard's own unprepared participant, so stopping before that
 * participant prepared ends in abort.
 */
const COORDINATOR_STOPS: readonly { failpoint: string; mode: Doc | "alwaysOn"; outcome: "commit" | "abort" }[] = [
  { failpoint: "hangBeforeWritingParticipantList", mode: "alwaysOn", outcome: "abort" },
  { failpoint: "hangWhileTargetingRemoteHost", mode: "alwaysOn", outcome: "commit" },
  { failpoint: "hangWhileTargetingLocalHost", mode: "alwaysOn", outcome: "abort" },
  { failpoint: "hangBeforeWritingDecision", mode: "alwaysOn", outcome: "commit" },
  { failpoint: "hangWhileTargetingRemoteHost", mode: { skip: 2 }, outcome: "commit" },
  { failpoint: "hangWhileTargetingLocalHost", mode: { skip: 1 }, outcome: "commit" },
  { failpoint: "hangBeforeDeletingCoordinatorDoc", mode: "alwaysOn", outcome: "commit" },
];

void describe("the coordinator's node crashes and restarts at every step (txn_two_phase_commit_failover.js)", () => {
  for (const [i, stop] of COORDINATOR_STOPS.entries()) {
    const phase =
      typeof stop.mode === "object"
        ? " (decision)"
        : stop.failpoint.startsWith("hangWhileTargeting")
          ? " (prepare)"
          : "";
    void test(`${stop.failpoint}${phase}: the transaction ${stop.outcome === "commit" ? "commits" : "aborts"} everywhere`, async () => {
      const { cluster, router } = await startTxnCluster({ seed: 100 + i });
      const lsid = await newSession(router);
      await insertOnEveryShard(router, lsid, 1);
      const coordinatorNode = cluster.shard(0);
      assertOk(
        await cluster
          .connect(coordinatorNode)
          .runCommand("admin", { configureFailPoint: stop.failpoint, mode: stop.mode }),
      );
      const commit = router.send("admin", { commitTransaction: 1, ...txn(lsid, 1) });
      const hit = (): boolean =>
        events(cluster, "coord.failpoint", coordinatorNode).some((e) => e.failpoint === stop.failpoint);
      assert.ok(await advanceUntil(cluster, hit), `${stop.failpoint} was not reached`);
      await cluster.advance(200);

      cluster.crash(coordinatorNode);
      await cluster.restart(coordinatorNode);
      const first = await cluster.wait(commit);
      // The router's request to the crashed coordinator failed: the outcome is unknown to the client.
      if (first.ok !== 1)
        assert.ok(["HostUnreachable", "NetworkTimeout"].includes(String(first.codeName)), JSON.stringify(first));

      await cluster.advance(5000);
      const retry = await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) });
      if (stop.outcome === "commit") assertOk(retry, "retried commitTransaction");
      else assertCode(retry, "NoSuchTransaction");
      // Unprepared participants left behind expire after transactionLifetimeLimitSeconds.
      await cluster.advance(120_000);
      assert.deepEqual(await allIds(cluster), stop.outcome === "commit" ? COMMITTED : NOTHING);
      assert.deepEqual(await coordinatorDocs(cluster, 0), []);
      assert.equal(await preparedCount(cluster, 3), 0, "no participant stays prepared");
      const recovered = events(cluster, "coord.create", coordinatorNode).filter((e) => e.recovered);
      assert.equal(recovered.length, stop.failpoint === "hangBeforeWritingParticipantList" ? 0 : 1);
      await cluster.stop();
    });
  }
});

void describe("commit recovery with recoveryToken (txn_recover_decision_using_recovery_router.js)", () => {
  /** Reads on shard0 (the coordinator), then writes on shard1 (the recovery shard) and shard0. */
  async function multiShardWrite(router: Connection, lsid: Doc, n: number): Promise<Doc> {
    let r = await router.runCommand("test", { find: "foo", filter: { _id: -5 }, ...txn(lsid, n, true) });
    assertOk(r, "find");
    assert.deepEqual(r.recoveryToken, {});
    r = await router.runCommand("test", { insert: "foo", documents: [{ _id: 5 }], ...txn(lsid, n) });
    assertOk(r, "insert shard1");
    assert.deepEqual(r.recoveryToken, { recoveryShardId: "shard1" });
    r = await router.runCommand("test", { insert: "foo", documents: [{ _id: -5 }], ...txn(lsid, n) });
    assertOk(r, "insert shard0");
    return r.recoveryToken as Doc;
  }

  void test("another mongos learns a commit decision from the recovery shard", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 21, mongos: 2 });
    const other = cluster.connect(cluster.mongos(1));
    const lsid = await newSession(router);
    const token = await multiShardWrite(router, lsid, 1);
    assertOk(await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1), recoveryToken: token }));
    await cluster.advance(1000);
    const recovered = await other.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1), recoveryToken: token });
    assertOk(recovered, "recovery");
    assert.deepEqual(
      events(cluster, "txn.router", cluster.mongos(1)).map((e) => [e.commitType, e.shards]),
      [["recoverWithToken", ["shard1"]]],
    );
    assert.deepEqual(await idsOnShard(cluster, 0), [-5]);
    assert.deepEqual(await idsOnShard(cluster, 1), [5]);
    await cluster.stop();
  });

  void test("a held coordinator resumes at the first 100-ms re-check after its failpoint goes off (FailPoint::pauseWhileSet)", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 25 });
    const lsid = await newSession(router);
    await multiShardWrite(router, lsid, 1);
    await commitHeldBeforeDecision(cluster, router, lsid, 1);
    const pausedAt = events(cluster, "coord.failpoint").find((e) => e.failpoint === "hangBeforeWritingDecision")!.time;
    await cluster.advance(10 * 60_000 + 37.5); // ten minutes held, then off between two re-checks
    assert.equal(events(cluster, "coord.decision").length, 0, "no decision while the failpoint is on");
    const offAt = cluster.now().getTime();
    cluster.applyFaults([
      { at: 0, kind: "failpoint", node: cluster.shard(0), name: "hangBeforeWritingDecision", mode: "off" },
    ]);
    assert.ok(await advanceUntil(cluster, () => events(cluster, "coord.decision").length > 0, 1000, 1));
    const [decision] = events(cluster, "coord.decision");
    const nextCheck = pausedAt + Math.ceil((offAt - pausedAt) / 100) * 100;
    assert.ok(nextCheck > offAt);
    assert.equal(decision.time, nextCheck, "the decision is written at the re-check that sees the failpoint off");
    await cluster.stop();
  });

  void test("recovery waits while the recovery shard's participant is prepared, then reports the decision", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 22, mongos: 2 });
    const other = cluster.connect(cluster.mongos(1));
    const lsid = await newSession(router);
    const token = await multiShardWrite(router, lsid, 1);
    const coordinator = cluster.connect(cluster.shard(0));
    assertOk(
      await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "alwaysOn" }),
    );
    const commit = router.send("admin", { commitTransaction: 1, ...txn(lsid, 1) });
    await cluster.advance(1000);
    const recovery = other.send("admin", { commitTransaction: 1, ...txn(lsid, 1), recoveryToken: token });
    await cluster.advance(2000);
    assert.equal(recovery.done, false, "the recovery shard's participant is prepared: recovery waits");
    assertOk(await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "off" }));
    assertOk(await cluster.wait(commit));
    assertOk(await cluster.wait(recovery), "recovery");
    await cluster.stop();
  });

  void test("recovering an in-progress transaction aborts it on the recovery shard; the commit then fails", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 23, mongos: 2 });
    const other = cluster.connect(cluster.mongos(1));
    const lsid = await newSession(router);
    const token = await multiShardWrite(router, lsid, 1);
    assertCode(
      await other.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1), recoveryToken: token }),
      "NoSuchTransaction",
    );
    assertCode(await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) }), "NoSuchTransaction");
    await cluster.advance(120_000);
    assert.deepEqual(await allIds(cluster), NOTHING);
    await cluster.stop();
  });

  void test("recovery without a token is 50940; with an empty token NoSuchTransaction; an older txnNumber TransactionTooOld", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 24, mongos: 2 });
    const other = cluster.connect(cluster.mongos(1));
    const lsid = await newSession(router);
    const noToken = await other.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) });
    assertCode(noToken, "Location50940", 50940);
    assert.equal(noToken.errmsg, "Cannot recover the transaction decision without a recoveryToken");
    const empty = await other.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 2), recoveryToken: {} });
    assertCode(empty, "NoSuchTransaction");
    assert.equal(
      empty.errmsg,
      "Recovery token is empty, meaning the transaction only performed reads and can be safely retried",
    );

    // "Testing recovering transaction with lower number than latest": the recovery shard's
    // participant has moved on to a newer transaction.
    const original = cluster.connect(cluster.mongos(0));
    const oldToken = await multiShardWrite(original, lsid, 3);
    const newToken = await multiShardWrite(original, lsid, 4);
    assertOk(await original.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 4), recoveryToken: newToken }));
    assertCode(
      await other.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 3), recoveryToken: oldToken }),
      "TransactionTooOld",
    );
    // "Testing recovering transaction with higher number than latest"
    assertCode(
      await other.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 5), recoveryToken: newToken }),
      "NoSuchTransaction",
    );
    await cluster.stop();
  });
});

void describe("commit paths without two-phase commit (txn_commit_optimizations_for_read_only_shards.js)", () => {
  void test("single shard: commitTransaction goes straight to the shard, no coordinator starts", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 31 });
    const lsid = await newSession(router);
    assertOk(
      await router.runCommand("test", { insert: "foo", documents: [{ _id: 5 }, { _id: 6 }], ...txn(lsid, 1, true) }),
    );
    assertOk(await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) }));
    assert.deepEqual(await idsOnShard(cluster, 1), [5, 6]);
    assert.deepEqual(
      events(cluster, "txn.router").map((e) => e.commitType),
      ["singleShard"],
    );
    assert.equal(events(cluster, "coord.step").length, 0);
    const tpc = await statusSection(cluster, cluster.shard(1), "twoPhaseCommitCoordinator");
    assert.equal(tpc.totalCreated, 1, "the coordinator was created with the first statement");
    assert.equal(tpc.totalStartedTwoPhaseCommit, 0);
    await cluster.advance(1000);
    // The unprepared commit cancelled the coordinator (cancelIfCommitNotYetStarted).
    assert.deepEqual(
      events(cluster, "coord.end").map((e) => e.codeName),
      ["TransactionCoordinatorCanceled"],
    );
    await cluster.stop();
  });

  void test("read-only on two shards: commitTransaction to both, empty recoveryToken", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 32 });
    const lsid = await newSession(router);
    let r = await router.runCommand("test", { find: "foo", filter: {}, ...txn(lsid, 1, true) });
    assertOk(r);
    assert.deepEqual(r.recoveryToken, {});
    r = await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) });
    assertOk(r);
    assert.deepEqual(r.recoveryToken, {});
    assert.deepEqual(
      events(cluster, "txn.router").map((e) => [e.commitType, e.shards]),
      [["readOnly", ["shard0", "shard1", "shard2"]]],
    );
    await cluster.stop();
  });

  void test("one write shard: the read-only shards commit first, then the write shard", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 33 });
    const lsid = await newSession(router);
    assertOk(await router.runCommand("test", { find: "foo", filter: { _id: -5 }, ...txn(lsid, 1, true) }));
    assertOk(await router.runCommand("test", { insert: "foo", documents: [{ _id: 15 }], ...txn(lsid, 1) }));
    assertOk(await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) }));
    assert.deepEqual(
      events(cluster, "txn.router").map((e) => [e.commitType, e.shards]),
      [["singleWriteShard", ["shard0", "shard2"]]],
    );
    assert.deepEqual(await idsOnShard(cluster, 2), [15]);
    await cluster.stop();
  });

  void test("abortTransaction through mongos aborts every participant; with none it is NoSuchTransaction", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 34 });
    const lsid = await newSession(router);
    await insertOnEveryShard(router, lsid, 1);
    assertOk(await router.runCommand("admin", { abortTransaction: 1, ...txn(lsid, 1) }));
    assert.deepEqual(await allIds(cluster), NOTHING);
    assertCode(await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) }), "NoSuchTransaction");
    const none = await router.runCommand("admin", { abortTransaction: 1, ...txn(lsid, 2) });
    assertCode(none, "NoSuchTransaction");
    assert.match(String(none.errmsg), /cannot continue txnId 1 for session/);
    await cluster.stop();
  });

  void test("a statement that fails on mongos implicitly aborts the transaction on its participants", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 35 });
    const lsid = await newSession(router);
    assertOk(await router.runCommand("test", { insert: "foo", documents: [{ _id: -5 }], ...txn(lsid, 1, true) }));
    assertOk(
      await cluster.connect(cluster.shard(1)).runCommand("admin", {
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["find"], errorCode: 2, failInternalCommands: true },
      }),
    );
    const failed = await router.runCommand("test", { find: "foo", filter: { _id: 5 }, ...txn(lsid, 1) });
    assertCode(failed, "BadValue");
    assert.deepEqual(
      events(cluster, "txn.router").map((e) => [e.action, e.shards]),
      [["implicitAbort", ["shard0", "shard1"]]],
    );
    assertCode(await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) }), "NoSuchTransaction");
    assert.deepEqual(await idsOnShard(cluster, 0), []);
    await cluster.stop();
  });
});

void describe("router txnNumber rules (transaction_router.cpp beginOrContinueTxn)", () => {
  void test("TransactionTooOld, ConflictingOperationInProgress, NoSuchTransaction and the readConcern rules", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 41 });
    const lsid = await newSession(router);
    assertOk(await router.runCommand("test", { find: "foo", filter: {}, ...txn(lsid, 5, true) }));
    const old = await router.runCommand("test", { find: "foo", filter: {}, ...txn(lsid, 4, true) });
    assertCode(old, "TransactionTooOld", 225);
    assert.match(String(old.errmsg), /^txnNumber 4 is less than last txnNumber 5 seen in session /);
    const again = await router.runCommand("test", { find: "foo", filter: {}, ...txn(lsid, 5, true) });
    assertCode(again, "ConflictingOperationInProgress", 117);
    assert.match(String(again.errmsg), /^txnNumber 5 txnRetryCounter 0 for session .* already started$/);
    const rc = await router.runCommand("test", {
      find: "foo",
      filter: {},
      readConcern: { level: "majority" },
      ...txn(lsid, 5),
    });
    assertCode(rc, "InvalidOptions");
    assert.equal(rc.errmsg, "Only the first command in a transaction may specify a readConcern");
    const newer = await router.runCommand("test", { find: "foo", filter: {}, ...txn(lsid, 6) });
    assertCode(newer, "NoSuchTransaction");
    const level = await router.runCommand("test", {
      find: "foo",
      filter: {},
      readConcern: { level: "available" },
      ...txn(lsid, 7, true),
    });
    assertCode(level, "InvalidOptions");
    const noSession = await router.runCommand("admin", { commitTransaction: 1 });
    assertCode(noSession, "InvalidOptions");
    assert.equal(noSession.errmsg, "commitTransaction can only be run within a session");
    await cluster.stop();
  });

  void test("statements carry startTransaction and readConcern only to a new participant, coordinator: true to the coordinator", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 42 });
    const lsid = await newSession(router);
    assertOk(
      await router.runCommand("test", {
        insert: "foo",
        documents: [{ _id: -1 }],
        readConcern: { level: "snapshot" },
        ...txn(lsid, 1, true),
      }),
    );
    assertOk(await router.runCommand("test", { insert: "foo", documents: [{ _id: -2 }], ...txn(lsid, 1) }));
    assertOk(await router.runCommand("test", { insert: "foo", documents: [{ _id: 3 }], ...txn(lsid, 1) }));
    const sent = cluster
      .trace()
      .filter((e) => e.type === "net.send" && e.node === cluster.mongos() && e.label === "insert")
      .map((e) => (e as { payload?: { command: Doc } }).payload?.command ?? {});
    assert.equal(sent.length, 3);
    assert.equal(sent[0].startTransaction, true);
    assert.equal(sent[0].coordinator, true);
    assert.equal((sent[0].readConcern as Doc).level, "snapshot");
    assert.ok(
      (sent[0].readConcern as Doc).atClusterTime !== undefined,
      "snapshot transactions get a global read timestamp",
    );
    assert.equal(sent[1].startTransaction, undefined);
    assert.equal(sent[1].readConcern, undefined);
    assert.equal(sent[1].coordinator, true);
    assert.equal(sent[2].startTransaction, true, "shard1 is new to the transaction");
    assert.equal(sent[2].coordinator, undefined);
    for (const s of sent) {
      assert.equal(s.autocommit, false);
      assert.ok(Long.fromNumber(1).equals(s.txnNumber as Long));
    }
    assertOk(await router.runCommand("admin", { abortTransaction: 1, ...txn(lsid, 1) }));
    await cluster.stop();
  });
});

void describe("the coordinator's deadline and coordinateCommitTransaction", () => {
  void test("a coordinator whose commit never starts is cancelled at its deadline", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 51, parameters: { transactionLifetimeLimitSeconds: 5 } });
    const lsid = await newSession(router);
    await insertOnEveryShard(router, lsid, 1);
    await cluster.advance(6000);
    assert.deepEqual(
      events(cluster, "coord.end").map((e) => e.codeName),
      ["TransactionCoordinatorCanceled"],
    );
    await cluster.stop();
  });

  void test("the deadline during vote collection decides abort", async () => {
    const { cluster, router } = await startTxnCluster({
      seed: 52,
      parameters: { transactionLifetimeLimitSeconds: 10 },
    });
    const lsid = await newSession(router);
    await insertOnEveryShard(router, lsid, 1);
    const coordinator = cluster.connect(cluster.shard(0));
    assertOk(
      await coordinator.runCommand("admin", { configureFailPoint: "hangWhileTargetingRemoteHost", mode: "alwaysOn" }),
    );
    const reply = await router.runCommand("admin", { commitTransaction: 1, ...txn(lsid, 1) });
    assertCode(reply, "NoSuchTransaction");
    assert.match(String(reply.errmsg), /Transaction exceeded deadline/);
    assertOk(
      await coordinator.runCommand("admin", { configureFailPoint: "hangWhileTargetingRemoteHost", mode: "off" }),
    );
    await cluster.advance(30_000);
    assert.deepEqual(await allIds(cluster), NOTHING);
    assert.equal(await preparedCount(cluster, 3), 0);
    await cluster.stop();
  });

  void test("coordinateCommitTransaction is admin-only and refuses duplicate participants (51162)", async () => {
    const { cluster, router } = await startTxnCluster({ seed: 53 });
    const lsid = await newSession(router);
    const shard = cluster.connect(cluster.shard(0));
    const notAdmin = await shard.runCommand("test", {
      coordinateCommitTransaction: 1,
      participants: [],
      ...txn(lsid, 1),
    });
    assertCode(notAdmin, "Unauthorized");
    const dup = await shard.runCommand("admin", {
      coordinateCommitTransaction: 1,
      participants: [{ shardId: "shard0" }, { shardId: "shard0" }],
      ...txn(lsid, 1),
    });
    assertCode(dup, "Location51162", 51162);
    assert.equal(dup.errmsg, "Participant list contains duplicate shard shard0");
    const onMongos = await router.runCommand("admin", { coordinateCommitTransaction: 1, participants: [] });
    assertCode(onMongos, "CommandNotFound");
    await cluster.stop();
  });
});
