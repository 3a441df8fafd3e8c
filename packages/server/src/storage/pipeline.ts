/**
 * Aggregation pipelines over documents (`Pipeline` in `src/mongo/db/pipeline/pipeline.cpp`), run
 * by mingo with the BSON-aware operator context.
 *
 * @packageDocumentation
 */
import { Aggregator } from "mingo/aggregator";
import type { Timestamp } from "bson";
import { ServerError, ErrorCodes } from "../errors/index.js";
import { bsonTypeName, isPlainObject, type Doc } from "./bson-types.js";
import { formatBson } from "./bson-format.js";
import { subPipelinesOf, type CollectionResolver } from "./foreign-stages.js";
import { deepCopy } from "./deep-copy.js";
import { BSON_CONTEXT, MINGO_OPTIONS } from "./mingo-context.js";
import { fromMingoError } from "./matcher.js";

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  /** The value of `$$NOW` (the node's virtual wall clock). */
  readonly now: Date;
  /** The value of `$$CLUSTER_TIME`, if the caller models one. */
  readonly clusterTime?: Timestamp;
  /**
   * The documents of the other collections of the database, for `$lookup`, `$graphLookup` and
   * `$unionWith` (required when the pipeline has one of them).
   */
  readonly collectionResolver?: CollectionResolver;
}

/** A pipeline stage: a document with exactly one `$`-prefixed field. */
export type Stage = Doc;

/** The stages a `$facet` sub-pipeline may not contain, among those sessionsim runs. */
const NOT_ALLOWED_IN_FACET: ReadonlySet<string> = new Set(["$facet", "$documents"]);

/** Stages that must be the first of their pipeline (`PositionRequirement::kFirst`). */
const FIRST_STAGE_ONLY: ReadonlySet<string> = new Set(["$documents"]);

/** `extractRawPipelines` of `$facet` (`document_source_facet.cpp`): `{name: [stage, ...], ...}`. */
function facetPipelines(spec: unknown): Stage[][] {
  if (!isPlainObject(spec) || Object.keys(spec).length === 0)
    throw new ServerError(
      40169,
      `the $facet specification must be a non-empty object, but found: $facet: ${formatBson(spec)}`,
    );
  const out: Stage[][] = [];
  for (const [name, sub] of Object.entries(spec)) {
    if (!Array.isArray(sub))
      throw new ServerError(40170, `arguments to $facet must be arrays, ${name} is type ${bsonTypeName(sub)}`);
    for (const st of sub)
      if (!isPlainObject(st))
        throw new ServerError(
          40171,
          `elements of arrays in $facet spec must be non-empty objects, ${name} argument contained an element of type ${bsonTypeName(st)}: ${formatBson(st)}`,
        );
    out.push(sub as Stage[]);
  }
  return out;
}

/**
 * The stage that keeps `stage` out of a `$facet`, if any: itself, or one in its sub-pipelines
 * ("$documents inside of $lookup") — a stage's facet constraint is the strictest of the stages it
 * holds (`StageConstraints::getStrictestConstraints`; jstests/aggregation/sources/facet/
 * facet_validate_pipelines.js).
 */
function notAllowedInFacet(stage: Stage): string | undefined {
  const name = Object.keys(stage)[0];
  if (NOT_ALLOWED_IN_FACET.has(name)) return name;
  for (const sub of subPipelinesOf(stage))
    for (const inner of sub.pipeline) {
      if (Object.keys(inner).length !== 1) continue;
      const banned = notAllowedInFacet(inner);
      if (banned !== undefined) return `${banned} inside of ${sub.holder}`;
    }
  return undefined;
}

/**
 * Checks one (sub-)pipeline: stage shapes and names, `$documents` first, and — inside `$facet`
 * (`Pipeline::validateFacetPipeline`) — non-empty, without stages not allowed there; then the
 * sub-pipelines of its `$facet`, `$lookup` and `$unionWith` stages.
 */
