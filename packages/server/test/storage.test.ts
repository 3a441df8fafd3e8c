/**
 * Unit tests of the storage layer (`packages/server/src/storage`): BSON order/keys/copies,
 * collections (find/update/delete/indexes/TTL/aggregate), write sets and the catalog.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from "bson";
import { ServerError } from "../src/errors/index.js";
import {
  Catalog,
  Collection,
  bsonEquals,
  bsonHash,
  bsonKey,
  compareBson,
  compileFilter,
  deepCopy,
  formatBson,
  parseUpdate,
  runPipeline,
  sequentialObjectIds,
  type Doc,
  type UpdateResult,
} from "../src/storage/index.js";

const NOW = new Date(1_700_000_000_000);
const at = (ms: number): Date => new Date(NOW.getTime() + ms);

function uuid(n: number): UUID {
  const b = new Uint8Array(16);
  b[15] = n;
  b[6] = 0x40;
  b[8] = 0x80;
  return new UUID(b);
}
function bin(...bytes: number[]): Binary {
  return new Binary(new Uint8Array(bytes), 0);
}
function uid(n: number): Binary {
  const b = new Uint8Array(32);
  b[0] = n;
  return new Binary(b, 0);
}
const lsid = (n: number, u = 1): { id: UUID; uid: Binary } => ({ id: uuid(n), uid: uid(u) });

/** Asserts `fn` throws a ServerError with `code` (and `errmsg` if given). */
function throwsCode(fn: () => unknown, code: number, errmsg?: string | RegExp): ServerError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ServerError, `expected ServerError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (typeof errmsg === "string") assert.equal(caught.errmsg, errmsg);
  else if (errmsg) assert.match(caught.errmsg, errmsg);
  return caught;
}

/** Asserts BSON equality (field order included), printing both values on failure. */
function same(actual: unknown, expected: unknown, what = ""): void {
  if (!bsonEquals(actual, expected)) {
    assert.fail(`${what ? what + ": " : ""}${formatBson(actual)} != ${formatBson(expected)}`);
  }
}

const refresh = (name = "alice@test"): Doc[] => [{ $set: { lastUse: "$$NOW" } }, { $set: { user: { name } } }];

// ---------------------------------------------------------------------------------------------
// BSON order, keys, copies

void test("compareBson orders across types like MongoDB", () => {
  const ascending: unknown[] = [
    new MinKey(),
    null,
    Number.NaN,
    -1,
    Long.fromNumber(0),
    1.5,
    "",
    "a",
    "b",
    {},
    { a: 1 },
    [],
    [1],
    bin(),
    new ObjectId("000000000000000000000001"),
    false,
    true,
    new Date(-1),
    new Date(0),
    new Timestamp({ t: 0, i: 5 }),
    new Timestamp({ t: 1, i: 0 }),
    /a/,
    new MaxKey(),
  ];
  for (let i = 0; i < ascending.length; i++) {
    for (let j = 0; j < ascending.length; j++) {
      const want = Math.sign(i - j);
      assert.equal(
        compareBson(ascending[i], ascending[j]),
        want,
        `${formatBson(ascending[i])} vs ${formatBson(ascending[j])}`,
      );
    }
  }
});

void test("compareBson: numbers compare by value across double/int/Long/Int32/Decimal128", () => {
  assert.equal(compareBson(1, Long.fromNumber(1)), 0);
  assert.equal(compareBson(new Int32(2), 2.0), 0);
  assert.equal(compareBson(new Double(2.5), 2.5), 0);
  assert.equal(compareBson(Decimal128.fromString("3"), 3), 0);
  assert.equal(compareBson(Long.fromString("9007199254740993"), 9007199254740992), 1, "Long compared exactly");
  assert.equal(compareBson(Long.fromNumber(-5), 2), -1);
  assert.equal(compareBson(Number.NaN, Number.NaN), 0);
  assert.equal(compareBson(Number.NaN, -Infinity), -1);
  assert.equal(compareBson(-0, 0), 0);
});

void test("compareBson: BinData by length, then subtype, then bytes; UUID is subtype 4", () => {
  assert.equal(compareBson(bin(9), bin(1, 1)), -1, "shorter first");
  assert.equal(
    compareBson(new Binary(new Uint8Array([9]), 0), new Binary(new Uint8Array([1]), 5)),
    -1,
    "subtype before bytes",
  );
  assert.equal(compareBson(bin(1, 2), bin(1, 3)), -1);
  assert.equal(compareBson(bin(0xff), bin(0xfe)), 1, "bytes unsigned, not lossy UTF-8");
  const u = uuid(7);
  assert.equal(compareBson(u, new Binary(u.buffer, 4)), 0);
  assert.equal(compareBson(u, new Binary(u.buffer, 0)), 1);
});

void test("compareBson: objects field by field (type, name, value); strings by code point", () => {
  assert.equal(compareBson({ a: 1, b: 2 }, { a: 1, b: 3 }), -1);
  assert.equal(compareBson({ a: 1 }, { a: 1, b: 0 }), -1, "prefix first");
  assert.equal(compareBson({ a: 1, b: 2 }, { b: 2, a: 1 }), -1, "field order matters");
  assert.equal(compareBson({ a: "x" }, { a: 5 }), 1, "value type before value");
  assert.equal(compareBson({ b: 1 }, { a: 2 }), 1, "name before value");
  assert.equal(compareBson([1, 2], [1, 10]), -1);
  assert.equal(compareBson("\u{1F600}", "\uFFFF"), 1, "supplementary characters sort after U+FFFF");
  assert.equal(compareBson(new Timestamp({ t: 1, i: 9 }), new Timestamp({ t: 10, i: 0 })), -1);
});

void test("bsonEquals", () => {
  same({ id: uuid(1), uid: uid(2) }, { id: new Binary(uuid(1).buffer, 4), uid: uid(2) });
  assert.ok(!bsonEquals(bin(0xff), bin(0xfe)));
  same(Number.NaN, Number.NaN);
  assert.ok(!bsonEquals(1, "1"));
  same([Long.fromNumber(1)], [1]);
  assert.ok(!bsonEquals(null, undefined));
});

void test("bsonKey and bsonHash: equal BSON values share a key and hash; unequal values do not share a key", () => {
  const same: unknown[][] = [
    [1, 1.0, Long.fromNumber(1), new Int32(1), new Double(1)],
    [uuid(3), new Binary(uuid(3).buffer, 4), new UUID(uuid(3).toHexString())],
    [{ a: [1, { b: Long.fromNumber(2) }] }, { a: [1.0, { b: 2 }] }],
    [new Date(5), new Date(5)],
    [-0, 0],
    [2 ** 60, Long.fromString("1152921504606846976")],
  ];
  for (const group of same) {
    for (const v of group) {
      assert.equal(bsonKey(v), bsonKey(group[0]), formatBson(v));
      assert.equal(bsonHash(v), bsonHash(group[0]), formatBson(v));
    }
  }
  const distinct: unknown[] = [
    1,
    "1",
    true,
    null,
    undefined,
    [],
    {},
    [1, 2],
    [[1, 2]],
    ["a,b"],
    ["a", "b"],
    { a: "1,", b: 2 },
    { a: "1", b: 2 },
    { "a,": 1 },
    { ab: 1 },
    { a: { b: 1 } },
    { "a.b": 1 },
    { a: 1, b: 2 },
    { b: 2, a: 1 },
    bin(0xff),
    bin(0xfe),
    bin(1, 0x2c),
    new Binary(new Uint8Array([1]), 5),
    uuid(1),
    uuid(2),
    new ObjectId("000000000000000000000001"),
    new Date(1),
    new Timestamp({ t: 0, i: 1 }),
    Long.fromString("9007199254740993"),
    9007199254740992,
    new MinKey(),
    new MaxKey(),
  ];
  const keys = new Set(distinct.map(bsonKey));
  assert.equal(keys.size, distinct.length);
  assert.ok(bsonHash({ x: uuid(1) }) >= 0 && bsonHash({ x: uuid(1) }) < 2 ** 30);
});

void test("deepCopy keeps BSON types, never aliases documents or dates, and shares immutable bson values", () => {
  const orig = {
    _id: { id: uuid(1), uid: uid(2) },
    n: Long.fromNumber(5),
    d: new Date(10),
    o: new ObjectId("000000000000000000000009"),
    t: new Timestamp({ t: 1, i: 2 }),
    a: [1, { b: bin(1, 2) }],
    s: "x",
    z: null,
  };
  const c = deepCopy(orig);
  assert.ok(c._id.id instanceof UUID);
  assert.ok(c._id.uid instanceof Binary && !(c._id.uid instanceof UUID));
  assert.equal(c._id.uid.sub_type, 0);
  assert.ok(c.n instanceof Long);
  assert.ok(c.o instanceof ObjectId);
  same(c, orig);
  assert.notEqual(c._id, orig._id);
  assert.notEqual(c.a, orig.a);
  assert.notEqual(c.d, orig.d);
  // bson values are never mutated in sessionsim, so copies share them (no buffer per copy).
  assert.equal(c._id.uid, orig._id.uid);
  assert.equal(c.o, orig.o);
  c.d.setTime(0);
  (c.a[1] as { b: unknown }).b = "replaced";
  assert.equal(orig.d.getTime(), 10);
  assert.ok((orig.a[1] as { b: Binary }).b instanceof Binary);
});

void test("an upsert stores a frozen _id as it is, and reads hand out unfrozen copies", () => {
  const c = new Collection("config.system.sessions");
  const id = Object.freeze(lsid(1, 1)); // as the refresh sends it
  const res = c.update({ _id: id }, [{ $set: { lastUse: "$$NOW" } }], { upsert: true, now: NOW });
  assert.equal(c.committed()[0]._id, id, "the stored document shares the statement's frozen _id");
  const upserted = res.upsertedId as Doc;
  const [found] = c.find({ _id: id });
  const [projected] = c.find({}, { projection: { _id: 1 } });
  const [aggregated] = c.aggregate([{ $match: {} }], { now: NOW });
  for (const doc of [upserted, found._id, projected._id, aggregated._id] as Doc[]) {
    assert.equal(Object.isFrozen(doc), false);
    doc.extra = 1; // a caller may change what it was given
  }
  assert.equal("extra" in id, false);
  same(c.find({})[0]._id, lsid(1, 1));
});

void test("formatBson prints like MongoDB's messages", () => {
  assert.equal(formatBson({ _id: 1 }), "{ _id: 1 }");
  assert.equal(formatBson({ a: "x", b: [1, 2], c: null, d: {} }), '{ a: "x", b: [ 1, 2 ], c: null, d: {} }');
  assert.equal(formatBson(bin(0xab, 1)), "BinData(0, AB01)");
  assert.equal(
    formatBson(new UUID("0123456789abcdef0123456789abcdef")),
    'UUID("01234567-89ab-cdef-0123-456789abcdef")',
  );
  assert.equal(formatBson(new ObjectId("0000000000000000000000ff")), "ObjectId('0000000000000000000000ff')");
  assert.equal(formatBson(new Date(5)), "new Date(5)");
  assert.equal(formatBson(new Timestamp({ t: 3, i: 4 })), "Timestamp(3, 4)");
});

// ---------------------------------------------------------------------------------------------
// Queries

function sessionsColl(): Collection {
  const c = new Collection("config.system.sessions");
  c.insertOne({ _id: lsid(1, 1), lastUse: at(3000), user: { name: "a" } });
  c.insertOne({ _id: lsid(2, 2), lastUse: at(1000), user: { name: "b" } });
  c.insertOne({ _id: lsid(3, 1), lastUse: at(2000), user: { name: "a" } });
  return c;
}
const ids = (docs: Doc[]): number[] => docs.map((d) => (d._id as { id: UUID }).id.buffer[15]);

void test("find by exact _id document, _id $in of documents and _id.uid $in of Binary", () => {
  const c = sessionsColl();
  assert.deepEqual(ids(c.find({ _id: lsid(3, 1) })), [3]);
  assert.deepEqual(ids(c.find({ _id: { $eq: lsid(2, 2) } })), [2]);
  assert.deepEqual(ids(c.find({ _id: lsid(3, 2) })), [], "uid differs");
  assert.deepEqual(ids(c.find({ _id: { uid: uid(1), id: uuid(3) } })), [], "field order matters");
  assert.deepEqual(ids(c.find({ _id: { $in: [lsid(3, 1), lsid(1, 1), lsid(9, 9)] } })), [1, 3]);
  assert.deepEqual(ids(c.find({ "_id.uid": { $in: [uid(1)] } })), [1, 3]);
  assert.deepEqual(ids(c.find({ "_id.uid": uid(2) })), [2]);
  assert.deepEqual(ids(c.find({ "_id.id": new Binary(uuid(2).buffer, 4) })), [2], "UUID equals Binary subtype 4");
  assert.deepEqual(ids(c.find({ _id: lsid(1, 1), "user.name": "b" })), [], "fast path still applies the rest");
  assert.deepEqual(ids(c.find({ _id: { $in: [lsid(1, 1), lsid(2, 2)] }, "user.name": "b" })), [2]);
  assert.equal(c.count({ "_id.uid": { $in: [uid(1), uid(2)] } }), 3);
  assert.equal(c.count(), 3);
});

void test("queries compare BSON values correctly where plain mingo does not", () => {
  const c = new Collection("test.q");
  c.insertOne({ _id: 1, b: bin(0xff, 1), n: Long.fromNumber(10), t: new Timestamp({ t: 1, i: 1 }) });
  c.insertOne({ _id: 2, b: bin(0xfe, 1), n: 9, t: new Timestamp({ t: 10, i: 1 }) });
  // mingo compares Binary by lossy UTF-8 text: 0xff and 0xfe both decode to U+FFFD.
  assert.deepEqual(
    c.find({ b: bin(0xff, 1) }).map((d) => d._id),
    [1],
  );
  assert.deepEqual(
    c.find({ b: { $in: [bin(0xfe, 1)] } }).map((d) => d._id),
    [2],
  );
  assert.deepEqual(
    c.find({ b: { $ne: bin(0xff, 1) } }).map((d) => d._id),
    [2],
  );
  assert.deepEqual(
    c.find({ n: 10 }).map((d) => d._id),
    [1],
  );
  assert.deepEqual(
    c.find({ n: { $gt: 9.5 } }).map((d) => d._id),
    [1],
  );
  assert.deepEqual(
    c.find({ n: { $lte: Long.fromNumber(9) } }).map((d) => d._id),
    [2],
  );
  assert.deepEqual(
    c.find({ n: { $in: [Long.fromNumber(9)] } }).map((d) => d._id),
    [2],
  );
  assert.deepEqual(
    c.find({ t: { $gt: new Timestamp({ t: 2, i: 0 }) } }).map((d) => d._id),
    [2],
  );
  assert.deepEqual(
    c.find({ n: { $gt: "a" } }).map((d) => d._id),
    [],
    "no cross-type comparison",
  );
  assert.deepEqual(
    c.find({ b: { $type: "binData" }, n: { $type: "long" } }).map((d) => d._id),
    [1],
  );
  assert.deepEqual(
    c.find({ n: { $type: "number" } }).map((d) => d._id),
    [1, 2],
  );
  assert.deepEqual(
    c.find({ $expr: { $eq: ["$n", 10] } }).map((d) => d._id),
    [1],
  );
  assert.deepEqual(
    c.find({ $expr: { $gt: ["$t", new Timestamp({ t: 2, i: 0 })] } }).map((d) => d._id),
    [2],
  );
});

void test("query language: null/missing, arrays, dotted paths, logical operators", () => {
  const c = new Collection("test.q");
  const docs: Doc[] = [
    { _id: 1, a: null },
    { _id: 2 },
    { _id: 3, a: [1, 5, 9], tags: ["x", "y"] },
    { _id: 4, a: 5, s: "hello" },
    { _id: 5, a: [{ b: 1 }, { c: 2 }] },
    { _id: 6, a: { b: [7, 8] } },
  ];
  for (const d of docs) c.insertOne(d);
  const q = (f: Doc): unknown[] => c.find(f).map((d) => d._id);
  assert.deepEqual(q({ a: null }), [1, 2]);
  assert.deepEqual(q({ a: { $ne: null } }), [3, 4, 5, 6]);
  assert.deepEqual(q({ a: { $exists: false } }), [2]);
  assert.deepEqual(q({ a: 5 }), [3, 4]);
  assert.deepEqual(q({ a: [1, 5, 9] }), [3], "whole-array equality");
  assert.deepEqual(q({ a: { $gt: 6 } }), [3]);
  assert.deepEqual(q({ "a.b": 1 }), [5]);
  assert.deepEqual(q({ "a.b": 8 }), [6]);
  // "a.b" reaches nothing in [1, 5, 9] or 5, and is missing in {c: 2}: all count as null.
  assert.deepEqual(q({ "a.b": null }), [1, 2, 3, 4, 5]);
  assert.deepEqual(q({ "a.1": 5 }), [3]);
  assert.deepEqual(q({ "a.0.b": 1 }), [5]);
  assert.deepEqual(q({ "a.0.b": null }), [1, 2, 3, 4, 6]);
  assert.deepEqual(q({ a: { $in: [null, 9] } }), [1, 2, 3]);
  assert.deepEqual(q({ a: { $nin: [5, null] } }), [5, 6]);
  assert.deepEqual(q({ tags: { $all: ["y", "x"] } }), [3]);
  assert.deepEqual(q({ a: { $elemMatch: { $gt: 4, $lt: 6 } } }), [3]);
  assert.deepEqual(q({ a: { $elemMatch: { c: 2 } } }), [5]);
  assert.deepEqual(q({ a: { $size: 3 } }), [3]);
  assert.deepEqual(q({ $or: [{ _id: 1 }, { s: /^he/ }] }), [1, 4]);
  assert.deepEqual(q({ $and: [{ a: { $exists: true } }, { a: { $not: { $gt: 4 } } }] }), [1, 5, 6]);
  assert.deepEqual(q({ $nor: [{ a: 5 }, { a: null }] }), [5, 6]);
  assert.deepEqual(q({ s: { $regex: "LL", $options: "i" } }), [4]);
  assert.deepEqual(q({ tags: { $in: [/^y/] } }), [3]);
  throwsCode(() => c.find({ a: { $foo: 1 } }), 2, "unknown operator: $foo");
  throwsCode(() => c.find({ $foo: 1 }), 2, /unknown top level operator: \$foo/);
  const m = compileFilter({ "x.y": { $in: [uid(1)] } });
  assert.equal(m({ x: [{ y: uid(2) }, { y: uid(1) }] }), true);
  assert.equal(m({ x: { y: uid(3) } }), false);
});

void test("find: sort, skip, limit, projection; results are copies", () => {
  const c = sessionsColl();
  assert.deepEqual(ids(c.find({}, { sort: { lastUse: -1 } })), [1, 3, 2]);
  assert.deepEqual(ids(c.find({}, { sort: { lastUse: 1 } })), [2, 3, 1]);
  assert.deepEqual(ids(c.find({}, { sort: { "user.name": 1, lastUse: -1 } })), [1, 3, 2]);
  assert.deepEqual(ids(c.find({}, { sort: { "_id.uid": -1, "_id.id": 1 } })), [2, 1, 3]);
  assert.deepEqual(ids(c.find({}, { sort: { lastUse: 1 }, skip: 1, limit: 1 })), [3]);
  assert.deepEqual(ids(c.find({}, { limit: 2 })), [1, 2], "natural order");
  assert.deepEqual(ids(c.find({}, { limit: -2 })), [1, 2]);
  const p = c.find({ _id: lsid(2, 2) }, { projection: { "user.name": 1, _id: 0 } });
  assert.deepEqual(p, [{ user: { name: "b" } }]);
  const q = c.find({ _id: lsid(2, 2) }, { projection: { lastUse: 0, user: 0 } });
  same(q, [{ _id: lsid(2, 2) }]);
  throwsCode(() => c.find({}, { sort: { a: 2 } }), 15975);
  const [d] = c.find({ _id: lsid(1, 1) });
  (d.user as Doc).name = "mutated";
  (d.lastUse as Date).setTime(0);
  (d._id as Doc).uid = "replaced";
  const [again] = c.find({ _id: lsid(1, 1) });
  assert.equal((again.user as Doc).name, "a");
  assert.equal((again.lastUse as Date).getTime(), at(3000).getTime());
  assert.equal(c.count({ "_id.uid": uid(1) }), 2);
  // arrays sort by their smallest element ascending and largest descending
  const s = new Collection("test.s");
  s.insertOne({ _id: 1, a: [5, 1] });
  s.insertOne({ _id: 2, a: 3 });
  s.insertOne({ _id: 3 });
  assert.deepEqual(
    s.find({}, { sort: { a: 1 } }).map((x) => x._id),
    [3, 1, 2],
  );
  assert.deepEqual(
    s.find({}, { sort: { a: -1 } }).map((x) => x._id),
    [1, 2, 3],
  );
});

// ---------------------------------------------------------------------------------------------
// Inserts and updates

void test("insertOne: deterministic _id, _id first, DuplicateKey message, stored copy", () => {
  const c = new Collection("test.c", { idFactory: sequentialObjectIds(7) });
  const id = c.insertOne({ a: 1 });
  assert.ok(id instanceof ObjectId);
  assert.equal(id.toHexString(), "000000000000000000000007");
  assert.equal((c.insertOne({ b: 1 }) as ObjectId).toHexString(), "000000000000000000000008");
  c.insertOne({ x: 1, _id: 5 });
  assert.deepEqual(Object.keys(c.findOne({ _id: 5 })!), ["_id", "x"]);
  const e = throwsCode(
    () => c.insertOne({ _id: 5.0 }),
    11000,
    "E11000 duplicate key error collection: test.c index: _id_ dup key: { _id: 5 }",
  );
  assert.equal(e.codeName, "DuplicateKey");
  throwsCode(() => c.insertOne({ _id: Long.fromNumber(5) }), 11000);
  throwsCode(
    () => {
      c.insertOne({ _id: lsid(1) });
      c.insertOne({ _id: lsid(1) });
    },
    11000,
    `E11000 duplicate key error collection: test.c index: _id_ dup key: { _id: { id: UUID("00000000-0000-4000-8000-000000000001"), uid: BinData(0, ${"01" + "00".repeat(31)}) } }`,
  );
  throwsCode(() => c.insertOne({ _id: [1] }), 53);
  const doc = { _id: 9, d: new Date(1), arr: [1] };
  c.insertOne(doc);
  doc.d.setTime(5);
  doc.arr.push(2);
  same(c.findOne({ _id: 9 }), { _id: 9, d: new Date(1), arr: [1] });
  assert.equal(c.size, 5);
});

void test("the session refresh: pipeline upsert by lsid with $$NOW", () => {
  const c = new Collection("config.system.sessions");
  const r = c.update({ _id: lsid(1) }, refresh(), { upsert: true, now: NOW });
  assert.equal(r.matched, 0);
  assert.equal(r.modified, 0);
  same(r.upsertedId, lsid(1));
  const [doc] = c.find({});
  assert.deepEqual(Object.keys(doc), ["_id", "lastUse", "user"]);
  same(doc, { _id: lsid(1), lastUse: NOW, user: { name: "alice@test" } });
  assert.ok((doc._id as Doc).id instanceof UUID);
  // Refresh again later: matched and modified, no new document.
  const r2 = c.update({ _id: lsid(1) }, refresh(), { upsert: true, now: at(5000) });
  assert.deepEqual({ ...r2 }, { matched: 1, modified: 1 });
  assert.equal(r2.upsertedId, undefined);
  assert.equal(c.size, 1);
  same(c.findOne({})!.lastUse, at(5000));
  throwsCode(
    () => c.update({ _id: 9 }, [{ $set: { _id: 10 } }], { upsert: true, now: NOW }),
    66,
    "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 10",
  );
  // Same time again: matched, not modified.
  const r3 = c.update({ _id: lsid(1) }, refresh(), { upsert: true, now: at(5000) });
  assert.deepEqual({ ...r3 }, { matched: 1, modified: 0 });
  // Without upsert nothing is inserted.
  assert.deepEqual({ ...c.update({ _id: lsid(2) }, refresh(), { now: NOW }) }, { matched: 0, modified: 0 });
  assert.equal(c.size, 1);
});

void test("pipeline updates: constant fast path and general path agree ($addFields merges into documents)", () => {
  const starts: Doc[] = [
    { _id: 1 },
    { _id: 2, user: { name: "old", roles: [1] } },
    { _id: 3, user: "scalar" },
    { _id: 4, user: [{ id: 1 }, 7, [{ id: 2 }]] },
    { _id: 5, lastUse: new Date(0), z: 1 },
  ];
  const fast = [{ $set: { lastUse: "$$NOW" } }, { $addFields: { user: { name: "n", tags: ["a", { b: 1 }] } } }];
  const slow = [
    { $set: { lastUse: "$$NOW" } },
    { $addFields: { user: { name: { $literal: "n" }, tags: ["a", { b: 1 }] } } },
  ];
  assert.notEqual((parseUpdate(fast) as { constantStages?: unknown }).constantStages, undefined);
  assert.equal((parseUpdate(slow) as { constantStages?: unknown }).constantStages, undefined);
  for (const start of starts) {
    const a = new Collection("test.a");
    const b = new Collection("test.b");
    a.insertOne(start);
    b.insertOne(start);
    a.update({ _id: start._id }, fast, { now: NOW });
    b.update({ _id: start._id }, slow, { now: NOW });
    const da = a.findOne({})!;
    const db = b.findOne({})!;
    same(da, db, `${formatBson(da)} vs ${formatBson(db)}`);
    assert.deepEqual(Object.keys(da), Object.keys(db));
  }
  const c = new Collection("test.c");
  c.insertOne({ _id: 2, user: { name: "old", roles: [1] }, k: 1 });
  c.update({ _id: 2 }, fast, { now: NOW });
  assert.ok(
    bsonEquals(c.findOne({}), { _id: 2, user: { name: "n", roles: [1], tags: ["a", { b: 1 }] }, k: 1, lastUse: NOW }),
    "existing fields keep their place; nested fields merge",
  );
  c.insertOne({ _id: 4, user: [{ id: 1 }, 7] });
  c.update({ _id: 4 }, [{ $set: { "user.name": "n" } }], { now: NOW });
  same(c.findOne({ _id: 4 })!.user, [{ id: 1, name: "n" }, { name: "n" }]);
});

void test("pipeline updates: expressions, $unset, $project, $replaceWith; _id is kept and immutable", () => {
  const c = new Collection("test.p");
  c.insertOne({ _id: 1, a: 2, b: { c: 3 }, d: 4 });
  const r = c.update({ _id: 1 }, [{ $set: { sum: { $add: ["$a", "$b.c"] }, at: "$$NOW" } }, { $unset: ["d"] }], {
    now: NOW,
  });
  assert.deepEqual({ ...r }, { matched: 1, modified: 1 });
  same(c.findOne({}), { _id: 1, a: 2, b: { c: 3 }, sum: 5, at: NOW });
  c.update({ _id: 1 }, [{ $project: { a: 1 } }], { now: NOW });
  same(c.findOne({}), { _id: 1, a: 2 });
  c.update({ _id: 1 }, [{ $replaceWith: { x: "$a" } }], { now: NOW });
  same(c.findOne({}), { _id: 1, x: 2 }, "_id re-added first");
  throwsCode(
    () => c.update({ _id: 1 }, [{ $set: { _id: 2 } }], { now: NOW }),
    66,
    "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2",
  );
  throwsCode(
    () => c.update({ _id: 1 }, [{ $match: {} }], { now: NOW }),
    72,
    "$match is not allowed to be used within an update",
  );
  throwsCode(
    () => c.update({ _id: 1 }, [{ $bogus: {} }], { now: NOW }),
    40324,
    "Unrecognized pipeline stage name: '$bogus'",
  );
  throwsCode(() => c.update({ _id: 1 }, [{ $set: { a: 1 }, $unset: "b" }], { now: NOW }), 40323);
  throwsCode(() => c.update({ _id: 1 }, [{ $set: { a: 1, "a.b": 2 } }], { now: NOW }), 31250);
  // an upsert seeds from the query, then runs the pipeline
  c.update({ _id: 7, k: "v" }, [{ $set: { n: { $concat: ["$k", "!"] } } }], { upsert: true, now: NOW });
  same(c.findOne({ _id: 7 }), { _id: 7, k: "v", n: "v!" });
});

void test("replacement updates", () => {
  const c = new Collection("test.r");
  c.insertOne({ _id: 1, a: 1, b: 2 });
  assert.deepEqual({ ...c.update({ _id: 1 }, { c: 3 }, { now: NOW }) }, { matched: 1, modified: 1 });
  same(c.findOne({}), { _id: 1, c: 3 });
  assert.deepEqual({ ...c.update({ _id: 1 }, { _id: 1, c: 3 }, { now: NOW }) }, { matched: 1, modified: 0 });
  throwsCode(
    () => c.update({ _id: 1 }, { _id: 2 }, { now: NOW }),
    66,
    "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2",
  );
  throwsCode(
    () => c.update({}, { a: 1 }, { now: NOW, multi: true }),
    9,
    "multi update is not supported for replacement-style update",
  );
  throwsCode(() => c.update({}, { a: 1, $set: { b: 1 } }, { now: NOW }), 52);
  const r = c.update({ _id: 5, x: 1 }, { y: 2 }, { upsert: true, now: NOW });
  assert.equal(r.upsertedId, 5);
  same(c.findOne({ _id: 5 }), { _id: 5, y: 2 }, "replacement upsert takes only _id from the query");
  const r2 = c.update({ x: 9 }, { y: 3 }, { upsert: true, now: NOW });
  assert.ok(r2.upsertedId instanceof ObjectId);
  assert.deepEqual(Object.keys(c.findOne({ y: 3 })!), ["_id", "y"]);
});

void test("modifier updates: every operator", () => {
  const c = new Collection("test.m");
  c.insertOne({
    _id: 1,
    n: 1,
    l: Long.fromNumber(5),
    d: new Date(100),
    arr: [3, 1],
    set: [bin(1)],
    docs: [
      { k: 1, v: "a" },
      { k: 2, v: "b" },
    ],
    old: "x",
    nested: { a: 1 },
  });
  const u = (upd: Doc): void => {
    c.update({ _id: 1 }, upd, { now: NOW });
  };
  u({ $set: { "nested.b.c": 2, z: true }, $inc: { n: 2, l: 1, fresh: 3 }, $mul: { m: 5 } });
  u({ $min: { d: new Date(50), n: 10 } });
  u({ $max: { maxed: 1, n: 4 } });
  u({ $unset: { z: "", "nope.x": 1 }, $rename: { old: "renamed" } });
  u({
    $push: { arr: { $each: [9, 0], $sort: 1, $slice: -3 }, pushed: "p" },
    $addToSet: { set: { $each: [bin(1), bin(0xff), bin(0xff)] } },
  });
  u({ $pull: { docs: { k: 2 } }, $currentDate: { now1: true, ts: { $type: "timestamp" } } });
  u({ $pop: { arr: -1 }, $pullAll: { set: [bin(1)] }, $setOnInsert: { never: 1 } });
  const d = c.findOne({})!;
  assert.ok(
    bsonEquals(d, {
      _id: 1,
      n: 4,
      l: Long.fromNumber(6),
      d: new Date(50),
      arr: [3, 9],
      set: [bin(0xff)],
      docs: [{ k: 1, v: "a" }],
      nested: { a: 1, b: { c: 2 } },
      fresh: 3,
      m: 0,
      maxed: 1,
      renamed: "x",
      pushed: ["p"],
      now1: NOW,
      ts: new Timestamp({ t: Math.floor(NOW.getTime() / 1000), i: 1 }),
    }),
    formatBson(d),
  );
  assert.ok(d.l instanceof Long, "Long + int stays Long");
  // New fields are added in path order, whatever the operator order.
  c.insertOne({ _id: 2 });
  c.update({ _id: 2 }, { $set: { b: 1, a: 1 }, $inc: { "10": 1, "9": 1, c: 1 } }, { now: NOW });
  assert.deepEqual(
    Object.keys(c.findOne({ _id: 2 })!).filter((k) => !/^\d+$/.test(k)),
    ["_id", "a", "b", "c"],
  );
  // $push with $position, $sort by field; $pull with an operator condition; $[]
  c.insertOne({ _id: 3, a: [{ x: 2 }, { x: 1 }], b: [1, 5, 8], c: [{ v: 1 }, { v: 2 }] });
  c.update(
    { _id: 3 },
    {
      $push: { a: { $each: [{ x: 0 }], $position: 0, $sort: { x: -1 } } },
      $pull: { b: { $gte: 5 } },
      $inc: { "c.$[].v": 10 },
    },
    { now: NOW },
  );
  same(c.findOne({ _id: 3 }), { _id: 3, a: [{ x: 2 }, { x: 1 }, { x: 0 }], b: [1], c: [{ v: 11 }, { v: 12 }] });
  // no-op
  assert.deepEqual({ ...c.update({ _id: 3 }, { $set: { b: [1] } }, { now: NOW }) }, { matched: 1, modified: 0 });
  // multi
  c.insertOne({ _id: 4, g: 1 });
  c.insertOne({ _id: 5, g: 1 });
  assert.deepEqual({ ...c.update({ g: 1 }, { $inc: { g: 1 } }, { now: NOW }) }, { matched: 1, modified: 1 });
  assert.deepEqual(
    { ...c.update({ g: { $gte: 1 } }, { $set: { h: 1 } }, { now: NOW, multi: true }) },
    { matched: 2, modified: 2 },
  );
  // upsert: seed from equality fields, $setOnInsert applies
  const r = c.update(
    { $and: [{ k: "v" }, { "deep.x": { $eq: 1 } }], n: { $gt: 5 } },
    { $setOnInsert: { created: true }, $inc: { n: 1 } },
    { upsert: true, now: NOW },
  );
  const ins = c.findOne({ _id: r.upsertedId })!;
  same({ ...ins, _id: 0 }, { _id: 0, k: "v", deep: { x: 1 }, created: true, n: 1 }, formatBson(ins));
});

void test("modifier updates: MongoDB's errors", () => {
  const c = new Collection("test.e");
  c.insertOne({ _id: 1, s: "str", a: 5, arr: [1] });
  const u = (upd: unknown): UpdateResult => c.update({ _id: 1 }, upd, { now: NOW });
  throwsCode(
    () => u({ $foo: { a: 1 } }),
    9,
    "Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array",
  );
  throwsCode(
    () => u({ $set: 1 }),
    9,
    "Modifiers operate on fields but we found type int instead. For example: {$mod: {<field>: ...}} not {$set: 1}",
  );
  throwsCode(() => u({ $set: { a: 1 }, $inc: { a: 1 } }), 40, "Updating the path 'a' would create a conflict at 'a'");
  throwsCode(
    () => u({ $set: { "x.y": 1 }, $unset: { x: 1 } }),
    40,
    "Updating the path 'x.y' would create a conflict at 'x'",
  );
  throwsCode(
    () => u({ $set: { _id: 2 } }),
    66,
    "Performing an update on the path '_id' would modify the immutable field '_id'",
  );
  throwsCode(() => u({ $unset: { _id: 1 } }), 66);
  throwsCode(() => u({ $inc: { a: "x" } }), 14, 'Cannot increment with non-numeric argument: {a: "x"}');
  throwsCode(
    () => u({ $inc: { s: 1 } }),
    14,
    "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 's' of non-numeric type string",
  );
  throwsCode(() => u({ $set: { "a.b": 1 } }), 28, "Cannot create field 'b' in element {a: 5}");
  throwsCode(
    () => u({ $push: { s: 1 } }),
    2,
    "The field 's' must be an array but is of type string in document {_id: 1}",
  );
  throwsCode(
    () => u({ $push: { arr: { $each: 1 } } }),
    2,
    "The argument to $each in $push must be an array but it was of type: int",
  );
  throwsCode(() => u({ $rename: { a: "a" } }), 2, 'The source and target field for $rename must differ: a: "a"');
  throwsCode(() => u({ $rename: { a: 1 } }), 2);
  throwsCode(() => u({ $currentDate: { a: 1 } }), 2);
  throwsCode(() => u({ $set: { "": 1 } }), 56);
  throwsCode(() => u({ $set: { "arr.$": 1 } }), 2);
  throwsCode(() => u(5), 9);
  same(c.findOne({}), { _id: 1, s: "str", a: 5, arr: [1] }, "failed updates change nothing");
  assert.deepEqual({ ...u({ $set: {} }) }, { matched: 1, modified: 0 }, "an empty modifier is a no-op");
});

void test("delete with limit 1 and 0", () => {
  const c = new Collection("test.d");
  for (let i = 0; i < 5; i++) c.insertOne({ _id: i, even: i % 2 === 0 });
  assert.equal(c.delete({ even: true }, { limit: 1 }), 1);
  assert.deepEqual(
    c.find({}).map((d) => d._id),
    [1, 2, 3, 4],
  );
  assert.equal(c.delete({ even: true }, { limit: 0 }), 2);
  assert.equal(c.delete({ _id: { $in: [1, 9] } }, { limit: 0 }), 1);
  assert.equal(c.delete({ _id: 42 }), 0);
  assert.deepEqual(
    c.find({}).map((d) => d._id),
    [3],
  );
  c.insertOne({ _id: 1 });
  assert.deepEqual(
    c.find({}).map((d) => d._id),
    [3, 1],
    "re-inserted documents go last",
  );
});

// ---------------------------------------------------------------------------------------------
// Indexes and TTL

void test("indexes: listIndexes, idempotent createIndex, conflicts, dropIndex", () => {
  const c = new Collection("config.system.sessions");
  assert.deepEqual(c.listIndexes(), [{ v: 2, key: { _id: 1 }, name: "_id_" }]);
  const ttl = { key: { lastUse: 1 }, name: "lsidTTLIndex", expireAfterSeconds: 1800 };
  assert.equal(c.createIndex(ttl), true);
  assert.equal(c.createIndex({ ...ttl }), false, "same spec: no-op");
  assert.deepEqual(c.listIndexes()[1], { v: 2, key: { lastUse: 1 }, name: "lsidTTLIndex", expireAfterSeconds: 1800 });
  throwsCode(
    () => c.createIndex({ ...ttl, expireAfterSeconds: 60 }),
    85,
    'An equivalent index already exists with the same name but different options. Requested index: { v: 2, key: { lastUse: 1 }, name: "lsidTTLIndex", expireAfterSeconds: 60 }, existing index: { v: 2, key: { lastUse: 1 }, name: "lsidTTLIndex", expireAfterSeconds: 1800 }',
  );
  throwsCode(
    () => c.createIndex({ key: { lastUse: 1 }, name: "other", expireAfterSeconds: 1800 }),
    85,
    "Index already exists with a different name: lsidTTLIndex",
  );
  throwsCode(() => c.createIndex({ key: { other: 1 }, name: "lsidTTLIndex" }), 86);
  throwsCode(() => c.createIndex({ key: {} }), 67);
  throwsCode(() => c.createIndex({ key: { a: 1, b: 1 }, expireAfterSeconds: 5 }), 67);
  assert.equal(c.createIndex({ key: { a: 1, "b.c": -1 } }), true);
  assert.equal(c.listIndexes()[2].name, "a_1_b.c_-1");
  c.dropIndex("a_1_b.c_-1");
  throwsCode(() => c.dropIndex("a_1_b.c_-1"), 27, "index not found with name [a_1_b.c_-1]");
  throwsCode(() => c.dropIndex("_id_"), 72);
  assert.equal(c.setExpireAfterSeconds("lsidTTLIndex", 60), 1800);
  assert.equal(c.listIndexes()[1].expireAfterSeconds, 60);
  const copy = c.listIndexes();
  copy[1].key.lastUse = -1;
  assert.deepEqual(c.listIndexes()[1].key, { lastUse: 1 }, "listIndexes returns copies");
});

void test("unique secondary indexes are enforced on insert, update, upsert and index build", () => {
  const c = new Collection("admin.system.users");
  c.insertOne({ _id: "a", user: "alice", db: "admin" });
  c.insertOne({ _id: "b", user: "bob", db: "admin" });
  c.createIndex({ key: { user: 1, db: 1 }, name: "user_1_db_1", unique: true });
  throwsCode(
    () => c.insertOne({ _id: "c", user: "alice", db: "admin" }),
    11000,
    'E11000 duplicate key error collection: admin.system.users index: user_1_db_1 dup key: { user: "alice", db: "admin" }',
  );
  c.insertOne({ _id: "c", user: "alice", db: "test" });
  throwsCode(() => c.update({ _id: "b" }, { $set: { user: "alice" } }, { now: NOW }), 11000);
  c.update({ _id: "a" }, { $set: { user: "carol" } }, { now: NOW });
  c.update({ _id: "b" }, { $set: { user: "alice" } }, { now: NOW }, undefined);
  assert.equal(c.count({ user: "alice" }), 2, "freed key can be reused");
  throwsCode(
    () => c.update({ _id: "z", user: "carol", db: "admin" }, { $set: { x: 1 } }, { upsert: true, now: NOW }),
    11000,
  );
  c.delete({ _id: "a" });
  c.insertOne({ _id: "d", user: "carol", db: "admin" });
  // multikey: every array element is a key
  c.createIndex({ key: { tags: 1 }, name: "tags_1", unique: true, sparse: true });
  c.update({ _id: "d" }, { $set: { tags: ["x", "y"] } }, { now: NOW });
  throwsCode(() => c.update({ _id: "c" }, { $set: { tags: ["y"] } }, { now: NOW }), 11000);
  // building a unique index over duplicates fails and leaves no index
  const d = new Collection("test.u");
  d.insertOne({ _id: 1, k: 1 });
  d.insertOne({ _id: 2, k: Long.fromNumber(1) });
  throwsCode(
    () => d.createIndex({ key: { k: 1 }, unique: true }),
    11000,
    "E11000 duplicate key error collection: test.u index: k_1 dup key: { k: 1 }",
  );
  assert.equal(d.listIndexes().length, 1);
  d.createIndex({ key: { m: 1 }, unique: true, sparse: true });
  d.insertOne({ _id: 3 });
  throwsCode(() => d.createIndex({ key: { n: 1 }, unique: true }), 11000, /dup key: \{ n: null \}/); // missing fields index as null
});

void test("expireTtl deletes documents whose date + expireAfterSeconds <= now, as the TTL monitor does", () => {
  const c = new Collection("config.system.sessions");
  assert.deepEqual(c.expireTtl(NOW), [], "no TTL index: nothing expires");
  c.createIndex({ key: { lastUse: 1 }, name: "lsidTTLIndex", expireAfterSeconds: 10 });
  c.insertOne({ _id: 1, lastUse: at(-10_000) }); // exactly at the boundary
  c.insertOne({ _id: 2, lastUse: at(-9_999) });
  c.insertOne({ _id: 3, lastUse: [at(5000), at(-20_000)] }); // earliest date counts
  c.insertOne({ _id: 4, lastUse: "yesterday" });
  c.insertOne({ _id: 5 });
  c.insertOne({ _id: 6, lastUse: NOW.getTime() - 50_000 });
  const gone = c.expireTtl(NOW);
  assert.deepEqual(
    gone.map((d) => d._id),
    [1, 3],
  );
  assert.deepEqual(
    c.find({}).map((d) => d._id),
    [2, 4, 5, 6],
  );
  assert.deepEqual(
    c.expireTtl(at(1)).map((d) => d._id),
    [2],
  );
  c.setExpireAfterSeconds("lsidTTLIndex", 0);
  c.insertOne({ _id: 7, nested: { at: NOW } });
  c.createIndex({ key: { "nested.at": 1 }, expireAfterSeconds: 0 });
  assert.deepEqual(
    c.expireTtl(NOW).map((d) => d._id),
    [7],
  );
});

// ---------------------------------------------------------------------------------------------
// Aggregation

void test("aggregate and runPipeline with BSON values", () => {
  const c = sessionsColl();
  c.insertOne({ _id: lsid(4, 3), lastUse: at(500), user: { name: "c" } });
  const byUid = c.aggregate(
    [{ $group: { _id: "$_id.uid", n: { $sum: 1 }, last: { $max: "$lastUse" } } }, { $sort: { n: -1, _id: 1 } }],
    { now: NOW },
  );
  same(byUid, [
    { _id: uid(1), n: 2, last: at(3000) },
    { _id: uid(2), n: 1, last: at(1000) },
    { _id: uid(3), n: 1, last: at(500) },
  ]);
  const out = c.aggregate(
    [
      { $match: { "_id.uid": { $in: [uid(1), uid(3)] } } },
      { $sort: { lastUse: 1 } },
      { $project: { _id: 0, id: "$_id.id", lastUse: 1 } },
      { $addFields: { age: { $subtract: ["$$NOW", "$lastUse"] } } },
      { $limit: 2 },
    ],
    { now: NOW },
  );
  same(out, [
    { lastUse: at(500), id: uuid(4), age: -500 },
    { lastUse: at(2000), id: uuid(3), age: -2000 },
  ]);
  same(c.aggregate([{ $match: { "user.name": "a" } }, { $count: "n" }], { now: NOW }), [{ n: 2 }]);
  same(runPipeline([{ a: [1, 2] }, { a: [] }], [{ $unwind: "$a" }, { $set: { b: "$$NOW" } }], { now: NOW }), [
    { a: 1, b: NOW },
    { a: 2, b: NOW },
  ]);
  // mingo alone would merge these Binary groups (lossy UTF-8) and split Long(1) from 1.
  same(
    runPipeline(
      [{ k: bin(0xff) }, { k: bin(0xfe) }, { k: 1 }, { k: Long.fromNumber(1) }, {}],
      [{ $group: { _id: "$k", n: { $sum: 1 } } }],
      { now: NOW },
    ),
    [
      { _id: bin(0xff), n: 1 },
      { _id: bin(0xfe), n: 1 },
      { _id: 1, n: 2 },
      { _id: null, n: 1 },
    ],
  );
  // mingo alone sorts Timestamps by decimal text
  same(
    runPipeline(
      [{ t: new Timestamp({ t: 10, i: 1 }) }, { t: new Timestamp({ t: 1, i: 1 }) }, { t: 2 }],
      [{ $sort: { t: 1 } }],
      { now: NOW },
    ),
    [{ t: 2 }, { t: new Timestamp({ t: 1, i: 1 }) }, { t: new Timestamp({ t: 10, i: 1 }) }],
  );
  same(
    runPipeline(
      [{ a: Long.fromNumber(3) }],
      [{ $project: { eq: { $eq: ["$a", 3] }, in: { $in: [3, [Long.fromNumber(3)]] }, cmp: { $cmp: ["$a", 4] } } }],
      { now: NOW },
    ),
    [{ eq: true, in: true, cmp: -1 }],
  );
  throwsCode(
    () => c.aggregate([{ $listSessions: {} }], { now: NOW }),
    40324,
    "Unrecognized pipeline stage name: '$listSessions'",
  );
  throwsCode(() => runPipeline([], [{ $match: {}, $limit: 1 }], { now: NOW }), 40323);
  // inputs are not modified and outputs are copies
  const input = [{ _id: 1, d: new Date(0), n: { x: 1 } }];
  const res = runPipeline(input, [{ $set: { "n.y": 2 } }], { now: NOW });
  (res[0].d as Date).setTime(99);
  same(input, [{ _id: 1, d: new Date(0), n: { x: 1 } }]);
  assert.equal(c.find({ "user.name": "c" }).length, 1, "aggregate leaves the collection alone");
});

// ---------------------------------------------------------------------------------------------
// Write sets (transactions) and the catalog

const WCE =
  "WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.";

void test("write sets: private until commit; abort discards; natural order after commit", () => {
  const cat = new Catalog();
  const c = cat.collection("test.t");
  c.insertOne({ _id: 1, v: 0 });
  c.insertOne({ _id: 2, v: 0 });
  const ws = cat.beginWriteSet("s1:txn1");
  c.insertOne({ _id: 3, v: 1 }, ws);
  assert.deepEqual({ ...c.update({ _id: 1 }, { $inc: { v: 5 } }, { now: NOW }, ws) }, { matched: 1, modified: 1 });
  assert.equal(c.delete({ _id: 2 }, { limit: 1 }, ws), 1);
  // own view
  same(c.find({}, {}, ws), [
    { _id: 1, v: 5 },
    { _id: 3, v: 1 },
  ]);
  same(c.find({ _id: { $in: [1, 2, 3] } }, {}, ws), [
    { _id: 1, v: 5 },
    { _id: 3, v: 1 },
  ]);
  assert.equal(c.count({}, ws), 2);
  assert.equal(c.count({ v: { $gt: 0 } }, ws), 2);
  same(c.aggregate([{ $group: { _id: null, s: { $sum: "$v" } } }], { now: NOW }, ws), [{ _id: null, s: 6 }]);
  // others' view
  same(c.find({}), [
    { _id: 1, v: 0 },
    { _id: 2, v: 0 },
  ]);
  assert.equal(c.count(), 2);
  assert.deepEqual(ws.namespaces(), ["test.t"]);
  assert.equal(ws.size, 3);
  assert.deepEqual(cat.writeSets(), [ws]);
  // a write set sees its own writes when it writes again
  c.update({ _id: 3 }, { $inc: { v: 1 } }, { now: NOW }, ws);
  throwsCode(() => c.insertOne({ _id: 3 }, ws), 11000);
  c.insertOne({ _id: 2, v: 9 }, ws); // re-insert what it deleted
  ws.commit();
  assert.equal(ws.state, "committed");
  same(c.find({}), [
    { _id: 1, v: 5 },
    { _id: 2, v: 9 },
    { _id: 3, v: 2 },
  ]);
  assert.deepEqual(cat.writeSets(), []);
  assert.throws(() => ws.commit(), /illegal transition committed -> committed/);
  // abort
  const ws2 = cat.beginWriteSet();
  c.update({}, { $set: { v: -1 } }, { now: NOW, multi: true }, ws2);
  c.insertOne({ _id: 4 }, ws2);
  ws2.abort();
  same(c.find({}), [
    { _id: 1, v: 5 },
    { _id: 2, v: 9 },
    { _id: 3, v: 2 },
  ]);
  c.update({ _id: 1 }, { $set: { v: 6 } }, { now: NOW }); // locks were released
  assert.equal(c.findOne({ _id: 1 })!.v, 6);
});

void test("write sets: WriteConflict for any other writer of a document an open write set wrote", () => {
  const cat = new Catalog();
  const c = cat.collection("test.t");
  c.insertOne({ _id: 1, v: 0 });
  c.insertOne({ _id: 2, v: 0 });
  const a = cat.beginWriteSet("a");
  const b = cat.beginWriteSet("b");
  c.update({ _id: 1 }, { $set: { v: 1 } }, { now: NOW }, a);
  c.insertOne({ _id: 5 }, a);
  const e = throwsCode(() => c.update({ _id: 1 }, { $set: { v: 2 } }, { now: NOW }, b), 112, WCE);
  assert.equal(e.codeName, "WriteConflict");
  throwsCode(() => c.update({ _id: 1 }, { $set: { v: 2 } }, { now: NOW }), 112, WCE);
  throwsCode(() => c.delete({ _id: 1 }, { limit: 1 }), 112);
  throwsCode(() => c.delete({ _id: 1 }, { limit: 1 }, b), 112);
  throwsCode(() => c.insertOne({ _id: 5 }), 112, WCE);
  throwsCode(() => c.insertOne({ _id: 5 }, b), 112);
  throwsCode(() => c.update({ _id: 5 }, { $set: { x: 1 } }, { upsert: true, now: NOW }), 112);
  throwsCode(() => c.update({}, { $set: { v: 3 } }, { now: NOW, multi: true }), 112);
  same(
    c.find({}),
    [
      { _id: 1, v: 0 },
      { _id: 2, v: 0 },
    ],
    "failed multi-update wrote nothing",
  );
  // reads never conflict; an unchanged document is not written
  assert.equal(c.find({ _id: 1 }).length, 1);
  assert.deepEqual({ ...c.update({ _id: 1 }, { $set: { v: 0 } }, { now: NOW }) }, { matched: 1, modified: 0 });
  c.update({ _id: 2 }, { $set: { v: 7 } }, { now: NOW }, b);
  throwsCode(() => c.update({ _id: 2 }, { $set: { v: 8 } }, { now: NOW }, a), 112);
  // TTL and drop respect open writes
  c.createIndex({ key: { at: 1 }, expireAfterSeconds: 0 });
  c.insertOne({ _id: 9, at: new Date(0) });
  c.update({ _id: 9 }, { $set: { y: 1 } }, { now: NOW }, a);
  assert.deepEqual(c.expireTtl(NOW), [], "a document locked by a write set is not expired");
  throwsCode(() => cat.drop("test.t"), 24);
  throwsCode(() => cat.dropDatabase("test"), 24);
  a.abort();
  b.commit();
  assert.deepEqual(
    c.expireTtl(NOW).map((d) => d._id),
    [9],
  );
  c.update({ _id: 1 }, { $set: { v: 2 } }, { now: NOW });
  same(c.find({}), [
    { _id: 1, v: 2 },
    { _id: 2, v: 7 },
  ]);
  assert.equal(cat.drop("test.t"), true);
});

void test("write sets: prepared keeps its locks, refuses writes, survives restart recovery", () => {
  const cat = new Catalog();
  const c = cat.collection("test.t");
  c.insertOne({ _id: 1 });
  const p = cat.beginWriteSet("prepared");
  const o = cat.beginWriteSet("open");
  c.update({ _id: 1 }, { $set: { p: true } }, { now: NOW }, p);
  c.insertOne({ _id: 2 }, o);
  p.prepare();
  assert.equal(p.prepared, true);
  assert.equal(p.active, true);
  assert.throws(() => c.insertOne({ _id: 3 }, p), /cannot write in state prepared/);
  throwsCode(() => c.update({ _id: 1 }, { $set: { x: 1 } }, { now: NOW }), 112);
  assert.equal(cat.abortUnpreparedWriteSets(), 1);
  assert.equal(o.state, "aborted");
  assert.deepEqual(cat.writeSets(), [p]);
  c.insertOne({ _id: 2 }); // o's lock is gone
  throwsCode(() => c.update({ _id: 1 }, { $set: { x: 1 } }, { now: NOW }), 112, WCE);
  p.commit();
  same(c.find({}), [{ _id: 1, p: true }, { _id: 2 }]);
  assert.throws(() => p.prepare(), /illegal transition committed -> prepared/);
});

void test("write sets: unique indexes see the write set's own view and lock index keys", () => {
  const cat = new Catalog();
  const c = cat.collection("admin.system.users");
  c.createIndex({ key: { user: 1 }, unique: true });
  c.insertOne({ _id: 1, user: "alice" });
  c.insertOne({ _id: 2, user: "bob" });
  const ws = cat.beginWriteSet();
  throwsCode(() => c.insertOne({ _id: 3, user: "alice" }, ws), 11000);
  // swap names inside the transaction
  c.update({ _id: 1 }, { $set: { user: "tmp" } }, { now: NOW }, ws);
  c.update({ _id: 2 }, { $set: { user: "alice" } }, { now: NOW }, ws);
  c.update({ _id: 1 }, { $set: { user: "bob" } }, { now: NOW }, ws);
  throwsCode(() => c.insertOne({ _id: 4, user: "bob" }, ws), 11000);
  throwsCode(() => c.insertOne({ _id: 5, user: "tmp" }), 112, WCE);
  ws.commit();
  same(c.find({}), [
    { _id: 1, user: "bob" },
    { _id: 2, user: "alice" },
  ]);
  throwsCode(() => c.insertOne({ _id: 6, user: "bob" }), 11000);
  c.insertOne({ _id: 7, user: "tmp" });
});

void test("catalog: namespaces, drop, dropDatabase, shared deterministic _id factory", () => {
  const cat = new Catalog({ idFactory: sequentialObjectIds(100) });
  assert.equal(cat.get("config.system.sessions"), undefined);
  assert.equal(cat.has("config.system.sessions"), false);
  const s = cat.collection("config.system.sessions");
  assert.equal(cat.collection("config.system.sessions"), s);
  assert.equal(cat.get("config.system.sessions"), s);
  cat.collection("config.transactions");
  cat.collection("test.a");
  cat.collection("test.b.c");
  assert.deepEqual(cat.listNamespaces(), ["config.system.sessions", "config.transactions", "test.a", "test.b.c"]);
  assert.deepEqual(cat.listNamespaces("test"), ["test.a", "test.b.c"]);
  assert.deepEqual(cat.listDatabases(), ["config", "test"]);
  assert.equal((cat.collection("test.a").insertOne({}) as ObjectId).toHexString(), "000000000000000000000064");
  assert.equal((cat.collection("test.b.c").insertOne({}) as ObjectId).toHexString(), "000000000000000000000065");
  assert.deepEqual(cat.dropDatabase("test"), ["test.a", "test.b.c"]);
  assert.equal(cat.drop("test.a"), false);
  assert.equal(cat.drop("config.transactions"), true);
  assert.deepEqual(cat.listNamespaces(), ["config.system.sessions"]);
  for (const bad of ["nodot", ".c", "db."])
    throwsCode(() => cat.collection(bad), 73, `Invalid namespace specified '${bad}'`);
  const other = new Catalog();
  assert.throws(() => s.insertOne({ _id: 1 }, other.beginWriteSet()), /another catalog/);
});

void test("the _id fast path keeps upserts cheap (no collection scans)", () => {
  const c = new Collection("config.system.sessions");
  c.createIndex({ key: { lastUse: 1 }, name: "lsidTTLIndex", expireAfterSeconds: 1800 });
  const n = 20_000;
  const keys = Array.from({ length: n }, (_, i) => ({ id: uuid(i % 256), uid: uid(Math.floor(i / 256)) }));
  const t0 = process.hrtime.bigint();
  for (const k of keys) c.update({ _id: k }, refresh(), { upsert: true, now: NOW });
  for (const k of keys) c.update({ _id: k }, refresh(), { upsert: true, now: at(1) });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(c.size, n);
  assert.equal(c.count({ lastUse: at(1) }), n);
  // A scan per upsert would be ~n²/2 = 2·10⁸ document visits: minutes, not this.
  assert.ok(ms < 5000, `${2 * n} upserts took ${ms.toFixed(0)} ms`);
});
