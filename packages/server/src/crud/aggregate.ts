import type { Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { FieldReader, expectDocument } from "../idl/parse.js";
import { bsonTypeOf, isDocument, type Document } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import type { CommandDefinition } from "../commands/command.js";
import { runPipeline } from "../storage/pipeline.js";
import { listLocalSessions, listSessionsFilter } from "../aggregation/list-sessions.js";
import { currentOpRows } from "../current-op/current-op.js";
import { catalogOf, validNamespace } from "./namespace.js";
import { batchSizeOf, firstBatchReply } from "./cursor-reply.js";
import { gatherFromShards } from "../sharding/cluster-query.js";

/** Stages that must come first and read server state rather than a collection. */
const SOURCE_STAGES = new Set(["$listLocalSessions", "$listSessions", "$currentOp"]);

const SESSIONS_NS = "config.system.sessions";

/** A parsed `aggregate` command. */
interface AggregateSpec {
  /** The collection name, or undefined for `aggregate: 1`. */
  readonly collection: string | undefined;
  readonly pipeline: Document[];
  readonly batchSize: number | undefined;
}

/** Parses `aggregate` and applies the stage-placement rules (§4.1–4.3). */
function parseAggregate(op: OperationContext): AggregateSpec {
  const c = op.command;
  const target = c.aggregate;
  let collection: string | undefined;
  if (typeof target === "string") collection = target;
  else if (!(target === 1 || target === 1.0))
    throw new ServerError(
      ErrorCodes.FailedToParse,
      `Invalid {aggregate: ...} value. Must be a string or the number 1, found: ${bsonTypeOf(target)}`,
    );
  const r = new FieldReader(c, "aggregate");
  const pipeline = r.array("pipeline").map((s, i) => expectDocument(s, `aggregate.pipeline.${i}`));
  if (c.cursor === undefined && c.explain === undefined)
    throw new ServerError(
      ErrorCodes.FailedToParse,
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  const cursor = r.document("cursor", "optional") ?? {};
  for (const [i, stage] of pipeline.entries()) {
    const keys = Object.keys(stage);
    if (keys.length !== 1)
      throw new ServerError(40323, "A pipeline stage specification object must contain exactly one field.");
    const name = keys[0];
    if (SOURCE_STAGES.has(name) && i > 0)
      throw new ServerError(ErrorCodes.Location40602, `${name} is only valid as the first stage in a pipeline.`);
  }
  const first = pipeline.length > 0 ? Object.keys(pipeline[0])[0] : undefined;
  const inTransaction = op.autocommit === false;
  if (first === "$listLocalSessions") {
    if (collection !== undefined)
      throw new ServerError(
        ErrorCodes.InvalidNamespace,
        "$listLocalSessions must be run against the database with {aggregate: 1}, not a collection",
      );
  } else if (first === "$listSessions") {
    if (`${op.db}.${collection}` !== SESSIONS_NS)
      throw new ServerError(
        ErrorCodes.InvalidNamespace,
        "$listSessions may only be run against config.system.sessions",
      );
  } else if (first === "$currentOp") {
    if (collection !== undefined || op.db !== "admin")
      throw new ServerError(
        ErrorCodes.InvalidNamespace,
        "$currentOp must be run against the 'admin' database with {aggregate: 1}",
      );
  } else if (collection === undefined)
    throw new ServerError(
      ErrorCodes.InvalidNamespace,
      `{aggregate: 1} is not valid for '${first ?? "an empty pipeline"}'; a collection is required.`,
    );
  if (inTransaction && first !== undefined && SOURCE_STAGES.has(first))
    throw new ServerError(
      ErrorCodes.OperationNotSupportedInTransaction,
      `Operation not permitted in transaction :: caused by :: Aggregation stage ${first} cannot run within a multi-document transaction.`,
    );
  return { collection, pipeline, batchSize: batchSizeOf(cursor.batchSize, "cursor.batchSize") };
}

/** The namespace a cursor reply reports: `db.coll`, or `db.$cmd.aggregate` for `aggregate: 1`. */
function replyNamespace(op: OperationContext, spec: AggregateSpec): string {
  return spec.collection === undefined ? `${op.db}.$cmd.aggregate` : validNamespace(op.db, spec.collection);
}

/** Runs `rest` of a pipeline over `docs` with mingo (`$match`, `$project`, `$group`, ...). */
function finish(node: ServerNode, docs: Document[], rest: Document[]): Document[] {
  return rest.length === 0 ? docs : runPipeline(docs, rest, { now: new Date(node.now()) });
}

/**
 * `aggregate` on every role. `$listLocalSessions` lists this node's session cache; `$listSessions`
 * reads `config.system.sessions` (through mongos: from the shards owning its chunks); `$currentOp`
 * lists operations; other pipelines run over the collection (through mongos: over the documents
 * gathered from the targeted shards).
 */
export const aggregateCommand: CommandDefinition = {
  name: "aggregate",
  on: [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr],
  run: (op, node) => {
    const spec = parseAggregate(op);
    const ns = replyNamespace(op, spec);
    const [head, ...tail] = spec.pipeline;
    const first = head === undefined ? undefined : Object.keys(head)[0];
    if (first === "$listLocalSessions") {
      const docs = listLocalSessions(op, node, head.$listLocalSessions);
      return firstBatchReply(node, op, ns, finish(node, docs, tail), spec.batchSize);
    }
    if (first === "$currentOp") {
      return (function* (): Task<Document> {
        const rows = yield* currentOpRows(op, node, head.$currentOp);
        return firstBatchReply(node, op, ns, finish(node, rows, tail), spec.batchSize);
      })();
    }
    const filter: Document = first === "$listSessions" ? listSessionsFilter(op, head.$listSessions) : {};
    const stages = first === "$listSessions" ? tail : spec.pipeline;
    if (node.role === NodeRoles.mongos) {
      // Gather the matching documents from the targeted shards, then run the pipeline here.
      const leadingMatch = stages.length > 0 && isDocument(stages[0].$match) ? stages[0].$match : undefined;
      const query = leadingMatch === undefined ? filter : { $and: [filter, leadingMatch] };
      return (function* (): Task<Document> {
        const docs = yield* gatherFromShards(node, op, ns, query);
        return firstBatchReply(node, op, ns, finish(node, docs, stages), spec.batchSize);
      })();
    }
    const coll = catalogOf(node).get(ns);
    const docs = coll === undefined ? [] : coll.find(filter, {}, op.writeSet);
    return firstBatchReply(node, op, ns, finish(node, docs, stages), spec.batchSize);
  },
};
