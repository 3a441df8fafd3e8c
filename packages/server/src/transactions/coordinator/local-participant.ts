/**
 * Recovering a transaction's decision from this shard's own participant, for
 * `coordinateCommitTransaction` when no coordinator is (or is any longer) in memory.
 *
 * @packageDocumentation
 */
import type { Long } from "bson";
import { wait, type Future, type Task } from "@sessionsim/kernel";
import { ErrorCodes, InvariantViolation, ServerError } from "../../errors/index.js";
import type { Document } from "../../idl/bson-types.js";
import type { OperationContext } from "../../node/operation-context.js";
import type { ServerNode } from "../../node/server-node.js";
import type { LogicalSessionId } from "../../session/index.js";
import { TransactionStates } from "../participant/transaction-state.js";
import type { TransactionParticipant } from "../participant/transaction-participant.js";

/**
 * Checks the session out, brings its participant to `txnNumber` as a continuing statement
 * (`beginOrContinue` with `autocommit: false`, no `startTransaction`), runs `fn`, and checks the
 * session back in.
 */
function* withParticipant<T>(
  op: OperationContext,
  node: ServerNode,
  lsid: Document,
  txnNumber: Long,
  fn: (p: TransactionParticipant) => T,
): Task<T> {
  const participants = node.participants;
  if (participants === undefined) throw new InvariantViolation(`${node.name} has no transaction participants`);
  const session = yield* node.sessionCatalog.checkOut(op, lsid as LogicalSessionId);
  const saved = { txnNumber: op.txnNumber, autocommit: op.autocommit, startTransaction: op.startTransaction };
  try {
    const p = participants.participantOf(session);
    p.refreshFromStorageIfNeeded();
    op.txnNumber = txnNumber;
    op.autocommit = false;
    op.startTransaction = undefined;
    p.beginOrContinue(op);
    return fn(p);
  } finally {
    Object.assign(op, saved);
    node.sessionCatalog.checkIn(session, op);
  }
}

/**
 * Recovers the decision from the local participant (the end of `CoordinateCommitTransactionCmd`,
 * `txn_two_phase_commit_cmds.cpp`): committed → `{}`; in progress → aborted here, so that it can
 * never commit, then `NoSuchTransaction`; prepared → wait until it leaves prepare and look again;
 * aborted → `NoSuchTransaction` "Recovering the transaction's outcome found the transaction
 * aborted". `beginOrContinue` refuses an older number (`TransactionTooOld`) or one that does not
 * match (`NoSuchTransaction`).
 */
export function* recoverDecisionFromLocalParticipant(
  op: OperationContext,
  node: ServerNode,
  lsid: Document,
  txnNumber: Long,
): Task<Document> {
  const committed = (p: TransactionParticipant): boolean => p.state === TransactionStates.Committed;
  const first = yield* withParticipant(
    op,
    node,
    lsid,
    txnNumber,
    (p): { done: true } | { done: false; exit: Future<void> } => {
      if (committed(p)) return { done: true };
      if (p.inProgress) p.abortActiveTransaction(op, "coordinateCommitTransactionRecovery");
      return { done: false, exit: p.onExitPrepare() };
    },
  );
  if (first.done) return {};
  // Wait for the participant to exit prepare, with the session checked in.
  yield* wait(op.interruptible(first.exit));
  const isCommitted = yield* withParticipant(op, node, lsid, txnNumber, (p) => {
    if (p.open)
      throw new InvariantViolation(
        "The participant should not be in progress after we waited for the participant to complete",
      );
    return committed(p);
  });
  if (isCommitted) return {};
  throw new ServerError(
    ErrorCodes.NoSuchTransaction,
    "Recovering the transaction's outcome found the transaction aborted",
  );
}
