/**
 * Aggregation pipelines over documents (`Pipeline` in `src/mongo/db/pipeline/pipeline.cpp`), run
 * by mingo with the BSON-aware operator context.
 *
 * @packageDocumentation
 */
import { Aggregator } from "mingo/aggregator";
import type { Timestamp } from "bson";
import { ServerError, ErrorCodes } from "../errors/index.js";
import { isPlainObject, type Doc } from "./bson-types.js";
import { deepCopy } from "./deep-copy.js";
import { BSON_CONTEXT, MINGO_OPTIONS } from "./mingo-context.js";
import { fromMingoError } from "./matcher.js";

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  /** The value of `$$NOW` (the node's virtual wall clock). */
  readonly now: Date;
  /** The value of `$$CLUSTER_TIME`, if the caller models one. */
  readonly clusterTime?: Timestamp;
}

/** A pipeline stage: a document with exactly one `$`-prefixed field. */
export type Stage = Doc;

/**
 * Checks the shape of a pipeline and the names of its stages.
 *
 * @throws ServerError 14 if `pipeline` is not an array, 40323 if a stage is not a one-field
 * object, 40324 `Unrecognized pipeline stage name: '<name>'` for a stage mingo does not run.
 */
export function validatePipeline(pipeline: unknown): asserts pipeline is Stage[] {
  if (!Array.isArray(pipeline)) {
    throw new ServerError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  }
  for (const stage of pipeline) {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
      throw new ServerError(40323, "A pipeline stage specification object must contain exactly one field.");
    }
    const name = Object.keys(stage)[0];
    if (!name.startsWith("$") || BSON_CONTEXT.getOperator("pipeline" as never, name) === null) {
      throw new ServerError(ErrorCodes.Location40324, `Unrecognized pipeline stage name: '${name}'`);
    }
  }
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
    out = new Aggregator(bound, MINGO_OPTIONS).run<Doc>(input);
  } catch (e) {
    throw fromMingoError(e);
  }
  return out.map((d) => deepCopy(d));
}
