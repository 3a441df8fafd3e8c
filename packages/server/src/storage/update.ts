/**
 * Update documents of all three kinds — replacement, modifiers, pipeline — and upsert seeding
 * (`UpdateDriver` in `src/mongo/db/update/update_driver.cpp`).
 *
 * @packageDocumentation
 */
import { ServerError, ErrorCodes } from "../errors/index.js";
import { parseAddFields } from "./add-fields.js";
import { bsonEquals } from "./bson-order.js";
import { formatBson } from "./bson-format.js";
import { firstKey, isPlainObject, type Doc } from "./bson-types.js";
import { copyToStore, deepCopy } from "./deep-copy.js";
import { splitPath } from "./field-path.js";
import { BSON_CONTEXT } from "./mingo-context.js";
import { runPipeline, type Stage } from "./pipeline.js";
import {
  applyModifiers,
  parseModifiers,
  UpdateErrorCodes,
  type ModifierOp,
  type UpdateEnv,
} from "./update-operators.js";

/** The stages an update pipeline may contain. */
const UPDATE_STAGES: ReadonlySet<string> = new Set([
  "$addFields",
  "$set",
  "$project",
  "$unset",
  "$replaceRoot",
  "$replaceWith",
]);

/** A parsed update. */
export type ParsedUpdate =
  | { readonly kind: "replacement"; readonly doc: Doc }
  | { readonly kind: "modifiers"; readonly ops: readonly ModifierOp[] }
  | {
      readonly kind: "pipeline";
      readonly pipeline: readonly Stage[];
      /**
       * Set when every stage is a `$set`/`$addFields` of constants and `$$NOW` with plain field
       * names (the session refresh's pipeline): the stage specs, applied without mingo.
       */
      readonly constantStages: readonly Doc[] | undefined;
    };

/** True for an expression with no field paths or operators: constants, and `"$$NOW"`. */
function isConstantExpr(v: unknown): boolean {
  if (typeof v === "string") return !v.startsWith("$") || v === "$$NOW";
  if (Array.isArray(v)) return v.every(isConstantExpr);
  if (isPlainObject(v)) {
    for (const k in v) if (k.startsWith("$") || !isConstantExpr(v[k])) return false;
    return true;
  }
  return true;
}

function evalConstant(v: unknown, now: Date): unknown {
  // Stored documents are never mutated and reads copy them, so every document one update stamps
  // shares its `now` (a refresh writes a thousand records per command).
  if (v === "$$NOW") return now;
  if (Array.isArray(v)) return v.map((e) => evalConstant(e, now));
  if (isPlainObject(v)) {
    const out: Doc = {};
    for (const k in v) out[k] = evalConstant(v[k], now);
    return out;
  }
  return deepCopy(v);
}

function hasFields(v: Doc): boolean {
  for (const _ in v) return true;
  return false;
}

/**
 * True for a `$set` spec the constant path can apply: field names without dots or `$`, values
 * that are constants, `"$$NOW"`, or nested specs of the same kind.
 */
function isConstantSetSpec(spec: unknown): spec is Doc {
  if (!isPlainObject(spec)) return false;
  for (const k in spec) {
    if (k.length === 0 || k.charCodeAt(0) === 36 || k.includes(".")) return false;
    const v = spec[k];
    if (isPlainObject(v) && hasFields(v)) {
      if (!isConstantSetSpec(v)) return false;
    } else if (!isConstantExpr(v)) {
      return false;
    }
  }
  return true;
}

function setIntoValue(existing: unknown, spec: Doc, now: Date): unknown {
  if (isPlainObject(existing)) return applyConstantSet(existing, spec, now);
  if (Array.isArray(existing)) return existing.map((e) => setIntoValue(e, spec, now));
  return applyConstantSet({}, spec, now);
}

/**
 * `$addFields` semantics (see `add-fields.ts`) for a spec accepted by {@link isConstantSetSpec}:
 * a nested spec merges into the embedded document (or each document of an array).
 */
function applyConstantSet(input: Doc, spec: Doc, now: Date): Doc {
  return setInto({ ...input }, spec, now);
}

/** Applies a constant `$set` spec to `out` in place (embedded documents are copied). */
function setInto(out: Doc, spec: Doc, now: Date): Doc {
  for (const k in spec) {
    const v = spec[k];
    out[k] = isPlainObject(v) && hasFields(v) ? setIntoValue(out[k], v, now) : evalConstant(v, now);
  }
  return out;
}

