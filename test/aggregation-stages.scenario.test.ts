/**
 * The aggregation stages that read another collection — `$lookup`, `$graphLookup`, `$unionWith` —
 * on a mongod (its own collections) and through mongos (gathered from the shards), their parse
 * errors, and the pipeline checks around `$facet`. Transcribed from MongoDB's manual pages
 * ("$lookup", "$graphLookup", "$unionWith", "$facet") and jstests:
 * - jstests/aggregation/sources/lookup/lookup_equijoin_semantics.js (null/missing, arrays);
 * - jstests/aggregation/sources/lookup/lookup_subpipeline.js (`let` and `pipeline`);
 * - jstests/aggregation/sources/graphLookup/basic.js and error.js (maxDepth, depthField, 40100–40105);
 * - jstests/aggregation/sources/unionWith/unionWith.js (string and `{coll, pipeline}` forms);
 * - jstests/aggregation/sources/facet/facet_validate_pipelines.js and inner_lookup.js (40600, also
 *   for a stage nested in a `$lookup` or `$unionWith` inside the `$facet`).
 * Server sources: `document_source_lookup.cpp`, `document_source_graph_lookup.cpp`,
 * `document_source_union_with.cpp`, `pipeline.cpp` (`validateFacetPipeline`).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Cluster, Long, UUID, type Connection, type Document } from "sessionsim";

type Doc = Record<string, unknown>;

function assertOk(r: Document, what = "command"): Document {
  assert.equal(r.ok, 1, `${what}: ${JSON.stringify(r)}`);
  return r;
}

function assertError(r: Document, code: number, errmsg?: string | RegExp): void {
  assert.equal(r.ok, 0, `expected error ${code}, got ${JSON.stringify(r)}`);
  assert.equal(r.code, code, String(r.errmsg));
  if (typeof errmsg === "string") assert.equal(r.errmsg, errmsg);
  else if (errmsg !== undefined) assert.match(String(r.errmsg), errmsg);
}

async function aggregate(conn: Connection, coll: string, pipeline: unknown[]): Promise<Document> {
  return conn.runCommand("test", { aggregate: coll, pipeline, cursor: {} });
}

async function rows(conn: Connection, coll: string, pipeline: unknown[]): Promise<Doc[]> {
  const r = assertOk(await aggregate(conn, coll, pipeline), `aggregate ${JSON.stringify(pipeline)}`);
  return (r.cursor as Doc).firstBatch as Doc[];
}

/** A cluster with `orders` (sharded over both shards) and `items` / `tree` (unsharded). */
async function fixture(seed: number): Promise<Cluster> {
  const cluster = await Cluster.start({ seed });
  const mongos = cluster.connect(cluster.mongos());
  assertOk(await mongos.runCommand("admin", { enableSharding: "test" }));
  assertOk(await mongos.runCommand("admin", { shardCollection: "test.orders", key: { _id: 1 } }));
  assertOk(await mongos.runCommand("admin", { split: "test.orders", middle: { _id: 10 } }));
  assertOk(await mongos.runCommand("admin", { moveChunk: "test.orders", find: { _id: 10 }, to: cluster.shardName(1) }));
  assertOk(
    await mongos.runCommand("test", {
      insert: "orders",
      documents: [
        { _id: 1, item: "a", qty: 2 },
        { _id: 2, item: ["a", "b"], qty: 1 },
        { _id: 11, item: "c", qty: 5 },
        { _id: 12, qty: 7 },
      ],
    }),
  );
  assertOk(
    await mongos.runCommand("test", {
      insert: "items",
      documents: [
        { _id: "a", sku: "a", price: 10 },
        { _id: "b", sku: "b", price: 20 },
        { _id: "n", sku: null, price: 0 },
        { _id: "l", sku: Long.fromNumber(1), price: 1 },
      ],
    }),
  );
  assertOk(
    await mongos.runCommand("test", {
      insert: "tree",
      documents: [
        { _id: "root", parent: null },
        { _id: "x", parent: "root" },
        { _id: "y", parent: "x" },
        { _id: "z", parent: "y" },
      ],
    }),
  );
  return cluster;
}

