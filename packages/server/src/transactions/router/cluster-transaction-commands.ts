/**
 * mongos `commitTransaction` and `abortTransaction`.
 *
 * @packageDocumentation
 */
import { NetworkError, type Task } from "@sessionsim/kernel";
import type { CommandDefinition } from "../../commands/command.js";
import { ErrorCodes, ServerError } from "../../errors/index.js";
import type { Document } from "../../idl/bson-types.js";
import type { OperationContext } from "../../node/operation-context.js";
import type { ServerNode } from "../../node/server-node.js";
import { NodeRoles } from "../../node/topology.js";
import { sendToShard } from "../../sharding/router.js";
import { sendToParticipants, transactionRouterOf } from "./router-session.js";
import { parseRecoveryToken, type CommitPlan, type TransactionRouter } from "./transaction-router.js";

/** The fields of a shard's reply mongos passes on (`filterCommandReplyForPassthrough`). */
function passthrough(reply: Document): Document {
  const out: Document = { ok: reply.ok === 1 ? 1 : 0 };
  for (const f of ["errmsg", "code", "codeName", "errorLabels", "writeConcernError"])
    if (reply[f] !== undefined) out[f] = reply[f];
  return out;
}

function hasWriteConcernError(reply: Document): boolean {
  return reply.writeConcernError !== undefined && reply.writeConcernError !== null;
}

/** A network failure to reach a shard, as MongoDB reports it (`uassertStatusOK`). */
function networkFailure(e: NetworkError): ServerError {
  return new ServerError(
    e.kind === "HostUnreachable" ? ErrorCodes.HostUnreachable : ErrorCodes.NetworkTimeout,
    e.message,
  );
}

/**
 * `sendCommitDirectlyToShards`: `commitTransaction` to each shard in parallel. A failure to reach
 * a shard is thrown; otherwise the first error reply (or writeConcern error) is returned, else the
 * last reply.
 */
function* sendCommitDirectlyToShards(
  node: ServerNode,
  op: OperationContext,
  shards: readonly string[],
): Task<Document> {
  const replies = yield* sendToParticipants(node, op, shards, { commitTransaction: 1 });
  let last: Document = { ok: 1 };
  for (const r of replies) {
    if (r instanceof NetworkError) throw networkFailure(r);
    last = r;
    if (r.ok !== 1 || hasWriteConcernError(r)) return r;
  }
  return last;
}

/** Sends `coordinateCommitTransaction` to one shard; a failure to reach it is thrown. */
function* coordinateCommit(
  node: ServerNode,
  op: OperationContext,
  shardId: string,
  participants: readonly string[],
): Task<Document> {
  try {
    return yield* sendToShard(node, op, shardId, "admin", {
      coordinateCommitTransaction: 1,
      participants: participants.map((p) => ({ shardId: p })),
    });
  } catch (e) {
    if (e instanceof NetworkError) throw networkFailure(e);
    throw e;
  }
}

/** The shards a commit plan contacts, in order. */
function shardsOf(plan: CommitPlan): string[] {
  switch (plan.type) {
    case "noShards":
      return [];
    case "singleShard":
    case "readOnly":
      return [...plan.shards];
    case "singleWriteShard":
      return [...plan.readOnlyShards, plan.writeShard];
    case "twoPhaseCommit":
      return [plan.coordinator];
    case "recoverWithToken":
      return [plan.recoveryShard];
  }
}

function requireRouter(op: OperationContext, name: string): TransactionRouter {
  const router = transactionRouterOf(op);
  if (router === undefined)
    throw new ServerError(ErrorCodes.InvalidOptions, `${name} can only be run within a session`);
  return router;
}

