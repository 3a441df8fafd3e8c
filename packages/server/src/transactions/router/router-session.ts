/**
 * Where mongos's command path meets the transaction router: each statement of a transaction
 * begins or continues it, every send to a shard goes through it, and a failed statement aborts
 * the transaction on its participants.
 *
 * @packageDocumentation
 */
import { NetworkError, spawn, wait, Future, type Task } from "@sessionsim/kernel";
import { isTask, type CommandResult } from "../../commands/command.js";
import { ErrorCodes, ServerError } from "../../errors/index.js";
import type { Document } from "../../idl/bson-types.js";
import { OperationDecoration, type OperationContext } from "../../node/operation-context.js";
import type { ServerNode } from "../../node/server-node.js";
import { forwardedFields } from "../../sharding/session-fields.js";
import { runOnShard, sendToShard } from "../../sharding/router.js";
import { bsonKey } from "../../storage/bson-key.js";
import type { LogicalSessionId } from "../../session/index.js";
import { SessionDecoration } from "../../session-catalog/index.js";
import { TransactionRouter, type TransactionAction } from "./transaction-router.js";

/**
 * The transaction routers of a session-catalog entry, keyed by the full lsid (a child session has
 * its own): `TransactionRouter` is a decoration of the `Session` in MongoDB, so reaping the entry
 * (`RouterSessionCatalog::reapSessionsOlderThan`) forgets them.
 */
const routersOfSession = new SessionDecoration("transactionRouter", () => new Map<string, TransactionRouter>());
const routerOfOp = new OperationDecoration<TransactionRouter>("transactionRouter");

/**
 * The transaction router of session `lsid` on mongos `node` (created on first use). Router state
 * is volatile: it lives with the node's session-catalog entry.
 */
export function routerSessionFor(node: ServerNode, lsid: Document): TransactionRouter {
  const byKey = routersOfSession.get(node.sessionCatalog.getOrCreate(lsid as LogicalSessionId));
  const key = bsonKey(lsid);
  let router = byKey.get(key);
  if (router === undefined) byKey.set(key, (router = new TransactionRouter(lsid)));
  return router;
}

/** Every router session on `node`, in session-catalog order (for `$currentOp` and tests). */
export function routerSessionsOf(node: ServerNode): TransactionRouter[] {
  const out: TransactionRouter[] = [];
  for (const s of node.sessionCatalog.sessions()) {
    const byKey = routersOfSession.peek(s);
    if (byKey !== undefined) out.push(...byKey.values());
  }
  return out;
}

/** The transaction router an operation runs in, if it is a transaction statement on mongos. */
export function transactionRouterOf(op: OperationContext): TransactionRouter | undefined {
  return routerOfOp.get(op);
}

/** Errors after which mongos retries the statement instead of aborting (not modelled: none occur). */
const RETRYABLE_IN_TRANSACTION: ReadonlySet<number> = new Set([ErrorCodes.StaleConfig]);

/**
 * Runs a mongos command; if it carries `autocommit: false` it runs as a statement of the
 * session's transaction (`ParseAndRunCommand` and `runCommandInvocation` in
 * `src/mongo/s/commands/strategy.cpp`).
 *
 * @remarks
 * - Before the command: `beginOrContinueTxn` with action `start` (`startTransaction: true`),
 *   `commit` (`commitTransaction`) or `continue`.
 * - After an OK (or passed-through) reply: `recoveryToken` is appended.
 * - After an error thrown by the command: `implicitlyAbortTransaction` sends `abortTransaction`
 *   to every participant (ignoring the answers), unless the commit may already be in the
 *   coordinator's hands; then the error is returned.
 */
export function runInRouterTransaction(
  op: OperationContext,
  node: ServerNode,
  run: () => CommandResult,
): CommandResult {
  if (op.autocommit !== false || op.lsid === undefined || op.txnNumber === undefined) return run();
  const router = routerSessionFor(node, op.lsid);
  const action: TransactionAction =
    op.startTransaction === true ? "start" : op.commandName === "commitTransaction" ? "commit" : "continue";
  const readConcern = op.command.readConcern as Document | undefined;
  router.beginOrContinueTxn(op.txnNumber, action, readConcern, node.clusterTime.current());
  routerOfOp.set(op, router);
  return (function* (): Task<Document> {
    let reply: Document;
    try {
      const result = run();
      reply = isTask(result) ? yield* result : result;
    } catch (e) {
      if (!(e instanceof ServerError && RETRYABLE_IN_TRANSACTION.has(e.code)))
        yield* implicitlyAbortTransaction(node, op, router);
      throw e;
    }
    return { ...reply, recoveryToken: router.recoveryToken() };
  })();
}

/**
 * Sends `command` to a shard as a statement of the operation's transaction: the router attaches
 * the transaction fields and reads the shard's `readOnly` from the reply.
 */
export function* sendToShardInTransaction(
  node: ServerNode,
  op: OperationContext,
  router: TransactionRouter,
  shardId: string,
  db: string,
  command: Document,
): Task<Document> {
  const cmd = router.attachTxnFields(shardId, { ...command, ...forwardedFields(op) });
  const reply = yield* runOnShard(node, shardId, { db, command: cmd, user: op.request.user, internal: true });
  router.processParticipantResponse(shardId, reply);
  return reply;
}

/**
 * Sends the same transaction command to several participants in parallel
 * (`gatherResponses` / `MultiStatementTransactionRequestsSender`); network failures come back as
 * NetworkError values, not thrown.
 */
export function* sendToParticipants(
  node: ServerNode,
  op: OperationContext,
  shards: readonly string[],
  command: Document,
): Task<(Document | NetworkError)[]> {
  const settled = shards.map((shardId) => {
    const f = spawn(sendToShard(node, op, shardId, "admin", command));
    const out = new Future<Document | NetworkError>();
    f.onSettle((r) => {
      if (r.ok) out.resolve(r.value);
      else if (r.error instanceof NetworkError) out.resolve(r.error);
      else out.reject(r.error);
    });
    return out;
  });
  return yield* wait(Future.all(settled));
}

/**
 * `implicitlyAbortTransaction`: `abortTransaction` (with the default write concern) to every
 * participant; the replies, and failures to send, are ignored.
 */
export function* implicitlyAbortTransaction(
  node: ServerNode,
  op: OperationContext,
  router: TransactionRouter,
): Task<void> {
  const shards = router.planImplicitAbort();
  if (shards.length === 0) return;
  node.ctx.record({
    type: "txn.router",
    lsid: router.label,
    txnNumber: Number(router.txnNumber),
    action: "implicitAbort",
    shards: [...shards],
  });
  try {
    yield* sendToParticipants(node, op, shards, { abortTransaction: 1, writeConcern: { w: 1, wtimeout: 0 } });
  } catch (e) {
    if (!(e instanceof ServerError)) throw e;
  }
}
