import { wait, type Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { firstKey, type Document } from "../idl/bson-types.js";
import type { CommandRequest, OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import { forwardedFields } from "./session-fields.js";
import { noteShardReply } from "../cluster-time/gossip.js";
import { sendToShardInTransaction, transactionRouterOf } from "../transactions/router/router-session.js";

/**
 * Sends a command from mongos (or any node) to the primary of a shard over the simulated network
 * and returns the shard's reply document. Network failures become MongoDB's HostUnreachable /
 * NetworkTimeout errors.
 */
export function* runOnShard(
  node: ServerNode,
  shardId: string,
  request: CommandRequest,
  timeoutMs?: number,
  /** The client operation the request is made for: its kill or deadline ends the wait. */
  op?: OperationContext,
): Task<Document> {
  const target = node.shared.sharding.primaryNodeOf(shardId);
  if (target === undefined) throw new ServerError(ErrorCodes.ShardNotFound, `Shard ${shardId} not found`);
  const commandName = firstKey(request.command) ?? "command";
  const reply = node.ctx.request(target, request, {
    label: commandName,
    timeoutMs: timeoutMs ?? node.params.internalRequestTimeoutMS,
    tracePayload: traceSummary(request),
  });
  // As mongos' remote waits are interruptible: killOp or maxTimeMS answer the client at once.
  return (yield* wait(op === undefined ? reply : op.interruptible(reply))) as Document;
}

/** Batches longer than this are shortened in the trace. */
const TRACE_BATCH_LIMIT = 20;

/**
 * What the trace keeps of an internal request: the request itself, or — for a batch of more than
 * 20 statements (a refresh's 1000 upserts) — the same document with the batch cut to its first
 * three statements and a count, so long runs don't retain every statement ever sent.
 */
function traceSummary(request: CommandRequest): CommandRequest | undefined {
  let summary: Document | undefined;
  const command = request.command;
  for (const field in command) {
    const value = command[field];
    if (Array.isArray(value) && value.length > TRACE_BATCH_LIMIT) {
      summary ??= { ...request.command };
      summary[field] = [...(value as unknown[]).slice(0, 3), `... ${value.length - 3} more`];
    }
  }
  return summary === undefined ? undefined : { ...request, command: summary };
}

/**
 * Sends `command` to a shard on behalf of a client operation on mongos: the session and
 * transaction fields of `op` are forwarded, the request is authenticated as the internal user and
 * tagged with the original user for auditing. Every mongos→shard send for a client goes through
 * here (the transaction router hooks in at this point).
 */
export function* sendToShard(
  node: ServerNode,
  op: OperationContext,
  shardId: string,
  db: string,
  command: Document,
): Task<Document> {
  const txnRouter = transactionRouterOf(op);
  const reply =
    txnRouter !== undefined
      ? yield* sendToShardInTransaction(node, op, txnRouter, shardId, db, command)
      : yield* runOnShard(
          node,
          shardId,
          { db, command: { ...command, ...forwardedFields(op) }, user: op.request.user, internal: true },
          undefined,
          op,
        );
  // mongos answers with the largest operationTime of the shards it contacted (reference §6).
  noteShardReply(op, reply);
  return reply;
}
