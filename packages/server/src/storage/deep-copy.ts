/**
 * Copying documents so that stored documents are never aliased by callers.
 *
 * @packageDocumentation
 */
import { Binary, ObjectId, UUID } from "bson";
import { bsonTag } from "./bson-types.js";

function copyObject(v: object): unknown {
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = deepCopy(v[i]);
    return out;
  }
  const tag = bsonTag(v);
  if (tag !== undefined) {
    switch (tag) {
      case "Binary": {
        const b = v as Binary;
        // Buffer.from copies into Node's shared pool: no ArrayBuffer per small value.
        const bytes = Buffer.from(b.position === b.buffer.length ? b.buffer : b.buffer.subarray(0, b.position));
        return b instanceof UUID ? new UUID(bytes) : new Binary(bytes, b.sub_type);
      }
      case "ObjectId":
        return new ObjectId((v as ObjectId).id);
      default:
        // Long, Timestamp, Decimal128, Int32, Double, MinKey, MaxKey, BSONRegExp, Code: no
        // mutating API, shared.
        return v;
    }
  }
  if (v instanceof Date) return new Date(v.getTime());
  if (v instanceof RegExp) return new RegExp(v.source, v.flags);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in o) out[k] = deepCopy(o[k]);
  return out;
}

/**
 * A deep copy of a document or BSON value that keeps BSON types: plain objects and arrays are
 * copied recursively, `Date`, `Binary`/`UUID` (same class and subtype) and `ObjectId` get fresh
 * instances; immutable `bson` values (Long, Timestamp, Decimal128, ...) are shared.
 *
 * @example
 * ```ts
 * const copy = deepCopy({ _id: { id: new UUID() }, lastUse: new Date(0) });
 * ```
 */
export function deepCopy<T>(v: T): T {
  return (typeof v === "object" && v !== null ? copyObject(v) : v) as T;
}
