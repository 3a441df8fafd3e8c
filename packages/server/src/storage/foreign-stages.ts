/**
 * The aggregation stages that read another collection — `$lookup`, `$graphLookup`, `$unionWith`
 * — with MongoDB's parse errors and BSON-aware matching. The foreign documents come from the
 * pipeline's collection resolver (a collection name → its documents): on a mongod the node's own
 * collection, on mongos the documents gathered from the shards beforehand.
 *
 * @packageDocumentation
 */
import { Long } from "bson";
import { Aggregator } from "mingo/aggregator";
import { evalExpr } from "mingo/core";
import { Lazy, type Iterator } from "mingo/lazy";
import { Query } from "mingo/query";
import type { AnyObject, Options } from "mingo/types";
import { ErrorCodes, InvariantViolation, ServerError } from "../errors/index.js";
import { formatBson } from "./bson-format.js";
import { deepCopy } from "./deep-copy.js";
import { bsonKey } from "./bson-key.js";
import { bsonTypeName, isNumeric, isPlainObject, toDouble, type Doc } from "./bson-types.js";
import { splitPath } from "./field-path.js";

/** The documents of a collection of the pipeline's database, by collection name. */
export type CollectionResolver = (collection: string) => Doc[];

/** The options mingo hands a stage (its `ComputeOptions`: getters over the pipeline's options). */
interface StageOptions extends Options {
  readonly local?: { readonly variables?: Readonly<AnyObject> };
}

/** Options for a sub-pipeline or query of a stage: the same context and resolver, `variables` added. */
function subOptions(options: StageOptions, variables?: AnyObject): Options {
  return {
    context: options.context,
    idKey: options.idKey,
    processingMode: options.processingMode,
    useStrictMode: options.useStrictMode,
    scriptEnabled: options.scriptEnabled,
    failOnError: options.failOnError,
    collectionResolver: options.collectionResolver,
    variables: { ...options.variables, ...options.local?.variables, ...variables },
  };
}

function resolveForeign(options: StageOptions, stage: string, coll: string): Doc[] {
  const resolver: CollectionResolver | undefined = options.collectionResolver;
  if (resolver === undefined) throw new InvariantViolation(`${stage} ran without a collection resolver`);
  return resolver(coll);
}

/** `parsePipelineFromBSON`: an array of documents. */
function parseSubPipeline(v: unknown): Doc[] {
  if (!Array.isArray(v))
    throw new ServerError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  for (const s of v)
    if (!isPlainObject(s))
      throw new ServerError(ErrorCodes.TypeMismatch, "Each element of the 'pipeline' array must be an object");
  return v as Doc[];
}

/**
 * Every value at `path` (`document_path_support::visitAllValuesAtPath`): arrays on the way and at
 * the end are traversed element by element; a path that reaches nothing gives no value.
 */
function valuesAtPath(doc: unknown, path: string): unknown[] {
  const parts = splitPath(path);
  const out: unknown[] = [];
  const visit = (v: unknown, i: number): void => {
    if (i === parts.length) {
      if (Array.isArray(v)) out.push(...(v as unknown[]));
      else if (v !== undefined) out.push(v);
      return;
    }
    if (Array.isArray(v)) {
      for (const e of v) if (isPlainObject(e)) visit(e, i);
      return;
    }
    if (isPlainObject(v)) visit(v[parts[i]], i + 1);
  };
  visit(doc, 0);
  return out;
}

/**
 * `doc` with `path` set to `value` (`MutableDocument::setNestedField`): intermediate fields that
 * are not documents are replaced by documents; other fields keep their place.
 */
function withNestedField(doc: Doc, path: string, value: unknown): Doc {
  const parts = splitPath(path);
  const set = (d: Doc, i: number): Doc => {
    const out: Doc = { ...d };
    const k = parts[i];
    if (i === parts.length - 1) out[k] = value;
    else {
      const cur = d[k];
      out[k] = set(isPlainObject(cur) ? cur : {}, i + 1);
    }
    return out;
  };
  return set(doc, 0);
}

/** A query over `docs` with the pipeline's (BSON-aware) query operators. */
function select(docs: readonly Doc[], filter: Doc, options: Options): Doc[] {
  const q = new Query(filter, options);
  return docs.filter((d) => q.test(d));
}

