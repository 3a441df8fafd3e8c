/**
 * A mongod's transaction participants (`node.participants`): one per session-catalog entry, the
 * lifetime-limit job, restart recovery of prepared transactions, `serverStatus.transactions`, and
 * the API the kill commands use.
 *
 * @packageDocumentation
 */
import { Long } from "bson";
import { spawn, type Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../../errors/index.js";
import type { Document } from "../../idl/bson-types.js";
import { OperationDecoration, type OperationContext } from "../../node/operation-context.js";
import type { ServerNode } from "../../node/server-node.js";
import { NodeRoles } from "../../node/topology.js";
import type { LogicalSessionId } from "../../session/index.js";
import { SessionDecoration, type KillToken, type Session, type SessionCatalog } from "../../session-catalog/index.js";
import type { Catalog } from "../../storage/catalog.js";
import type { ClusterClock } from "../../cluster-time/cluster-clock.js";
import type { DurableTransactions } from "./durable-transactions.js";
import { TransactionParticipant } from "./transaction-participant.js";
import type { TransactionState } from "./transaction-state.js";

/** Counters of `serverStatus.transactions` (`ServerTransactionsMetrics`, `RetryableWritesStats`). */
export class TransactionMetrics {
  retriedCommandsCount = 0;
  retriedStatementsCount = 0;
  transactionsCollectionWriteCount = 0;
  totalStarted = 0;
  totalCommitted = 0;
  totalAborted = 0;
  totalPrepared = 0;
  totalPreparedThenCommitted = 0;
  totalPreparedThenAborted = 0;
}

/** One open transaction, as {@link TransactionParticipants.openTransactions} lists it. */
export interface OpenTransaction {
  readonly lsid: LogicalSessionId;
  readonly txnNumber: Long;
  readonly state: TransactionState;
}

/** Participants per operation (`TransactionParticipant::get(opCtx)`: set while checked out). */
const participantByOp = new OperationDecoration<TransactionParticipant>("transactionParticipant");

/** The participant of the session `op` has checked out, if any. */
export function participantForOp(op: OperationContext): TransactionParticipant | undefined {
  return participantByOp.get(op);
}

/** @internal Sets or clears the participant of an operation. */
export function setParticipantForOp(op: OperationContext, p: TransactionParticipant | undefined): void {
  participantByOp.set(op, p);
}

/** The lifetime-limit job's period: `clamp(limit / 2, 1 s, 60 s)` (`getPeriod`). */
export function abortExpiredTransactionsPeriodMs(limitSeconds: number): number {
  return Math.min(60_000, Math.max(1000, limitSeconds * 500));
}

/**
 * The transaction participants of a mongod.
 *
 * @remarks
 * - `abortUnpreparedTransactions` is `killSessionsAbortUnpreparedTransactions`
 *   (`kill_sessions_local.cpp`): only sessions whose transaction is in progress — never prepared
 *   ones — are killed (interrupting the checked-out operation), checked out for kill, and aborted.
 * - The `abortExpiredTransactions` job (`killAllExpiredTransactions`) does the same for
 *   transactions past `transactionLifetimeLimitSeconds`, with reason
 *   TransactionExceededLifetimeLimitSeconds (290); prepared transactions never expire.
 * - At startup, unprepared write sets left by the previous incarnation are aborted and every
 *   prepared transaction is restored on its session (still prepared, its write set still
 *   locking), as step-up does from the oplog.
 *
 * @example
 * ```ts
 * node.participants?.abortUnpreparedTransactions(() => true, new ServerError(ErrorCodes.Interrupted, "operation was interrupted"));
 * node.participants?.isPrepared(lsid);
 * ```
 */
export class TransactionParticipants {
  readonly metrics = new TransactionMetrics();
  readonly #decoration: SessionDecoration<TransactionParticipant>;

  constructor(
    private readonly node: ServerNode,
    readonly durable: DurableTransactions,
    readonly catalog: Catalog,
    private readonly sessions: SessionCatalog,
  ) {
    this.#decoration = new SessionDecoration("transactionParticipant", (s) => new TransactionParticipant(s, this));
    node.serverStatusSections.set("transactions", () => this.serverStatus());
    // Restart recovery: unprepared transactions die with the process; prepared ones are restored.
    catalog.abortUnpreparedWriteSets();
    for (const rec of [...durable.prepared.values()])
      this.participantOf(sessions.getOrCreate(rec.lsid)).restorePrepared();
    this.#scheduleExpiry();
  }

  /** The node's cluster clock. */
  get clock(): ClusterClock {
    return this.node.clusterTime;
  }

  /** Every sessionsim mongod belongs to a sharded cluster (config server or shard). */
  get isShardedClusterMember(): boolean {
    return this.node.role === NodeRoles.shardsvr || this.node.role === NodeRoles.configsvr;
  }

  /** The node's clock. */
  now(): number {
    return this.node.now();
  }

  /** `transactionLifetimeLimitSeconds` (runtime-settable). */
  lifetimeLimitSeconds(): number {
    return this.node.params.transactionLifetimeLimitSeconds;
  }

  /** The participant of a session-catalog entry. */
  participantOf(session: Session): TransactionParticipant {
    return this.#decoration.get(session);
  }

  /** The participant of `lsid`'s session, if the node has that session. */
  peek(lsid: LogicalSessionId): TransactionParticipant | undefined {
    const s = this.sessions.get(lsid);
    return s === undefined ? undefined : this.#decoration.peek(s);
  }

  /** @internal Records a `txn.state` trace event. */
  recordTransition(p: TransactionParticipant, from: TransactionState, to: TransactionState, reason?: string): void {
    this.node.ctx.record({
      type: "txn.state",
      lsid: p.session.label,
      txnNumber: p.activeTxnNumber.toNumber(),
      from,
      to,
      ...(reason === undefined ? {} : { reason }),
    });
  }

  // ---- the kill commands' API ------------------------------------------------------------------

  /**
   * Aborts the in-progress (never the prepared) transactions of the sessions `matches` selects:
   * each session is marked killed (its checked-out operation interrupted with `reason`), checked
   * out for kill — at once, or as soon as the interrupted operation checks it in — and its
   * transaction aborted. Returns how many transactions were selected.
   */
  abortUnpreparedTransactions(matches: (lsid: Document) => boolean, reason: ServerError): number {
    return this.#killAndAbort((p, s) => p.inProgress && matches(s.lsid), reason, `kill:${reason.codeName}`);
  }

  /** The state of `lsid`'s transaction, if the node has the session. */
  transactionState(lsid: Document): TransactionState | undefined {
    return this.peek(lsid as LogicalSessionId)?.state;
  }

  /** Whether `lsid`'s transaction is prepared. */
  isPrepared(lsid: Document): boolean {
    return this.peek(lsid as LogicalSessionId)?.prepared === true;
  }

  /** The open (in-progress or prepared) transactions, in session-catalog order. */
  openTransactions(): OpenTransaction[] {
    const out: OpenTransaction[] = [];
    for (const s of this.sessions.sessions()) {
      const p = this.#decoration.peek(s);
      if (p !== undefined && p.open) out.push({ lsid: s.lsid, txnNumber: p.activeTxnNumber, state: p.state });
    }
    return out;
  }

  /** Whether the session's in-memory state may be reaped (no open transaction). */
  canBeReaped(session: Session): boolean {
    return this.#decoration.peek(session)?.canBeReaped ?? true;
  }

  #killAndAbort(
    select: (p: TransactionParticipant, s: Session) => boolean,
    reason: ServerError,
    traceReason: string,
  ): number {
    let n = 0;
    for (const s of this.sessions.sessions()) {
      const p = this.#decoration.peek(s);
      if (p === undefined || !select(p, s)) continue;
      n++;
      const token = this.sessions.kill(s, reason);
      if (this.sessions.tryCheckOutForKill(token) !== undefined) this.#abortKilled(p, token, traceReason);
      else spawn(this.#abortWhenCheckedIn(p, token, traceReason));
    }
    return n;
  }

  /** Waits for the interrupted operation to check the session in, then aborts. */
  *#abortWhenCheckedIn(p: TransactionParticipant, token: KillToken, traceReason: string): Task<void> {
    yield* this.sessions.checkOutForKill(token);
    this.#abortKilled(p, token, traceReason);
  }

  #abortKilled(p: TransactionParticipant, token: KillToken, traceReason: string): void {
    try {
      if (p.inProgress) p.abortActiveTransaction(undefined, traceReason);
    } finally {
      this.sessions.releaseKill(token);
    }
  }

  // ---- transactionLifetimeLimitSeconds -------------------------------------------------------

  #scheduleExpiry(): void {
    this.node.ctx.setTimer(abortExpiredTransactionsPeriodMs(this.lifetimeLimitSeconds()), () => {
      this.abortExpiredTransactions();
      this.#scheduleExpiry();
    });
  }

  /**
   * One pass of the `abortExpiredTransactions` job: aborts in-progress transactions whose
   * `transactionExpireDate` has passed (`expiredAsOf`); returns how many.
   */
  abortExpiredTransactions(): number {
    const now = this.now();
    return this.#killAndAbort(
      (p) => p.inProgress && p.expireAt !== undefined && p.expireAt < now,
      new ServerError(ErrorCodes.TransactionExceededLifetimeLimitSeconds, "operation was interrupted"),
      "transactionLifetimeLimitSeconds",
    );
  }

  // ---- serverStatus --------------------------------------------------------------------------

  /** `serverStatus.transactions`. */
  serverStatus(): Document {
    let open = 0;
    let active = 0;
    let prepared = 0;
    for (const s of this.sessions.sessions()) {
      const p = this.#decoration.peek(s);
      if (p === undefined || !p.open) continue;
      open++;
      if (p.prepared) prepared++;
      if (s.checkedOutBy !== undefined && s.checkedOutBy.autocommit === false) active++;
    }
    const m = this.metrics;
    const L = (n: number): Long => Long.fromNumber(n);
    return {
      retriedCommandsCount: L(m.retriedCommandsCount),
      retriedStatementsCount: L(m.retriedStatementsCount),
      transactionsCollectionWriteCount: L(m.transactionsCollectionWriteCount),
      currentActive: L(active),
      currentInactive: L(open - active),
      currentOpen: L(open),
      totalAborted: L(m.totalAborted),
      totalCommitted: L(m.totalCommitted),
      totalStarted: L(m.totalStarted),
      totalPrepared: L(m.totalPrepared),
      totalPreparedThenCommitted: L(m.totalPreparedThenCommitted),
      totalPreparedThenAborted: L(m.totalPreparedThenAborted),
      currentPrepared: L(prepared),
    };
  }
}
