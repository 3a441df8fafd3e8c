/**
 * One cross-shard transaction's two-phase commit, run by the coordinator shard.
 *
 * @packageDocumentation
 */
import type { Long } from "bson";
import { Future, spawn, wait, type Task, type TimerHandle } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../../errors/index.js";
import type { Document } from "../../idl/bson-types.js";
import type { ServerNode } from "../../node/server-node.js";
import { lsidLabel } from "../../cursors/cursor-manager.js";
import { formatBson } from "../../storage/bson-format.js";
import {
  deleteCoordinatorDoc,
  persistDecision,
  persistParticipantList,
  type CoordinatorDecision,
  type CoordinatorDocument,
} from "./coordinator-document.js";
import type { CoordinatorMetrics } from "./coordinator-metrics.js";
import {
  CoordinatorActions,
  CoordinatorSteps,
  transition,
  type CoordinatorAction,
  type CoordinatorStep,
} from "./coordinator-steps.js";
import { pauseWhileSet, sendDecision, sendPrepare, type CoordinatorWorkerContext } from "./coordinator-util.js";
import { WorkScheduler } from "./work-scheduler.js";

/**
 * The coordinator's fixed statuses, made once: they carry no per-transaction detail, and building
 * an Error (its stack) at every cancellation or completion would dominate a commit's cost.
 */
const CANCELED = new ServerError(
  ErrorCodes.TransactionCoordinatorCanceled,
  "Transaction exceeded deadline or newer transaction started",
);
const COMPLETED = new ServerError(ErrorCodes.TransactionCoordinatorDeadlineTaskCanceled, "Coordinator completed");

/** What a coordinator needs from the service that owns it. */
export interface CoordinatorOwner {
  readonly node: ServerNode;
  readonly metrics: CoordinatorMetrics;
  /** Called once the coordinator is done, before its futures settle (`notifyCoordinatorFinished`). */
  onCoordinatorFinished(c: TransactionCoordinator): void;
}

/**
 * The two-phase commit of one transaction (`TransactionCoordinator`,
 * `src/mongo/db/s/transaction_coordinator.cpp`).
 *
 * @remarks
 * Created (step `inactive`) when the shard receives the transaction's first statement with
 * `coordinator: true`; commit starts when `coordinateCommitTransaction` arrives ({@link runCommit})
 * or, after a restart, from its `config.transaction_coordinators` document
 * ({@link continueCommit}). The steps:
 * 1. `writingParticipantList` — persist `{_id: {lsid, txnNumber}, participants}` (skipped when
 *    recovered with a decision); failpoint `hangBeforeWritingParticipantList`.
 * 2. `waitingForVotes` (action `sendingPrepare`) — `prepareTransaction` to every participant,
 *    retried with backoff; commit iff all vote commit, at max `prepareTimestamp` (the node's
 *    cluster time advances to it); skipped when the decision is known.
 * 3. `writingDecision` — persist the decision; failpoint `hangBeforeWritingDecision`. The decision
 *    future settles here: `coordinateCommitTransaction` answers.
 * 4. `waitingForDecisionAcks` (`sendingCommit` / `sendingAbort`) — the decision to every
 *    participant until acknowledged.
 * 5. `deletingCoordinatorDoc` — delete the document; failpoint `hangBeforeDeletingCoordinatorDoc`.
 *
 * The deadline (`transactionLifetimeLimitSeconds` after creation) cancels a coordinator whose
 * commit has not started (`TransactionCoordinatorCanceled`) and stops the vote collection, which
 * then decides abort (`NoSuchTransaction` "Transaction exceeded deadline").
 */
export class TransactionCoordinator implements CoordinatorWorkerContext {
  readonly node: ServerNode;
  #step: CoordinatorStep = CoordinatorSteps.inactive;
  #action: CoordinatorAction | undefined;
  #participants: readonly string[] | undefined;
  #participantsDurable = false;
  #decision: CoordinatorDecision | undefined;
  #decisionDurable = false;
  #kickOffReserved = false;
  readonly #kickOff = new Future<void>();
  /** Settles when the decision is durable (`getDecision()`); rejects if the coordinator fails first. */
  readonly decisionFuture = new Future<CoordinatorDecision>();
  /** Settles when the coordinator is done (`onCompletion()`). */
  readonly completion = new Future<void>();
  /** All of the coordinator's waits (`_scheduler`): a stepdown shuts it down. */
  readonly #scheduler = new WorkScheduler();
  /** Work interrupted by the deadline (`_sendPrepareScheduler`), a child of {@link #scheduler}. */
  readonly #sendPrepareScheduler = this.#scheduler.makeChild();
  #deadlineTimer: TimerHandle | undefined;
  /** When the commit started (the first step), in node time. */
  #commitStartedAt: number | undefined;

