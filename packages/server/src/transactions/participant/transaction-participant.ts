/**
 * The transaction participant of one session on a mongod (`TransactionParticipant`,
 * `src/mongo/db/transaction/transaction_participant.cpp`).
 *
 * @packageDocumentation
 */
import { Long, type Timestamp } from "bson";
import { Future } from "@sessionsim/kernel";
import { ErrorCodes, InvariantViolation, ServerError } from "../../errors/index.js";
import type { Document } from "../../idl/bson-types.js";
import type { OperationContext } from "../../node/operation-context.js";
import { formatLsid } from "../../session/index.js";
import type { Session } from "../../session-catalog/index.js";
import type { WriteSet } from "../../storage/write-set.js";
import { noteOperationTime } from "../../cluster-time/gossip.js";
import type { RetryableWriteHistory } from "./durable-transactions.js";
import { DurableTxnStates, readSessionTxnRecord, writeSessionTxnRecord } from "./session-txn-record.js";
import {
  TransactionStates,
  isAborted,
  isInRetryableWriteMode,
  isOpen,
  stateName,
  transition,
  type TransactionState,
} from "./transaction-state.js";
import type { TransactionParticipants } from "./transaction-participants.js";

/** `kUninitializedTxnNumber`. */
export const UNINITIALIZED_TXN_NUMBER = Long.fromNumber(-1);
/** `kUninitializedTxnRetryCounter`. */
const UNINITIALIZED_RETRY_COUNTER = -1;

/** `preparedTxnCmdAllowlist`: what a prepared transaction still accepts. */
const PREPARED_TXN_CMD_ALLOWLIST: ReadonlySet<string> = new Set([
  "abortTransaction",
  "commitTransaction",
  "prepareTransaction",
]);

/** `TxnNumberAndRetryCounter::toBSON().toString()`. */
function txnNumberAndRetryCounter(txnNumber: Long, retryCounter?: number): string {
  return retryCounter === undefined
    ? `{ txnNumber: ${txnNumber.toString()} }`
    : `{ txnNumber: ${txnNumber.toString()}, txnRetryCounter: ${retryCounter} }`;
}

/**
 * One session's transaction state on a mongod: the active transaction number, the state machine
 * of {@link TransactionStates}, the multi-document transaction's write set, and the executed
 * statements of a retryable write.
 *
 * @remarks
 * Lives as a decoration of the session-catalog entry (volatile). It is (re)built from storage —
 * the session's `config.transactions` row, a prepared transaction, the retryable-write history —
 * when first used after a restart or after the reaper removed the row
 * (`refreshFromStorageIfNeeded`, `observeDirectWriteToConfigTransactions`).
 */
export class TransactionParticipant {
  #state: TransactionState = TransactionStates.None;
  /** The active transaction number (`-1` until one is used). */
  activeTxnNumber: Long = UNINITIALIZED_TXN_NUMBER;
  /** `txnRetryCounter` of the active number (0 for transactions started here, -1 otherwise). */
  activeRetryCounter = UNINITIALIZED_RETRY_COUNTER;
  /** `false` for a multi-document transaction, `undefined` for a retryable write. */
  autocommit: false | undefined;
  /** The transaction's private writes (its "transaction resources"). */
  writeSet: WriteSet | undefined;
  /** Whether a statement has run (resources exist: `txnResourceStash`). */
  hasResources = false;
  /** Local time after which an in-progress transaction expires. */
  expireAt: number | undefined;
  /** The prepare oplog entry's time. */
  prepareTimestamp: Timestamp | undefined;
  /** The executed statements of the active retryable write. */
  history: RetryableWriteHistory | undefined;
  /** The history could not be loaded (IncompleteTransactionHistory for unknown stmtIds). */
  hasIncompleteHistory = false;
  /** The `txnNum` of the `config.transactions` row this participant last wrote or read. */
  persistedTxnNum: Long | undefined;
  /** Whether the in-memory state reflects storage (false: refresh at next checkout). */
  valid = false;
  /** Whether the transaction was ever prepared (metrics). */
  private wasPrepared = false;
  /** Resolves when the transaction leaves `Prepared` (`onExitPrepare`). */
  #exitPrepare: Future<void> | undefined;