void describe("$lookup (manual: $lookup; document_source_lookup.cpp)", () => {
  void test("equality join through mongos: arrays match any element, missing matches null, BSON-typed equality", async () => {
    const cluster = await fixture(1);
    const mongos = cluster.connect(cluster.mongos());
    const out = await rows(mongos, "orders", [
      { $lookup: { from: "items", localField: "item", foreignField: "sku", as: "found" } },
      { $project: { skus: "$found._id" } },
      { $sort: { _id: 1 } },
    ]);
    assert.deepEqual(out, [
      { _id: 1, skus: ["a"] },
      { _id: 2, skus: ["a", "b"] },
      { _id: 11, skus: [] },
      { _id: 12, skus: ["n"] },
    ]);
    // 1 and Long(1) are the same number in BSON.
    const byNumber = await rows(mongos, "orders", [
      { $match: { _id: 1 } },
      { $lookup: { from: "items", localField: "_id", foreignField: "sku", as: "found" } },
    ]);
    assert.deepEqual(
      (byNumber[0].found as Doc[]).map((d) => d._id),
      ["l"],
    );
  });

  void test("a pipeline with let variables, and an `as` path that makes an embedded document", async () => {
    const cluster = await fixture(2);
    const mongos = cluster.connect(cluster.mongos());
    const out = await rows(mongos, "orders", [
      { $match: { _id: { $in: [1, 11] } } },
      {
        $lookup: {
          from: "items",
          let: { q: "$qty" },
          pipeline: [{ $match: { $expr: { $gt: ["$price", { $multiply: ["$$q", 4] }] } } }, { $project: { _id: 1 } }],
          as: "x.dear",
        },
      },
      { $sort: { _id: 1 } },
    ]);
    assert.deepEqual(out, [
      { _id: 1, item: "a", qty: 2, x: { dear: [{ _id: "a" }, { _id: "b" }] } },
      { _id: 11, item: "c", qty: 5, x: { dear: [] } },
    ]);
  });

  void test("on a shard directly it joins the shard's own collections", async () => {
    const cluster = await fixture(3);
    // items is unsharded: it lives on the database's primary shard, as do orders 1 and 2.
    const primary = cluster.connect(cluster.shard(0));
    const out = await rows(primary, "orders", [
      { $lookup: { from: "items", localField: "item", foreignField: "sku", as: "found" } },
      { $project: { n: { $size: "$found" } } },
      { $sort: { _id: 1 } },
    ]);
    assert.deepEqual(out, [
      { _id: 1, n: 1 },
      { _id: 2, n: 2 },
    ]);
    const other = cluster.connect(cluster.shard(1));
    const there = await rows(other, "orders", [
      { $lookup: { from: "items", localField: "item", foreignField: "sku", as: "found" } },
      { $project: { n: { $size: "$found" } } },
    ]);
    assert.deepEqual(
      there.map((d) => d.n),
      [0, 0],
      "shard1 has no items collection",
    );
  });

  void test("inside a transaction it sees the transaction's own writes to the other collection", async () => {
    // manual "Transactions and Operations": $lookup is allowed on unsharded collections.
    const cluster = await fixture(11);
    const shard = cluster.connect(cluster.shard(0));
    const lsid = { id: new UUID() };
    const t = (n: Doc): Doc => ({ lsid, txnNumber: Long.fromNumber(1), autocommit: false, ...n });
    assertOk(
      await shard.runCommand("test", {
        insert: "items",
        documents: [{ _id: "c", sku: "c" }],
        ...t({ startTransaction: true }),
      }),
    );
    const inTxn = assertOk(
      await shard.runCommand("test", {
        aggregate: "orders",
        pipeline: [
          { $match: { _id: 1 } },
          { $lookup: { from: "items", localField: "_id", foreignField: "x", as: "i" } },
          { $unionWith: { coll: "items", pipeline: [{ $match: { _id: "c" } }] } },
        ],
        cursor: {},
        ...t({}),
      }),
    );
    assert.deepEqual(
      ((inTxn.cursor as Doc).firstBatch as Doc[]).map((d) => d._id),
      [1, "c"],
      "the uncommitted item is visible to its own transaction",
    );
    const outside = await rows(shard, "items", [
      { $unionWith: { coll: "items", pipeline: [{ $match: { _id: "c" } }] } },
      { $match: { _id: "c" } },
    ]);
    assert.deepEqual(outside, [], "and to nobody else");
    assertOk(await shard.runCommand("admin", { abortTransaction: 1, ...t({}) }));
  });

  void test("parse errors are MongoDB's (FailedToParse 9)", async () => {
    const cluster = await fixture(4);
    for (const node of [cluster.mongos(), cluster.shard(0)]) {
      const conn = cluster.connect(node);
      const cases: [unknown, string][] = [
        [1, "the $lookup specification must be an Object"],
        [{ from: "items", localField: "item", foreignField: "sku" }, "must specify 'as' field for a $lookup"],
        [
          { from: "items", as: "x" },
          "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified",
        ],
        [
          { from: "items", localField: "a", pipeline: [], as: "x" },
          "$lookup requires both or neither of 'localField' and 'foreignField' to be specified",
        ],
        [
          { from: "items", as: 1, localField: "a", foreignField: "b" },
          "$lookup argument 'as' must be a string, found as: 1: int",
        ],
        [{ from: "items", as: "x", bogus: "y" }, "unknown argument to $lookup: bogus"],
        [
          { as: "x", pipeline: [{ $match: {} }] },
          "$lookup stage without explicit collection must have a pipeline with $documents as first stage",
        ],
        [
          { from: { db: "other", coll: "items" }, as: "x", localField: "a", foreignField: "b" },
          "$lookup with syntax {from: {db:<>, coll:<>},..} is not supported for db: other and coll: items",
        ],
      ];
      for (const [spec, errmsg] of cases) assertError(await aggregate(conn, "orders", [{ $lookup: spec }]), 9, errmsg);
      assertError(
        await aggregate(conn, "orders", [{ $lookup: { from: "items", as: "x", pipeline: [{ $bogus: {} }] } }]),
        40324,
        "Unrecognized pipeline stage name: '$bogus'",
      );
    }
  });
});

