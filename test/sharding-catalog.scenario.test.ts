// The config server's sharding catalog collections (config.shards, config.databases,
// config.collections, config.chunks), read with ordinary find / count / aggregate on the config
// server and through mongos. Sources:
// - jstests/libs/sessions_collection.js (`getShardsWithAndWithoutChunk`: config.collections
//   {_id: "config.system.sessions"}.uuid, then config.chunks {uuid});
// - jstests/sharding/libs/find_chunks_util.js (`findChunksByNs`: chunks looked up by the
//   collection's uuid);
// - jstests/sharding/move_chunk_basic.js (split + moveChunk, the chunk's `shard` changes);
// - jstests/sharding/shard_collection_config_db.js (no config.databases entry for "config");
// - jstests/sharding/sessions_collection_auto_healing.js (config.shards count; a dropped sessions
//   collection is re-created by the config server);
// - document shapes: src/mongo/s/catalog/type_chunk.cpp (`toConfigBSON`), type_collection.idl,
//   type_database.idl, type_shard.cpp; versions and history: sharding_catalog_manager_chunk_operations.cpp.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Cluster, Long, ObjectId, Timestamp, UUID, type Connection, type Document } from "sessionsim";

function assertOk(reply: Document, what = "command"): Document {
  assert.equal(reply.ok, 1, `${what} failed: ${JSON.stringify(reply)}`);
  return reply;
}

/** Every document `find` returns (one batch is enough for these small collections). */
async function find(conn: Connection, coll: string, filter: Document = {}, sort?: Document): Promise<Document[]> {
  const reply = assertOk(
    await conn.runCommand("config", { find: coll, filter, ...(sort === undefined ? {} : { sort }) }),
    `find config.${coll}`,
  );
  return (reply.cursor as Document).firstBatch as Document[];
}

/** The BSON type name of a value (MinKey and MaxKey are not re-exported by sessionsim). */
const bsonType = (v: unknown): string | undefined => (v as { _bsontype?: string } | null)?._bsontype;

const ts = (t: Timestamp): string => `${t.high}|${t.low}`;

/** config.collections' entry of `ns` and its chunks sorted by `min`, as the jstest helpers read them. */
async function chunksOf(conn: Connection, ns: string): Promise<{ coll: Document; chunks: Document[] }> {
  const colls = await find(conn, "collections", { _id: ns });
  assert.equal(colls.length, 1, `config.collections has ${ns}`);
  const coll = colls[0];
  return { coll, chunks: await find(conn, "chunks", { uuid: coll.uuid }, { min: 1 }) };
}

