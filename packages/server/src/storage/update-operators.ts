/**
 * Update operators (`$set`, `$inc`, `$push`, ...): parsing and applying a modifier-style update
 * document (`UpdateDriver` / `src/mongo/db/update/*_node.cpp`). Written by hand: mingo's updater
 * compares BSON values by `toString()` and does not report MongoDB's errors.
 *
 * @packageDocumentation
 */
import { Long, Timestamp } from "bson";
import { ServerError, ErrorCodes } from "../errors/index.js";
import { bsonEquals, compareBson } from "./bson-order.js";
import { bsonKey } from "./bson-key.js";
import { formatBson } from "./bson-format.js";
import { bsonTag, bsonTypeName, isNumeric, isPlainObject, toDouble, type Doc } from "./bson-types.js";
import { deepCopy } from "./deep-copy.js";
import { isArrayIndex, keyValues } from "./field-path.js";
import { compileFilter } from "./matcher.js";

/**
 * Codes from `error_codes.yml` that the shared code table does not list yet (their codeName
 * reads "Location<code>" until it does).
 */
export const UpdateErrorCodes = Object.freeze({
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  InvalidIdField: 53,
  EmptyFieldName: 56,
} as const);

/** The update operators sessionsim models. */
export const ModifierNames = Object.freeze([
  "$addToSet",
  "$currentDate",
  "$inc",
  "$max",
  "$min",
  "$mul",
  "$pop",
  "$pull",
  "$pullAll",
  "$push",
  "$rename",
  "$set",
  "$setOnInsert",
  "$unset",
] as const);

/** One of {@link ModifierNames}. */
export type ModifierName = (typeof ModifierNames)[number];

const MODIFIERS: ReadonlySet<string> = new Set(ModifierNames);

/** The environment an update is applied in. */
export interface UpdateEnv {
  /** The node's wall clock (`$currentDate`, `$$NOW`). */
  readonly now: Date;
  /** The value `$currentDate: {$type: "timestamp"}` writes; default `Timestamp(now seconds, 1)`. */
  readonly clusterTime?: Timestamp;
  /** True when the update builds a new document for an upsert (`$setOnInsert` applies). */
  readonly isInsert: boolean;
}

interface PushArg {
  readonly each: readonly unknown[];
  readonly slice?: number;
  readonly sort?: 1 | -1 | Doc;
  readonly position?: number;
}

/** One parsed `{$op: {path: arg}}` entry. */
export interface ModifierOp {
  readonly op: ModifierName;
  readonly path: string;
  readonly parts: readonly string[];
  /** The argument, parsed per operator (e.g. a {@link PushArg} for `$push`). */
  readonly arg: unknown;
  /** `$rename`: the destination. */
  readonly to?: { readonly path: string; readonly parts: readonly string[] };
}

function typeOfForMessage(v: unknown): string {
  const t = bsonTypeName(v);
  return t === "missing" ? "missing" : t;
}

function checkPath(path: string, op: string): string[] {
  if (path === "") throw new ServerError(UpdateErrorCodes.EmptyFieldName, "An empty update path is not valid.");
  const parts = path.split(".");
  for (const p of parts) {
    if (p === "") {
      throw new ServerError(
        UpdateErrorCodes.EmptyFieldName,
        `The update path '${path}' contains an empty field name, which is not allowed.`,
      );
    }
    if (p.startsWith("$") && p !== "$[]") {
      if (p === "$" || /^\$\[\w*\]$/.test(p)) {
        throw new ServerError(
          ErrorCodes.BadValue,
          `sessionsim does not model the positional operator '${p}' (in ${op} path '${path}'); use '$[]' or an explicit index`,
        );
      }
      throw new ServerError(
        ErrorCodes.DollarPrefixedFieldName,
        `The dollar ($) prefixed field '${p}' in '${path}' is not valid for storage.`,
      );
    }
  }
  return parts;
}