  constructor(
    readonly session: Session,
    private readonly service: TransactionParticipants,
  ) {}

  /** The current state. */
  get state(): TransactionState {
    return this.#state;
  }

  /** `transactionIsInProgress()`. */
  get inProgress(): boolean {
    return this.#state === TransactionStates.InProgress;
  }

  /** `transactionIsPrepared()`. */
  get prepared(): boolean {
    return this.#state === TransactionStates.Prepared;
  }

  /** `transactionIsOpen()`: in progress or prepared. */
  get open(): boolean {
    return isOpen(this.#state);
  }

  /** The active number belongs to a multi-document transaction. */
  get inMultiDocumentTransaction(): boolean {
    return this.autocommit === false && !isInRetryableWriteMode(this.#state);
  }

  /** A future that resolves when the transaction is no longer prepared. */
  onExitPrepare(): Future<void> {
    return this.#exitPrepare ?? Future.resolved(undefined);
  }

  /** Whether the response of a statement reports the transaction read-only so far. */
  get readOnly(): boolean {
    return (
      (this.#state === TransactionStates.None || this.#state === TransactionStates.InProgress) &&
      (this.writeSet === undefined || this.writeSet.size === 0)
    );
  }

  #lsidString(): string {
    return formatLsid(this.session.lsid);
  }

  /** Changes state through the transition table and records a `txn.state` event. */
  #transitionTo(to: TransactionState, reason?: string): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = transition(from, to);
    if (from === TransactionStates.Prepared) {
      const f = this.#exitPrepare;
      this.#exitPrepare = undefined;
      f?.resolve();
    }
    if (to === TransactionStates.Prepared) this.#exitPrepare = new Future<void>();
    this.service.recordTransition(this, from, to, reason);
  }

  // ---- storage ---------------------------------------------------------------------------------

  /**
   * Makes the in-memory state match storage: loads it on first use after a (re)start, and drops
   * it when the session's `config.transactions` row has been deleted (the reaper), so that a
   * retry of an old write re-executes.
   *
   * @remarks `refreshFromStorageIfNeeded` / `fetchActiveTransactionHistory`, and the invalidation
   * that `observeDirectWriteToConfigTransactions` performs when the row is deleted.
   */
  refreshFromStorageIfNeeded(): void {
    const catalog = this.service.catalog;
    if (this.valid) {
      if (this.persistedTxnNum === undefined || this.open) return;
      const row = readSessionTxnRecord(catalog, this.session.lsid);
      if (row !== undefined && row.txnNum.equals(this.persistedTxnNum)) return;
      this.valid = false;
    }
    const key = this.session.key;
    const durable = this.service.durable;
    const row = readSessionTxnRecord(catalog, this.session.lsid);
    const prepared = durable.prepared.get(key);
    this.writeSet = undefined;
    this.hasResources = false;
    this.prepareTimestamp = undefined;
    this.expireAt = undefined;
    this.history = undefined;
    this.hasIncompleteHistory = false;
    this.activeRetryCounter = UNINITIALIZED_RETRY_COUNTER;
    this.#exitPrepare?.resolve();
    this.#exitPrepare = undefined;
    let state: TransactionState = TransactionStates.None;
    if (prepared !== undefined) {
      this.activeTxnNumber = prepared.txnNumber;
      this.autocommit = false;
      this.writeSet = prepared.writeSet;
      this.hasResources = true;
      this.prepareTimestamp = prepared.prepareTimestamp;
      this.wasPrepared = true;
      state = TransactionStates.Prepared;
      this.#exitPrepare = new Future<void>();
    } else if (row === undefined) {
      this.activeTxnNumber = UNINITIALIZED_TXN_NUMBER;
      this.autocommit = undefined;
      durable.history.delete(key);
    } else {
      this.activeTxnNumber = row.txnNum;
      switch (row.state) {
        case undefined: {
          this.autocommit = undefined;
          state = TransactionStates.ExecutedRetryableWrite;
          const h = durable.history.get(key);
          if (h !== undefined && h.txnNumber.equals(row.txnNum)) this.history = h;
          else this.hasIncompleteHistory = true;
          break;
        }
        case DurableTxnStates.Committed:
          this.autocommit = false;
          state = TransactionStates.Committed;
          break;
        case DurableTxnStates.Aborted:
          this.autocommit = false;
          state = TransactionStates.AbortedWithPrepare;
          break;
        default:
          // "inProgress" (or a "prepared" row without its prepare entry): step-up aborts it.
          this.autocommit = false;
          state = TransactionStates.AbortedWithoutPrepare;
      }
    }
    const from = this.#state;
    this.#state = state; // storage is the truth: no transition check (kRelaxTransitionValidation)
    if (from !== state) this.service.recordTransition(this, from, state, "refreshFromStorage");
    this.persistedTxnNum = row?.txnNum;
    this.valid = true;
  }

  // ---- beginOrContinue -------------------------------------------------------------------------

  /**
   * Starts or continues the operation's transaction number on this session, with every rule of
   * `TransactionParticipant::Participant::beginOrContinue` (reference §5.3).
   *
   * @throws ServerError TransactionTooOld, NoSuchTransaction, IncompleteTransactionHistory,
   * ConflictingOperationInProgress, 50911, PreparedTransactionInProgress (the dispatcher waits for
   * the prepared transaction to finish and retries on the last one).
   */
  beginOrContinue(op: OperationContext): void {
    const txnNumber = op.txnNumber;
    if (txnNumber === undefined) throw new InvariantViolation("beginOrContinue without a txnNumber");
    const autocommit = op.autocommit;
    if (txnNumber.lessThan(this.activeTxnNumber)) {
      const curr = isInRetryableWriteMode(this.#state) ? "retryable write" : "transaction";
      if (autocommit === undefined)
        throw new ServerError(
          ErrorCodes.TransactionTooOld,
          `Retryable write with txnNumber ${txnNumber.toString()} is prohibited on session ${this.#lsidString()} because a newer ${curr} with txnNumber ${this.activeTxnNumber.toString()} has already started on this session.`,
        );
      throw new ServerError(
        ErrorCodes.TransactionTooOld,
        `Cannot start transaction with ${txnNumberAndRetryCounter(txnNumber)} on session ${this.#lsidString()} because a newer ${curr} with txnNumberAndRetryCounter ${txnNumberAndRetryCounter(this.activeTxnNumber, this.activeRetryCounter)} has already started on this session.`,
      );
    }

    if (autocommit === undefined) {
      this.#beginOrContinueRetryableWrite(txnNumber);
      return;
    }

    if (op.startTransaction !== true) {
      this.#continueMultiDocumentTransaction(txnNumber);
      return;
    }

    if (txnNumber.equals(this.activeTxnNumber)) {
      // Servers in a sharded cluster may restart a transaction at the active number so routers
      // can retry the first statement (stale routing, snapshot errors).
      if (!this.service.isShardedClusterMember)
        throw new ServerError(
          ErrorCodes.ConflictingOperationInProgress,
          "Only servers in a sharded cluster can start a new transaction at the active transaction number",
        );
      if (this.#state !== TransactionStates.None && this.#state !== TransactionStates.AbortedWithoutPrepare)
        throw new ServerError(
          ErrorCodes.Location50911,
          `Cannot start a transaction with session id ${this.#lsidString()} and transaction number ${txnNumberAndRetryCounter(this.activeTxnNumber, this.activeRetryCounter)} because a transaction with the same transaction number is in state ${stateName(this.#state)}`,
        );
    }
    this.#beginMultiDocumentTransaction(txnNumber);
  }

  #beginOrContinueRetryableWrite(txnNumber: Long): void {
    if (txnNumber.greaterThan(this.activeTxnNumber)) {
      this.#setNewTxnNumber(txnNumber, UNINITIALIZED_RETRY_COUNTER);
      this.autocommit = undefined;
      return;
    }
    if (this.#state === TransactionStates.Prepared)
      throw new ServerError(
        ErrorCodes.PreparedTransactionInProgress,
        "Retryable write that has been converted to a transaction is in prepare",
      );
    if (!isInRetryableWriteMode(this.#state))
      throw new ServerError(
        ErrorCodes.IncompleteTransactionHistory,
        "Cannot retry a retryable write that has been converted into a transaction",
      );
  }

  #continueMultiDocumentTransaction(txnNumber: Long): void {
    if (!txnNumber.equals(this.activeTxnNumber) || isInRetryableWriteMode(this.#state))
      throw new ServerError(
        ErrorCodes.NoSuchTransaction,
        `Given transaction number ${txnNumber.toString()} does not match any in-progress transactions. The active transaction number is ${this.activeTxnNumber.toString()}`,
      );
    if (this.#state === TransactionStates.InProgress && !this.hasResources) {
      // The first statement failed before it could set the transaction up.
      this.abortTransactionOnSession("earlierCommandFailed");
      throw new ServerError(
        ErrorCodes.NoSuchTransaction,
        `Transaction with ${txnNumberAndRetryCounter(txnNumber, 0)} has been aborted because an earlier command in this transaction failed.`,
      );
    }
  }

  #beginMultiDocumentTransaction(txnNumber: Long): void {
    this.#setNewTxnNumber(txnNumber, 0);
    this.autocommit = false;
    this.#transitionTo(TransactionStates.InProgress, "startTransaction");
    this.expireAt = this.service.now() + this.service.lifetimeLimitSeconds() * 1000;
    this.service.metrics.totalStarted++;
  }

  /** `_setNewTxnNumberAndRetryCounter`: refuses while prepared, aborts an in-progress one, resets. */
  #setNewTxnNumber(txnNumber: Long, retryCounter: number): void {
    if (this.#state === TransactionStates.Prepared)
      throw new ServerError(
        ErrorCodes.PreparedTransactionInProgress,
        "Cannot change transaction number while the session has a prepared transaction",
      );
    if (this.#state === TransactionStates.InProgress) this.abortTransactionOnSession("newerTxnNumber");
    this.activeTxnNumber = txnNumber;
    this.activeRetryCounter = retryCounter;
    this.history = undefined;
    this.hasIncompleteHistory = false;
    this.writeSet = undefined;
    this.hasResources = false;
    this.prepareTimestamp = undefined;
    this.expireAt = undefined;
    this.wasPrepared = false;
    this.#transitionTo(TransactionStates.None, "newTxnNumber");
  }

  // ---- statements ------------------------------------------------------------------------------

  /**
   * Gives a transaction statement its transaction's resources (`unstashTransactionResources`):
   * checks the command against the state, creates the write set on the first statement and sets
   * `op.writeSet`. Retryable writes have nothing to unstash.
   *
   * @throws ServerError NoSuchTransaction "... has been aborted.", TransactionCommitted,
   * PreparedTransactionInProgress (`_checkIsCommandValidWithTxnState`).
   */
  unstash(op: OperationContext, commandName: string): void {
    if (op.autocommit === undefined || isInRetryableWriteMode(this.#state)) return;
    this.checkIsCommandValidWithTxnState(op.txnNumber ?? this.activeTxnNumber, commandName);
    if (this.#state === TransactionStates.InProgress && this.writeSet === undefined)
      this.writeSet = this.service.catalog.beginWriteSet(`${this.session.label}:${this.activeTxnNumber.toString()}`);
    if (this.open) op.writeSet = this.writeSet;
    this.hasResources = true;
  }

  /** `_checkIsCommandValidWithTxnState`. */
  checkIsCommandValidWithTxnState(txnNumber: Long, commandName: string): void {
    if (isAborted(this.#state))
      throw new ServerError(
        ErrorCodes.NoSuchTransaction,
        `Transaction with ${txnNumberAndRetryCounter(txnNumber)} has been aborted.`,
      );
    if (this.#state === TransactionStates.Committed && commandName !== "commitTransaction")
      throw new ServerError(
        ErrorCodes.TransactionCommitted,
        `Transaction with ${txnNumberAndRetryCounter(txnNumber)} has been committed.`,
      );
    if (this.#state === TransactionStates.Prepared && !PREPARED_TXN_CMD_ALLOWLIST.has(commandName))
      throw new ServerError(
        ErrorCodes.PreparedTransactionInProgress,
        "Cannot call any operation other than abort, prepare or commit on a prepared transaction",
      );
  }

  /** After a statement: the operation gives the resources back (`stashTransactionResources`). */
  stash(op: OperationContext): void {
    op.writeSet = undefined;
  }

  /**
   * After a failed statement (`_cleanupTransaction`): a prepared transaction is kept, an
   * in-progress one is aborted.
   */
  cleanUpAfterError(op: OperationContext, error: unknown): void {
    op.writeSet = undefined;
    if (this.#state === TransactionStates.InProgress) {
      const reason = error instanceof ServerError ? error.codeName : "error";
      this.abortTransactionOnSession(`statementFailed:${reason}`);
    }
  }

  // ---- commit / abort / prepare --------------------------------------------------------------

  /**
   * Commits an unprepared transaction: its writes become visible at one new oplog time, and the
   * session's `config.transactions` row says "committed" (a read-only transaction writes nothing).
   *
   * @throws ServerError InvalidOptions if the transaction is prepared.
   */
  commitUnpreparedTransaction(op: OperationContext): void {
    if (this.#state === TransactionStates.Prepared)
      throw new ServerError(
        ErrorCodes.InvalidOptions,
        "commitTransaction must provide commitTimestamp to prepared transaction.",
      );
    const ws = this.writeSet;
    const wrote = ws !== undefined && ws.size > 0;
    if (ws !== undefined && ws.active) ws.commit();
    if (wrote) {
      const ts = this.service.clock.tick(1);
      noteOperationTime(op, ts);
      this.#persist(ts, DurableTxnStates.Committed);
    }
    this.writeSet = undefined;
    this.#transitionTo(TransactionStates.Committed, "commitTransaction");
    this.service.metrics.totalCommitted++;
  }

  /**
   * Commits a prepared transaction at `commitTimestamp` (the coordinator's decision).
   *
   * @throws ServerError InvalidOptions: not prepared ("commitTransaction cannot provide
   * commitTimestamp to unprepared transaction."), a null timestamp, or one below the prepare
   * timestamp.
   */
  commitPreparedTransaction(op: OperationContext, commitTimestamp: Timestamp): void {
    if (this.#state !== TransactionStates.Prepared)
      throw new ServerError(
        ErrorCodes.InvalidOptions,
        "commitTransaction cannot provide commitTimestamp to unprepared transaction.",
      );
    if (commitTimestamp.isZero()) throw new ServerError(ErrorCodes.InvalidOptions, "'commitTimestamp' cannot be null");
    if (this.prepareTimestamp !== undefined && commitTimestamp.lessThan(this.prepareTimestamp))
      throw new ServerError(
        ErrorCodes.InvalidOptions,
        "'commitTimestamp' must be greater than or equal to 'prepareTimestamp'",
      );
    // tickClusterTimeTo(commitTimestamp), then the commit oplog entry's slot (>= commitTimestamp).
    this.service.clock.advanceTo(commitTimestamp);
    const ts = this.service.clock.tick(1);
    noteOperationTime(op, ts);
    this.writeSet?.commit();
    this.writeSet = undefined;
    this.service.durable.prepared.delete(this.session.key);
    this.#persist(ts, DurableTxnStates.Committed);
    this.#transitionTo(TransactionStates.Committed, "commitTransaction");
    this.service.metrics.totalCommitted++;
    this.service.metrics.totalPreparedThenCommitted++;
  }

  /**
   * Prepares the transaction: reserves the prepare oplog slot (its time is the returned
   * `prepareTimestamp`), freezes the write set (its locks stay), and makes it durable.
   */
  prepareTransaction(op: OperationContext): Timestamp {
    // "avoid a race where a session with an active (but not prepared) transaction is killed"
    op.checkForInterrupt();
    this.#transitionTo(TransactionStates.Prepared, "prepareTransaction");
    const ws =
      this.writeSet ?? this.service.catalog.beginWriteSet(`${this.session.label}:${this.activeTxnNumber.toString()}`);
    this.writeSet = ws;
    ws.prepare();
    const ts = this.service.clock.tick(1);
    noteOperationTime(op, ts);
    this.prepareTimestamp = ts;
    this.wasPrepared = true;
    this.service.durable.prepared.set(this.session.key, {
      lsid: this.session.lsid,
      txnNumber: this.activeTxnNumber,
      prepareTimestamp: ts,
      writeSet: ws,
    });
    this.#persist(ts, DurableTxnStates.Prepared, ts);
    this.service.metrics.totalPrepared++;
    return ts;
  }

  /**
   * `abortTransaction` on the active transaction (the command, or a kill): a prepared one writes
   * its abort (row state "aborted"); an unprepared one just discards its writes.
   */
  abortActiveTransaction(op: OperationContext | undefined, reason: string): void {
    if (this.#state === TransactionStates.Prepared) {
      const ts = this.service.clock.tick(1);
      if (op !== undefined) noteOperationTime(op, ts);
      this.service.durable.prepared.delete(this.session.key);
      this.#persist(ts, DurableTxnStates.Aborted);
    }
    this.abortTransactionOnSession(reason);
  }

  /** `_abortTransactionOnSession`: discards the write set and moves to an aborted state. */
  abortTransactionOnSession(reason: string): void {
    if (!this.open) return;
    const wasPrepared = this.#state === TransactionStates.Prepared;
    if (this.writeSet !== undefined && this.writeSet.active) this.writeSet.abort();
    this.writeSet = undefined;
    this.#transitionTo(
      wasPrepared ? TransactionStates.AbortedWithPrepare : TransactionStates.AbortedWithoutPrepare,
      reason,
    );
    this.service.metrics.totalAborted++;
    if (wasPrepared) this.service.metrics.totalPreparedThenAborted++;
  }

  // ---- retryable writes ----------------------------------------------------------------------

  /**
   * The result of statement `stmtId` if the active retryable write already executed it
   * (`checkStatementExecuted`).
   *
   * @throws ServerError IncompleteTransactionHistory if the history could not be loaded.
   */
  checkStatementExecuted(stmtId: number): Document | undefined {
    const r = this.history?.statements.get(stmtId);
    if (r !== undefined) return r;
    if (this.hasIncompleteHistory)
      throw new ServerError(
        ErrorCodes.IncompleteTransactionHistory,
        `Incomplete history detected for transaction ${this.activeTxnNumber.toString()} on session ${this.#lsidString()}`,
      );
    return undefined;
  }

  /**
   * Records an executed retryable-write statement (`onWriteOpCompletedOnPrimary`): its result
   * joins the durable history and the session's `config.transactions` row is upserted.
   */
  onRetryableWriteCompleted(stmtId: number, result: Document, ts: Timestamp): void {
    if (this.history === undefined || !this.history.txnNumber.equals(this.activeTxnNumber)) {
      this.history = { txnNumber: this.activeTxnNumber, statements: new Map() };
      this.service.durable.history.set(this.session.key, this.history);
      this.hasIncompleteHistory = false;
    }
    if (this.history.statements.has(stmtId))
      throw new ServerError(40526, "Statement from transaction was committed twice");
    this.history.statements.set(stmtId, result);
    this.#persist(ts, undefined);
    this.#transitionTo(TransactionStates.ExecutedRetryableWrite, "retryableWrite");
  }

  /** Upserts the session's `config.transactions` row. */
  #persist(
    ts: Timestamp,
    state: (typeof DurableTxnStates)[keyof typeof DurableTxnStates] | undefined,
    startOpTime?: Timestamp,
  ): void {
    writeSessionTxnRecord(this.service.catalog, this.session.lsid, {
      txnNum: this.activeTxnNumber,
      lastWriteOpTime: ts,
      lastWriteDate: new Date(this.service.now()),
      ...(state === undefined ? {} : { state }),
      ...(startOpTime === undefined ? {} : { startOpTime }),
    });
    this.persistedTxnNum = this.activeTxnNumber;
    this.service.metrics.transactionsCollectionWriteCount++;
  }

  /** Whether the in-memory session may be reaped (`canBeReaped`): no open transaction. */
  get canBeReaped(): boolean {
    return !this.open;
  }

  /** Whether the transaction was ever prepared. */
  get everPrepared(): boolean {
    return this.wasPrepared;
  }

  /** Restores a prepared transaction at startup. */
  restorePrepared(): void {
    this.valid = false;
    this.refreshFromStorageIfNeeded();
  }
}