void describe("config.collections and config.chunks", () => {
  void test("after the cluster starts, config.system.sessions is sharded on {_id: 1} with one chunk on the first shard", async () => {
    const cluster = await Cluster.start({ seed: 1 });
    // The same documents on the config server and through mongos (which reads config.* there).
    for (const node of [cluster.config(), cluster.mongos()]) {
      const { coll, chunks } = await chunksOf(cluster.connect(node), "config.system.sessions");
      assert.deepEqual(Object.keys(coll), [
        "_id",
        "lastmodEpoch",
        "lastmod",
        "timestamp",
        "uuid",
        "key",
        "unique",
        "noBalance",
        "maxChunkSizeBytes",
      ]);
      assert.ok(coll.lastmodEpoch instanceof ObjectId);
      assert.ok(coll.lastmod instanceof Date);
      assert.ok(coll.timestamp instanceof Timestamp);
      assert.ok(coll.uuid instanceof UUID);
      assert.deepEqual(coll.key, { _id: 1 });
      assert.equal(coll.unique, false);
      assert.deepEqual(coll.maxChunkSizeBytes, Long.fromNumber(200_000));

      assert.equal(chunks.length, 1, "one chunk");
      const [chunk] = chunks;
      assert.deepEqual(Object.keys(chunk), [
        "_id",
        "uuid",
        "min",
        "max",
        "shard",
        "lastmod",
        "onCurrentShardSince",
        "history",
      ]);
      assert.ok(chunk._id instanceof ObjectId);
      assert.equal(bsonType((chunk.min as Document)._id), "MinKey");
      assert.equal(bsonType((chunk.max as Document)._id), "MaxKey");
      assert.equal(chunk.shard, cluster.shardName(0));
      assert.equal(ts(chunk.lastmod as Timestamp), "1|0", "version 1|0");
      // Valid on its shard since the collection was created.
      assert.equal(ts(chunk.onCurrentShardSince as Timestamp), ts(coll.timestamp));
      assert.deepEqual(chunk.history, [{ validAfter: chunk.onCurrentShardSince, shard: cluster.shardName(0) }]);
    }
    // The uuid is the chunks' join key; count and aggregate read the same documents.
    const mongos = cluster.connect(cluster.mongos());
    const { coll } = await chunksOf(mongos, "config.system.sessions");
    assert.equal(assertOk(await mongos.runCommand("config", { count: "chunks", query: { uuid: coll.uuid } })).n, 1);
    const grouped = assertOk(
      await mongos.runCommand("config", {
        aggregate: "chunks",
        pipeline: [{ $match: { uuid: coll.uuid } }, { $group: { _id: "$shard", n: { $sum: 1 } } }],
        cursor: {},
      }),
    );
    assert.deepEqual((grouped.cursor as Document).firstBatch, [{ _id: cluster.shardName(0), n: 1 }]);
    await cluster.stop();
  });

  void test("without the start-up refresh, config.collections is empty until the config server's first refresh", async () => {
    const cluster = await Cluster.start({
      seed: 2,
      setupSessionsCollection: false,
      parameters: { disableLogicalSessionCacheRefresh: true },
    });
    const config = cluster.connect(cluster.config());
    assert.deepEqual(await find(config, "collections"), []);
    assert.deepEqual(await find(config, "chunks"), []);
    assertOk(await config.runCommand("admin", { refreshLogicalSessionCacheNow: 1 }));
    const { chunks } = await chunksOf(config, "config.system.sessions");
    assert.deepEqual(
      chunks.map((c) => c.shard),
      [cluster.shardName(0)],
    );
    await cluster.stop();
  });

  void test("shardCollection, split and moveChunk: both chunks with their bounds, shards, versions and history", async () => {
    const cluster = await Cluster.start({ seed: 3 });
    const mongos = cluster.connect(cluster.mongos());
    assertOk(await mongos.runCommand("admin", { shardCollection: "test.y", key: { k: 1 } }));
    const initial = await chunksOf(mongos, "test.y");
    assert.deepEqual(initial.coll.key, { k: 1 });
    assert.equal(initial.coll.unique, false);
    assert.equal("maxChunkSizeBytes" in initial.coll, false, "only the sessions collection gets a chunk size");
    assert.equal(initial.chunks.length, 1);
    const originalId = initial.chunks[0]._id as ObjectId;

    assertOk(await mongos.runCommand("admin", { split: "test.y", middle: { k: 10 } }));
    const split = (await chunksOf(mongos, "test.y")).chunks;
    assert.equal(split.length, 2);
    assert.equal(split[0].max && (split[0].max as Document).k, 10);
    assert.deepEqual(
      split.map((c) => ts(c.lastmod as Timestamp)),
      ["1|1", "1|2"],
      "a split bumps the minor version",
    );
    assert.ok((split[0]._id as ObjectId).equals(originalId), "the left piece keeps the original _id");

    const primary = initial.chunks[0].shard as string;
    const other = primary === cluster.shardName(0) ? cluster.shardName(1) : cluster.shardName(0);
    assertOk(await mongos.runCommand("admin", { moveChunk: "test.y", find: { k: 10 }, to: other }));
    // Read on the config server directly this time.
    const { chunks } = await chunksOf(cluster.connect(cluster.config()), "test.y");
    assert.equal(chunks.length, 2);
    const [low, high] = chunks;
    assert.equal(bsonType((low.min as Document).k), "MinKey");
    assert.deepEqual(low.max, { k: 10 });
    assert.deepEqual(high.min, { k: 10 });
    assert.equal(bsonType((high.max as Document).k), "MaxKey");
    assert.equal(low.shard, primary);
    assert.equal(high.shard, other);
    assert.equal(ts(high.lastmod as Timestamp), "2|0", "the moved chunk: next major version");
    assert.equal(ts(low.lastmod as Timestamp), "2|1", "the donor's control chunk: 2|1");
    const history = high.history as Document[];
    assert.deepEqual(
      history.map((h) => h.shard),
      [other, primary],
      "the new owner is prepended",
    );
    assert.equal(ts(history[0].validAfter as Timestamp), ts(high.onCurrentShardSince as Timestamp));
    assert.ok((high.onCurrentShardSince as Timestamp).greaterThan(low.onCurrentShardSince as Timestamp));
    const perShard = assertOk(
      await mongos.runCommand("config", { count: "chunks", query: { uuid: initial.coll.uuid, shard: other } }),
    );
    assert.equal(perShard.n, 1);
    await cluster.stop();
  });

  void test("drop removes the collection's entry and chunks; the config server re-creates config.system.sessions with a new uuid", async () => {
    const cluster = await Cluster.start({ seed: 4, parameters: { disableLogicalSessionCacheRefresh: true } });
    const mongos = cluster.connect(cluster.mongos());
    assertOk(await mongos.runCommand("admin", { shardCollection: "test.z", key: { _id: 1 } }));
    const z = await chunksOf(mongos, "test.z");
    assertOk(await mongos.runCommand("test", { drop: "z" }));
    assert.deepEqual(await find(mongos, "collections", { _id: "test.z" }), []);
    assert.deepEqual(await find(mongos, "chunks", { uuid: z.coll.uuid }), []);

    const before = await chunksOf(mongos, "config.system.sessions");
    assertOk(await mongos.runCommand("config", { drop: "system.sessions" }));
    assert.deepEqual(await find(mongos, "collections", { _id: "config.system.sessions" }), []);
    assertOk(await cluster.connect(cluster.config()).runCommand("admin", { refreshLogicalSessionCacheNow: 1 }));
    const after = await chunksOf(mongos, "config.system.sessions");
    assert.notEqual((after.coll.uuid as UUID).toHexString(), (before.coll.uuid as UUID).toHexString());
    assert.equal(after.chunks.length, 1);
    assert.deepEqual(await find(mongos, "chunks", { uuid: before.coll.uuid }), [], "no chunk of the old uuid");
    await cluster.stop();
  });
});

