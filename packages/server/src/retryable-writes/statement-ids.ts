/**
 * Statement ids of retryable writes (`write_ops::getStmtIdForWriteAt`).
 *
 * @packageDocumentation
 */
import { ErrorCodes, ServerError } from "../errors/index.js";
import { isNumeric, toNumber } from "../idl/bson-types.js";
import type { OperationContext } from "../node/operation-context.js";

/** `kUninitializedStmtId`. */
export const UNINITIALIZED_STMT_ID = -1;

/**
 * The statement id of each of a write command's `count` statements: `stmtIds[i]` if the command
 * carries `stmtIds`, else `stmtId + i` if it carries `stmtId`, else `i`.
 *
 * @remarks `getStmtIdForWriteAt` (`write_ops.cpp`); mongos assigns the ids of the client's
 * statements and sends each shard batch with the `stmtIds` of its statements.
 *
 * @throws ServerError InvalidOptions when both `stmtId` and `stmtIds` are given; InvalidLength
 * when `stmtIds` does not have one id per statement.
 */
export function statementIds(op: OperationContext, count: number): number[] {
  const c = op.command;
  const ids = c.stmtIds;
  if (ids !== undefined && c.stmtId !== undefined)
    throw new ServerError(ErrorCodes.InvalidOptions, "May not specify both stmtId and stmtIds in write command");
  if (Array.isArray(ids)) {
    if (ids.length !== count)
      throw new ServerError(
        ErrorCodes.InvalidLength,
        `Number of statement ids must match the number of batch entries. Got ${ids.length} statement ids but ${count} operations.`,
      );
    return ids.map((v) => (isNumeric(v) ? toNumber(v) : UNINITIALIZED_STMT_ID));
  }
  const base = isNumeric(c.stmtId) ? toNumber(c.stmtId) : 0;
  return Array.from({ length: count }, (_, i) => base + i);
}

/** The statement id of the statement at `index` of `op` (mongos, building shard batches). */
export function statementIdAt(op: OperationContext, index: number): number {
  const c = op.command;
  if (Array.isArray(c.stmtIds) && isNumeric(c.stmtIds[index])) return toNumber(c.stmtIds[index]);
  return (isNumeric(c.stmtId) ? toNumber(c.stmtId) : 0) + index;
}

/** A command with `lsid` and `txnNumber` but no `autocommit`: a retryable write. */
export function isRetryableWrite(op: OperationContext): boolean {
  return op.lsid !== undefined && op.txnNumber !== undefined && op.autocommit === undefined;
}
