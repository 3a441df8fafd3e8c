import type { Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { FieldReader, expectDocument } from "../idl/parse.js";
import { bsonTypeOf, isDocument, type Document } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import type { CommandDefinition } from "../commands/command.js";
import { runPipeline, validatePipeline } from "../storage/pipeline.js";
import { foreignCollectionOf, foreignCollections, type CollectionResolver } from "../storage/foreign-stages.js";
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
  // Nested stages are parsed (and refused) before the top-level namespace rules apply.
  const prepared = prepareSubPipelines(
    op,
    pipeline,
    "top",
    collection === undefined ? undefined : `${op.db}.${collection}`,
  );
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
  return { collection, pipeline: prepared, batchSize: batchSizeOf(cursor.batchSize, "cursor.batchSize") };
}

/** The kind of pipeline a stage sits in. */
type PipelineHolder = "top" | "$facet" | "$lookup" | "$unionWith";

/**
 * The session stages ($listLocalSessions, $listSessions, $currentOp) found inside `$facet`,
 * `$lookup` and `$unionWith` sub-pipelines, refused or rewritten as MongoDB's parser and stage
 * constraints do (mingo knows none of them): returns the pipeline with each `$listSessions` of a
 * `$lookup`/`$unionWith` on `config.system.sessions` replaced by the `$match` it is.
 *
 * @remarks Each nested stage is parsed before its container validates it, so its own namespace
 * check comes first — `ns` is the namespace the sub-pipeline runs on (a `$facet`'s: its
 * pipeline's; a `$lookup`'s or `$unionWith`'s: the foreign collection; undefined for
 * `{aggregate: 1}` or a collection-less sub-pipeline):
 * - 73 when the stage's namespace rule fails (`$listLocalSessions` needs `{aggregate: 1}`,
 *   `$currentOp` `{aggregate: 1}` on admin, `$listSessions` config.system.sessions;
 *   jstests/aggregation/sources/unionWith/unionWith_invalid_usage.js);
 * - then in `$facet`: 40600 "<stage> is not allowed to be used within a $facet stage"
 *   (`FacetRequirement::kNotAllowed`, `Pipeline::validateFacetPipeline`); in a `$unionWith`:
 *   31441 for `$listLocalSessions` and `$currentOp`;
 * - elsewhere they must be first (40602); `$listSessions`, allowed in `$lookup` and `$unionWith`
 *   (reference §4.3), becomes its `$match`.
 */
function prepareSubPipelines(
  op: OperationContext,
  pipeline: readonly Document[],
  holder: PipelineHolder,
  ns: string | undefined,
): Document[] {
  return pipeline.map((stage, i) => {
    if (!isDocument(stage) || Object.keys(stage).length !== 1) return stage;
    const name = Object.keys(stage)[0];
    if (holder !== "top" && SOURCE_STAGES.has(name)) return nestedSourceStage(op, stage, name, i, holder, ns);
    const spec = stage[name];
    if (name === "$facet" && isDocument(spec)) {
      const out: Document = {};
      for (const [k, v] of Object.entries(spec))
        out[k] = Array.isArray(v) && v.every(isDocument) ? prepareSubPipelines(op, v, "$facet", ns) : v;
      return { $facet: out };
    }
    if ((name === "$lookup" || name === "$unionWith") && isDocument(spec) && Array.isArray(spec.pipeline)) {
      const sub = spec.pipeline as unknown[];
      if (!sub.every(isDocument)) return stage;
      const coll = foreignCollectionOf(stage);
      const foreignNs = coll === undefined ? undefined : `${op.db}.${coll}`;
      return { [name]: { ...spec, pipeline: prepareSubPipelines(op, sub, name, foreignNs) } };
    }
    return stage;
  });
}

function nestedSourceStage(
  op: OperationContext,
  stage: Document,
  name: string,
  index: number,
  holder: Exclude<PipelineHolder, "top">,
  ns: string | undefined,
): Document {
  if (name === "$listLocalSessions" && ns !== undefined)
    throw new ServerError(
      ErrorCodes.InvalidNamespace,
      "$listLocalSessions must be run against the database with {aggregate: 1}, not a collection",
    );
  if (name === "$currentOp" && (ns !== undefined || op.db !== "admin"))
    throw new ServerError(
      ErrorCodes.InvalidNamespace,
      "$currentOp must be run against the 'admin' database with {aggregate: 1}",
    );
  if (name === "$listSessions" && ns !== SESSIONS_NS)
    throw new ServerError(ErrorCodes.InvalidNamespace, "$listSessions may only be run against config.system.sessions");
  if (holder === "$facet") throw new ServerError(40600, `${name} is not allowed to be used within a $facet stage`);
  if (holder === "$unionWith" && name !== "$listSessions")
    throw new ServerError(31441, `${name} is not allowed within a $unionWith's sub-pipeline`);
  if (index > 0)
    throw new ServerError(ErrorCodes.Location40602, `${name} is only valid as the first stage in a pipeline.`);
  if (name !== "$listSessions")
    // First in a collection-less $lookup: its own parse wants $documents there.
    throw new ServerError(
      ErrorCodes.FailedToParse,
      `${holder} stage without explicit collection must have a pipeline with $documents as first stage`,
    );
  return { $match: listSessionsFilter(op, stage.$listSessions) };
}

