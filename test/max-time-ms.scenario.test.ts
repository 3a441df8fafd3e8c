/**
 * `maxTimeMS`: the operation's deadline interrupts whatever it waits on with MaxTimeMSExpired (50),
 * transcribed from MongoDB's jstests:
 * - jstests/core/max_time_ms.js (`sleep` with a time limit; input validation of `maxTimeMS`);
 * - jstests/core/txns/new_transactions_on_session_with_prepared_txn_block_behind_prepare.js (the
 *   wait behind a prepared transaction, which the test ends with `maxTimeMS`);
 * - jstests/sharding/max_time_ms_sharded.js (mongos forwards the time limit to shards: the
 *   `maxTimeMSOpOnly` it attaches to the requests of an operation with a deadline,
 *   `network_interface_tl.cpp`).
 * Server sources: `max_time_ms_parser.cpp`, `service_entry_point_shard_role.cpp`
 * (`_initiateCommand` sets the deadline), `session_catalog.cpp` (interruptible checkout).
 * Reference: shared/reference/mongo-sessions-semantics.md §5.2.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Cluster, Long, type Connection, type Document, type Timestamp } from "sessionsim";
import { assertCode, assertOk, blockCommands, lsid, retryable, txn, type Doc } from "./fixtures/participant.js";

async function shardCluster(): Promise<{ cluster: Cluster; shard: Connection }> {
  const cluster = await Cluster.start({ shards: 1, seed: 11 });
  return { cluster, shard: cluster.connect(cluster.shard(0)) };
}

const EXCEEDED = "operation exceeded time limit";

void describe("maxTimeMS interrupts the operation's waits (reference §5.2)", () => {
  void test("a new txnNumber behind a prepared transaction fails MaxTimeMSExpired after maxTimeMS of virtual time", async () => {
    const { cluster, shard } = await shardCluster();
    const s = lsid();
    assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 1 }], ...txn(s, 1, true) }));
    const prepared = assertOk(await shard.runCommand("admin", { prepareTransaction: 1, ...txn(s, 1) }))
      .prepareTimestamp as Timestamp;
    const started = cluster.now().getTime();
    const blocked = shard.send("test", {
      insert: "c",
      documents: [{ _id: 2 }],
      ...retryable(s, 2),
      maxTimeMS: 100,
    });
    await cluster.advance(99);
    assert.equal(blocked.done, false, "still waiting behind the prepared transaction");
    const r = await cluster.wait(blocked);
    assertCode(r, "MaxTimeMSExpired", 50, EXCEEDED);
    const elapsed = cluster.now().getTime() - started;
    assert.ok(elapsed >= 100 && elapsed < 200, `failed after ${elapsed} ms`);
    // The prepared transaction is untouched; afterwards the new number works.
    assertOk(await shard.runCommand("admin", { commitTransaction: 1, ...txn(s, 1), commitTimestamp: prepared }));
    assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 2 }], ...retryable(s, 2) }));
  });

  void test("without maxTimeMS the same operation keeps waiting", async () => {
    const { cluster, shard } = await shardCluster();
    const s = lsid();
    assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 1 }], ...txn(s, 1, true) }));
    assertOk(await shard.runCommand("admin", { prepareTransaction: 1, ...txn(s, 1) }));
    const blocked = shard.send("test", { insert: "c", documents: [{ _id: 2 }], ...retryable(s, 2), maxTimeMS: 0 });
    await cluster.advance(10_000);
    assert.equal(blocked.done, false, "maxTimeMS: 0 means no limit");
  });

  void test("sleep: a 300 ms sleep with maxTimeMS 100 fails 50; with 10 s it succeeds (max_time_ms.js)", async () => {
    const { cluster, shard } = await shardCluster();
    const t0 = cluster.now().getTime();
    assertCode(await shard.runCommand("admin", { sleep: 1, millis: 300, maxTimeMS: 100 }), "MaxTimeMSExpired", 50);
    const t1 = cluster.now().getTime();
    assert.ok(t1 - t0 < 300, `interrupted at its deadline, not after the sleep (${t1 - t0} ms)`);
    assertOk(await shard.runCommand("admin", { sleep: 1, millis: 300, maxTimeMS: 10_000 }));
    // mongos runs sleep itself, with its own deadline.
    const router = cluster.connect(cluster.mongos());
    assertCode(await router.runCommand("admin", { sleep: 1, millis: 300, maxTimeMS: 50 }), "MaxTimeMSExpired", 50);
  });

  void test("the session checkout wait behind another operation on the session ends at the deadline", async () => {
    const { cluster, shard } = await shardCluster();
    const s = lsid();
    await blockCommands(cluster, cluster.shard(0), ["insert"], 1000);
    const first = shard.send("test", { insert: "c", documents: [{ _id: 1 }], ...retryable(s, 1) });
    await cluster.advance(10);
    const second = shard.send("test", {
      insert: "c",
      documents: [{ _id: 2 }],
      ...retryable(s, 2),
      maxTimeMS: 200,
    });
    await cluster.advance(150);
    assert.equal(second.done, false, "waits for the session");
    assertCode(await cluster.wait(second), "MaxTimeMSExpired", 50, EXCEEDED);
    assert.equal(first.done, false, "the first operation still has the session");
    assertOk(await cluster.wait(first));
  });

  void test("failCommand's blockConnection is cut short by the command's own deadline", async () => {
    const { cluster, shard } = await shardCluster();
    await blockCommands(cluster, cluster.shard(0), ["find"], 5000);
    const t0 = cluster.now().getTime();
    assertCode(await shard.runCommand("test", { find: "c", maxTimeMS: 100 }), "MaxTimeMSExpired", 50);
    assert.ok(cluster.now().getTime() - t0 < 1000);
  });

  void test("a statement of a transaction that times out aborts the transaction", async () => {
    const { cluster, shard } = await shardCluster();
    const s = lsid();
    assertOk(await shard.runCommand("test", { insert: "c", documents: [{ _id: 1 }], ...txn(s, 1, true) }));
    await blockCommands(cluster, cluster.shard(0), ["find"], 5000);
    assertCode(await shard.runCommand("test", { find: "c", ...txn(s, 1), maxTimeMS: 100 }), "MaxTimeMSExpired", 50);
    assertCode(await shard.runCommand("admin", { commitTransaction: 1, ...txn(s, 1) }), "NoSuchTransaction", 251);
  });
});

void describe("maxTimeMS validation (max_time_ms_parser.cpp; jstests/core/max_time_ms.js)", () => {
  void test("0 in every numeric type means no limit; 2^31-1 is the largest value", async () => {
    const { shard } = await shardCluster();
    for (const v of [0, Long.fromNumber(0), 2 ** 31 - 1, Long.fromNumber(2 ** 31 - 1)])
      assertOk(await shard.runCommand("test", { ping: 1, maxTimeMS: v }), `maxTimeMS ${String(v)}`);
  });

  void test("negative, too large, fractional and non-numeric values are BadValue with the server's messages", async () => {
    const { shard } = await shardCluster();
    const cases: [unknown, string][] = [
      [-1, "-1 value for maxTimeMS is out of range [0, 2147483647]"],
      [Long.fromNumber(-1), "-1 value for maxTimeMS is out of range [0, 2147483647]"],
      [2 ** 31, "2147483648 value for maxTimeMS is out of range [0, 2147483647]"],
      [Long.fromNumber(2 ** 31), "2147483648 value for maxTimeMS is out of range [0, 2147483647]"],
      [0.1, "maxTimeMS has non-integral value"],
      [-0.1, "maxTimeMS has non-integral value"],
      ["", "maxTimeMS must be a number"],
      [true, "maxTimeMS must be a number"],
      [{}, "maxTimeMS must be a number"],
      [null, "maxTimeMS must be a number"],
    ];
    for (const [v, msg] of cases) {
      const r = await shard.runCommand("test", { ping: 1, maxTimeMS: v });
      assertCode(r, "BadValue", 2);
      assert.equal(r.errmsg, msg, `maxTimeMS ${JSON.stringify(v)}`);
    }
  });

  void test("maxTimeMSOpOnly is for cluster-internal requests: from a client it is InvalidOptions", async () => {
    const { shard } = await shardCluster();
    assertCode(
      await shard.runCommand("test", { ping: 1, maxTimeMSOpOnly: 100 }),
      "InvalidOptions",
      72,
      "Can not specify maxTimeMSOpOnly for non internal clients",
    );
  });
});

void describe("mongos passes the remaining time to shards (network_interface_tl.cpp maxTimeMSOpOnly)", () => {
  void test("a find through mongos with maxTimeMS fails 50 when the shard blocks, and the shard got maxTimeMSOpOnly", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 5 });
    const router = cluster.connect(cluster.mongos());
    assertOk(await router.runCommand("test", { insert: "c", documents: [{ _id: 1 }] }));
    // failCommand skips internal requests unless told otherwise (mongos' find is one).
    assertOk(
      await cluster.connect(cluster.shard(0)).runCommand("admin", {
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["find"], blockConnection: true, blockTimeMS: 10_000, failInternalCommands: true },
      }),
    );
    const t0 = cluster.now().getTime();
    const r = await router.runCommand("test", { find: "c", maxTimeMS: 300 });
    assertCode(r, "MaxTimeMSExpired", 50, EXCEEDED);
    assert.ok(cluster.now().getTime() - t0 < 1000, "not after the shard's 10 s block");
    const sent = cluster
      .trace()
      .filter(
        (e): e is Extract<typeof e, { type: "net.send" }> =>
          e.type === "net.send" && e.node === cluster.mongos() && e.to === cluster.shard(0) && e.label === "find",
      )
      .map((e) => (e.payload as { command: Doc }).command)
      .at(-1) as Document;
    assert.equal(sent.maxTimeMS, 300, "the client's maxTimeMS is forwarded");
    assert.ok(
      typeof sent.maxTimeMSOpOnly === "number" && sent.maxTimeMSOpOnly > 0 && sent.maxTimeMSOpOnly <= 300,
      `maxTimeMSOpOnly ${String(sent.maxTimeMSOpOnly)}`,
    );
  });

  void test("mongos gives up on an unreachable shard at the operation's deadline, not after internalRequestTimeoutMS", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 6 });
    const router = cluster.connect(cluster.mongos());
    assertOk(await router.runCommand("test", { insert: "c", documents: [{ _id: 1 }] }));
    cluster.partition([cluster.mongos()], [cluster.shard(0)]);
    const t0 = cluster.now().getTime();
    const r = await router.runCommand("test", { find: "c", maxTimeMS: 200 });
    assertCode(r, "MaxTimeMSExpired", 50, EXCEEDED);
    const waited = cluster.now().getTime() - t0;
    assert.ok(waited >= 200 && waited < 210, `answered at the deadline (after ${waited} ms)`);
    // Without a time limit the same find waits for the shard until the request times out.
    const slow = router.send("test", { find: "c" });
    await cluster.advance(10_000);
    assert.equal(slow.done, false, "no deadline: still waiting for the partitioned shard");
  });

  void test("without maxTimeMS mongos attaches no maxTimeMSOpOnly", async () => {
    const cluster = await Cluster.start({ shards: 1, seed: 5 });
    const router = cluster.connect(cluster.mongos());
    assertOk(await router.runCommand("test", { insert: "c", documents: [{ _id: 1 }] }));
    const sent = cluster
      .trace()
      .filter((e): e is Extract<typeof e, { type: "net.send" }> => e.type === "net.send" && e.label === "insert")
      .map((e) => (e.payload as { command: Doc }).command);
    assert.ok(sent.length > 0);
    for (const c of sent) assert.equal(c.maxTimeMSOpOnly, undefined);
  });
});