function parsePipeline(pipeline: unknown[]): ParsedUpdate {
  const specs: Doc[] = [];
  let constant = true;
  for (const stage of pipeline) {
    let name: string | undefined;
    let fields = 0;
    if (isPlainObject(stage)) for (const k in stage) if (fields++ === 0) name = k;
    if (name === undefined || fields !== 1) {
      throw new ServerError(40323, "A pipeline stage specification object must contain exactly one field.");
    }
    if (!UPDATE_STAGES.has(name)) {
      if (BSON_CONTEXT.getOperator("pipeline" as never, name) === null) {
        throw new ServerError(ErrorCodes.Location40324, `Unrecognized pipeline stage name: '${name}'`);
      }
      throw new ServerError(ErrorCodes.InvalidOptions, `${name} is not allowed to be used within an update`);
    }
    const spec = (stage as Doc)[name];
    if (constant && (name === "$set" || name === "$addFields") && isConstantSetSpec(spec)) {
      specs.push(spec);
    } else {
      if (name === "$set" || name === "$addFields") parseAddFields(spec, name); // validate now
      constant = false;
    }
  }
  return { kind: "pipeline", pipeline: pipeline as Stage[], constantStages: constant ? specs : undefined };
}

/**
 * Parses and validates an update (the `u` of an update statement).
 *
 * @remarks An array is a pipeline (only `$addFields $set $project $unset $replaceRoot
 * $replaceWith`); an object whose first field starts with `$` holds modifiers; any other object
 * is a replacement document.
 *
 * @throws ServerError FailedToParse (unknown modifier, non-object operand), InvalidOptions (a
 * stage not allowed in an update), 40324 (unknown stage), DollarPrefixedFieldName (a `$` field in
 * a replacement), 40 ConflictingUpdateOperators.
 */
