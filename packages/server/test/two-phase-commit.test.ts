// Unit tests for the pure parts of the transaction router and the two-phase-commit coordinator
// (packages/server/src/transactions/router, .../coordinator). Expected values come from MongoDB's
// source: transaction_router.cpp (participants, read-only tracking, commit paths, messages),
// transaction_coordinator.cpp (steps), src/mongo/util/backoff.cpp (Backoff), and
// transaction_coordinator_futures_util.cpp (AsyncWorkScheduler shutdown).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Binary, Long, Timestamp, UUID } from "bson";
import { Future } from "@sessionsim/kernel";
import { ServerError, InvariantViolation } from "../src/errors/index.js";
import { CoordinatorSteps, transition } from "../src/transactions/coordinator/coordinator-steps.js";
import { Backoff, WorkScheduler } from "../src/transactions/coordinator/work-scheduler.js";
import { TransactionRouter } from "../src/transactions/router/transaction-router.js";

const lsid = {
  id: new UUID("a57cc1b6-8096-40e8-8f6f-8bb4092e27f9"),
  uid: new Binary(Buffer.from("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hex"), 0),
};
const T0 = Timestamp.fromBits(1, 1_767_225_600);
const L = (n: number): Long => Long.fromNumber(n);

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ServerError) return e.code;
    throw e;
  }
  return undefined;
}

void describe("coordinator steps (TransactionCoordinator::Step)", () => {
  void it("allows the 2PC chain and the abort-decision shortcut, and names both steps otherwise", () => {
    const chain = [
      "inactive",
      "writingParticipantList",
      "waitingForVotes",
      "writingDecision",
      "waitingForDecisionAcks",
      "deletingCoordinatorDoc",
      "done",
    ] as const;
    for (let i = 1; i < chain.length; i++) assert.equal(transition(chain[i - 1], chain[i]), chain[i]);
    assert.equal(
      transition(CoordinatorSteps.writingParticipantList, CoordinatorSteps.writingDecision),
      "writingDecision",
    );
    assert.throws(
      () => transition(CoordinatorSteps.waitingForVotes, CoordinatorSteps.writingParticipantList),
      (e: unknown) => e instanceof InvariantViolation && /waitingForVotes -> writingParticipantList/.test(e.message),
    );
    assert.throws(() => transition(CoordinatorSteps.done, CoordinatorSteps.inactive), InvariantViolation);
  });
});

void describe("Backoff(Seconds(1)) and the work scheduler", () => {
  void it("sleeps 1 ms, doubling up to one second", () => {
    const b = new Backoff();
    assert.deepEqual(
      Array.from({ length: 12 }, () => b.next()),
      [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 1000],
    );
  });

  void it("shutdown rejects pending and later waits, on children too", () => {
    const parent = new WorkScheduler();
    const child = parent.makeChild();
    const pending = child.race(new Future<number>());
    const err = new ServerError(282, "Transaction exceeded deadline");
    parent.shutdown(err);
    assert.equal(pending.error, err);
    assert.equal(child.race(Future.resolved(1)).error, err);
    assert.equal(parent.makeChild().status, err);
    const fresh = new WorkScheduler();
    assert.equal(fresh.race(Future.resolved(7)).value, 7);
  });
});

