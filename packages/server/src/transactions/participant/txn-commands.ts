/**
 * The participant's transaction commands: `commitTransaction`, `abortTransaction`,
 * `prepareTransaction` (`src/mongo/db/commands/txn_cmds.cpp`,
 * `src/mongo/db/s/txn_two_phase_commit_cmds.cpp`).
 *
 * @packageDocumentation
 */
import { Timestamp } from "bson";
import { ErrorCodes, ServerError } from "../../errors/index.js";
import { wrongType } from "../../idl/parse.js";
import type { CommandDefinition } from "../../commands/command.js";
import { NodeRoles } from "../../node/topology.js";
import type { OperationContext } from "../../node/operation-context.js";
import { participantForOp } from "./transaction-participants.js";
import type { TransactionParticipant } from "./transaction-participant.js";
import { TransactionStates } from "./transaction-state.js";

const MONGOD = [NodeRoles.configsvr, NodeRoles.shardsvr] as const;

function participantOrFail(op: OperationContext, name: string): TransactionParticipant {
  const p = participantForOp(op);
  if (p === undefined) throw new ServerError(ErrorCodes.CommandFailed, `${name} must be run within a transaction`);
  if (!p.inMultiDocumentTransaction)
    throw new ServerError(ErrorCodes.NoSuchTransaction, "Transaction isn't in progress");
  return p;
}

/**
 * `commitTransaction` on a mongod (admin only). Retryable: committing a committed transaction
 * succeeds again. An unprepared transaction commits without `commitTimestamp`; a prepared one
 * needs `commitTimestamp` ≥ its `prepareTimestamp` (InvalidOptions otherwise).
 */
export const commitTransactionCommand: CommandDefinition = {
  name: "commitTransaction",
  on: MONGOD,
  adminOnly: true,
  run: (op) => {
    const raw = op.command.commitTimestamp;
    if (raw !== undefined && !(raw instanceof Timestamp))
      throw wrongType("commitTransaction.commitTimestamp", raw, "timestamp");
    const p = participantForOp(op);
    if (p === undefined)
      throw new ServerError(ErrorCodes.CommandFailed, "commitTransaction must be run within a transaction");
    if (p.state === TransactionStates.Committed) return {};
    const participant = participantOrFail(op, "commitTransaction");
    if (raw instanceof Timestamp) participant.commitPreparedTransaction(op, raw);
    else participant.commitUnpreparedTransaction(op);
    return {};
  },
};

/** `abortTransaction` on a mongod (admin only): aborts the active transaction, prepared or not. */
export const abortTransactionCommand: CommandDefinition = {
  name: "abortTransaction",
  on: MONGOD,
  adminOnly: true,
  run: (op) => {
    const p = participantOrFail(op, "abortTransaction");
    p.abortActiveTransaction(op, "abortTransaction");
    return {};
  },
};

/**
 * `prepareTransaction` (shard and config servers, admin only, internal clients): prepares the
 * transaction and returns `prepareTimestamp`; preparing a prepared transaction returns the same
 * timestamp again.
 */
export const prepareTransactionCommand: CommandDefinition = {
  name: "prepareTransaction",
  on: MONGOD,
  adminOnly: true,
  run: (op) => {
    const p = participantOrFail(op, "prepareTransaction");
    if (p.prepared && p.prepareTimestamp !== undefined) return { prepareTimestamp: p.prepareTimestamp };
    return { prepareTimestamp: p.prepareTransaction(op) };
  },
};
