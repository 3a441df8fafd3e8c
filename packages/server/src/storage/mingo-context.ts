/**
 * The mingo operator context sessionsim runs queries and pipelines with: mingo's operators, with
 * the ones that compare, hash or merge values replaced by BSON-aware versions.
 *
 * mingo compares `bson` class instances by `toString()` (lossy UTF-8 for Binary, decimal text for
 * Long and Timestamp), never equates `1` with `Long(1)` or a UUID with a subtype-4 Binary, and its
 * `$addFields` replaces embedded documents instead of merging into them. Replaced: the query
 * comparisons (`$eq $ne $gt $gte $lt $lte $in $nin $all $exists $type`), the expression
 * comparisons (`$eq $ne $gt $gte $lt $lte $cmp $in`), the `$min`/`$max` accumulators and the
 * `$sort`, `$group`, `$addFields` and `$set` stages; `$project` is mingo's with MongoDB's field
 * order restored.
 *
 * @packageDocumentation
 */
import { Context, ProcessingMode, evalExpr } from "mingo/core";
import { Lazy, type Iterator } from "mingo/lazy";
import { Query } from "mingo/query";
import type { AnyObject, Options } from "mingo/types";
import * as mingoAccumulators from "mingo/operators/accumulator";
import * as mingoExpressions from "mingo/operators/expression";
import * as mingoPipeline from "mingo/operators/pipeline";
import * as mingoProjection from "mingo/operators/projection";
import * as mingoQuery from "mingo/operators/query";
import * as mingoWindow from "mingo/operators/window";
import { ServerError, ErrorCodes } from "../errors/index.js";
import { applyAddFields, parseAddFields } from "./add-fields.js";
import { bsonEquals, compareBson } from "./bson-order.js";
import { bsonKey } from "./bson-key.js";
import {
  CanonicalType,
  bsonTag,
  bsonTypeName,
  canonicalType,
  isNumeric,
  isPlainObject,
  type Doc,
} from "./bson-types.js";
import { MISSING, pathValues } from "./field-path.js";
import { parseSort, sortDocs } from "./sort.js";
import { $graphLookup, $lookup, $unionWith } from "./foreign-stages.js";

type Values = readonly unknown[];
type Test = (vals: Values) => boolean;
type Predicate = (doc: AnyObject) => boolean;

/** A path that reaches nothing, or reaches a missing/null value, counts as null. */
const isNullish = (vals: Values): boolean => vals.length === 0 || vals.some((v) => v === null || v === MISSING);

function eqTest(rhs: unknown): Test {
  if (rhs === null) return isNullish;
  return (vals) => vals.some((v) => v !== MISSING && bsonEquals(v, rhs));
}

function cmpTest(rhs: unknown, ok: (c: number) => boolean, inclusive: boolean): Test {
  if (rhs === null) return inclusive ? isNullish : () => false;
  const t = canonicalType(rhs);
  const anyType = t === CanonicalType.MinKey || t === CanonicalType.MaxKey;
  return (vals) => vals.some((v) => v !== MISSING && (anyType || canonicalType(v) === t) && ok(compareBson(v, rhs)));
}

function toRegExp(v: unknown): RegExp | undefined {
  if (v instanceof RegExp) return v.global || v.sticky ? new RegExp(v.source, v.flags.replace(/[gy]/g, "")) : v;
  if (typeof v === "object" && v !== null && bsonTag(v) === "BSONRegExp") {
    const r = v as { pattern: string; options: string };
    return new RegExp(r.pattern, r.options.replace(/[^imsu]/g, ""));
  }
  return undefined;
}

function inTest(list: unknown, op: string): Test {
  if (!Array.isArray(list)) throw new ServerError(ErrorCodes.BadValue, `${op} needs an array`);
  const keys = new Set<string>();
  const regexes: RegExp[] = [];
  let hasNull = false;
  for (const e of list) {
    const re = toRegExp(e);
    if (re) regexes.push(re);
    else if (e === null) hasNull = true;
    else if (isPlainObject(e) && Object.keys(e).some((k) => k.startsWith("$"))) {
      throw new ServerError(ErrorCodes.BadValue, `cannot nest $ under ${op}`);
    } else keys.add(bsonKey(e));
  }
  return (vals) => {
    if (hasNull && isNullish(vals)) return true;
    for (const v of vals) {
      if (v === MISSING) continue;
      if (keys.has(bsonKey(v))) return true;
      if (regexes.length > 0 && typeof v === "string" && regexes.some((r) => r.test(v))) return true;
    }
    return false;
  };
}

const TYPE_CODES: Readonly<Record<string, string>> = Object.freeze({
  "1": "double",
  "2": "string",
  "3": "object",
  "4": "array",
  "5": "binData",
  "6": "undefined",
  "7": "objectId",
  "8": "bool",
  "9": "date",
  "10": "null",
  "11": "regex",
  "13": "javascript",
  "14": "symbol",
  "16": "int",
  "17": "timestamp",
  "18": "long",
  "19": "decimal",
  "-1": "minKey",
  "127": "maxKey",
});
const TYPE_NAMES = new Set([...Object.values(TYPE_CODES), "number"]);

