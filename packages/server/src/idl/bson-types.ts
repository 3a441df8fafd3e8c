import { Binary, Long, ObjectId, Timestamp, Decimal128, Double, Int32, BSONRegExp, MinKey, MaxKey, UUID } from "bson";

/** A BSON document as the simulation handles it: a plain object of bson-typed values. */
export type Document = Record<string, unknown>;

/** MongoDB's name for a value's BSON type (`typeName` in the server, `$type` aliases). */
export type BsonTypeName =
  | "double"
  | "string"
  | "object"
  | "array"
  | "binData"
  | "undefined"
  | "objectId"
  | "bool"
  | "date"
  | "null"
  | "regex"
  | "int"
  | "timestamp"
  | "long"
  | "decimal"
  | "minKey"
  | "maxKey"
  | "javascript";

/** The BSON type a value would be serialised as (plain integers in int32 range are `int`). */
export function bsonTypeOf(v: unknown): BsonTypeName {
  if (v === null) return "null";
  switch (typeof v) {
    case "undefined":
      return "undefined";
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "number":
      return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 && !Object.is(v, -0) ? "int" : "double";
    case "bigint":
      return "long";
    case "function":
      return "javascript";
    default:
      break;
  }
  if (Array.isArray(v)) return "array";
  if (v instanceof Date) return "date";
  if (v instanceof Long) return "long";
  if (v instanceof Int32) return "int";
  if (v instanceof Double) return "double";
  if (v instanceof Binary || v instanceof UUID) return "binData";
  if (v instanceof ObjectId) return "objectId";
  if (v instanceof Timestamp) return "timestamp";
  if (v instanceof Decimal128) return "decimal";
  if (v instanceof RegExp || v instanceof BSONRegExp) return "regex";
  if (v instanceof MinKey) return "minKey";
  if (v instanceof MaxKey) return "maxKey";
  return "object";
}

/** A plain document (not an array, not a bson value class). */
export function isDocument(v: unknown): v is Document {
  return bsonTypeOf(v) === "object";
}

/** True for the numeric BSON types. */
export function isNumeric(v: unknown): boolean {
  const t = bsonTypeOf(v);
  return t === "int" || t === "long" || t === "double" || t === "decimal";
}

/** A numeric BSON value as a JS number (Long beyond 2^53 loses precision; Decimal128 via string). */
export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Long) return v.toNumber();
  if (v instanceof Int32 || v instanceof Double) return v.valueOf();
  if (v instanceof Decimal128) return Number(v.toString());
  return NaN;
}

/** MongoDB's truthiness for flags such as `{startSession: 1}` or `allUsers: true`. */
export function isTrue(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (isNumeric(v)) return toNumber(v) !== 0;
  return v !== undefined && v !== null;
}
