/**
 * Which commands may carry a transaction number, and which may run inside a transaction
 * (`src/mongo/db/transaction_validation.cpp`), and the transient-error label.
 *
 * @packageDocumentation
 */
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { OperationContext } from "../node/operation-context.js";

/** `retryableWriteCommands`: the commands a `txnNumber` without `autocommit` may accompany. */
export const RETRYABLE_WRITE_COMMANDS: ReadonlySet<string> = new Set([
  "delete",
  "findandmodify",
  "findAndModify",
  "insert",
  "update",
  "bulkWrite",
  "clusterDelete",
  "clusterInsert",
  "clusterUpdate",
  "clusterBulkWrite",
  "testInternalTransactions",
]);

/** `txnCmdAllowlist`: the commands a multi-document transaction may run. */
export const TXN_CMD_ALLOWLIST: ReadonlySet<string> = new Set([
  "abortTransaction",
  "aggregate",
  "bulkWrite",
  "clusterAbortTransaction",
  "clusterCommitTransaction",
  "clusterDelete",
  "clusterFind",
  "clusterGetMore",
  "clusterInsert",
  "clusterUpdate",
  "commitTransaction",
  "coordinateCommitTransaction",
  "create",
  "createIndexes",
  "delete",
  "distinct",
  "find",
  "findandmodify",
  "findAndModify",
  "getMore",
  "insert",
  "killCursors",
  "prepareTransaction",
  "testInternalTransactions",
  "update",
]);

/**
 * Refuses session options a command may not carry (`validateSessionOptions`, run on mongod and
 * mongos before the command):
 * - a `txnNumber` without `autocommit` on a command that is not a retryable write → 50768
 *   "txnNumber may only be provided for multi-document transactions and retryable write
 *   commands. autocommit:false was not provided, and <cmd> is not a retryable write command.";
 * - inside a transaction, `count` and commands outside {@link TXN_CMD_ALLOWLIST} →
 *   OperationNotSupportedInTransaction (263); the `local` database likewise.
 */
export function validateSessionOptions(op: OperationContext, commandName: string): void {
  if (op.txnNumber !== undefined && op.autocommit === undefined && !RETRYABLE_WRITE_COMMANDS.has(commandName))
    throw new ServerError(
      ErrorCodes.Location50768,
      `txnNumber may only be provided for multi-document transactions and retryable write commands. autocommit:false was not provided, and ${commandName} is not a retryable write command.`,
    );
  if (op.autocommit !== false) return;
  if (commandName === "count")
    throw new ServerError(
      ErrorCodes.OperationNotSupportedInTransaction,
      "Cannot run 'count' in a multi-document transaction. Please see http://dochub.mongodb.org/core/transaction-count for a recommended alternative.",
    );
  if (!TXN_CMD_ALLOWLIST.has(commandName))
    throw new ServerError(
      ErrorCodes.OperationNotSupportedInTransaction,
      `Cannot run '${commandName}' in a multi-document transaction.`,
    );
  if (op.db === "local")
    throw new ServerError(
      ErrorCodes.OperationNotSupportedInTransaction,
      "Cannot run command against the local database in a transaction.",
    );
}

/** Codes the transactions specification calls transient (`isTransientTransactionError`). */
const TRANSIENT: ReadonlySet<number> = new Set([
  ErrorCodes.WriteConflict,
  ErrorCodes.LockTimeout,
  ErrorCodes.PreparedTransactionInProgress,
  ErrorCodes.StaleConfig,
]);

/**
 * The replica-set state errors among MongoDB's retriable ones (`ErrorCodes::isRetriableError`):
 * transient for a statement, not for `commitTransaction` / `abortTransaction`.
 */
const RETRIABLE: ReadonlySet<number> = new Set([
  ErrorCodes.NotWritablePrimary,
  ErrorCodes.NotPrimaryNoSecondaryOk,
  ErrorCodes.InterruptedDueToReplStateChange,
  ErrorCodes.PrimarySteppedDown,
]);

/**
 * Adds the `TransientTransactionError` label to an error of a transaction statement
 * (`ErrorLabelBuilder::isTransientTransactionError`): WriteConflict, LockTimeout,
 * PreparedTransactionInProgress, stale routing, NoSuchTransaction (except on commit/abort with a
 * write concern error), and the not-primary and stepdown errors of
 * statements other than commit and abort.
 */
export function withTransactionErrorLabels(op: OperationContext, commandName: string, e: unknown): unknown {
  if (!(e instanceof ServerError) || op.txnNumber === undefined || op.autocommit !== false) return e;
  const commitOrAbort = commandName === "commitTransaction" || commandName === "abortTransaction";
  const transient =
    TRANSIENT.has(e.code) ||
    (!commitOrAbort && RETRIABLE.has(e.code)) ||
    (e.code === ErrorCodes.NoSuchTransaction && !(commitOrAbort && e.extra.writeConcernError !== undefined));
  if (!transient) return e;
  const labels = Array.isArray(e.extra.errorLabels) ? (e.extra.errorLabels as string[]) : [];
  if (labels.includes("TransientTransactionError")) return e;
  return new ServerError(e.code, e.message, { ...e.extra, errorLabels: [...labels, "TransientTransactionError"] });
}
