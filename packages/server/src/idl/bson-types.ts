import { bsonTypeName, firstKey, isNumeric, isPlainObject, toDouble } from "../storage/bson-types.js";

/** A BSON document as the simulation handles it: a plain object of bson-typed values. */
export type Document = Record<string, unknown>;

/** MongoDB's name for a value's BSON type (`$type` aliases): "int", "double", "string", "object", ... */
export const bsonTypeOf: (v: unknown) => string = bsonTypeName;

/** A numeric BSON value as a JS number (Long beyond 2^53 loses precision). */
export const toNumber: (v: unknown) => number = toDouble;

export { firstKey, isNumeric };

/** A plain document (not an array, not a bson value class, not a Date). */
export function isDocument(v: unknown): v is Document {
  return isPlainObject(v);
}

/** MongoDB's truthiness for flags such as `{startSession: 1}` or `allUsers: true`. */
export function isTrue(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (isNumeric(v)) return toNumber(v) !== 0;
  return v !== undefined && v !== null;
}