function parsePushArg(arg: unknown, op: "$push" | "$addToSet"): PushArg {
  if (!isPlainObject(arg) || !("$each" in arg)) return { each: [arg] };
  const each = arg.$each;
  if (!Array.isArray(each)) {
    throw new ServerError(
      ErrorCodes.BadValue,
      op === "$push"
        ? `The argument to $each in $push must be an array but it was of type: ${typeOfForMessage(each)}`
        : `The argument to $each in $addToSet must be an array but it was of type ${typeOfForMessage(each)}`,
    );
  }
  if (op === "$addToSet") {
    for (const k of Object.keys(arg)) {
      if (k !== "$each")
        throw new ServerError(
          ErrorCodes.BadValue,
          `Found unexpected fields after $each in $addToSet: ${formatBson(arg)}`,
        );
    }
    return { each };
  }
  let slice: number | undefined;
  let sort: 1 | -1 | Doc | undefined;
  let position: number | undefined;
  for (const k of Object.keys(arg)) {
    const v = arg[k];
    switch (k) {
      case "$each":
        break;
      case "$slice":
        if (!isNumeric(v) || !Number.isInteger(toDouble(v))) {
          throw new ServerError(
            ErrorCodes.BadValue,
            `The value for $slice must be an integer value but was given type: ${typeOfForMessage(v)}`,
          );
        }
        slice = toDouble(v);
        break;
      case "$position":
        if (!isNumeric(v) || !Number.isInteger(toDouble(v))) {
          throw new ServerError(
            ErrorCodes.BadValue,
            `The value for $position must be an integer value, not of type: ${typeOfForMessage(v)}`,
          );
        }
        position = toDouble(v);
        break;
      case "$sort": {
        const d = isNumeric(v) ? toDouble(v) : undefined;
        const validDoc =
          isPlainObject(v) &&
          Object.keys(v).length > 0 &&
          Object.values(v).every((x) => isNumeric(x) && Math.abs(toDouble(x)) === 1);
        if (d !== 1 && d !== -1 && !validDoc) {
          throw new ServerError(
            ErrorCodes.BadValue,
            "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields",
          );
        }
        sort = d === 1 || d === -1 ? d : (v as Doc);
        break;
      }
      default:
        throw new ServerError(ErrorCodes.BadValue, `Unrecognized clause in $push: ${k}`);
    }
  }
  return { each, slice, sort, position };
}

function parseArg(op: ModifierName, path: string, arg: unknown): unknown {
  switch (op) {
    case "$inc":
    case "$mul":
      if (!isNumeric(arg)) {
        throw new ServerError(
          ErrorCodes.TypeMismatch,
          `Cannot ${op === "$inc" ? "increment" : "multiply"} with non-numeric argument: {${path}: ${formatBson(arg)}}`,
        );
      }
      return arg;
    case "$currentDate": {
      if (arg === true || arg === false) return "date";
      if (isPlainObject(arg) && "$type" in arg) {
        if (arg.$type === "date" || arg.$type === "timestamp") return arg.$type;
        throw new ServerError(
          ErrorCodes.BadValue,
          "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}",
        );
      }
      throw new ServerError(
        ErrorCodes.BadValue,
        `${path}: ${formatBson(arg)} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`,
      );
    }
    case "$push":
    case "$addToSet":
      return parsePushArg(arg, op);
    case "$pop": {
      const d = isNumeric(arg) ? toDouble(arg) : NaN;
      if (d !== 1 && d !== -1) {
        throw new ServerError(ErrorCodes.FailedToParse, `Expected a number in: ${path}: ${formatBson(arg)}`);
      }
      return d;
    }
    case "$pullAll":
      if (!Array.isArray(arg))
        throw new ServerError(
          ErrorCodes.BadValue,
          "$pullAll requires an array argument but was given a " + typeOfForMessage(arg),
        );
      return arg;
    case "$pull":
      return pullMatcher(arg);
    default:
      return arg;
  }
}

