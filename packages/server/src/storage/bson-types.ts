/**
 * Classifying the JS values that stand for BSON values in stored documents.
 *
 * Documents are plain JS objects whose values are `bson` classes (Binary/UUID, Long, Timestamp,
 * ObjectId, Decimal128, Int32, Double, MinKey, MaxKey, BSONRegExp, Code), JS `Date`, `RegExp`,
 * numbers, strings, booleans, `null`, arrays and nested plain objects. `bson` classes are recognised
 * by their `_bsontype` tag, so values from another copy of the library are handled too.
 *
 * @packageDocumentation
 */

/** A stored document: a plain object whose values are BSON values. */
export type Doc = Record<string, unknown>;

/**
 * MongoDB's canonical type order for comparisons (`canonicalizeBSONType` in
 * `src/mongo/bson/bsontypes.cpp`): values of different canonical types compare by this rank.
 */
export const CanonicalType = Object.freeze({
  MinKey: -1,
  Missing: 0,
  Null: 5,
  Number: 10,
  String: 15,
  Object: 20,
  Array: 25,
  BinData: 30,
  ObjectId: 35,
  Boolean: 40,
  Date: 45,
  Timestamp: 47,
  RegEx: 50,
  Code: 60,
  MaxKey: 127,
} as const);

/** One of the {@link CanonicalType} ranks. */
export type CanonicalTypeRank = (typeof CanonicalType)[keyof typeof CanonicalType];

/** The `_bsontype` tag of a `bson` class instance, or `undefined` for anything else. */
export function bsonTag(v: object): string | undefined {
  return (v as { _bsontype?: string })._bsontype;
}

/**
 * The first field name of a document (a command's name, an operator), without listing every key;
 * undefined for an empty one.
 */
export function firstKey(o: object): string | undefined {
  for (const k in o) return k;
  return undefined;
}

/**
 * True for a plain (sub)document: not an array, Date, RegExp, typed array or `bson` class.
 * Only plain documents are traversed by dotted paths.
 */
export function isPlainObject(v: unknown): v is Doc {
  if (typeof v !== "object" || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The canonical comparison rank of a BSON value (`undefined` = missing). */
export function canonicalType(v: unknown): CanonicalTypeRank {
  switch (typeof v) {
    case "number":
    case "bigint":
      return CanonicalType.Number;
    case "string":
      return CanonicalType.String;
    case "boolean":
      return CanonicalType.Boolean;
    case "undefined":
      return CanonicalType.Missing;
    case "object":
      break;
    default:
      return CanonicalType.Code;
  }
  if (v === null) return CanonicalType.Null;
  if (Array.isArray(v)) return CanonicalType.Array;
  const tag = bsonTag(v);
  if (tag !== undefined) {
    switch (tag) {
      case "Binary":
        return CanonicalType.BinData;
      case "Long":
      case "Int32":
      case "Double":
      case "Decimal128":
        return CanonicalType.Number;
      case "ObjectId":
        return CanonicalType.ObjectId;
      case "Timestamp":
        return CanonicalType.Timestamp;
      case "MinKey":
        return CanonicalType.MinKey;
      case "MaxKey":
        return CanonicalType.MaxKey;
      case "BSONRegExp":
        return CanonicalType.RegEx;
      case "BSONSymbol":
        return CanonicalType.String;
      case "Code":
        return CanonicalType.Code;
      default:
        return CanonicalType.Object;
    }
  }
  if (v instanceof Date) return CanonicalType.Date;
  if (v instanceof RegExp) return CanonicalType.RegEx;
  if (v instanceof Uint8Array) return CanonicalType.BinData;
  return CanonicalType.Object;
}

/** The bytes and subtype of a BinData value (a `bson` Binary/UUID or a bare Uint8Array). */
export function binDataParts(v: object): { bytes: Uint8Array; subType: number } {
  if (v instanceof Uint8Array) return { bytes: v, subType: 0 };
  const b = v as { buffer: Uint8Array; position: number; sub_type: number };
  const bytes = b.position === b.buffer.length ? b.buffer : b.buffer.subarray(0, b.position);
  return { bytes, subType: b.sub_type };
}

/** The numeric value of a JS number or numeric `bson` wrapper, as a double (may round). */
export function toDouble(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  const tag = typeof v === "object" && v !== null ? bsonTag(v) : undefined;
  switch (tag) {
    case "Long":
      return (v as { toNumber(): number }).toNumber();
    case "Int32":
    case "Double":
      return (v as { value: number }).value;
    case "Decimal128":
      return Number((v as { toString(): string }).toString());
    default:
      return NaN;
  }
}

/** True if `v` is a number or a numeric `bson` type (Long, Int32, Double, Decimal128). */
export function isNumeric(v: unknown): boolean {
  return canonicalType(v) === CanonicalType.Number;
}

/**
 * MongoDB's type name of a value (`$type` aliases, `typeName()` in error messages): "double",
 * "int", "long", "decimal", "string", "object", "array", "binData", "objectId", "bool", "date",
 * "null", "regex", "timestamp", "minKey", "maxKey", "javascript", "missing".
 *
 * @remarks A JS number is "int" when it is an integer in int32 range (what the `bson` serializer
 * writes), else "double".
 */
export function bsonTypeName(v: unknown): string {
  switch (typeof v) {
    case "number":
      return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? "int" : "double";
    case "bigint":
      return "long";
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "undefined":
      return "missing";
    case "object":
      break;
    default:
      return "javascript";
  }
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  const tag = bsonTag(v);
  switch (tag) {
    case undefined:
      break;
    case "Binary":
      return "binData";
    case "Long":
      return "long";
    case "Int32":
      return "int";
    case "Double":
      return "double";
    case "Decimal128":
      return "decimal";
    case "ObjectId":
      return "objectId";
    case "Timestamp":
      return "timestamp";
    case "MinKey":
      return "minKey";
    case "MaxKey":
      return "maxKey";
    case "BSONRegExp":
      return "regex";
    case "BSONSymbol":
      return "symbol";
    case "Code":
      return "javascript";
    default:
      return "object";
  }
  if (v instanceof Date) return "date";
  if (v instanceof RegExp) return "regex";
  if (v instanceof Uint8Array) return "binData";
  return "object";
}
