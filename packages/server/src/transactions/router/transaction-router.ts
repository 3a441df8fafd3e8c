/**
 * mongos's per-session transaction state: which shards a transaction touched, which of them
 * wrote, who coordinates, and how to commit or abort it.
 *
 * @packageDocumentation
 */
import { Long, type Timestamp } from "bson";
import { ErrorCodes, ServerError } from "../../errors/index.js";
import { isDocument, type Document } from "../../idl/bson-types.js";
import { wrongType } from "../../idl/parse.js";
import { formatLsid, type LogicalSessionId } from "../../session/logical-session-id.js";
import { lsidLabel } from "../../cursors/cursor-manager.js";

/** What the router knows of a participant's writes (`TransactionRouter::Participant::ReadOnly`). */
export const ReadOnlyStates = Object.freeze({
  unset: "unset",
  readOnly: "readOnly",
  notReadOnly: "notReadOnly",
} as const);

/** One of {@link ReadOnlyStates}. */
export type ReadOnlyState = (typeof ReadOnlyStates)[keyof typeof ReadOnlyStates];

/** How a transaction's commit is carried out (`TransactionRouter::CommitType`). */
export const CommitTypes = Object.freeze({
  notInitiated: "notInitiated",
  noShards: "noShards",
  singleShard: "singleShard",
  singleWriteShard: "singleWriteShard",
  readOnly: "readOnly",
  twoPhaseCommit: "twoPhaseCommit",
  recoverWithToken: "recoverWithToken",
} as const);

/** One of {@link CommitTypes}. */
export type CommitType = (typeof CommitTypes)[keyof typeof CommitTypes];

/** What a statement does to the router's transaction (`TransactionRouter::TransactionActions`). */
export type TransactionAction = "start" | "continue" | "commit";

/** One shard taking part in the transaction. */
export interface RouterParticipant {
  readonly shardId: string;
  /** The first shard targeted coordinates the two-phase commit. */
  readonly isCoordinator: boolean;
  readOnly: ReadOnlyState;
  /** The statement id at which the shard was first targeted. */
  readonly stmtIdCreatedAt: number;
}

/** Commands that are part of the transaction protocol itself: they never start it on a shard. */
const TRANSACTION_COMMANDS: ReadonlySet<string> = new Set([
  "commitTransaction",
  "abortTransaction",
  "prepareTransaction",
  "coordinateCommitTransaction",
]);

/** Read concern levels a transaction may use (`isReadConcernLevelAllowedInTransaction`). */
const TRANSACTION_READ_CONCERN_LEVELS: ReadonlySet<string> = new Set(["local", "majority", "snapshot"]);

/** The uninitialized transaction number (`kUninitializedTxnNumber`). */
const UNINITIALIZED = Long.fromNumber(-1);

/**
 * The transaction state of one session on one mongos (`TransactionRouter`,
 * `src/mongo/s/transaction_router.cpp`). Volatile: lost when mongos crashes; the client can then
 * recover a commit decision through any mongos with the `recoveryToken`.
 *
 * @remarks
 * - `txnNumber` rules ({@link beginOrContinueTxn}): older → `TransactionTooOld`; the same number
 *   started again → `ConflictingOperationInProgress`; continuing with a `readConcern` →
 *   `InvalidOptions`; a newer number continued → `NoSuchTransaction`; a newer number committed →
 *   commit recovery.
 * - Participants in order of first targeting; the first is the coordinator. The first statement a
 *   shard receives carries `startTransaction: true` and the transaction's `readConcern`; every
 *   statement to the coordinator carries `coordinator: true` (`attachTxnFieldsIfNeeded`).
 * - Shard replies' `readOnly` marks participants; the first shard reporting a write is the
 *   recovery shard, returned as `recoveryToken: {recoveryShardId}`.
 *
 * @example
 * ```ts
 * const router = routerSessionFor(node, op.lsid);
 * router.beginOrContinueTxn(op, "start");
 * const cmd = router.attachTxnFields("shard0", { insert: "c", documents: [{ _id: 1 }] });
 * router.processParticipantResponse("shard0", shardReply);
 * ```
 */
export class TransactionRouter {
  #txnNumber: Long = UNINITIALIZED;
  #readConcern: Document | undefined;
  /** In order of first targeting (a Map keeps insertion order). */
  readonly #participants = new Map<string, RouterParticipant>();
  #coordinatorId: string | undefined;
  #recoveryShardId: string | undefined;
  #commitType: CommitType = CommitTypes.notInitiated;
  #isRecoveringCommit = false;
  #terminationInitiated = false;
  #latestStmtId = 0;