function validateStages(pipeline: readonly unknown[], where: "top" | "$facet" | "$lookup" | "$unionWith"): void {
  if (where === "$facet" && pipeline.length === 0)
    throw new ServerError(ErrorCodes.BadValue, "sub-pipeline in $facet stage cannot be empty");
  pipeline.forEach((stage, i) => {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
      throw new ServerError(40323, "A pipeline stage specification object must contain exactly one field.");
    }
    const name = Object.keys(stage)[0];
    if (!name.startsWith("$") || BSON_CONTEXT.getOperator("pipeline" as never, name) === null) {
      throw new ServerError(ErrorCodes.Location40324, `Unrecognized pipeline stage name: '${name}'`);
    }
    const banned = where === "$facet" ? notAllowedInFacet(stage) : undefined;
    if (banned !== undefined) throw new ServerError(40600, `${banned} is not allowed to be used within a $facet stage`);
    if (FIRST_STAGE_ONLY.has(name) && i > 0)
      throw new ServerError(ErrorCodes.Location40602, `${name} is only valid as the first stage in a pipeline.`);
    if (name === "$facet") {
      for (const sub of facetPipelines(stage.$facet)) validateStages(sub, "$facet");
      return;
    }
    for (const sub of subPipelinesOf(stage)) validateStages(sub.pipeline, sub.holder);
  });
}

/**
 * Checks the shape of a pipeline and the names of its stages, nested pipelines included.
 *
 * @throws ServerError 14 if `pipeline` is not an array, 40323 if a stage is not a one-field
 * object, 40324 `Unrecognized pipeline stage name: '<name>'` for a stage mingo does not run,
 * 40602 for a `$documents` that is not first, 40169–40171 for a malformed `$facet`, BadValue for
 * an empty `$facet` sub-pipeline, 40600 `<stage> is not allowed to be used within a $facet stage`.
 */
export function validatePipeline(pipeline: unknown): asserts pipeline is Stage[] {
  if (!Array.isArray(pipeline)) {
    throw new ServerError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  }
  validateStages(pipeline, "top");
}

/**
 * Replaces the system variables mingo would read from the wall clock with literals:
 * `"$$NOW"` → `{$literal: now}`, `"$$CLUSTER_TIME"` → `{$literal: clusterTime}`.
 */
export function bindSystemVariables(expr: unknown, opts: PipelineOptions): unknown {
  if (typeof expr === "string") {
    if (expr === "$$NOW") return { $literal: new Date(opts.now.getTime()) };
    if (expr === "$$CLUSTER_TIME" && opts.clusterTime !== undefined) return { $literal: opts.clusterTime };
    return expr;
  }
  if (Array.isArray(expr)) return expr.map((e) => bindSystemVariables(e, opts));
  if (isPlainObject(expr)) {
    const out: Doc = {};
    for (const k of Object.keys(expr)) out[k] = k === "$literal" ? expr[k] : bindSystemVariables(expr[k], opts);
    return out;
  }
  return expr;
}

/**
 * A resolver handing the stages deep copies of the foreign documents (so stages that modify
 * documents cannot reach the collection's own objects).
 */
function copiesFrom(resolver: CollectionResolver): CollectionResolver {
  return (coll) => resolver(coll).map((d) => deepCopy(d));
}

/**
 * Runs an aggregation pipeline over `docs` and returns the results (deep copies; the inputs are
 * not modified).
 *
 * @remarks Used for `aggregate` on a collection and for the stages that follow
 * `$listSessions`/`$listLocalSessions`. `$$NOW` is `opts.now`. Comparisons, `$sort`, `$group`,
 * `$addFields`/`$set` are BSON-aware (see `mingo-context.ts`); other stages are mingo's.
 *
 * @throws ServerError 40324 for an unknown stage, BadValue for errors mingo reports.
 *
 * @example
 * ```ts
 * runPipeline(sessions, [{ $group: { _id: "$_id.uid", n: { $sum: 1 } } }], { now });
 * ```
 */
export function runPipeline(docs: readonly Doc[], pipeline: unknown, opts: PipelineOptions): Doc[] {
  validatePipeline(pipeline);
  if (pipeline.length === 0) return docs.map((d) => deepCopy(d));
  const bound = bindSystemVariables(pipeline, opts) as Stage[];
  // Inputs are copied so stages that modify documents in place cannot reach the caller's objects;
  // outputs are copied because stages share values between input and output documents.
  const input = docs.map((d) => deepCopy(d));
  let out: Doc[];
  try {
    const options =
      opts.collectionResolver === undefined
        ? MINGO_OPTIONS
        : { ...MINGO_OPTIONS, collectionResolver: copiesFrom(opts.collectionResolver) };
    out = new Aggregator(bound, options).run<Doc>(input);
  } catch (e) {
    throw fromMingoError(e);
  }
  return out.map((d) => deepCopy(d));
}