void describe("$graphLookup (manual: $graphLookup; document_source_graph_lookup.cpp)", () => {
  void test("follows connectFromField to connectToField breadth-first, with maxDepth and depthField (a long)", async () => {
    const cluster = await fixture(5);
    for (const node of [cluster.mongos(), cluster.shard(0)]) {
      const conn = cluster.connect(node);
      const out = await rows(conn, "tree", [
        { $match: { _id: "z" } },
        {
          $graphLookup: {
            from: "tree",
            startWith: "$parent",
            connectFromField: "parent",
            connectToField: "_id",
            as: "ancestors",
            depthField: "d",
          },
        },
      ]);
      const ancestors = (out[0].ancestors as Doc[]).map((a) => [a._id, a.d]);
      assert.deepEqual(ancestors, [
        ["y", Long.fromNumber(0)],
        ["x", Long.fromNumber(1)],
        ["root", Long.fromNumber(2)],
      ]);
      const near = await rows(conn, "tree", [
        { $match: { _id: "z" } },
        {
          $graphLookup: {
            from: "tree",
            startWith: "$parent",
            connectFromField: "parent",
            connectToField: "_id",
            as: "ancestors",
            maxDepth: 1,
            restrictSearchWithMatch: { _id: { $ne: "x" } },
          },
        },
      ]);
      assert.deepEqual(
        (near[0].ancestors as Doc[]).map((a) => a._id),
        ["y"],
        "x is excluded by the match, so root is never reached",
      );
    }
  });

  void test("argument errors 40100–40105 and 40185", async () => {
    const cluster = await fixture(6);
    const conn = cluster.connect(cluster.mongos());
    const base = { from: "tree", startWith: "$parent", connectFromField: "parent", connectToField: "_id", as: "a" };
    const cases: [Doc, number, string][] = [
      [{ ...base, maxDepth: "1" }, 40100, "maxDepth must be numeric, found type: string"],
      [{ ...base, maxDepth: -1 }, 40101, "maxDepth requires a nonnegative argument, found: -1"],
      [{ ...base, maxDepth: 1.5 }, 40102, "maxDepth could not be represented as a long long: 1"],
      [{ ...base, as: 1 }, 40103, "expected string as argument for as, found: int"],
      [{ ...base, bogus: 1 }, 40104, "Unknown argument to $graphLookup: bogus"],
      [
        { from: "tree", as: "a" },
        40105,
        "$graphLookup requires 'from', 'as', 'startWith', 'connectFromField', and 'connectToField' to be specified.",
      ],
      [{ ...base, restrictSearchWithMatch: 1 }, 40185, "restrictSearchWithMatch must be an object, found int"],
    ];
    for (const [spec, code, errmsg] of cases)
      assertError(await aggregate(conn, "tree", [{ $graphLookup: spec }]), code, errmsg);
  });
});