  constructor(readonly lsid: Document) {}

  get txnNumber(): Long {
    return this.#txnNumber;
  }

  get participants(): readonly RouterParticipant[] {
    return [...this.#participants.values()];
  }

  get coordinatorId(): string | undefined {
    return this.#coordinatorId;
  }

  get recoveryShardId(): string | undefined {
    return this.#recoveryShardId;
  }

  get commitType(): CommitType {
    return this.#commitType;
  }

  get isRecoveringCommit(): boolean {
    return this.#isRecoveringCommit;
  }

  get terminationInitiated(): boolean {
    return this.#terminationInitiated;
  }

  get latestStmtId(): number {
    return this.#latestStmtId;
  }

  /** A short label of the session for trace events (its UUID). */
  get label(): string {
    return lsidLabel(this.lsid) ?? "?";
  }

  /** The session as MongoDB prints it in messages. */
  get sessionString(): string {
    return formatLsid(this.lsid as LogicalSessionId);
  }

  /** `<lsid>:<txnNumber>` (`txnIdToString`). */
  txnIdString(): string {
    return `${this.sessionString}:${this.#txnNumber.toString()}`;
  }

  /**
   * Starts, continues or begins committing the transaction `txnNumber` for a statement
   * (`beginOrContinueTxn`).
   *
   * @param readConcern the statement's `readConcern`, if any.
   * @param clusterTime mongos's cluster time (the global read timestamp of a snapshot transaction).
   */
  beginOrContinueTxn(
    txnNumber: Long,
    action: TransactionAction,
    readConcern: Document | undefined,
    clusterTime: Timestamp,
  ): void {
    if (txnNumber.lessThan(this.#txnNumber))
      throw new ServerError(
        ErrorCodes.TransactionTooOld,
        `txnNumber ${txnNumber.toString()} is less than last txnNumber ${this.#txnNumber.toString()} seen in session ${this.sessionString}`,
      );
    if (txnNumber.equals(this.#txnNumber)) {
      switch (action) {
        case "start":
          throw new ServerError(
            ErrorCodes.ConflictingOperationInProgress,
            `txnNumber ${this.#txnNumber.toString()} txnRetryCounter 0 for session ${this.sessionString} already started`,
          );
        case "continue":
          if (readConcern !== undefined)
            throw new ServerError(
              ErrorCodes.InvalidOptions,
              "Only the first command in a transaction may specify a readConcern",
            );
          if (this.#participants.size > 0) this.#latestStmtId++;
          return;
        case "commit":
          this.#latestStmtId++;
          return;
      }
    }
    switch (action) {
      case "start": {
        const level = readConcern?.level;
        if (
          readConcern !== undefined &&
          level !== undefined &&
          !(typeof level === "string" && TRANSACTION_READ_CONCERN_LEVELS.has(level))
        )
          throw new ServerError(
            ErrorCodes.InvalidOptions,
            "The first command in a transaction cannot specify a readConcern level other than local, majority, or snapshot",
          );
        this.#reset(txnNumber);
        this.#readConcern = readConcern === undefined ? undefined : { ...readConcern };
        if (level === "snapshot" && this.#readConcern !== undefined && this.#readConcern.atClusterTime === undefined) {
          // The global read timestamp: mongos's cluster time at the first statement, or the
          // client's afterClusterTime if later (`setAtClusterTime`).
          const after = this.#readConcern.afterClusterTime as Timestamp | undefined;
          const { afterClusterTime: _after, ...rest } = this.#readConcern;
          this.#readConcern = {
            ...rest,
            atClusterTime: after !== undefined && after.greaterThan(clusterTime) ? after : clusterTime,
          };
        }
        return;
      }
      case "continue":
        throw new ServerError(
          ErrorCodes.NoSuchTransaction,
          `cannot continue txnId ${this.#txnNumber.toString()} for session ${this.sessionString} with txnRetryCounter 0`,
        );
      case "commit":
        // A commit is the first thing this router sees of the transaction: the client is
        // recovering the decision.
        this.#reset(txnNumber);
        this.#isRecoveringCommit = true;
        return;
    }
  }

  #reset(txnNumber: Long): void {
    this.#txnNumber = txnNumber;
    this.#commitType = CommitTypes.notInitiated;
    this.#isRecoveringCommit = false;
    this.#participants.clear();
    this.#coordinatorId = undefined;
    this.#recoveryShardId = undefined;
    this.#readConcern = undefined;
    this.#terminationInitiated = false;
    this.#latestStmtId = 0;
  }

  /**
   * The command to send to `shardId` for this transaction (`attachTxnFieldsIfNeeded`): the first
   * statement to a shard starts the transaction there (`startTransaction: true` and the
   * transaction's `readConcern`), later ones carry neither; every one carries `autocommit: false`,
   * the `txnNumber`, and `coordinator: true` if the shard is the coordinator. A new shard becomes a
   * participant (the first one the coordinator).
   */
  attachTxnFields(shardId: string, command: Document): Document {
    let participant = this.#participants.get(shardId);
    const isFirstStatement = participant === undefined;
    if (participant === undefined) participant = this.#createParticipant(shardId);
    const cmdName = Object.keys(command)[0] ?? "";
    const mustStart = isFirstStatement && !TRANSACTION_COMMANDS.has(cmdName);
    const { startTransaction: _s, readConcern: _rc, coordinator: _c, autocommit: _a, txnNumber: _t, ...rest } = command;
    const out: Document = { ...rest };
    if (mustStart) {
      out.startTransaction = true;
      if (this.#readConcern !== undefined) out.readConcern = { ...this.#readConcern };
    }
    if (participant.isCoordinator) out.coordinator = true;
    out.autocommit = false;
    out.txnNumber = this.#txnNumber;
    return out;
  }

  #createParticipant(shardId: string): RouterParticipant {
    const isCoordinator = this.#participants.size === 0;
    if (isCoordinator) this.#coordinatorId = shardId;
    const p: RouterParticipant = {
      shardId,
      isCoordinator,
      readOnly: ReadOnlyStates.unset,
      stmtIdCreatedAt: this.#latestStmtId,
    };
    this.#participants.set(shardId, p);
    return p;
  }

  /**
   * Reads a participant's reply (`processParticipantResponse`): after an OK reply, `readOnly:
   * true` marks it read-only (error 51113 if it had written), `readOnly: false` marks it as having
   * written and makes it the recovery shard if there is none yet. Error replies change nothing;
   * nothing is read once commit or abort has started.
   */
  processParticipantResponse(shardId: string, reply: Document): void {
    const participant = this.#participants.get(shardId);
    if (participant === undefined || this.#terminationInitiated) return;
    if (reply.ok !== 1) return;
    const readOnly = reply.readOnly;
    if (readOnly === true) {
      if (participant.readOnly === ReadOnlyStates.unset) participant.readOnly = ReadOnlyStates.readOnly;
      else if (participant.readOnly === ReadOnlyStates.notReadOnly)
        throw new ServerError(
          51113,
          `Participant shard ${shardId} claimed to be read-only for a transaction after previously claiming to have done a write for the transaction`,
        );
    } else if (readOnly === false && participant.readOnly !== ReadOnlyStates.notReadOnly) {
      this.#recoveryShardId ??= shardId;
      participant.readOnly = ReadOnlyStates.notReadOnly;
    }
  }

  /** `recoveryToken` for replies: `{recoveryShardId}` once a shard has written, else `{}`. */
  recoveryToken(): Document {
    return this.#recoveryShardId === undefined ? {} : { recoveryShardId: this.#recoveryShardId };
  }

  /**
   * Marks the start of commit and returns how to commit (`_commitTransaction`'s choice). The
   * caller sends the commands.
   *
   * @returns the plan: the commit type, and for the direct paths the shards in the order to
   * commit (read-only ones first for `singleWriteShard`).
   * @throws ServerError 50940 when recovering without a token; `NoSuchTransaction` for an empty
   * token or a participant whose statement failed; `IllegalOperation` without a transaction.
   */
  planCommit(recoveryToken: Document | undefined): CommitPlan {
    const isFirstCommitAttempt = !this.#terminationInitiated;
    this.#terminationInitiated = true;
    if (this.#isRecoveringCommit) {
      if (recoveryToken === undefined)
        throw new ServerError(50940, "Cannot recover the transaction decision without a recoveryToken");
      this.#commitType = CommitTypes.recoverWithToken;
      return recoverPlan(recoveryToken);
    }
    if (this.#participants.size === 0) {
      if (this.#txnNumber.equals(UNINITIALIZED))
        throw new ServerError(ErrorCodes.IllegalOperation, "Cannot commit without participants");
      this.#commitType = CommitTypes.noShards;
      return { type: CommitTypes.noShards };
    }
    const readOnlyShards: string[] = [];
    const writeShards: string[] = [];
    for (const p of this.#participants.values()) {
      if (p.readOnly === ReadOnlyStates.unset)
        throw new ServerError(
          ErrorCodes.NoSuchTransaction,
          `${this.txnIdString()} Failed to commit transaction because a previous statement on the transaction participant ${p.shardId} was unsuccessful.`,
        );
      (p.readOnly === ReadOnlyStates.readOnly ? readOnlyShards : writeShards).push(p.shardId);
    }
    if (this.#participants.size === 1) {
      this.#commitType = CommitTypes.singleShard;
      return { type: CommitTypes.singleShard, shards: [...this.#participants.keys()] };
    }
    if (writeShards.length === 1) {
      this.#commitType = CommitTypes.singleWriteShard;
      // A retried single-write-shard commit asks the write shard (the recovery shard) for the
      // outcome instead of committing the read-only shards again.
      if (!isFirstCommitAttempt) return recoverPlan({ recoveryShardId: writeShards[0] });
      return { type: CommitTypes.singleWriteShard, readOnlyShards, writeShard: writeShards[0] };
    }
    if (writeShards.length === 0) {
      this.#commitType = CommitTypes.readOnly;
      return { type: CommitTypes.readOnly, shards: readOnlyShards };
    }
    this.#commitType = CommitTypes.twoPhaseCommit;
    return {
      type: CommitTypes.twoPhaseCommit,
      coordinator: this.#coordinatorId!,
      participants: [...this.#participants.keys()],
    };
  }

  /**
   * Marks the start of an explicit abort and returns the shards to send `abortTransaction` to.
   *
   * @throws ServerError `NoSuchTransaction` if no statement was sent to any shard.
   */
  planAbort(): string[] {
    if (this.#participants.size === 0)
      throw new ServerError(
        ErrorCodes.NoSuchTransaction,
        "no known command has been sent by this router for this transaction",
      );
    this.#terminationInitiated = true;
    return [...this.#participants.keys()];
  }

  /**
   * The shards an implicit abort after a failed statement goes to (`implicitlyAbortTransaction`):
   * none once the commit may have been handed to the coordinator (two-phase commit or recovery).
   */
  planImplicitAbort(): string[] {
    if (this.#commitType === CommitTypes.twoPhaseCommit || this.#commitType === CommitTypes.recoverWithToken) return [];
    if (this.#participants.size === 0) return [];
    this.#terminationInitiated = true;
    return [...this.#participants.keys()];
  }

  /** The `transaction` part of `$currentOp` for this session (`_reportTransactionState`). */
  report(): Document {
    return {
      parameters: {
        txnNumber: this.#txnNumber,
        autocommit: false,
        ...(this.#readConcern === undefined ? {} : { readConcern: this.#readConcern }),
      },
      ...(this.#commitType === CommitTypes.recoverWithToken
        ? {}
        : {
            numParticipants: this.#participants.size,
            participants: this.participants.map((p) => ({
              name: p.shardId,
              coordinator: p.isCoordinator,
              ...(p.readOnly === ReadOnlyStates.unset ? {} : { readOnly: p.readOnly === ReadOnlyStates.readOnly }),
            })),
          }),
      ...(this.#commitType === CommitTypes.notInitiated ? {} : { commitType: this.#commitType }),
    };
  }
}

function recoverPlan(token: Document): CommitPlan {
  const shard = token.recoveryShardId;
  if (typeof shard !== "string")
    throw new ServerError(
      ErrorCodes.NoSuchTransaction,
      "Recovery token is empty, meaning the transaction only performed reads and can be safely retried",
    );
  return { type: CommitTypes.recoverWithToken, recoveryShard: shard };
}

/** How to commit, as {@link TransactionRouter.planCommit} decided. */
export type CommitPlan =
  | { readonly type: "noShards" }
  | { readonly type: "singleShard" | "readOnly"; readonly shards: readonly string[] }
  | { readonly type: "singleWriteShard"; readonly readOnlyShards: readonly string[]; readonly writeShard: string }
  | { readonly type: "twoPhaseCommit"; readonly coordinator: string; readonly participants: readonly string[] }
  | { readonly type: "recoverWithToken"; readonly recoveryShard: string };

/** Parses a client's `recoveryToken` (IDL `TxnRecoveryToken`: `{recoveryShardId?: string}`). */
export function parseRecoveryToken(v: unknown): Document | undefined {
  if (v === undefined) return undefined;
  if (!isDocument(v)) throw wrongType("commitTransaction.recoveryToken", v, "object");
  if (v.recoveryShardId !== undefined && typeof v.recoveryShardId !== "string")
    throw wrongType("TxnRecoveryToken.recoveryShardId", v.recoveryShardId, "string");
  return v;
}