  constructor(
    private readonly owner: CoordinatorOwner,
    readonly lsid: Document,
    readonly txnNumber: Long,
    /** Node time at which an undecided coordinator gives up. */
    readonly deadline: number,
    /** True if created by restart recovery from a document. */
    readonly recovered: boolean,
  ) {
    this.node = owner.node;
  }

  /** The current step. */
  get step(): CoordinatorStep {
    return this.#step;
  }

  /** What the worker is doing now (`$currentOp`'s `twoPhaseCommitCoordinator.action`). */
  get action(): CoordinatorAction | undefined {
    return this.#action;
  }

  /** The participant shards, once commit has started. */
  get participants(): readonly string[] | undefined {
    return this.#participants;
  }

  /** The decision, once made. */
  get decision(): CoordinatorDecision | undefined {
    return this.#decision;
  }

  /** Starts the coordinator: its deadline and its (waiting) commit chain (`start`). */
  start(): void {
    this.owner.metrics.onCreate();
    this.node.ctx.record({
      type: "coord.create",
      lsid: this.label,
      txnNumber: Number(this.txnNumber),
      recovered: this.recovered,
    });
    this.#deadlineTimer = this.node.ctx.setTimer(
      Math.max(0, this.deadline - this.node.now()),
      () => {
        this.cancelIfCommitNotYetStarted();
        this.#sendPrepareScheduler.shutdown(
          new ServerError(ErrorCodes.TransactionCoordinatorReachedAbortDecision, "Transaction exceeded deadline"),
        );
      },
      "coordinatorDeadline",
    );
    spawn(this.#run()).onSettle((r) => {
      if (!r.ok) {
        // Not a MongoDB error: a bug in the simulator. Trace it and fail the waiters.
        const message = r.error instanceof Error ? `${r.error.name}: ${r.error.message}` : String(r.error);
        this.node.ctx.record({ type: "node.bug", opId: 0, command: "TransactionCoordinator", error: message });
        this.#finish(new ServerError(ErrorCodes.InternalError, message));
      }
    });
  }

  /** Starts commit with the router's participant list (`runCommit`); later calls are no-ops. */
  runCommit(participants: readonly string[]): void {
    if (!this.#reserveKickOff()) return;
    this.#participants = [...participants];
    this.#kickOff.resolve();
  }

  /** Resumes commit from a recovered document (`continueCommit`). */
  continueCommit(doc: CoordinatorDocument): void {
    if (!this.#reserveKickOff()) return;
    this.#participants = [...doc.participants];
    if (doc.decision !== undefined) {
      this.#participantsDurable = true;
      this.#decision = doc.decision;
    }
    this.#kickOff.resolve();
  }

  /**
   * Stops the coordinator wherever it is (`interrupt`, on stepdown): it ends with `status`
   * (TransactionCoordinatorSteppingDown), reported to its waiters as InterruptedDueToReplStateChange
   * "Coordinator <lsid>:<txn> stopped due to: …"; its document stays for step-up to resume.
   */
  interrupt(status: ServerError): void {
    this.#scheduler.shutdown(status);
  }

  /** Cancels the coordinator unless commit has started (`cancelIfCommitNotYetStarted`). */
  cancelIfCommitNotYetStarted(): void {
    if (!this.#reserveKickOff()) return;
    this.#kickOff.reject(CANCELED);
  }

  /** The `twoPhaseCommitCoordinator` part of `$currentOp` (`TransactionCoordinator::reportState`). */
  report(): Document {
    return {
      lsid: this.lsid,
      txnNumber: this.txnNumber,
      ...(this.#participants === undefined ? {} : { numParticipants: this.#participants.length }),
      state: this.#step,
      ...(this.#action === undefined ? {} : { action: this.#action }),
      ...(this.#commitStartedAt === undefined ? {} : { commitStartTime: new Date(this.#commitStartedAt) }),
      hasRecoveredFromFailover: this.recovered,
      ...(this.#decision === undefined ? {} : { decision: { ...this.#decision } }),
      deadline: new Date(this.deadline),
    };
  }

  // ---- CoordinatorWorkerContext ----------------------------------------------------------------

  setAction(action: CoordinatorAction): void {
    if (this.#action === action) return;
    this.#action = action;
    this.node.ctx.record({
      type: "coord.step",
      lsid: this.label,
      txnNumber: Number(this.txnNumber),
      step: this.#step,
      action,
    });
  }

  hitFailpoint(name: string): void {
    this.node.ctx.record({
      type: "coord.failpoint",
      lsid: this.label,
      txnNumber: Number(this.txnNumber),
      failpoint: name,
    });
  }

  // ---- the commit chain ----------------------------------------------------------------------------

  get label(): string {
    return lsidLabel(this.lsid) ?? "?";
  }

  #reserveKickOff(): boolean {
    if (this.#kickOffReserved) return false;
    this.#kickOffReserved = true;
    return true;
  }

  #setStep(to: CoordinatorStep): void {
    const from = this.#step;
    this.#step = transition(from, to);
    this.#action = undefined;
    this.owner.metrics.onStartStep(from, to);
    if (to !== CoordinatorSteps.done)
      this.node.ctx.record({ type: "coord.step", lsid: this.label, txnNumber: Number(this.txnNumber), step: to });
  }

  *#run(): Task<void> {
    try {
      yield* wait(this.#scheduler.race(this.#kickOff));
    } catch (e) {
      if (e instanceof ServerError) return this.#finish(e);
      throw e;
    }
    this.#commitStartedAt = this.node.now();
    const catalog = this.node.durable!.catalog;
    const participants = this.#participants!;
    try {
      this.#setStep(CoordinatorSteps.writingParticipantList);
      if (!this.#participantsDurable) {
        this.setAction(CoordinatorActions.writingParticipantList);
        yield* pauseWhileSet(this, "hangBeforeWritingParticipantList", this.#sendPrepareScheduler);
        this.#sendPrepareScheduler.check();
        persistParticipantList(catalog, this.lsid, this.txnNumber, participants);
      }
      this.#participantsDurable = true;
      this.#setStep(CoordinatorSteps.waitingForVotes);
      if (this.#decision === undefined) {
        const decision = yield* sendPrepare(this, this.#sendPrepareScheduler, participants);
        this.#decision = decision;
        // On commit the coordinator ticks its cluster time to the commit timestamp.
        if (decision.decision === "commit") this.node.clusterTime.advanceTo(decision.commitTimestamp);
      }
    } catch (e) {
      if (!(e instanceof ServerError)) throw e;
      if (e.code !== ErrorCodes.TransactionCoordinatorReachedAbortDecision) return this.#finish(e);
      // Deadline while the participant list was being written: decide abort.
      this.#decision = {
        decision: "abort",
        abortStatus: { code: ErrorCodes.NoSuchTransaction, codeName: "NoSuchTransaction", errmsg: e.message },
      };
    }
    const decision = this.#decision;
    try {
      this.#setStep(CoordinatorSteps.writingDecision);
      this.setAction(CoordinatorActions.writingDecision);
      yield* pauseWhileSet(this, "hangBeforeWritingDecision", this.#scheduler);
      this.#scheduler.check();
      persistDecision(catalog, this.lsid, this.txnNumber, participants, decision, new Date(this.node.now()));
      this.#decisionDurable = true;
      this.node.ctx.record({
        type: "coord.decision",
        lsid: this.label,
        txnNumber: Number(this.txnNumber),
        decision: decision.decision,
        ...(decision.decision === "commit"
          ? { commitTimestamp: `Timestamp(${decision.commitTimestamp.high}, ${decision.commitTimestamp.low})` }
          : { codeName: decision.abortStatus.codeName }),
      });
      this.decisionFuture.resolve(decision);

      this.#setStep(CoordinatorSteps.waitingForDecisionAcks);
      yield* sendDecision(this, participants, decision, this.#scheduler);

      this.#setStep(CoordinatorSteps.deletingCoordinatorDoc);
      this.setAction(CoordinatorActions.deletingCoordinatorDoc);
      yield* pauseWhileSet(this, "hangBeforeDeletingCoordinatorDoc", this.#scheduler);
      this.#scheduler.check();
      deleteCoordinatorDoc(catalog, this.lsid, this.txnNumber);
    } catch (e) {
      if (e instanceof ServerError) return this.#finish(e);
      throw e;
    }
    this.#finish(undefined);
  }

  /** Ends the coordinator (`_done`): leaves the catalog, updates metrics, settles the futures. */
  #finish(status: ServerError | undefined): void {
    if (this.#step === CoordinatorSteps.done) return;
    // Stopped by a stepdown: forget it (the decision, if any, is recovered at step-up).
    const steppingDown = status?.code === ErrorCodes.TransactionCoordinatorSteppingDown;
    const error = steppingDown
      ? new ServerError(
          ErrorCodes.InterruptedDueToReplStateChange,
          `Coordinator ${formatBson(this.lsid)}:{ txnNumber: ${String(this.txnNumber)}, txnRetryCounter: 0 } stopped due to: ${status.message}`,
        )
      : status;
    const lastStep = this.#step;
    this.#step = transition(lastStep, CoordinatorSteps.done);
    this.#action = undefined;
    this.#deadlineTimer?.cancel();
    this.#sendPrepareScheduler.shutdown(COMPLETED);
    this.owner.onCoordinatorFinished(this);
    this.owner.metrics.onEnd(lastStep, this.#decisionDurable && !steppingDown ? this.#decision?.decision : undefined);
    this.node.ctx.record({
      type: "coord.end",
      lsid: this.label,
      txnNumber: Number(this.txnNumber),
      ok: error === undefined,
      ...(error === undefined ? {} : { codeName: error.codeName }),
    });
    if (error !== undefined) {
      this.decisionFuture.reject(error);
      this.completion.reject(error);
    } else this.completion.resolve();
  }
}
