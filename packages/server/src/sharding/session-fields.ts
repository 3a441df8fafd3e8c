import type { Document } from "../idl/bson-types.js";
import type { OperationContext } from "../node/operation-context.js";
import { maxTimeMSOpOnlyFor } from "../node/operation-deadline.js";

/** The client's command fields mongos passes on unchanged. */
const FORWARDED_COMMAND_FIELDS: readonly string[] = [
  "txnNumber",
  "autocommit",
  "startTransaction",
  "readConcern",
  "writeConcern",
  "maxTimeMS",
  "stmtId",
  "stmtIds",
];

/**
 * The fields mongos forwards with every command it sends to a shard on behalf of a client: the
 * session (with its `uid` resolved, which shards accept from the internal user), the transaction
 * fields, the concerns and the client's `maxTimeMS`; when the operation has a deadline, also
 * `maxTimeMSOpOnly` with the time it has left (the network interface adds it to every request of
 * an operation with a deadline, `network_interface_tl.cpp`), which the shard uses when it is
 * smaller than `maxTimeMS`.
 */
export function forwardedFields(op: OperationContext): Document {
  const c = op.command;
  const out: Document = {};
  if (op.lsid !== undefined) out.lsid = op.lsid;
  for (const f of FORWARDED_COMMAND_FIELDS) if (c[f] !== undefined) out[f] = c[f];
  const opOnly = maxTimeMSOpOnlyFor(op);
  if (opOnly !== undefined) out.maxTimeMSOpOnly = opOnly;
  return out;
}
