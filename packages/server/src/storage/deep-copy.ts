/**
 * Copying documents so that stored documents are never aliased by callers.
 *
 * @packageDocumentation
 */
import { bsonTag } from "./bson-types.js";

function copyObject(v: object): unknown {
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = deepCopy(v[i]);
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
  if (Object.isFrozen(o) && holdsOnlyImmutables(o)) return o;
  const out: Record<string, unknown> = {};
  for (const k in o) out[k] = deepCopy(o[k]);
  return out;
}

/**
 * True if every value of `o` is a primitive or a bson value: a frozen `o` is then immutable, and
 * copies share it (the refresh's `_id: {id, uid}` documents are frozen for this: a million
 * stored sessions keep the statement's `_id` instead of a copy).
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
  return (typeof v === "object" && v !== null ? copyObject(v) : v) as T;
}
