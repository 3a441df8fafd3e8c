/**
 * CRUD, cursors, routing and failpoints, transcribed from MongoDB's documentation and jstests:
 * - manual "insert", "find", "getMore", "killCursors" (reply shapes);
 * - jstests/core/write/insert/insert1.js (duplicate _id → writeErrors with E11000);
 * - jstests/sharding/move_chunk_basic.js (documents follow their chunk);
 * - jstests/core/getmore_cmd_maxtimems.js / getmore_invalidated_cursors.js (CursorNotFound);
 * - jstests/core/failcommand_failpoint.js (failCommand errorCode / closeConnection / namespace);
 * - jstests/core/administrative/current_op/currentop.js and killop (Interrupted 11601).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Cluster, Long, NetworkError } from "sessionsim";

type Doc = Record<string, unknown>;
const cursorOf = (r: Doc) => r.cursor as { firstBatch?: Doc[]; nextBatch?: Doc[]; id: Long; ns: string };

void describe("CRUD through mongos and on shards", () => {
  void test("insert reports duplicate _id as a write error and keeps going only when unordered", async () => {
    const c = await Cluster.start({ seed: 1 });
    const conn = c.connect(c.mongos());
    const ordered = await conn.runCommand("test", { insert: "x", documents: [{ _id: 1 }, { _id: 1 }, { _id: 2 }] });
    assert.equal(ordered.ok, 1);
    assert.equal(ordered.n, 1);
    const errs = ordered.writeErrors as Doc[];
    assert.equal(errs.length, 1);
    assert.equal(errs[0].index, 1);
    assert.equal(errs[0].code, 11000);
    assert.match(
      String(errs[0].errmsg),
      /^E11000 duplicate key error collection: test.x index: _id_ dup key: \{ _id: 1 \}/,
    );
    const unordered = await conn.runCommand("test", {
      insert: "x",
      documents: [{ _id: 1 }, { _id: 3 }],
      ordered: false,
    });
    assert.equal(unordered.n, 1);
    assert.equal((unordered.writeErrors as Doc[])[0].index, 0);
    const all = await conn.runCommand("test", { find: "x", filter: {}, sort: { _id: 1 } });
    assert.deepEqual(cursorOf(all).firstBatch, [{ _id: 1 }, { _id: 3 }]);
    await c.stop();
  });

  void test("find returns a first batch and a cursor; getMore drains it; killCursors reports what it killed", async () => {
    const c = await Cluster.start({ seed: 2 });
    const conn = c.connect(c.mongos());
    await conn.runCommand("test", { insert: "x", documents: Array.from({ length: 5 }, (_, i) => ({ _id: i })) });
    const first = cursorOf(await conn.runCommand("test", { find: "x", filter: {}, batchSize: 2, sort: { _id: 1 } }));
    assert.equal(first.ns, "test.x");
    assert.deepEqual(first.firstBatch, [{ _id: 0 }, { _id: 1 }]);
    assert.ok(first.id instanceof Long && !first.id.isZero());
    const more = cursorOf(await conn.runCommand("test", { getMore: first.id, collection: "x", batchSize: 2 }));
    assert.deepEqual(more.nextBatch, [{ _id: 2 }, { _id: 3 }]);
    assert.ok(more.id.equals(first.id));
    const killed = await conn.runCommand("test", { killCursors: "x", cursors: [first.id, Long.fromNumber(12345)] });
    assert.deepEqual(
      {
        killed: (killed.cursorsKilled as Long[]).map(String),
        notFound: (killed.cursorsNotFound as Long[]).map(String),
      },
      { killed: [first.id.toString()], notFound: ["12345"] },
    );
    assert.deepEqual(killed.cursorsAlive, []);
    const gone = await conn.runCommand("test", { getMore: first.id, collection: "x" });
    assert.equal(gone.code, 43);
    assert.equal(gone.codeName, "CursorNotFound");
    const status = await conn.runCommand("admin", { serverStatus: 1 });
    const open = ((status.metrics as Doc).cursor as { open: { total: Long } }).open.total;
    assert.equal(open.toNumber(), 0);
    await c.stop();
  });

  void test("a sharded collection's documents follow their chunk when it moves", async () => {
    const c = await Cluster.start({ seed: 3 });
    const conn = c.connect(c.mongos());
    assert.equal((await conn.runCommand("admin", { shardCollection: "test.y", key: { k: 1 } })).ok, 1);
    assert.equal((await conn.runCommand("admin", { split: "test.y", middle: { k: 10 } })).ok, 1);
    await conn.runCommand("test", { insert: "y", documents: [{ k: 1 }, { k: 20 }, { k: 5 }, { k: 30 }] });
    const count = async (i: number) => (await c.connect(c.shard(i)).runCommand("test", { count: "y" })).n;
    const primary = (await count(0)) === 4 ? 0 : 1;
    assert.equal(await count(primary), 4);
    const other = 1 - primary;
    assert.equal(
      (await conn.runCommand("admin", { moveChunk: "test.y", find: { k: 10 }, to: c.shardName(other) })).ok,
      1,
    );
    assert.equal(await count(primary), 2);
    assert.equal(await count(other), 2);
    const sorted = cursorOf(
      await conn.runCommand("test", { find: "y", filter: {}, sort: { k: -1 }, projection: { _id: 0 } }),
    );
    assert.deepEqual(sorted.firstBatch, [{ k: 30 }, { k: 20 }, { k: 5 }, { k: 1 }]);
    // A targeted update touches one shard; a multi update reaches both.
    const multi = await conn.runCommand("test", {
      update: "y",
      updates: [{ q: {}, u: { $inc: { v: 1 } }, multi: true }],
    });
    assert.deepEqual([multi.n, multi.nModified], [4, 4]);
    await c.stop();
  });

  void test("failCommand fails, closes the connection, and honours namespace", async () => {
    const c = await Cluster.start({ seed: 4 });
    const shard = c.connect(c.shard(0));
    await shard.runCommand("admin", {
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["insert"], errorCode: 91, namespace: "test.a" },
    });
    const other = await shard.runCommand("test", { insert: "b", documents: [{}] });
    assert.equal(other.ok, 1, "a different namespace is not affected");
    const failed = await shard.runCommand("test", { insert: "a", documents: [{}] });
    assert.deepEqual(
      [failed.ok, failed.code, failed.codeName, failed.errmsg],
      [0, 91, "ShutdownInProgress", "Failing command via 'failCommand' failpoint"],
    );
    assert.equal((await shard.runCommand("test", { insert: "a", documents: [{}] })).ok, 1, "times: 1 is used up");
    await shard.runCommand("admin", {
      configureFailPoint: "failCommand",
      mode: "alwaysOn",
      data: { failCommands: ["ping"], closeConnection: true },
    });
    await assert.rejects(shard.runCommand("admin", { ping: 1 }), NetworkError);
    await c.stop();
  });

  void test("$currentOp shows a running operation and killOp interrupts it with Interrupted", async () => {
    const c = await Cluster.start({ seed: 5 });
    const shard = c.connect(c.shard(0));
    const sleeping = shard.send("admin", { sleep: 1, secs: 60, lock: "none" });
    await c.advance(100);
    const ops = cursorOf(
      await shard.runCommand("admin", {
        aggregate: 1,
        pipeline: [{ $currentOp: { allUsers: true } }, { $match: { "command.sleep": 1 } }],
        cursor: {},
      }),
    ).firstBatch as Doc[];
    assert.equal(ops.length, 1);
    assert.equal(ops[0].killPending, false);
    assert.equal((await shard.runCommand("admin", { killOp: 1, op: ops[0].opid })).info, "attempting to kill op");
    const reply = await c.wait(sleeping);
    assert.deepEqual([reply.ok, reply.code, reply.codeName], [0, 11601, "Interrupted"]);
    assert.ok(c.now().getTime() - Date.UTC(2026, 0, 1) < 10_000, "the sleep ended early");
    await c.stop();
  });

  void test("$currentOp lists an open transaction between statements as an idle session (currentop_idle_sessions)", async () => {
    const c = await Cluster.start({ seed: 7 });
    const shard = c.connect(c.shard(0));
    const { id } = (await shard.runCommand("admin", { startSession: 1 })) as { id: Doc };
    const started = await shard.runCommand("test", {
      insert: "t",
      documents: [{ _id: 1 }],
      lsid: id,
      txnNumber: Long.fromNumber(1),
      autocommit: false,
      startTransaction: true,
    });
    assert.equal(started.ok, 1);
    const rows = cursorOf(
      await shard.runCommand("admin", {
        aggregate: 1,
        pipeline: [{ $currentOp: { allUsers: true } }, { $match: { type: "idleSession" } }],
        cursor: {},
      }),
    ).firstBatch as Doc[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0].desc, "inactive transaction");
    const params = (rows[0].transaction as { parameters: { txnNumber: Long; autocommit: boolean } }).parameters;
    assert.deepEqual([params.txnNumber.toNumber(), params.autocommit], [1, false]);
    const none = cursorOf(
      await shard.runCommand("admin", {
        aggregate: 1,
        pipeline: [{ $currentOp: { allUsers: true, idleSessions: false } }, { $match: { type: "idleSession" } }],
        cursor: {},
      }),
    ).firstBatch as Doc[];
    assert.equal(none.length, 0);
    await c.stop();
  });

  void test("malformed CRUD commands get MongoDB's parse errors and never crash the node", async () => {
    const c = await Cluster.start({ seed: 6 });
    for (const node of [c.mongos(), c.shard(0)]) {
      const conn = c.connect(node);
      const cases: [Doc, number][] = [
        [{ insert: "x", documents: "nope" }, 14],
        [{ insert: "x" }, 40414],
        [{ insert: "x", documents: [] }, 16],
        [{ insert: 5, documents: [{}] }, 73],
        [{ find: "x", filter: 1 }, 14],
        [{ find: "x", bogus: 1 }, 40415],
        [{ update: "x", updates: [{ q: {} }] }, 40414],
        [{ delete: "x", deletes: [{ q: {}, limit: 7 }] }, 9],
        [{ getMore: "abc", collection: "x" }, 14],
        [{ killCursors: "x", cursors: ["abc"] }, 14],
        [{ aggregate: "x", pipeline: [] }, 9],
      ];
      for (const [cmd, code] of cases) {
        const r = await conn.runCommand("test", cmd);
        const errCode = r.ok === 0 ? r.code : (r.writeErrors as Doc[] | undefined)?.[0]?.code;
        assert.equal(errCode, code, `${node} ${JSON.stringify(cmd)} → ${JSON.stringify(r)}`);
      }
    }
    assert.deepEqual(
      c.trace().filter((e) => e.type === "node.bug"),
      [],
    );
    await c.stop();
  });
});