void describe("config.databases and config.shards", () => {
  void test("config.databases shows each database's primary shard; admin and config have no entry", async () => {
    const cluster = await Cluster.start({ seed: 5 });
    const mongos = cluster.connect(cluster.mongos());
    assertOk(await mongos.runCommand("app", { insert: "x", documents: [{ _id: 1 }] }));
    assertOk(await mongos.runCommand("admin", { enableSharding: "placed", primaryShard: cluster.shardName(1) }));
    assertOk(await mongos.runCommand("admin", { enableSharding: "config" }));
    const dbs = await find(mongos, "databases", {}, { _id: 1 });
    assert.deepEqual(
      dbs.map((d) => d._id),
      ["app", "placed"],
    );
    const app = dbs[0];
    assert.deepEqual(Object.keys(app), ["_id", "primary", "version"]);
    // The shard that holds app.x is its primary.
    const holder = (
      await Promise.all(
        [0, 1].map(async (i) => ({
          shard: cluster.shardName(i),
          n: (await cluster.connect(cluster.shard(i)).runCommand("app", { count: "x" })).n,
        })),
      )
    ).find((s) => s.n === 1)!.shard;
    assert.equal(app.primary, holder);
    const version = app.version as Document;
    assert.deepEqual(Object.keys(version), ["uuid", "timestamp", "lastMod"]);
    assert.ok(version.uuid instanceof UUID);
    assert.ok(version.timestamp instanceof Timestamp);
    assert.equal(version.lastMod, 1);
    assert.equal(dbs[1].primary, cluster.shardName(1), "enableSharding's primaryShard");
    await cluster.stop();
  });

  void test("reads of a database that does not exist find nothing and do not create it; the first write does", async () => {
    // cluster_find.cpp / cluster_drop_collection_cmd.cpp: the catalog cache's NamespaceNotFound
    // becomes an empty result (a drop succeeds with info); writes create the database implicitly.
    const cluster = await Cluster.start({ seed: 6 });
    const mongos = cluster.connect(cluster.mongos());
    const firstBatch = (r: Document): unknown[] => (assertOk(r).cursor as Document).firstBatch as unknown[];
    assert.deepEqual(firstBatch(await mongos.runCommand("ghost", { find: "x", filter: {} })), []);
    assert.equal(assertOk(await mongos.runCommand("ghost", { count: "x" })).n, 0);
    assert.deepEqual(firstBatch(await mongos.runCommand("ghost", { aggregate: "x", pipeline: [], cursor: {} })), []);
    const listIndexes = await mongos.runCommand("ghost", { listIndexes: "x" });
    assert.equal(listIndexes.codeName, "NamespaceNotFound");
    assert.equal((await mongos.runCommand("ghost", { dropIndexes: "x", index: "*" })).codeName, "NamespaceNotFound");
    assert.equal(assertOk(await mongos.runCommand("ghost", { drop: "x" })).info, "database does not exist");
    assert.deepEqual(await find(mongos, "databases", { _id: "ghost" }), [], "no read created the database");

    assertOk(await mongos.runCommand("ghost", { insert: "x", documents: [{ _id: 1 }] }));
    const [entry] = await find(mongos, "databases", { _id: "ghost" });
    assert.ok(entry !== undefined, "the insert created the database");
    assert.deepEqual(firstBatch(await mongos.runCommand("ghost", { find: "x", filter: {} })), [{ _id: 1 }]);
    await cluster.stop();
  });

  void test("config.shards lists every shard with its host, state 1 and topologyTime", async () => {
    const cluster = await Cluster.start({ seed: 6, shards: 3 });
    const shards = await find(cluster.connect(cluster.mongos()), "shards", {}, { _id: 1 });
    assert.deepEqual(
      shards.map((s) => ({ _id: s._id, host: s.host, state: s.state })),
      [0, 1, 2].map((i) => ({
        _id: cluster.shardName(i),
        host: `${cluster.shardName(i)}/${cluster.shard(i)}:27017`,
        state: 1,
      })),
    );
    for (const s of shards) assert.ok(s.topologyTime instanceof Timestamp);
    assert.equal(assertOk(await cluster.connect(cluster.config()).runCommand("config", { count: "shards" })).n, 3);
    await cluster.stop();
  });
});