// ---- $lookup -----------------------------------------------------------------------------------

interface LookupSpec {
  readonly from: string | undefined;
  readonly as: string;
  readonly localField: string;
  readonly foreignField: string;
  readonly pipeline: Doc[] | undefined;
  readonly let: Doc | undefined;
}

/** The `from` of `$lookup`: a string; the `{db, coll}` form only names internal namespaces. */
function parseLookupFrom(v: unknown): string {
  if (typeof v === "string") return v;
  if (!isPlainObject(v))
    throw new ServerError(
      ErrorCodes.FailedToParse,
      `$lookup 'from' field must be a string or an object, but found ${bsonTypeName(v)}`,
    );
  const db = typeof v.db === "string" ? v.db : "";
  const coll = typeof v.coll === "string" ? v.coll : "";
  // Allowed in MongoDB only for config.cache.chunks.*, config.collections, config.chunks and
  // local.oplog.rs, none of which sessionsim has.
  throw new ServerError(
    ErrorCodes.FailedToParse,
    `$lookup with syntax {from: {db:<>, coll:<>},..} is not supported for db: ${db} and coll: ${coll}`,
  );
}

/** `DocumentSourceLookUp::createFromBson` (`src/mongo/db/pipeline/document_source_lookup.cpp`). */
function parseLookup(spec: unknown): LookupSpec {
  if (!isPlainObject(spec))
    throw new ServerError(ErrorCodes.FailedToParse, "the $lookup specification must be an Object");
  let from: string | undefined;
  let as = "";
  let localField = "";
  let foreignField = "";
  let pipeline: Doc[] | undefined;
  let letVars: Doc | undefined;
  for (const [name, v] of Object.entries(spec)) {
    if (v === undefined) continue;
    if (name === "pipeline") {
      pipeline = parseSubPipeline(v);
      continue;
    }
    if (name === "let") {
      if (!isPlainObject(v))
        throw new ServerError(
          ErrorCodes.FailedToParse,
          `$lookup argument 'let: ${formatBson(v)}' must be an object, is type ${bsonTypeName(v)}`,
        );
      letVars = v;
      continue;
    }
    if (name === "from") {
      from = parseLookupFrom(v);
      continue;
    }
    if (typeof v !== "string")
      throw new ServerError(
        ErrorCodes.FailedToParse,
        `$lookup argument '${name}' must be a string, found ${name}: ${formatBson(v)}: ${bsonTypeName(v)}`,
      );
    if (name === "as") as = v;
    else if (name === "localField") localField = v;
    else if (name === "foreignField") foreignField = v;
    else throw new ServerError(ErrorCodes.FailedToParse, `unknown argument to $lookup: ${name}`);
  }
  if (from === undefined && (pipeline === undefined || pipeline.length === 0 || !("$documents" in pipeline[0])))
    throw new ServerError(
      ErrorCodes.FailedToParse,
      "$lookup stage without explicit collection must have a pipeline with $documents as first stage",
    );
  if (as === "") throw new ServerError(ErrorCodes.FailedToParse, "must specify 'as' field for a $lookup");
  if (pipeline !== undefined) {
    if ((localField === "") !== (foreignField === ""))
      throw new ServerError(
        ErrorCodes.FailedToParse,
        "$lookup requires both or neither of 'localField' and 'foreignField' to be specified",
      );
  } else {
    if (localField === "" || foreignField === "")
      throw new ServerError(
        ErrorCodes.FailedToParse,
        "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified",
      );
    if (letVars !== undefined)
      throw new ServerError(ErrorCodes.FailedToParse, "$lookup with a 'let' argument must also specify 'pipeline'");
  }
  return { from, as, localField, foreignField, pipeline, let: letVars };
}

/**
 * The join condition for one input document (`createMatchStageJoinObj`): the local values
 * (missing → null) as `{foreignField: {$eq: v}}`, or an `$or` of those for several values (which
 * is `$in` without its pattern matching of regular expressions).
 */