function pullMatcher(cond: unknown): (e: unknown) => boolean {
  if (isPlainObject(cond)) {
    const first = Object.keys(cond)[0];
    if (first !== undefined && first.startsWith("$")) {
      // {$gte: 6}: the condition applies to each element as a value.
      const m = compileFilter({ v: cond });
      return (e) => m({ v: e });
    }
    // {score: 8}: a query over element documents.
    const m = compileFilter(cond);
    return (e) => isPlainObject(e) && m(e);
  }
  if (cond instanceof RegExp)
    return (e) => typeof e === "string" && new RegExp(cond.source, cond.flags.replace(/[gy]/g, "")).test(e);
  return (e) => bsonEquals(e, cond);
}

/** Component-wise path order: numeric names numerically, others lexicographically (MongoDB 5.0+). */
function comparePaths(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (isArrayIndex(x) && isArrayIndex(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function isPrefix(p: readonly string[], q: readonly string[]): boolean {
  if (p.length > q.length) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return false;
  return true;
}

/**
 * Parses a modifier-style update (`{$set: {...}, $inc: {...}}`) into operations sorted in the
 * order MongoDB applies them (by path).
 *
 * @throws ServerError FailedToParse for an unknown modifier or a non-object operand, 40
 * (ConflictingUpdateOperators) when two paths overlap, TypeMismatch for a non-numeric `$inc`,
 * BadValue for malformed `$push`/`$rename`/`$currentDate` arguments.
 */
export function parseModifiers(update: Doc): ModifierOp[] {
  const ops: ModifierOp[] = [];
  for (const name of Object.keys(update)) {
    if (!MODIFIERS.has(name)) {
      throw new ServerError(
        ErrorCodes.FailedToParse,
        `Unknown modifier: ${name}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    const op = name as ModifierName;
    const operand = update[name];
    if (!isPlainObject(operand)) {
      throw new ServerError(
        ErrorCodes.FailedToParse,
        `Modifiers operate on fields but we found type ${typeOfForMessage(operand)} instead. For example: {$mod: {<field>: ...}} not {${name}: ${formatBson(operand)}}`,
      );
    }
    for (const path of Object.keys(operand)) {
      const arg = operand[path];
      const parts = checkPath(path, op);
      if (op === "$rename") {
        if (typeof arg !== "string") {
          throw new ServerError(
            ErrorCodes.BadValue,
            `The 'to' field for $rename must be a string: ${path}: ${formatBson(arg)}`,
          );
        }
        if (parts.includes("$[]"))
          throw new ServerError(ErrorCodes.BadValue, `The source field for $rename may not be dynamic: ${path}`);
        const toParts = checkPath(arg, op);
        if (toParts.includes("$[]"))
          throw new ServerError(ErrorCodes.BadValue, `The destination field for $rename may not be dynamic: ${arg}`);
        if (arg === path) {
          throw new ServerError(
            ErrorCodes.BadValue,
            `The source and target field for $rename must differ: ${path}: ${formatBson(arg)}`,
          );
        }
        if (isPrefix(parts, toParts) || isPrefix(toParts, parts)) {
          throw new ServerError(
            ErrorCodes.BadValue,
            `The source and target field for $rename must not be on the same path: ${path}: ${formatBson(arg)}`,
          );
        }
        ops.push({ op, path, parts, arg: undefined, to: { path: arg, parts: toParts } });
        continue;
      }
      ops.push({ op, path, parts, arg: parseArg(op, path, arg) });
    }
  }
  // Conflicts: every path an op touches ($rename touches two) must be disjoint from the others.
  const touched: { path: string; parts: readonly string[] }[] = [];
  for (const o of ops) {
    touched.push(o);
    if (o.to) touched.push(o.to);
  }
  for (let i = 0; i < touched.length; i++) {
    for (let j = i + 1; j < touched.length; j++) {
      const a = touched[i];
      const b = touched[j];
      const [short, long] = a.parts.length <= b.parts.length ? [a, b] : [b, a];
      if (isPrefix(short.parts, long.parts)) {
        throw new ServerError(
          UpdateErrorCodes.ConflictingUpdateOperators,
          `Updating the path '${long.path}' would create a conflict at '${short.path}'`,
        );
      }
    }
  }
  return ops.sort((a, b) => comparePaths(a.to?.parts ?? a.parts, b.to?.parts ?? b.parts));
}

// ---------------------------------------------------------------------------------------------
// Applying

type Container = Doc | unknown[];

function idForMessage(doc: Doc): string {
  return `{_id: ${formatBson(doc._id)}}`;
}

/** Expands `$[]` components into concrete paths over `doc`. */
function expandAllPositional(doc: Doc, parts: readonly string[], path: string): (readonly string[])[] {
  const k = parts.indexOf("$[]");
  if (k < 0) return [parts];
  let cur: unknown = doc;
  for (let i = 0; i < k; i++) {
    cur = Array.isArray(cur) ? cur[Number(parts[i])] : isPlainObject(cur) ? cur[parts[i]] : undefined;
  }
  if (!Array.isArray(cur)) {
    throw new ServerError(
      ErrorCodes.BadValue,
      `The path '${parts.slice(0, k).join(".")}' must exist in the document in order to apply array updates.`,
    );
  }
  const out: (readonly string[])[] = [];
  for (let i = 0; i < cur.length; i++) {
    const concrete = [...parts.slice(0, k), String(i), ...parts.slice(k + 1)];
    out.push(...expandAllPositional(doc, concrete, path));
  }
  return out;
}

function childOf(c: Container, key: string): unknown {
  if (Array.isArray(c)) return isArrayIndex(key) ? c[Number(key)] : undefined;
  return c[key];
}

function setChild(c: Container, key: string, value: unknown): void {
  if (Array.isArray(c)) {
    const idx = Number(key);
    while (c.length < idx) c.push(null);
    c[idx] = value;
  } else {
    c[key] = value;
  }
}

/**
 * The container of the last component of `parts`, creating missing embedded documents when
 * `create` (else `undefined` when the path does not exist).
 */
function parentOf(doc: Doc, parts: readonly string[], create: boolean): Container | undefined {
  let cur: Container = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i];
    if (Array.isArray(cur) && !isArrayIndex(part)) {
      if (!create) return undefined;
      throw new ServerError(
        UpdateErrorCodes.PathNotViable,
        `Cannot create field '${part}' in element {${parts[i - 1]}: ${formatBson(cur)}}`,
      );
    }
    let next = childOf(cur, part);
    if (next === undefined) {
      if (!create) return undefined;
      next = {};
      setChild(cur, part, next);
    } else if (!isPlainObject(next) && !Array.isArray(next)) {
      if (!create) return undefined;
      throw new ServerError(
        UpdateErrorCodes.PathNotViable,
        `Cannot create field '${parts[i + 1]}' in element {${part}: ${formatBson(next)}}`,
      );
    }
    cur = next as Container;
  }
  const last = parts[parts.length - 1];
  if (Array.isArray(cur) && !isArrayIndex(last)) {
    if (!create) return undefined;
    throw new ServerError(
      UpdateErrorCodes.PathNotViable,
      `Cannot create field '${last}' in element {${parts[parts.length - 2]}: ${formatBson(cur)}}`,
    );
  }
  return cur;
}

function zeroLike(v: unknown): unknown {
  return typeof v === "object" && v !== null && bsonTag(v) === "Long" ? Long.ZERO : 0;
}

function isIntegral(v: unknown): boolean {
  if (typeof v === "number") return Number.isInteger(v);
  const tag = typeof v === "object" && v !== null ? bsonTag(v) : undefined;
  return tag === "Long" || tag === "Int32";
}

/** `a + b` / `a * b` keeping Long when a Long meets integers (wrapping like int64), else doubles. */
function arith(op: "$inc" | "$mul", a: unknown, b: unknown): unknown {
  if (typeof a === "number" && typeof b === "number") return op === "$inc" ? a + b : a * b;
  const aLong = typeof a === "object" && a !== null && bsonTag(a) === "Long";
  const bLong = typeof b === "object" && b !== null && bsonTag(b) === "Long";
  if ((aLong || bLong) && isIntegral(a) && isIntegral(b)) {
    const x = aLong ? (a as Long) : Long.fromNumber(toDouble(a));
    const y = bLong ? (b as Long) : Long.fromNumber(toDouble(b));
    return op === "$inc" ? x.add(y) : x.multiply(y);
  }
  const x = toDouble(a);
  const y = toDouble(b);
  return op === "$inc" ? x + y : x * y;
}

function applyPush(arr: unknown[], arg: PushArg): unknown[] {
  const out = arr.slice();
  const each = arg.each.map((e) => deepCopy(e));
  if (arg.position === undefined) out.push(...each);
  else {
    const p = arg.position < 0 ? Math.max(0, out.length + arg.position) : Math.min(arg.position, out.length);
    out.splice(p, 0, ...each);
  }
  if (arg.sort !== undefined) {
    const spec = arg.sort;
    const keyed = out.map((v, i) => ({ v, i }));
    keyed.sort((x, y) => {
      let c = 0;
      if (typeof spec === "number") c = compareBson(x.v, y.v) * spec;
      else {
        for (const f of Object.keys(spec)) {
          const kx = keyValues(x.v, f)[0] ?? null;
          const ky = keyValues(y.v, f)[0] ?? null;
          c = compareBson(kx, ky) * toDouble(spec[f]);
          if (c !== 0) break;
        }
      }
      return c || x.i - y.i;
    });
    for (let i = 0; i < keyed.length; i++) out[i] = keyed[i].v;
  }
  if (arg.slice !== undefined) {
    return arg.slice >= 0 ? out.slice(0, arg.slice) : out.slice(Math.max(0, out.length + arg.slice));
  }
  return out;
}

function applyOne(doc: Doc, o: ModifierOp, parts: readonly string[], env: UpdateEnv): void {
  const last = parts[parts.length - 1];
  switch (o.op) {
    case "$setOnInsert":
    case "$set": {
      if (o.op === "$setOnInsert" && !env.isInsert) return;
      const c = parentOf(doc, parts, true)!;
      setChild(c, last, deepCopy(o.arg));
      return;
    }
    case "$unset": {
      const c = parentOf(doc, parts, false);
      if (c === undefined) return;
      if (Array.isArray(c)) {
        if (Number(last) < c.length) c[Number(last)] = null;
      } else delete c[last];
      return;
    }
    case "$inc":
    case "$mul": {
      const c = parentOf(doc, parts, true)!;
      const cur = childOf(c, last);
      if (cur === undefined) {
        setChild(c, last, o.op === "$inc" ? deepCopy(o.arg) : zeroLike(o.arg));
        return;
      }
      if (!isNumeric(cur)) {
        throw new ServerError(
          ErrorCodes.TypeMismatch,
          `Cannot apply ${o.op} to a value of non-numeric type. ${idForMessage(doc)} has the field '${last}' of non-numeric type ${typeOfForMessage(cur)}`,
        );
      }
      setChild(c, last, arith(o.op, cur, o.arg));
      return;
    }
    case "$min":
    case "$max": {
      const c = parentOf(doc, parts, true)!;
      const cur = childOf(c, last);
      const cmp = cur === undefined ? 0 : compareBson(o.arg, cur);
      if (cur === undefined || (o.op === "$min" ? cmp < 0 : cmp > 0)) setChild(c, last, deepCopy(o.arg));
      return;
    }
    case "$currentDate": {
      const c = parentOf(doc, parts, true)!;
      const value =
        o.arg === "date"
          ? new Date(env.now.getTime())
          : (env.clusterTime ?? new Timestamp({ t: Math.floor(env.now.getTime() / 1000), i: 1 }));
      setChild(c, last, value);
      return;
    }
    case "$push":
    case "$addToSet": {
      const c = parentOf(doc, parts, true)!;
      const cur = childOf(c, last);
      if (cur !== undefined && !Array.isArray(cur)) {
        throw new ServerError(
          ErrorCodes.BadValue,
          o.op === "$push"
            ? `The field '${last}' must be an array but is of type ${typeOfForMessage(cur)} in document ${idForMessage(doc)}`
            : `Cannot apply $addToSet to non-array field. Field named '${last}' has non-array type ${typeOfForMessage(cur)}`,
        );
      }
      const arr = (cur as unknown[] | undefined) ?? [];
      const arg = o.arg as PushArg;
      if (o.op === "$push") {
        setChild(c, last, applyPush(arr, arg));
      } else {
        const seen = new Set(arr.map(bsonKey));
        const out = arr.slice();
        for (const e of arg.each) {
          const k = bsonKey(e);
          if (!seen.has(k)) {
            seen.add(k);
            out.push(deepCopy(e));
          }
        }
        setChild(c, last, out);
      }
      return;
    }
    case "$pull":
    case "$pullAll":
    case "$pop": {
      const c = parentOf(doc, parts, false);
      if (c === undefined) return;
      const cur = childOf(c, last);
      if (cur === undefined) return;
      if (!Array.isArray(cur)) {
        throw new ServerError(
          ErrorCodes.BadValue,
          o.op === "$pop"
            ? `Path '${o.path}' contains an element of non-array type '${typeOfForMessage(cur)}'`
            : `Cannot apply ${o.op} to a non-array value`,
        );
      }
      if (o.op === "$pop") {
        if (cur.length > 0) setChild(c, last, o.arg === 1 ? cur.slice(0, -1) : cur.slice(1));
      } else if (o.op === "$pull") {
        const test = o.arg as (e: unknown) => boolean;
        setChild(
          c,
          last,
          cur.filter((e) => !test(e)),
        );
      } else {
        const drop = new Set((o.arg as unknown[]).map(bsonKey));
        setChild(
          c,
          last,
          cur.filter((e) => !drop.has(bsonKey(e))),
        );
      }
      return;
    }
    case "$rename":
      applyRename(doc, o);
      return;
  }
}

function arrayOnPath(doc: Doc, parts: readonly string[]): string | undefined {
  let cur: unknown = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[parts[i]];
    if (Array.isArray(cur)) return parts[i];
  }
  return undefined;
}

function applyRename(doc: Doc, o: ModifierOp): void {
  const to = o.to!;
  const srcArray = arrayOnPath(doc, o.parts);
  if (srcArray !== undefined) {
    throw new ServerError(
      ErrorCodes.BadValue,
      `The source field cannot be an array element, '${o.path}' in doc with _id: ${formatBson(doc._id)} has an array field called '${srcArray}'`,
    );
  }
  const src = parentOf(doc, o.parts, false);
  const last = o.parts[o.parts.length - 1];
  if (src === undefined || Array.isArray(src) || src[last] === undefined) return;
  const dstArray = arrayOnPath(doc, to.parts);
  if (dstArray !== undefined) {
    throw new ServerError(
      ErrorCodes.BadValue,
      `The destination field cannot be an array element, '${to.path}' in doc with _id: ${formatBson(doc._id)} has an array field called '${dstArray}'`,
    );
  }
  const value = src[last];
  delete src[last];
  const dst = parentOf(doc, to.parts, true)!;
  setChild(dst, to.parts[to.parts.length - 1], value);
}

/**
 * Applies parsed modifiers to `doc` in place (callers pass a copy).
 *
 * @throws ServerError TypeMismatch (`$inc` on a string), 28 PathNotViable (a path through a
 * scalar), BadValue (`$push` on a non-array, ...).
 */
export function applyModifiers(doc: Doc, ops: readonly ModifierOp[], env: UpdateEnv): void {
  for (const o of ops) {
    if (o.parts.includes("$[]")) {
      for (const parts of expandAllPositional(doc, o.parts, o.path)) applyOne(doc, o, parts, env);
    } else {
      applyOne(doc, o, o.parts, env);
    }
  }
}