/**
 * mongos `commitTransaction` (`ClusterCommitTransactionCmd`, `TransactionRouter::commitTransaction`).
 *
 * @remarks
 * The commit path depends on what the router saw (reference §5.7):
 * - recovering (commit is the first statement this router sees): `coordinateCommitTransaction`
 *   with no participants to the `recoveryToken`'s shard (50940 without a token;
 *   `NoSuchTransaction` for an empty one);
 * - no participants → `{ok: 1}`; one participant → `commitTransaction` to it; only read-only
 *   participants → `commitTransaction` to all; one write shard → the read-only shards first, then
 *   the write shard; several write shards → `coordinateCommitTransaction {participants}` to the
 *   coordinator (two-phase commit).
 * The shard's answer is passed through (with `recoveryToken`); a failure to reach a shard is an
 * error whose outcome is unknown: the client may retry the commit.
 *
 * @example
 * ```ts
 * await conn.runCommand("admin", { commitTransaction: 1, lsid, txnNumber: Long(1), autocommit: false });
 * ```
 */
export const clusterCommitTransactionCommand: CommandDefinition = {
  name: "commitTransaction",
  on: [NodeRoles.mongos],
  adminOnly: true,
  run: (op, node) => {
    const router = requireRouter(op, "commitTransaction");
    const token = parseRecoveryToken(op.command.recoveryToken);
    const plan = router.planCommit(token);
    const shards = shardsOf(plan);
    node.ctx.record({
      type: "txn.router",
      lsid: router.label,
      txnNumber: Number(router.txnNumber),
      action: "commit",
      commitType: plan.type,
      shards,
    });
    return (function* (): Task<Document> {
      switch (plan.type) {
        case "noShards":
          return {};
        case "singleShard":
        case "readOnly":
          return passthrough(yield* sendCommitDirectlyToShards(node, op, plan.shards));
        case "singleWriteShard": {
          const readOnly = yield* sendCommitDirectlyToShards(node, op, plan.readOnlyShards);
          if (readOnly.ok !== 1) return passthrough(readOnly);
          if (hasWriteConcernError(readOnly)) {
            // The transaction's effects are not durable: the write shard has not committed yet.
            const wce = readOnly.writeConcernError as Document;
            throw new ServerError(Number(wce.code ?? ErrorCodes.WriteConcernFailed), String(wce.errmsg ?? ""));
          }
          return passthrough(yield* sendCommitDirectlyToShards(node, op, [plan.writeShard]));
        }
        case "twoPhaseCommit":
          return passthrough(yield* coordinateCommit(node, op, plan.coordinator, plan.participants));
        case "recoverWithToken":
          return passthrough(yield* coordinateCommit(node, op, plan.recoveryShard, []));
      }
    })();
  },
};

/**
 * mongos `abortTransaction` (`TransactionRouter::abortTransaction`): `abortTransaction` to every
 * participant; `NoSuchTransaction` "no known command has been sent by this router for this
 * transaction" if there are none. The first error reply (else writeConcern error, else the last
 * reply) is returned.
 */
export const clusterAbortTransactionCommand: CommandDefinition = {
  name: "abortTransaction",
  on: [NodeRoles.mongos],
  adminOnly: true,
  run: (op, node) => {
    const router = requireRouter(op, "abortTransaction");
    const shards = router.planAbort();
    node.ctx.record({
      type: "txn.router",
      lsid: router.label,
      txnNumber: Number(router.txnNumber),
      action: "abort",
      shards: [...shards],
    });
    return (function* (): Task<Document> {
      const replies = yield* sendToParticipants(node, op, shards, { abortTransaction: 1 });
      let last: Document = { ok: 1 };
      let firstError: Document | undefined;
      let firstWce: Document | undefined;
      for (const r of replies) {
        if (r instanceof NetworkError) throw networkFailure(r);
        last = r;
        if (r.ok !== 1) firstError ??= r;
        if (hasWriteConcernError(r)) {
          if (r.ok !== 1) return passthrough(r);
          firstWce ??= r;
        }
      }
      return passthrough(firstError ?? firstWce ?? last);
    })();
  },
};