function typeTest(spec: unknown): Test {
  const wanted = (Array.isArray(spec) ? spec : [spec]).map((t) => {
    const name = typeof t === "number" ? TYPE_CODES[String(t)] : typeof t === "string" ? t : undefined;
    if (name === undefined || !TYPE_NAMES.has(name)) {
      throw new ServerError(
        ErrorCodes.BadValue,
        typeof t === "string" ? `Unknown type name alias: ${t}` : `Invalid numerical type code: ${String(t)}`,
      );
    }
    return name;
  });
  return (vals) =>
    vals.some((v) => v !== MISSING && wanted.some((w) => (w === "number" ? isNumeric(v) : bsonTypeName(v) === w)));
}

const leaf =
  (make: (rhs: unknown, options: Options, selector: string) => Test) =>
  (selector: string, rhs: unknown, options: Options): Predicate => {
    const test = make(rhs, options, selector);
    return (doc) => test(pathValues(doc, selector));
  };

function allTest(list: unknown, options: Options, selector: string): Test {
  if (!Array.isArray(list)) throw new ServerError(ErrorCodes.BadValue, "$all needs an array");
  if (list.length === 0) return () => false;
  const tests = list.map((e): Test => {
    if (isPlainObject(e) && "$elemMatch" in e) {
      // {$all: [{$elemMatch: q}]} is {field: {$elemMatch: q}}; re-wrap the values as a document.
      const q = new Query({ [selector]: { $elemMatch: e.$elemMatch } }, options);
      return (vals) => vals.some((v) => Array.isArray(v) && q.test({ [selector]: v }));
    }
    return eqTest(e);
  });
  return (vals) => tests.every((t) => t(vals));
}

/** BSON-aware query operators (`{field: {$op: value}}`). */
const queryOverrides = {
  $eq: leaf((rhs) => eqTest(rhs)),
  $ne: leaf((rhs) => {
    const eq = eqTest(rhs);
    return (vals) => !eq(vals);
  }),
  $gt: leaf((rhs) => cmpTest(rhs, (c) => c > 0, false)),
  $gte: leaf((rhs) => cmpTest(rhs, (c) => c >= 0, true)),
  $lt: leaf((rhs) => cmpTest(rhs, (c) => c < 0, false)),
  $lte: leaf((rhs) => cmpTest(rhs, (c) => c <= 0, true)),
  $in: leaf((rhs) => inTest(rhs, "$in")),
  $nin: leaf((rhs) => {
    const t = inTest(rhs, "$nin");
    return (vals) => !t(vals);
  }),
  $all: leaf(allTest),
  $exists: leaf((rhs) => {
    const want = !(rhs === false || rhs === 0 || rhs === null);
    return (vals) => vals.some((v) => v !== MISSING) === want;
  }),
  $type: leaf((rhs) => typeTest(rhs)),
};

function evalPair(obj: unknown, expr: unknown, options: Options, op: string): [unknown, unknown] {
  if (!Array.isArray(expr) || expr.length !== 2) {
    throw new ServerError(
      16020,
      `Expression ${op} takes exactly 2 arguments. ${Array.isArray(expr) ? expr.length : 1} were passed in.`,
    );
  }
  const [a, b] = evalExpr(obj, expr, options) as unknown[];
  return [a, b];
}

const exprCompare =
  (op: string, ok: (c: number) => boolean) =>
  (obj: AnyObject, expr: unknown, options: Options): boolean => {
    const [a, b] = evalPair(obj, expr, options, op);
    return ok(compareBson(a, b));
  };

/** BSON-aware aggregation expression operators. */
const expressionOverrides = {
  $eq: exprCompare("$eq", (c) => c === 0),
  $ne: exprCompare("$ne", (c) => c !== 0),
  $gt: exprCompare("$gt", (c) => c > 0),
  $gte: exprCompare("$gte", (c) => c >= 0),
  $lt: exprCompare("$lt", (c) => c < 0),
  $lte: exprCompare("$lte", (c) => c <= 0),
  $cmp: (obj: AnyObject, expr: unknown, options: Options): number => {
    const [a, b] = evalPair(obj, expr, options, "$cmp");
    return compareBson(a, b);
  },
  $in: (obj: AnyObject, expr: unknown, options: Options): boolean => {
    const [x, arr] = evalPair(obj, expr, options, "$in");
    if (!Array.isArray(arr)) {
      throw new ServerError(40081, `$in requires an array as a second argument, found: ${bsonTypeName(arr)}`);
    }
    return arr.some((e) => bsonEquals(e, x));
  },
};

const extreme =
  (sign: 1 | -1) =>
  (coll: unknown[], expr: unknown, options: Options): unknown => {
    const vals: unknown[] = mingoAccumulators.$push(coll, expr, options);
    let best: unknown = null;
    for (const v of vals) {
      if (v === null || v === undefined) continue;
      if (best === null || compareBson(v, best) * sign > 0) best = v;
    }
    return best;
  };