function joinFilter(input: Doc, localField: string, foreignField: string): Doc {
  const values = valuesAtPath(input, localField);
  if (values.length === 0) values.push(null);
  if (values.length === 1) return { [foreignField]: { $eq: values[0] } };
  return { $or: values.map((v) => ({ [foreignField]: { $eq: v } })) };
}

/**
 * `$lookup`: for each input document, the foreign documents matching the join (equality of
 * `localField` and `foreignField`, BSON-typed, arrays traversed, missing = null) and/or produced by
 * `pipeline` (with the `let` variables), as an array in `as`.
 *
 * @remarks `document_source_lookup.cpp`: with both syntaxes the join `$match` runs first in the
 * sub-pipeline (after a leading `$documents`).
 */
export function $lookup(coll: Iterator, raw: unknown, options: StageOptions): Iterator {
  const spec = parseLookup(raw);
  const foreign = spec.from === undefined ? [] : resolveForeign(options, "$lookup", spec.from);
  const join = spec.localField !== "";
  const pipeline = spec.pipeline ?? [];
  const lead = pipeline.length > 0 && "$documents" in pipeline[0] ? pipeline.slice(0, 1) : [];
  const rest = pipeline.slice(lead.length);
  const plain = subOptions(options);
  return coll.map((input: Doc) => {
    let results: Doc[];
    if (pipeline.length === 0) results = select(foreign, joinFilter(input, spec.localField, spec.foreignField), plain);
    else {
      const vars = spec.let === undefined ? undefined : (evalExpr(input, spec.let, options) as AnyObject);
      const stages = join
        ? [...lead, { $match: joinFilter(input, spec.localField, spec.foreignField) }, ...rest]
        : pipeline;
      // Each run gets its own copies: sub-pipeline stages may modify their input in place.
      results = new Aggregator(stages, subOptions(options, vars)).run<Doc>(foreign.map((d) => deepCopy(d)));
    }
    return withNestedField(input, spec.as, results);
  });
}

// ---- $graphLookup ------------------------------------------------------------------------------

interface GraphLookupSpec {
  readonly from: string;
  readonly as: string;
  readonly startWith: unknown;
  readonly connectFromField: string;
  readonly connectToField: string;
  readonly depthField: string | undefined;
  readonly maxDepth: number | undefined;
  readonly restrictSearchWithMatch: Doc | undefined;
}

const GRAPH_STRING_ARGS = new Set(["from", "as", "connectFromField", "connectToField", "depthField"]);

/** `DocumentSourceGraphLookUp::createFromBson` (`document_source_graph_lookup.cpp`). */
function parseGraphLookup(spec: unknown): GraphLookupSpec {
  if (!isPlainObject(spec)) throw new ServerError(10065, "invalid parameter: expected an object ($graphLookup)");
  const s: { -readonly [K in keyof GraphLookupSpec]?: GraphLookupSpec[K] } = {};
  let hasStartWith = false;
  for (const [name, v] of Object.entries(spec)) {
    if (v === undefined) continue;
    if (name === "startWith") {
      s.startWith = v;
      hasStartWith = true;
      continue;
    }
    if (name === "maxDepth") {
      if (!isNumeric(v)) throw new ServerError(40100, `maxDepth must be numeric, found type: ${bsonTypeName(v)}`);
      const n = toDouble(v);
      const whole = Math.trunc(n);
      if (whole < 0) throw new ServerError(40101, `maxDepth requires a nonnegative argument, found: ${whole}`);
      if (whole !== n) throw new ServerError(40102, `maxDepth could not be represented as a long long: ${whole}`);
      s.maxDepth = whole;
      continue;
    }
    if (name === "restrictSearchWithMatch") {
      if (!isPlainObject(v))
        throw new ServerError(40185, `restrictSearchWithMatch must be an object, found ${bsonTypeName(v)}`);
      s.restrictSearchWithMatch = v;
      continue;
    }
    if (GRAPH_STRING_ARGS.has(name) && typeof v !== "string")
      throw new ServerError(40103, `expected string as argument for ${name}, found: ${bsonTypeName(v)}`);
    const str = v as string;
    if (name === "from") s.from = str;
    else if (name === "as") s.as = str;
    else if (name === "connectFromField") s.connectFromField = str;
    else if (name === "connectToField") s.connectToField = str;
    else if (name === "depthField") s.depthField = str;
    else throw new ServerError(40104, `Unknown argument to $graphLookup: ${name}`);
  }
  if (!s.from || !s.as || !hasStartWith || !s.connectFromField || !s.connectToField)
    throw new ServerError(
      40105,
      "$graphLookup requires 'from', 'as', 'startWith', 'connectFromField', and 'connectToField' to be specified.",
    );
  return s as GraphLookupSpec;
}