void describe("$unionWith (manual: $unionWith; document_source_union_with.cpp)", () => {
  void test("appends another collection's documents, through its pipeline, on mongos and on a shard", async () => {
    const cluster = await fixture(7);
    for (const node of [cluster.mongos(), cluster.shard(0)]) {
      const conn = cluster.connect(node);
      const all = await rows(conn, "items", [{ $project: { _id: 1 } }, { $unionWith: "tree" }, { $count: "n" }]);
      assert.deepEqual(all, [{ n: 8 }], `on ${node}`);
      const some = await rows(conn, "items", [
        { $match: { price: { $gte: 20 } } },
        { $unionWith: { coll: "tree", pipeline: [{ $match: { parent: null } }, { $project: { _id: 1 } }] } },
      ]);
      assert.deepEqual(some, [{ _id: "b", sku: "b", price: 20 }, { _id: "root" }]);
    }
    // Through mongos the other collection may be sharded.
    const mongos = cluster.connect(cluster.mongos());
    const orders = await rows(mongos, "items", [
      { $match: { _id: "a" } },
      { $unionWith: "orders" },
      { $project: { _id: 1 } },
    ]);
    assert.deepEqual(orders.map((d) => d._id).sort(), [1, 11, 12, 2, "a"].sort());
  });

  void test("argument errors: FailedToParse (9), IDL type and unknown-field errors (14, 40415)", async () => {
    const cluster = await fixture(8);
    const conn = cluster.connect(cluster.mongos());
    assertError(
      await aggregate(conn, "items", [{ $unionWith: 1 }]),
      9,
      "the $unionWith stage specification must be an object or string, but found int",
    );
    assertError(
      await aggregate(conn, "items", [{ $unionWith: { coll: 1 } }]),
      14,
      "BSON field '$unionWith.coll' is the wrong type 'int', expected type 'string'",
    );
    assertError(
      await aggregate(conn, "items", [{ $unionWith: { coll: "tree", bogus: 1 } }]),
      40415,
      "BSON field '$unionWith.bogus' is an unknown field.",
    );
    assertError(
      await aggregate(conn, "items", [{ $unionWith: { pipeline: [{ $match: {} }] } }]),
      9,
      "$unionWith stage without explicit collection must have a pipeline with $documents as first stage",
    );
    assertError(await aggregate(conn, "items", [{ $unionWith: "" }]), 73, "Invalid namespace specified 'test.'");
  });
});

void describe("$facet sub-pipelines (document_source_facet.cpp, Pipeline::validateFacetPipeline)", () => {
  void test("nested $facet is 40600; empty sub-pipelines BadValue; unknown nested stages 40324; $lookup inside works", async () => {
    const cluster = await fixture(9);
    const conn = cluster.connect(cluster.mongos());
    assertError(
      await aggregate(conn, "items", [{ $facet: { a: [{ $facet: { b: [{ $match: {} }] } }] } }]),
      40600,
      "$facet is not allowed to be used within a $facet stage",
    );
    assertError(
      await aggregate(conn, "items", [
        { $facet: { a: [{ $lookup: { from: "tree", pipeline: [{ $facet: { b: [{ $match: {} }] } }], as: "t" } }] } },
      ]),
      40600,
      "$facet inside of $lookup is not allowed to be used within a $facet stage",
    );
    assertError(
      await aggregate(conn, "items", [{ $facet: { a: [{ $unionWith: { pipeline: [{ $documents: [{ x: 1 }] }] } }] } }]),
      40600,
      "$documents inside of $unionWith is not allowed to be used within a $facet stage",
    );
    assertError(
      await aggregate(conn, "items", [{ $facet: { a: [] } }]),
      2,
      "sub-pipeline in $facet stage cannot be empty",
    );
    assertError(
      await aggregate(conn, "items", [{ $facet: { a: [{ $nope: 1 }] } }]),
      40324,
      "Unrecognized pipeline stage name: '$nope'",
    );
    assertError(
      await aggregate(conn, "items", [{ $facet: { a: 1 } }]),
      40170,
      "arguments to $facet must be arrays, a is type int",
    );
    const out = await rows(conn, "orders", [
      { $match: { _id: 1 } },
      {
        $facet: {
          joined: [
            { $lookup: { from: "items", localField: "item", foreignField: "sku", as: "i" } },
            { $project: { i: "$i._id" } },
          ],
          n: [{ $count: "n" }],
        },
      },
    ]);
    assert.deepEqual(out, [{ joined: [{ _id: 1, i: ["a"] }], n: [{ n: 1 }] }]);
  });

  void test("$out and $merge are not modelled: refused as unrecognized stages (40324)", async () => {
    const cluster = await fixture(10);
    const conn = cluster.connect(cluster.shard(0));
    for (const stage of [{ $out: "copy" }, { $merge: "copy" }])
      assertError(
        await aggregate(conn, "items", [stage]),
        40324,
        `Unrecognized pipeline stage name: '${Object.keys(stage)[0]}'`,
      );
  });
});