/**
 * The collection resolver of a mongod's pipeline: the node's own collections of the command's
 * database, as the operation sees them (its transaction's writes included).
 */
function localResolver(op: OperationContext, node: ServerNode): CollectionResolver {
  return (coll) => catalogOf(node).get(validNamespace(op.db, coll))?.find({}, {}, op.writeSet) ?? [];
}

/**
 * mongos's collection resolver: every collection the pipeline reads besides its input, gathered
 * from the shards that own it before the pipeline runs (mongos runs the whole pipeline itself).
 */
function* gatheredResolver(
  node: ServerNode,
  op: OperationContext,
  pipeline: readonly Document[],
): Task<CollectionResolver | undefined> {
  const colls = foreignCollections(pipeline);
  if (colls.length === 0) return undefined;
  const docs = new Map<string, Document[]>();
  for (const coll of colls) {
    const ns = validNamespace(op.db, coll);
    docs.set(coll, yield* gatherFromShards(node, op, ns, {}));
  }
  return (coll) => docs.get(coll) ?? [];
}

/** The namespace a cursor reply reports: `db.coll`, or `db.$cmd.aggregate` for `aggregate: 1`. */
function replyNamespace(op: OperationContext, spec: AggregateSpec): string {
  return spec.collection === undefined ? `${op.db}.$cmd.aggregate` : validNamespace(op.db, spec.collection);
}

/** Runs `rest` of a pipeline over `docs` with mingo (`$match`, `$project`, `$group`, ...). */
function finish(
  node: ServerNode,
  docs: Document[],
  rest: Document[],
  collectionResolver?: CollectionResolver,
): Document[] {
  if (rest.length === 0) return docs;
  return runPipeline(docs, rest, {
    now: new Date(node.now()),
    ...(collectionResolver === undefined ? {} : { collectionResolver }),
  });
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
    const pipeline = spec.pipeline;
    const [head, ...tail] = pipeline;
    const first = head === undefined ? undefined : Object.keys(head)[0];
    const mongos = node.role === NodeRoles.mongos;
    // Stage names and nested placement are checked before any document is read or gathered.
    validatePipeline(first !== undefined && SOURCE_STAGES.has(first) ? tail : pipeline);
    if (first === "$listLocalSessions") {
      const docs = listLocalSessions(op, node, head.$listLocalSessions);
      if (!mongos)
        return firstBatchReply(node, op, ns, finish(node, docs, tail, localResolver(op, node)), spec.batchSize);
      return (function* (): Task<Document> {
        const resolver = yield* gatheredResolver(node, op, tail);
        return firstBatchReply(node, op, ns, finish(node, docs, tail, resolver), spec.batchSize);
      })();
    }
    if (first === "$currentOp") {
      return (function* (): Task<Document> {
        const rows = yield* currentOpRows(op, node, head.$currentOp);
        const resolver = mongos ? yield* gatheredResolver(node, op, tail) : localResolver(op, node);
        return firstBatchReply(node, op, ns, finish(node, rows, tail, resolver), spec.batchSize);
      })();
    }
    const filter: Document = first === "$listSessions" ? listSessionsFilter(op, head.$listSessions) : {};
    const stages = first === "$listSessions" ? tail : pipeline;
    if (mongos) {
      // Gather the matching documents from the targeted shards (and the collections the
      // pipeline joins with), then run the pipeline here.
      const leadingMatch = stages.length > 0 && isDocument(stages[0].$match) ? stages[0].$match : undefined;
      const query = leadingMatch === undefined ? filter : { $and: [filter, leadingMatch] };
      return (function* (): Task<Document> {
        const docs = yield* gatherFromShards(node, op, ns, query);
        const resolver = yield* gatheredResolver(node, op, stages);
        return firstBatchReply(node, op, ns, finish(node, docs, stages, resolver), spec.batchSize);
      })();
    }
    const coll = catalogOf(node).get(ns);
    const docs = coll === undefined ? [] : coll.find(filter, {}, op.writeSet);
    return firstBatchReply(node, op, ns, finish(node, docs, stages, localResolver(op, node)), spec.batchSize);
  },
};