/** Adds each value (each element of an array) to the frontier, once per distinct BSON value. */
function addToFrontier(frontier: Map<string, unknown>, v: unknown): void {
  for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined) frontier.set(bsonKey(x), x);
}

/**
 * `$graphLookup`: a breadth-first search of the foreign collection from the `startWith` values,
 * following `connectFromField` → `connectToField` (`$in` of the frontier, and
 * `restrictSearchWithMatch`), each document once, at most `maxDepth` steps; the documents found go
 * to `as`, with their depth (a long) in `depthField`.
 *
 * @remarks `document_source_graph_lookup.cpp` (`doBreadthFirstSearch`). The order of `as` is
 * unspecified in MongoDB; here it is discovery order.
 */
export function $graphLookup(coll: Iterator, raw: unknown, options: StageOptions): Iterator {
  const spec = parseGraphLookup(raw);
  const foreign = resolveForeign(options, "$graphLookup", spec.from);
  const plain = subOptions(options);
  if (spec.restrictSearchWithMatch !== undefined) {
    try {
      new Query(spec.restrictSearchWithMatch, plain);
    } catch (e) {
      const why = e instanceof Error ? e.message.replace(/^unknown query operator/, "unknown operator:") : String(e);
      throw new ServerError(
        e instanceof ServerError ? e.code : ErrorCodes.BadValue,
        `Failed to parse 'restrictSearchWithMatch' option to $graphLookup :: caused by :: ${why}`,
      );
    }
  }
  return coll.map((input: Doc) => {
    let frontier = new Map<string, unknown>();
    addToFrontier(frontier, evalExpr(input, spec.startWith, options));
    const visited = new Map<string, { doc: Doc; depth: number }>();
    for (let depth = 0; frontier.size > 0 && (spec.maxDepth === undefined || depth <= spec.maxDepth); depth++) {
      const step: Doc = { [spec.connectToField]: { $in: [...frontier.values()] } };
      const filter = spec.restrictSearchWithMatch === undefined ? step : { $and: [step, spec.restrictSearchWithMatch] };
      const next = new Map<string, unknown>();
      for (const doc of select(foreign, filter, plain)) {
        const id = bsonKey(doc._id);
        if (visited.has(id)) continue;
        visited.set(id, { doc, depth });
        addToFrontier(next, valuesAtPath(doc, spec.connectFromField));
      }
      frontier = next;
    }
    const found: Doc[] = [];
    for (const { doc, depth } of visited.values())
      found.push(spec.depthField === undefined ? doc : withNestedField(doc, spec.depthField, Long.fromNumber(depth)));
    return withNestedField(input, spec.as, found);
  });
}

// ---- $unionWith --------------------------------------------------------------------------------

interface UnionWithSpec {
  readonly coll: string | undefined;
  readonly pipeline: Doc[] | undefined;
}

