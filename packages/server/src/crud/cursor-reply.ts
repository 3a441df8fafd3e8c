import { Long } from "bson";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";

/** The default first batch of `find` and `aggregate` (`query_request_helper::kDefaultBatchSize`). */
export const DEFAULT_BATCH_SIZE = 101;

/** Reads a `batchSize` (non-negative integer), as find/aggregate/getMore validate it. */
export function batchSizeOf(value: unknown, field = "batchSize"): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "number" ? value : value instanceof Long ? value.toNumber() : NaN;
  if (!Number.isFinite(n) || !Number.isInteger(n))
    throw new ServerError(ErrorCodes.TypeMismatch, `BSON field '${field}' is the wrong type, expected a number`);
  if (n < 0)
    throw new ServerError(ErrorCodes.BadValue, `BSON field '${field}' value must be >= 0, actual value '${n}'`);
  return n;
}

/**
 * Builds a cursor reply `{cursor: {firstBatch, id, ns}}` over already-computed results, opening a
 * cursor on this node for the rest when they don't fit in the first batch (and `singleBatch` is
 * not set). The cursor remembers the operation's session, transaction and user.
 */
export function firstBatchReply(
  node: ServerNode,
  op: OperationContext,
  ns: string,
  docs: readonly Document[],
  batchSize: number | undefined,
  singleBatch = false,
): Document {
  const size = batchSize === undefined || batchSize === 0 ? (batchSize === 0 ? 0 : DEFAULT_BATCH_SIZE) : batchSize;
  const firstBatch = docs.slice(0, size);
  let id = Long.fromNumber(0);
  if (!singleBatch && docs.length > firstBatch.length) {
    const cursor = node.cursors.register({
      ns,
      docs,
      returned: firstBatch.length,
      lsid: op.lsid,
      txnNumber: op.txnNumber,
      owner: op.authz.user,
      originatingCommand: op.command,
    });
    id = cursor.id;
  }
  return { cursor: { firstBatch, id, ns } };
}
