import { Long } from "bson";
import { spawn, wait, Future, type Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { FieldReader } from "../idl/parse.js";
import { isDocument, isNumeric, toNumber, type Document } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import type { CommandDefinition } from "../commands/command.js";
import { canKillOp, clusterResource } from "../auth/index.js";
import { checkShardReply } from "../sharding/cluster-query.js";
import { runOnShard } from "../sharding/router.js";
import { lsidLabel } from "../cursors/cursor-manager.js";

/** Parsed `$currentOp` options (`document_source_current_op.cpp`). */
interface CurrentOpSpec {
  readonly allUsers: boolean;
  readonly idleConnections: boolean;
  readonly idleCursors: boolean;
  readonly idleSessions: boolean;
  readonly localOps: boolean;
}

function parseSpec(spec: unknown): CurrentOpSpec {
  if (!isDocument(spec))
    throw new ServerError(
      ErrorCodes.FailedToParse,
      "$currentOp options must be specified in an object, but found: " + typeof spec,
    );
  const r = new FieldReader(spec, "$currentOp");
  r.strict([
    "allUsers",
    "idleConnections",
    "idleCursors",
    "idleSessions",
    "localOps",
    "truncateOps",
    "backtrace",
    "targetAllNodes",
  ]);
  return {
    allUsers: r.bool("allUsers", "optional") ?? false,
    idleConnections: r.bool("idleConnections", "optional") ?? false,
    idleCursors: r.bool("idleCursors", "optional") ?? false,
    idleSessions: r.bool("idleSessions", "optional") ?? true,
    localOps: r.bool("localOps", "optional") ?? false,
  };
}

/** Rows describing this node's running operations (and idle cursors), as `$currentOp` shows them. */
export function localCurrentOp(op: OperationContext, node: ServerNode, spec: CurrentOpSpec): Document[] {
  const now = node.now();
  const mine = (owner: { user: string; db: string } | undefined): boolean =>
    spec.allUsers || op.authz.isCoauthorizedWith(owner);
  const rows: Document[] = [];
  for (const other of node.ops.values()) {
    const owner = other.request.internal === true ? undefined : other.request.user;
    if (!mine(owner)) continue;
    const micros = Math.max(0, Math.round((now - other.startedAt) * 1000));
    rows.push({
      type: "op",
      host: `${node.name}:27017`,
      desc: other.desc,
      client: other.client,
      active: true,
      currentOpTime: new Date(now),
      effectiveUsers: owner === undefined ? [] : [{ user: owner.user, db: owner.db }],
      opid: other.opId,
      ...(other.lsid === undefined ? {} : { lsid: other.lsid }),
      secs_running: Long.fromNumber(Math.floor(micros / 1e6)),
      microsecs_running: Long.fromNumber(micros),
      op: "command",
      ns: `${other.db}.$cmd`,
      command: other.command,
      numYields: 0,
      locks: {},
      waitingForLock: false,
      killPending: other.killPending,
    });
  }
  if (spec.idleSessions && node.participants !== undefined) {
    // Sessions holding an open transaction that no operation is running in ("inactive
    // transaction" rows of `$currentOp`, with the transaction's parameters).
    const busy = new Set([...node.ops.values()].map((o) => (o.lsid === undefined ? "" : lsidLabel(o.lsid))));
    for (const t of node.participants.openTransactions()) {
      if (busy.has(lsidLabel(t.lsid))) continue;
      rows.push({
        type: "idleSession",
        host: `${node.name}:27017`,
        desc: "inactive transaction",
        active: false,
        lsid: t.lsid,
        transaction: { parameters: { txnNumber: t.txnNumber, autocommit: false }, state: t.state },
        waitingForLock: false,
      });
    }
  }
  if (spec.idleCursors)
    for (const c of node.cursors.all()) {
      if (!mine(c.owner)) continue;
      rows.push({
        type: "idleCursor",
        host: `${node.name}:27017`,
        active: false,
        ...(c.lsid === undefined ? {} : { lsid: c.lsid }),
        cursor: {
          cursorId: c.id,
          createdDate: new Date(c.createdAt),
          lastAccessDate: new Date(c.lastUsed),
          nDocsReturned: Long.fromNumber(c.nReturned),
          nBatchesReturned: Long.fromNumber(1),
          noCursorTimeout: false,
          tailable: false,
          awaitData: false,
          originatingCommand: c.originatingCommand,
          ...(c.lsid === undefined ? {} : { lsid: c.lsid }),
        },
      });
    }
  return rows;
}

/**
 * The rows of `$currentOp`: on a mongod its own operations; on mongos (unless `localOps`) the
 * operations of every shard, with opids prefixed by the shard id (`"shard0:123"`) and a `shard`
 * field, as `cluster_aggregate` merges them.
 */
export function* currentOpRows(op: OperationContext, node: ServerNode, rawSpec: unknown): Task<Document[]> {
  const spec = parseSpec(rawSpec);
  if (
    node.shared.auth.enabled &&
    (spec.allUsers || (node.role === NodeRoles.mongos && !spec.localOps)) &&
    !op.authz.isAuthorized(clusterResource, "inprog")
  )
    throw new ServerError(
      ErrorCodes.Unauthorized,
      "not authorized on admin to execute command { aggregate: 1, pipeline: [ { $currentOp: { ... } } ] }",
    );
  if (node.role !== NodeRoles.mongos || spec.localOps) return localCurrentOp(op, node, spec);
  const shards = node.shared.sharding.shards.map((s) => s._id);
  const replies = yield* wait(
    Future.all(
      shards.map((shard) =>
        spawn(
          runOnShard(node, shard, {
            db: "admin",
            command: {
              aggregate: 1,
              pipeline: [{ $currentOp: { ...spec, allUsers: true } }],
              cursor: { batchSize: 100000 },
            },
            internal: true,
          }),
        ),
      ),
    ),
  );
  const rows: Document[] = [];
  replies.forEach((reply, i) => {
    const batch = (checkShardReply(reply).cursor as { firstBatch: Document[] }).firstBatch;
    for (const row of batch) {
      const owner = (row.effectiveUsers as { user: string; db: string }[] | undefined)?.[0];
      if (!spec.allUsers && !op.authz.isCoauthorizedWith(owner)) continue;
      rows.push({
        shard: shards[i],
        ...row,
        ...(row.opid === undefined ? {} : { opid: `${shards[i]}:${String(row.opid)}` }),
      });
    }
  });
  return rows;
}

/**
 * `killOp` (`src/mongo/db/commands/kill_op.cpp`, `cluster_kill_op.cpp`): interrupts operation
 * `op` with `Interrupted`. On mongos an opid `"shard:n"` is forwarded to that shard. An operation
 * the caller may not kill is left alone; the reply is `{info: "attempting to kill op"}` either way.
 */
export const killOpCommand: CommandDefinition = {
  name: "killOp",
  on: [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr],
  adminOnly: true,
  run: (op, node) => {
    const target = op.command.op;
    if (node.role === NodeRoles.mongos && typeof target === "string") {
      const colon = target.indexOf(":");
      const shard = target.slice(0, colon);
      const opid = Number(target.slice(colon + 1));
      if (colon < 0 || !Number.isInteger(opid) || node.shared.sharding.shard(shard) === undefined)
        throw new ServerError(ErrorCodes.FailedToParse, `invalid op : ${target}. Op ID must be of the form shard:opid`);
      return (function* (): Task<Document> {
        checkShardReply(
          yield* runOnShard(node, shard, {
            db: "admin",
            command: { killOp: 1, op: opid },
            user: op.request.user,
            internal: true,
          }),
        );
        return { info: "attempting to kill op", shard, shardid: opid };
      })();
    }
    if (!isNumeric(target)) throw new ServerError(ErrorCodes.TypeMismatch, 'Did not provide "op" field');
    const victim = node.ops.get(toNumber(target));
    if (
      victim !== undefined &&
      canKillOp(op.authz, victim.request.internal === true ? undefined : victim.request.user)
    ) {
      victim.interrupt();
      node.ctx.record({
        type: "op.interrupt",
        opId: victim.opId,
        command: victim.commandName,
        codeName: "Interrupted",
      });
    }
    return { info: "attempting to kill op" };
  },
};