void describe("TransactionRouter (transaction_router.cpp)", () => {
  void it("makes the first shard targeted the coordinator and the first writer the recovery shard", () => {
    const r = new TransactionRouter(lsid);
    r.beginOrContinueTxn(L(1), "start", { level: "snapshot" }, T0);
    const first = r.attachTxnFields("shard1", { find: "c", filter: {} });
    assert.deepEqual(Object.keys(first), [
      "find",
      "filter",
      "startTransaction",
      "readConcern",
      "coordinator",
      "autocommit",
      "txnNumber",
    ]);
    assert.deepEqual(first.readConcern, { level: "snapshot", atClusterTime: T0 });
    r.processParticipantResponse("shard1", { ok: 1, readOnly: true });
    assert.deepEqual(r.recoveryToken(), {});
    const second = r.attachTxnFields("shard0", { insert: "c", documents: [{}] });
    assert.equal(second.coordinator, undefined);
    assert.equal(second.startTransaction, true);
    r.processParticipantResponse("shard0", { ok: 1, readOnly: false });
    assert.deepEqual(r.recoveryToken(), { recoveryShardId: "shard0" });
    assert.equal(r.coordinatorId, "shard1");
    // A shard that wrote cannot claim read-only again (51113).
    assert.equal(
      codeOf(() => r.processParticipantResponse("shard0", { ok: 1, readOnly: true })),
      51113,
    );
    const again = r.attachTxnFields("shard1", { find: "c", readConcern: { level: "majority" } });
    assert.equal(again.readConcern, undefined);
    assert.equal(again.startTransaction, undefined);
    assert.equal(again.coordinator, true);
  });

  void it("chooses the commit path from the participants' read-only states", () => {
    const plan = (states: (boolean | undefined)[]): string => {
      const r = new TransactionRouter(lsid);
      r.beginOrContinueTxn(L(1), "start", undefined, T0);
      states.forEach((ro, i) => {
        r.attachTxnFields(`shard${i}`, { find: "c" });
        if (ro !== undefined) r.processParticipantResponse(`shard${i}`, { ok: 1, readOnly: ro });
      });
      try {
        return r.planCommit(undefined).type;
      } catch (e) {
        return (e as ServerError).codeName;
      }
    };
    assert.equal(plan([]), "noShards");
    assert.equal(plan([false]), "singleShard");
    assert.equal(plan([true, true]), "readOnly");
    assert.equal(plan([true, false]), "singleWriteShard");
    assert.equal(plan([false, false]), "twoPhaseCommit");
    assert.equal(plan([false, undefined]), "NoSuchTransaction");
  });

  void it("a retried single-write-shard commit recovers from the write shard", () => {
    const r = new TransactionRouter(lsid);
    r.beginOrContinueTxn(L(1), "start", undefined, T0);
    r.attachTxnFields("shard0", { find: "c" });
    r.processParticipantResponse("shard0", { ok: 1, readOnly: true });
    r.attachTxnFields("shard1", { insert: "c" });
    r.processParticipantResponse("shard1", { ok: 1, readOnly: false });
    assert.equal(r.planCommit(undefined).type, "singleWriteShard");
    r.beginOrContinueTxn(L(1), "commit", undefined, T0);
    assert.deepEqual(r.planCommit(undefined), { type: "recoverWithToken", recoveryShard: "shard1" });
  });

  void it("does not implicitly abort once the commit is handed to the coordinator", () => {
    const r = new TransactionRouter(lsid);
    r.beginOrContinueTxn(L(1), "start", undefined, T0);
    for (const s of ["shard0", "shard1"]) {
      r.attachTxnFields(s, { insert: "c" });
      r.processParticipantResponse(s, { ok: 1, readOnly: false });
    }
    assert.deepEqual(r.planImplicitAbort(), ["shard0", "shard1"]);
    r.planCommit(undefined);
    assert.deepEqual(r.planImplicitAbort(), []);
  });

  void it("recovery mode: 50940 without a token, NoSuchTransaction for an empty one", () => {
    const r = new TransactionRouter(lsid);
    r.beginOrContinueTxn(L(3), "commit", undefined, T0);
    assert.equal(r.isRecoveringCommit, true);
    assert.equal(
      codeOf(() => r.planCommit(undefined)),
      50940,
    );
    const r2 = new TransactionRouter(lsid);
    r2.beginOrContinueTxn(L(3), "commit", undefined, T0);
    assert.equal(
      codeOf(() => r2.planCommit({})),
      251,
    );
  });

  void it("txnNumber rules and their messages", () => {
    const r = new TransactionRouter(lsid);
    r.beginOrContinueTxn(L(5), "start", undefined, T0);
    assert.equal(
      codeOf(() => r.beginOrContinueTxn(L(4), "continue", undefined, T0)),
      225,
    );
    assert.equal(
      codeOf(() => r.beginOrContinueTxn(L(5), "start", undefined, T0)),
      117,
    );
    assert.equal(
      codeOf(() => r.beginOrContinueTxn(L(5), "continue", { level: "local" }, T0)),
      72,
    );
    assert.equal(
      codeOf(() => r.beginOrContinueTxn(L(6), "continue", undefined, T0)),
      251,
    );
    assert.equal(
      codeOf(() => r.beginOrContinueTxn(L(7), "start", { level: "linearizable" }, T0)),
      72,
    );
    assert.equal(
      codeOf(() => r.planAbort()),
      251,
    );
  });
});
