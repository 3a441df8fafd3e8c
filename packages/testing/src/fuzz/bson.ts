import fc from "fast-check";
import { Binary, Long, ObjectId, Timestamp, UUID, type Document } from "sessionsim";

/**
 * Odd numbers the server must cope with: NaN, infinities, -0, negatives, int32/int64 extremes.
 *
 * @example
 * fc.sample(oddNumber(), 5); // e.g. NaN, -0, Long.MAX_VALUE, 2 ** 53, -1
 */
export function oddNumber(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(
      NaN,
      Infinity,
      -Infinity,
      -0,
      -1,
      0,
      1,
      0.5,
      -0.5,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      2 ** 53,
      -(2 ** 53),
      1e308,
      -1e308,
      5e-324,
    ),
    fc.constantFrom(Long.MAX_VALUE, Long.MIN_VALUE, Long.ZERO, Long.NEG_ONE, Long.fromNumber(2 ** 40)),
    fc.integer(),
    fc.double(),
  );
}

/**
 * Strings the server must cope with: empty, `$`-prefixed, dotted, NUL, long, non-ASCII.
 *
 * @example
 * fc.sample(oddString(), 5); // e.g. "", "$where", "a.b", "\u0000", "🦆"
 */
export function oddString(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      "",
      "$",
      "$where",
      "a.b",
      "\u0000",
      "admin",
      "config",
      "system.sessions",
      "test",
      "x".repeat(10_001),
      "ü",
      "🦆",
      "1",
      "NaN",
      "true",
    ),
    fc.string({ maxLength: 12 }),
  );
}

/**
 * A UUID, a Binary of another subtype or length, or something else where a UUID belongs.
 *
 * @example
 * fc.sample(oddBinary(), 3); // UUIDs, BinData of other subtypes and lengths
 */
export function oddBinary(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => new UUID(b)),
    fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => new Binary(b, 0)),
    fc.uint8Array({ minLength: 0, maxLength: 20 }).map((b) => new Binary(b, 4)),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => new Binary(b, 0)),
  );
}

/**
 * A scalar BSON value of any type.
 *
 * @example
 * fc.sample(bsonScalar(), 5);
 */
export function bsonScalar(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: oddNumber(), weight: 3 },
    { arbitrary: oddString(), weight: 3 },
    { arbitrary: fc.boolean(), weight: 1 },
    { arbitrary: fc.constantFrom(null, undefined), weight: 1 },
    { arbitrary: oddBinary(), weight: 2 },
    { arbitrary: fc.integer({ min: -1e12, max: 1e13 }).map((t) => new Date(t)), weight: 1 },
    { arbitrary: fc.constantFrom(new Date(NaN)), weight: 1 },
    { arbitrary: fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => new ObjectId(b)), weight: 1 },
    { arbitrary: fc.tuple(fc.nat(), fc.nat()).map(([t, i]) => new Timestamp({ t, i })), weight: 1 },
    { arbitrary: fc.constantFrom(/a/, /^x$/i), weight: 1 },
  );
}

/**
 * Keys of fuzzed documents: ordinary, odd, and the generic arguments every command may carry.
 *
 * @example
 * fc.sample(fuzzKey(), 5); // e.g. "lsid", "txnNumber", "$where", ""
 */
export function fuzzKey(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      "lsid",
      "txnNumber",
      "autocommit",
      "startTransaction",
      "stmtId",
      "stmtIds",
      "readConcern",
      "writeConcern",
      "maxTimeMS",
      "comment",
      "$clusterTime",
      "apiVersion",
      "coordinator",
      "id",
      "uid",
      "users",
      "roles",
      "allUsers",
      "user",
      "db",
      "filter",
      "documents",
      "cursor",
      "pipeline",
      "_id",
    ),
    oddString(),
  );
}

/**
 * A BSON-shaped value of bounded depth: scalars, documents with odd keys, arrays.
 *
 * @example
 * fc.sample(bsonValue(3), 5);
 */
export function bsonValue(depth = 3): fc.Arbitrary<unknown> {
  const { value } = fc.letrec<{ value: unknown; doc: Document; arr: unknown[] }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", maxDepth: depth },
      { arbitrary: bsonScalar(), weight: 4 },
      tie("doc"),
      tie("arr"),
    ),
    doc: fc.dictionary(fuzzKey(), tie("value"), { maxKeys: 5 }),
    arr: fc.array(tie("value"), { maxLength: 5 }),
  }));
  return value;
}

/**
 * A BSON-shaped document (the body of a fuzzed command besides its name).
 *
 * @example
 * fc.sample(bsonDocument(2), 3);
 */
export function bsonDocument(depth = 3): fc.Arbitrary<Document> {
  return fc.dictionary(fuzzKey(), bsonValue(depth), { maxKeys: 6 });
}

/**
 * Nests `v` `depth` levels deep in documents or arrays.
 *
 * @internal Not exported from the package.
 */
export function nest(v: unknown, depth: number, asArray: boolean): unknown {
  let out = v;
  for (let i = 0; i < depth; i++) out = asArray ? [out] : { a: out };
  return out;
}