void describe("writes to the catalog collections (docs/fidelity.md)", () => {
  void test("an admin's update of config.chunks is accepted, as the server accepts it, but does not move data", async () => {
    const cluster = await Cluster.start({ seed: 8 });
    const mongos = cluster.connect(cluster.mongos());
    assertOk(await mongos.runCommand("admin", { shardCollection: "test.w", key: { _id: 1 } }));
    const { coll, chunks } = await chunksOf(mongos, "test.w");
    const owner = chunks[0].shard as string;
    const elsewhere = owner === cluster.shardName(0) ? cluster.shardName(1) : cluster.shardName(0);
    const updated = assertOk(
      await mongos.runCommand("config", {
        update: "chunks",
        updates: [{ q: { uuid: coll.uuid }, u: { $set: { shard: elsewhere } } }],
      }),
    );
    assert.equal(updated.nModified, 1);
    assert.equal((await chunksOf(mongos, "test.w")).chunks[0].shard, elsewhere, "the document changed");
    assertOk(await mongos.runCommand("test", { insert: "w", documents: [{ _id: 1 }] }));
    const ownerIndex = owner === cluster.shardName(0) ? 0 : 1;
    const onOwner = await cluster.connect(cluster.shard(ownerIndex)).runCommand("test", { count: "w" });
    assert.equal(onOwner.n, 1, "routing still follows the cluster's metadata");
    await cluster.stop();
  });
});

void describe("the catalog documents are durable and deterministic", () => {
  void test("they survive a config server restart, and the same seed gives the same documents", async () => {
    const read = async (): Promise<string> => {
      const cluster = await Cluster.start({ seed: 7 });
      const mongos = cluster.connect(cluster.mongos());
      assertOk(await mongos.runCommand("admin", { shardCollection: "test.d", key: { _id: 1 } }));
      assertOk(await mongos.runCommand("admin", { split: "test.d", middle: { _id: 0 } }));
      cluster.crash(cluster.config());
      await cluster.restart(cluster.config());
      const config = cluster.connect(cluster.config());
      const all = [];
      for (const coll of ["shards", "databases", "collections", "chunks"])
        all.push(await find(config, coll, {}, { _id: 1 }));
      await cluster.stop();
      assert.equal(all[3].length, 3, "the sessions chunk and test.d's two");
      return JSON.stringify(all);
    };
    assert.equal(await read(), await read());
  });
});