/** BSON-aware accumulators. */
const accumulatorOverrides = { $max: extreme(1), $min: extreme(-1) };

function $sort(coll: Iterator, spec: unknown, _options: Options): Iterator {
  const sort = parseSort(spec);
  return coll.transform((items: Doc[]) => Lazy(sortDocs(items, sort)));
}

function $group(coll: Iterator, spec: unknown, options: Options): Iterator {
  if (!isPlainObject(spec) || !("_id" in spec)) {
    throw new ServerError(15955, "a group specification must include an _id");
  }
  const idExpr = spec._id;
  const fields = Object.keys(spec).filter((k) => k !== "_id");
  for (const f of fields) {
    const acc = spec[f];
    if (!isPlainObject(acc) || Object.keys(acc).length !== 1 || !Object.keys(acc)[0].startsWith("$")) {
      throw new ServerError(40234, `The field '${f}' must be an accumulator object`);
    }
  }
  return coll.transform((items: Doc[]) => {
    const groups = new Map<string, { id: unknown; docs: Doc[] }>();
    for (const doc of items) {
      const id = evalExpr(doc, idExpr, options) ?? null;
      const key = bsonKey(id);
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { id, docs: [] }));
      g.docs.push(doc);
    }
    const out: Doc[] = [];
    for (const g of groups.values()) {
      const doc: Doc = { _id: g.id };
      for (const f of fields) doc[f] = evalExpr(g.docs, spec[f], options);
      out.push(doc);
    }
    return Lazy(out);
  });
}

const addFieldsStage =
  (name: string) =>
  (coll: Iterator, spec: unknown, options: Options): Iterator => {
    const tree = parseAddFields(spec, name);
    return coll.map((doc: Doc) => applyAddFields(doc, tree, (expr, root) => evalExpr(root, expr, options)));
  };

/** True if a `$project` value computes the field (rather than including or excluding it). */
function isComputed(v: unknown): boolean {
  if (v === true || v === false || (typeof v === "number" && v !== 0) || v === 0) return false;
  if (isPlainObject(v)) {
    const first = Object.keys(v)[0];
    return first !== undefined && first.startsWith("$");
  }
  return true;
}

/**
 * Puts fields in MongoDB's order (mingo sorts them): fields kept from the input first, in input
 * order (embedded documents likewise); then computed fields, in specification order.
 */
function inputOrder(input: unknown, output: Doc, computed: readonly string[]): Doc {
  if (!isPlainObject(input)) return output;
  const out: Doc = {};
  for (const k of Object.keys(input)) {
    if (k in output && !computed.includes(k)) {
      const v = output[k];
      out[k] = isPlainObject(v) ? inputOrder(input[k], v, []) : v;
    }
  }
  for (const k of computed) if (k in output && !(k in out)) out[k] = output[k];
  for (const k of Object.keys(output)) if (!(k in out)) out[k] = output[k];
  return out;
}

function $project(coll: Iterator, spec: unknown, options: Options): Iterator {
  const computed: string[] = [];
  if (isPlainObject(spec))
    for (const k of Object.keys(spec)) if (!k.includes(".") && isComputed(spec[k])) computed.push(k);
  return coll.transform((items: Doc[]) => {
    const projected = mingoPipeline.$project(Lazy(items), spec as AnyObject, options).collect<Doc>();
    return Lazy(projected.map((p, i) => inputOrder(items[i], p, computed)));
  });
}

/** BSON-aware pipeline stages, and the stages that read other collections (`foreign-stages.ts`). */
const pipelineOverrides = {
  $project,
  $sort,
  $group,
  $addFields: addFieldsStage("$addFields"),
  $set: addFieldsStage("$set"),
  $lookup,
  $graphLookup,
  $unionWith,
};

/**
 * mingo's stages without those sessionsim does not model: `$out` and `$merge` (writes to another
 * collection) — refused as unrecognized stages — and `$sample`, which draws from `Math.random`.
 */
const { $out: _out, $merge: _merge, $sample: _sample, ...modelledPipeline } = mingoPipeline;

/** mingo's operators with the BSON-aware replacements above. */
export const BSON_CONTEXT: Context = Context.init({
  accumulator: { ...mingoAccumulators, ...accumulatorOverrides },
  expression: { ...mingoExpressions, ...expressionOverrides },
  pipeline: { ...modelledPipeline, ...pipelineOverrides },
  projection: { ...mingoProjection },
  query: { ...mingoQuery, ...queryOverrides },
  window: { ...mingoWindow },
});

/** The options every mingo Query/Aggregator in storage runs with. */
export const MINGO_OPTIONS: Partial<Options> = Object.freeze({
  context: BSON_CONTEXT,
  idKey: "_id",
  processingMode: ProcessingMode.CLONE_OFF,
  useStrictMode: true,
  scriptEnabled: false,
  failOnError: true,
});
