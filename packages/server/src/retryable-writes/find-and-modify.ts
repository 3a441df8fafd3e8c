/**
 * `findAndModify` on mongod and mongos, retryable (`src/mongo/db/commands/find_and_modify.cpp`,
 * `src/mongo/s/commands/cluster_find_and_modify_cmd.cpp`).
 *
 * @packageDocumentation
 */
import type { Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { FieldReader, unknownField } from "../idl/parse.js";
import { isDocument, type Document } from "../idl/bson-types.js";
import { GENERIC_ARGUMENTS } from "../idl/generic-arguments.js";
import type { CommandDefinition } from "../commands/command.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import { NodeRoles } from "../node/topology.js";
import { catalogOf, commandNamespace, databaseName } from "../crud/namespace.js";
import { runPipeline } from "../storage/pipeline.js";
import { deepCopy } from "../storage/deep-copy.js";
import { sendToShard } from "../sharding/router.js";
import { checkShardReply, targetShardsForQuery } from "../sharding/cluster-query.js";
import { noteOperationTime } from "../cluster-time/gossip.js";
import { participantForOp } from "../transactions/participant/transaction-participants.js";
import { isRetryableWrite, statementIds } from "./statement-ids.js";

/** The fields `findAndModify` understands (IDL `FindAndModifyCommandRequest`, strict). */
const FIND_AND_MODIFY_FIELDS: ReadonlySet<string> = new Set([
  "query",
  "sort",
  "fields",
  "remove",
  "update",
  "new",
  "upsert",
  "arrayFilters",
  "collation",
  "hint",
  "let",
  "bypassDocumentValidation",
  "writeConcern",
  "maxTimeMS",
  "comment",
  "stmtId",
  "sampleId",
  "bypassEmptyTsReplacement",
]);

/** A parsed `findAndModify`. */
export interface FindAndModifySpec {
  readonly query: Document;
  readonly sort?: Document;
  readonly fields?: Document;
  readonly remove: boolean;
  readonly update?: Document | Document[];
  readonly returnNew: boolean;
  readonly upsert: boolean;
}

/**
 * Parses and validates `findAndModify` (`validate` in `find_and_modify.cpp`): FailedToParse (9)
 * for "Either an update or remove=true must be specified", "Cannot specify both an update and
 * remove=true", "Cannot specify both upsert=true and remove=true ", "Cannot specify both new=true
 * and remove=true; 'remove' always returns the deleted document", "Cannot specify arrayFilters and
 * remove=true".
 */
export function parseFindAndModify(op: OperationContext): FindAndModifySpec {
  const c = op.command;
  for (const f of Object.keys(c).slice(1))
    if (!FIND_AND_MODIFY_FIELDS.has(f) && !GENERIC_ARGUMENTS.has(f) && c[f] !== undefined)
      throw unknownField(`findAndModify.${f}`);
  const r = new FieldReader(c, "findAndModify");
  const query = r.document("query", "optional") ?? {};
  const sort = r.document("sort", "optional");
  const fields = r.document("fields", "optional");
  const remove = r.flag("remove") ?? false;
  const returnNew = r.flag("new") ?? false;
  const upsert = r.flag("upsert") ?? false;
  const u = c.update;
  if (u !== undefined && !isDocument(u) && !Array.isArray(u))
    throw new ServerError(ErrorCodes.FailedToParse, "Update argument must be either an object or an array");
  if (!remove && u === undefined)
    throw new ServerError(ErrorCodes.FailedToParse, "Either an update or remove=true must be specified");
  if (remove) {
    if (u !== undefined)
      throw new ServerError(ErrorCodes.FailedToParse, "Cannot specify both an update and remove=true");
    if (upsert) throw new ServerError(ErrorCodes.FailedToParse, "Cannot specify both upsert=true and remove=true ");
    if (returnNew)
      throw new ServerError(
        ErrorCodes.FailedToParse,
        "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document",
      );
    if (c.arrayFilters !== undefined)
      throw new ServerError(ErrorCodes.FailedToParse, "Cannot specify arrayFilters and remove=true");
  }
  if (Array.isArray(u) && c.arrayFilters !== undefined)
    throw new ServerError(ErrorCodes.FailedToParse, "Cannot specify arrayFilters and a pipeline update");
  return {
    query,
    ...(sort === undefined ? {} : { sort }),
    ...(fields === undefined ? {} : { fields }),
    remove,
    ...(u === undefined ? {} : { update: u as Document | Document[] }),
    returnNew,
    upsert,
  };
}

function project(node: ServerNode, doc: Document | undefined, fields: Document | undefined): Document | null {
  if (doc === undefined) return null;
  if (fields === undefined || Object.keys(fields).length === 0) return doc;
  return runPipeline([doc], [{ $project: fields }], { now: new Date(node.now()) })[0] ?? null;
}

/** Runs a parsed `findAndModify` on this mongod; returns the reply and whether it wrote. */
function execute(
  op: OperationContext,
  node: ServerNode,
  ns: string,
  spec: FindAndModifySpec,
): { reply: Document; wrote: boolean } {
  const catalog = catalogOf(node);
  const ws = op.writeSet;
  const existing = catalog.get(ns);
  const found = existing?.find(
    spec.query,
    { ...(spec.sort === undefined ? {} : { sort: spec.sort }), limit: 1 },
    ws,
  )[0];
  if (spec.remove) {
    if (found === undefined || existing === undefined)
      return { reply: { lastErrorObject: { n: 0 }, value: null }, wrote: false };
    existing.delete({ _id: found._id }, { limit: 1 }, ws);
    return { reply: { lastErrorObject: { n: 1 }, value: project(node, found, spec.fields) }, wrote: true };
  }
  const now = new Date(node.now());
  if (found !== undefined && existing !== undefined) {
    const res = existing.update({ _id: found._id }, spec.update, { upsert: false, multi: false, now }, ws);
    const post = spec.returnNew ? existing.findOne({ _id: found._id }, {}, ws) : found;
    return {
      reply: { lastErrorObject: { n: 1, updatedExisting: true }, value: project(node, post, spec.fields) },
      wrote: res.modified > 0,
    };
  }
  if (!spec.upsert) return { reply: { lastErrorObject: { n: 0, updatedExisting: false }, value: null }, wrote: false };
  const coll = catalog.collection(ns);
  const res = coll.update(spec.query, spec.update, { upsert: true, multi: false, now }, ws);
  const id = res.upsertedId;
  const value = spec.returnNew ? project(node, coll.findOne({ _id: id }, {}, ws), spec.fields) : null;
  return { reply: { lastErrorObject: { n: 1, updatedExisting: false, upserted: id }, value }, wrote: true };
}

/**
 * `findAndModify` on a mongod: finds the first document matching `query` (in `sort` order),
 * removes or updates it (or upserts), and replies `{lastErrorObject: {n, updatedExisting,
 * upserted?}, value}` with the old document, or the new one with `new: true`.
 *
 * @remarks As a retryable write (statement id `stmtId`, default 0) a retry of an executed
 * statement is answered from the recorded result with `retriedStmtId`, without writing again.
 */
export const findAndModifyCommand: CommandDefinition = {
  name: "findAndModify",
  aliases: ["findandmodify"],
  on: [NodeRoles.configsvr, NodeRoles.shardsvr],
  run: (op, node) => {
    const ns = commandNamespace(op);
    const spec = parseFindAndModify(op);
    if (ns === "config.transactions" && op.lsid !== undefined && op.request.internal !== true)
      throw new ServerError(
        ErrorCodes.Location40528,
        "Direct writes against config.transactions cannot be performed using a transaction or on a session.",
      );
    const p = op.writeSet === undefined && isRetryableWrite(op) ? participantForOp(op) : undefined;
    const stmtId = statementIds(op, 1)[0];
    if (p !== undefined) {
      const prev = p.checkStatementExecuted(stmtId);
      if (prev !== undefined) {
        const metrics = node.participants?.metrics;
        if (metrics !== undefined) {
          metrics.retriedCommandsCount++;
          metrics.retriedStatementsCount++;
        }
        return { ...deepCopy(prev), retriedStmtId: stmtId };
      }
    }
    const { reply, wrote } = execute(op, node, ns, spec);
    if (wrote && op.writeSet === undefined) {
      const ts = node.clusterTime.tick(1);
      noteOperationTime(op, ts);
      p?.onRetryableWriteCompleted(stmtId, deepCopy(reply), ts);
    }
    return reply;
  },
};

/** The fields of a shard's `findAndModify` reply that mongos returns. */
const REPLY_FIELDS = ["lastErrorObject", "value", "retriedStmtId", "writeConcernError"] as const;

/**
 * `findAndModify` on mongos: sent to the shard owning the query's shard key; without a full
 * shard key the owning shards are tried in turn until one matches (an upsert needs the shard key:
 * ShardKeyNotFound (61)).
 */
export const clusterFindAndModifyCommand: CommandDefinition = {
  name: "findAndModify",
  aliases: ["findandmodify"],
  on: [NodeRoles.mongos],
  run: (op, node) => {
    const ns = commandNamespace(op);
    const spec = parseFindAndModify(op);
    const shards = targetShardsForQuery(node, ns, spec.query);
    if (shards.length > 1 && spec.upsert)
      throw new ServerError(ErrorCodes.ShardKeyNotFound, "Query for sharded findAndModify must contain the shard key");
    const { [op.commandName]: coll, ...rest } = op.command;
    const command: Document = { findAndModify: coll, ...rest };
    return (function* (): Task<Document> {
      let reply: Document = {};
      for (const shard of shards) {
        reply = checkShardReply(yield* sendToShard(node, op, shard, databaseName(ns), command));
        const leo = reply.lastErrorObject;
        if (isDocument(leo) && Number(leo.n ?? 0) > 0) break;
      }
      const out: Document = {};
      for (const f of REPLY_FIELDS) if (reply[f] !== undefined) out[f] = reply[f];
      return out;
    })();
  },
};