export function parseUpdate(update: unknown): ParsedUpdate {
  if (Array.isArray(update)) {
    // A deep-frozen pipeline cannot change: it is parsed once (the session refresh sends the same
    // frozen pipeline in every one of its statements).
    const known = parsedFrozenPipelines.get(update);
    if (known !== undefined) return known;
    const parsed = parsePipeline(update);
    if (isDeepFrozen(update)) parsedFrozenPipelines.set(update, parsed);
    return parsed;
  }
  if (!isPlainObject(update)) {
    throw new ServerError(ErrorCodes.FailedToParse, "Update argument must be either an object or an array");
  }
  const keys = Object.keys(update);
  if (keys.length > 0 && keys[0].startsWith("$")) return { kind: "modifiers", ops: parseModifiers(update) };
  for (const k of keys) {
    if (k.startsWith("$")) {
      throw new ServerError(
        ErrorCodes.DollarPrefixedFieldName,
        `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
      );
    }
  }
  return { kind: "replacement", doc: update };
}

const parsedFrozenPipelines = new WeakMap<readonly unknown[], ParsedUpdate>();

/**
 * Freezes an update pipeline and everything in it, so that {@link parseUpdate} parses it once for
 * every statement that sends it (the session refresh's upserts).
 */
export function freezePipeline(stages: Doc[]): readonly Doc[] {
  const freeze = (v: unknown): void => {
    if (typeof v !== "object" || v === null) return;
    for (const x of Object.values(v)) freeze(x);
    Object.freeze(v);
  };
  freeze(stages);
  return stages;
}

/** True if `v` and every plain object or array inside it are frozen. */
function isDeepFrozen(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return true;
  if (!Object.isFrozen(v)) return false;
  if (Array.isArray(v)) return v.every(isDeepFrozen);
  if (!isPlainObject(v)) return true;
  for (const k in v) if (!isDeepFrozen(v[k])) return false;
  return true;
}

/** Puts `_id` first, as MongoDB stores it. */
function idFirst(doc: Doc, id: unknown): Doc {
  const out: Doc = { _id: id };
  for (const k in doc) if (k !== "_id") out[k] = doc[k];
  return out;
}

function checkIdType(doc: Doc): void {
  if (Array.isArray(doc._id)) {
    throw new ServerError(UpdateErrorCodes.InvalidIdField, "The '_id' value cannot be of type array");
  }
}

/**
 * Applies a parsed update to `doc` and returns the new version. The update is not modified, and
 * neither is `doc` unless `env.isInsert` (then `doc` is the upsert seed, which the caller hands
 * over). The result may share unchanged values with `doc` (stored versions are never mutated in
 * place) but never with the update.
 *
 * @remarks A replacement or pipeline result without `_id` keeps the original `_id` (first). An
 * update may not change an existing `_id`.
 *
 * @throws ServerError ImmutableField (66) when `_id` would change, plus the errors of the
 * individual modifiers and stages.
 */
export function applyUpdate(doc: Doc, update: ParsedUpdate, env: UpdateEnv): Doc {
  if (env.isInsert && update.kind === "pipeline" && update.constantStages !== undefined) {
    // An upsert of constant stages (the refresh's): the private seed is written in place, and
    // nobody asks whether it changed.
    applyConstantStages(doc, update.constantStages, env.now, "_id" in doc, doc._id);
    return doc;
  }
  return applyUpdateTracked(doc, update, env).doc;
}

/** Applies constant `$set` stages to `out` in place; an `_id` it had (`hadId`: `id`) may not change. */
function applyConstantStages(out: Doc, stages: readonly Doc[], now: Date, hadId: boolean, id: unknown): void {
  for (const spec of stages) setInto(out, spec, now);
  if (hadId && !bsonEquals(out._id, id)) throw immutableIdError(out._id);
  checkIdType(out);
}

/** {@link applyUpdate}, also saying whether the new version differs from `doc`. */
export function applyUpdateTracked(doc: Doc, update: ParsedUpdate, env: UpdateEnv): { doc: Doc; changed: boolean } {
  const hadId = "_id" in doc;
  let out: Doc;
  switch (update.kind) {
    case "modifiers": {
      out = deepCopy(doc);
      applyModifiers(out, update.ops, env);
      if (hadId && !bsonEquals(out._id, doc._id)) {
        throw new ServerError(
          ErrorCodes.ImmutableField,
          "Performing an update on the path '_id' would modify the immutable field '_id'",
        );
      }
      checkIdType(out);
      return { doc: out, changed: !bsonEquals(out, doc) };
    }
    case "replacement":
      out = deepCopy(update.doc);
      break;
    case "pipeline": {
      if (update.constantStages !== undefined) {
        // Only top-level fields named by the stages can change, and none can be removed.
        // One output document for all stages; an upsert seed is private, so it is written in place.
        out = env.isInsert ? doc : { ...doc };
        applyConstantStages(out, update.constantStages, env.now, hadId, doc._id);
        let changed = env.isInsert;
        for (const spec of changed ? [] : update.constantStages) {
          for (const k in spec) {
            if (!bsonEquals(out[k], doc[k])) {
              changed = true;
              break;
            }
          }
          if (changed) break;
        }
        return { doc: out, changed };
      }
      const res = runPipeline([doc], update.pipeline, { now: env.now, clusterTime: env.clusterTime });
      if (res.length !== 1) {
        throw new ServerError(ErrorCodes.BadValue, "An update pipeline must produce exactly one document");
      }
      out = res[0];
      break;
    }
  }
  if (hadId) {
    if (!("_id" in out)) out = idFirst(out, doc._id);
    else if (!bsonEquals(out._id, doc._id)) throw immutableIdError(out._id);
  }
  checkIdType(out);
  return { doc: out, changed: !bsonEquals(out, doc) };
}

function immutableIdError(id: unknown): ServerError {
  return new ServerError(
    ErrorCodes.ImmutableField,
    `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatBson(id)}`,
  );
}

function equalities(filter: Doc, out: [string, unknown][]): void {
  for (const k of Object.keys(filter)) {
    const v = filter[k];
    if (k === "$and") {
      if (Array.isArray(v)) for (const sub of v) if (isPlainObject(sub)) equalities(sub, out);
      continue;
    }
    if (k.startsWith("$")) continue;
    if (v instanceof RegExp) continue;
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      if (keys.length > 0 && keys[0].startsWith("$")) {
        if ("$eq" in v) out.push([k, v.$eq]);
        continue;
      }
    }
    out.push([k, v]);
  }
}

/** The upsert seed of the filter `{_id: id}` (`id` a value, not an operator document): `{_id: id}`. */
export function idSeed(id: unknown): Doc {
  // Built from `{}`, which has room for a few more fields in the object itself: the update then
  // adds `lastUse` without allocating a property store (one per stored session).
  const seed: Doc = {};
  seed._id = copyToStore(id);
  return seed;
}

/**
 * The document an upsert starts from: the equality conditions of the query (`{a: 1}`,
 * `{a: {$eq: 1}}`, inside `$and`), dotted paths expanded, `_id` first. The update is then applied
 * to it with `isInsert: true`.
 *
 * @example
 * ```ts
 * upsertSeed({ _id: lsid, "x.y": 1, n: { $gt: 2 } }); // { _id: lsid, x: { y: 1 } }
 * ```
 */
export function upsertSeed(filter: unknown): Doc {
  if (!isPlainObject(filter)) return {};
  let only: string | undefined;
  for (const k in filter) {
    if (only !== undefined) {
      only = undefined;
      break;
    }
    only = k;
  }
  if (only === "_id") {
    const v = filter._id;
    const first = isPlainObject(v) ? firstKey(v) : undefined;
    if (!(v instanceof RegExp) && (first === undefined || !first.startsWith("$"))) return idSeed(v);
  }
  const eqs: [string, unknown][] = [];
  equalities(filter, eqs);
  const seed: Doc = {};
  for (const [path, value] of eqs) {
    const parts = splitPath(path);
    let cur: Doc = seed;
    let ok = true;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = cur[parts[i]];
      if (next === undefined) cur = cur[parts[i]] = {};
      else if (isPlainObject(next)) cur = next;
      else {
        ok = false;
        break;
      }
    }
    if (ok) cur[parts[parts.length - 1]] = deepCopy(value);
  }
  return "_id" in seed ? idFirst(seed, seed._id) : seed;
}