/** `DocumentSourceUnionWith::createFromBson` with the IDL `UnionWithSpec` (`coll`, `pipeline`). */
function parseUnionWith(spec: unknown): UnionWithSpec {
  if (typeof spec === "string") return { coll: spec, pipeline: undefined };
  if (!isPlainObject(spec))
    throw new ServerError(
      ErrorCodes.FailedToParse,
      `the $unionWith stage specification must be an object or string, but found ${bsonTypeName(spec)}`,
    );
  let coll: string | undefined;
  let pipeline: Doc[] | undefined;
  for (const [name, v] of Object.entries(spec)) {
    if (v === undefined) continue;
    if (name === "coll") {
      if (typeof v !== "string")
        throw new ServerError(
          ErrorCodes.TypeMismatch,
          `BSON field '$unionWith.coll' is the wrong type '${bsonTypeName(v)}', expected type 'string'`,
        );
      coll = v;
    } else if (name === "pipeline") {
      if (!Array.isArray(v))
        throw new ServerError(
          ErrorCodes.TypeMismatch,
          `BSON field '$unionWith.pipeline' is the wrong type '${bsonTypeName(v)}', expected type 'array'`,
        );
      v.forEach((s, i) => {
        if (!isPlainObject(s))
          throw new ServerError(
            ErrorCodes.TypeMismatch,
            `BSON field '$unionWith.pipeline.${i}' is the wrong type '${bsonTypeName(s)}', expected type 'object'`,
          );
      });
      pipeline = v as Doc[];
    } else throw new ServerError(ErrorCodes.Location40415, `BSON field '$unionWith.${name}' is an unknown field.`);
  }
  if (coll === undefined && (pipeline === undefined || pipeline.length === 0 || !("$documents" in pipeline[0])))
    throw new ServerError(
      ErrorCodes.FailedToParse,
      "$unionWith stage without explicit collection must have a pipeline with $documents as first stage",
    );
  return { coll, pipeline };
}

/**
 * `$unionWith`: the input documents, then those of the other collection (through its
 * `pipeline`, if any).
 *
 * @remarks `document_source_union_with.cpp`.
 */
export function $unionWith(coll: Iterator, raw: unknown, options: StageOptions): Iterator {
  const spec = parseUnionWith(raw);
  const foreign = spec.coll === undefined ? [] : resolveForeign(options, "$unionWith", spec.coll);
  return coll.transform((input: Doc[]) => {
    const other =
      spec.pipeline === undefined || spec.pipeline.length === 0
        ? [...foreign]
        : new Aggregator(spec.pipeline, subOptions(options)).run<Doc>(foreign);
    return Lazy([...input, ...other]);
  });
}

// ---- helpers for callers ---------------------------------------------------------------------

/**
 * The sub-pipelines of a stage, with the stage that holds them: `$facet`'s, `$lookup`'s and
 * `$unionWith`'s `pipeline`. Malformed ones are left to the stage's own parse errors.
 */
export function subPipelinesOf(
  stage: Doc,
): { readonly holder: "$facet" | "$lookup" | "$unionWith"; readonly pipeline: Doc[] }[] {
  const name = Object.keys(stage)[0];
  const spec = stage[name];
  const out: { holder: "$facet" | "$lookup" | "$unionWith"; pipeline: Doc[] }[] = [];
  if (!isPlainObject(spec)) return out;
  const isPipeline = (v: unknown): v is Doc[] => Array.isArray(v) && v.every((s) => isPlainObject(s));
  if (name === "$facet") {
    for (const v of Object.values(spec)) if (isPipeline(v)) out.push({ holder: "$facet", pipeline: v });
  } else if ((name === "$lookup" || name === "$unionWith") && isPipeline(spec.pipeline))
    out.push({ holder: name, pipeline: spec.pipeline });
  return out;
}

/** The collection a `$lookup`/`$graphLookup`/`$unionWith` stage reads, if it names one. */
export function foreignCollectionOf(stage: Doc): string | undefined {
  const name = Object.keys(stage)[0];
  const spec = stage[name];
  if (name === "$unionWith") {
    if (typeof spec === "string") return spec;
    return isPlainObject(spec) && typeof spec.coll === "string" ? spec.coll : undefined;
  }
  if (name === "$lookup" || name === "$graphLookup")
    return isPlainObject(spec) && typeof spec.from === "string" ? spec.from : undefined;
  return undefined;
}

/**
 * Every collection (of the pipeline's database) a pipeline reads besides its input, nested
 * pipelines included, in first-mention order.
 */
export function foreignCollections(pipeline: readonly Doc[]): string[] {
  const out = new Set<string>();
  const walk = (stages: readonly Doc[]): void => {
    for (const stage of stages) {
      if (!isPlainObject(stage)) continue;
      const c = foreignCollectionOf(stage);
      if (c !== undefined) out.add(c);
      for (const sub of subPipelinesOf(stage)) walk(sub.pipeline);
    }
  };
  walk(pipeline);
  return [...out];
}
