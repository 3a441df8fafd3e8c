/**
 * Copying documents so that stored documents are never aliased by callers.
 *
 * @packageDocumentation
 */
import { bsonTag } from "./bson-types.js";

function copyObject(v: object, shareFrozen: boolean): unknown {
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyValue(v[i], shareFrozen);
    return out;
  }
  // bson values (Binary/UUID, ObjectId, Long, Timestamp, Decimal128, ...) are never mutated in
  // sessionsim, so copies share them: copying a UUID's buffer per stored document was the
  // largest cost of a million-session refresh.
  if (bsonTag(v) !== undefined) return v;
  if (v instanceof Date) return new Date(v.getTime());
  if (v instanceof RegExp) return new RegExp(v.source, v.flags);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  const o = v as Record<string, unknown>;
  if (shareFrozen && Object.isFrozen(o) && holdsOnlyImmutables(o)) return o;
  const out: Record<string, unknown> = {};
  for (const k in o) out[k] = copyValue(o[k], shareFrozen);
  return out;
}

function copyValue(v: unknown, shareFrozen: boolean): unknown {
  return typeof v === "object" && v !== null ? copyObject(v, shareFrozen) : v;
}

/**
 * True if every value of `o` is a primitive or a bson value: a frozen `o` is then immutable, and
 * {@link copyToStore} shares it.
 */
function holdsOnlyImmutables(o: Record<string, unknown>): boolean {
  for (const k in o) {
    const x = o[k];
    if (typeof x === "object" && x !== null && bsonTag(x) === undefined) return false;
  }
  return true;
}

/**
 * A deep copy of a document that keeps BSON types: plain objects, arrays and `Date`s are copied
 * recursively; `bson` values (Binary/UUID, ObjectId, Long, Timestamp, ...) are shared, since
 * nothing in sessionsim mutates them.
 *
 * @example
 * ```ts
 * const copy = deepCopy({ _id: { id: new UUID() }, lastUse: new Date(0) });
 * ```
 */
export function deepCopy<T>(v: T): T {
  return copyValue(v, false) as T;
}

/**
 * {@link deepCopy} for a value going into a stored document: a frozen plain document that holds
 * only primitives and bson values is immutable, and is shared instead of copied (the refresh's
 * frozen `_id: {id, uid}`: a million stored sessions keep the statement's `_id`). Reads copy with
 * {@link deepCopy}, so callers never receive a frozen document.
 */
export function copyToStore<T>(v: T): T {
  return copyValue(v, true) as T;
}
