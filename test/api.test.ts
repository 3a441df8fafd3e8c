// The public API contract (shared/design/public-api.md) as it stands, exercised through the built
// `sessionsim` package, plus the server commands that exist so far (ping, buildInfo, hello,
// getParameter/setParameter, serverStatus, configureFailPoint, sleep).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  Binary,
  Cluster,
  Long,
  NetworkError,
  ObjectId,
  Timestamp,
  UUID,
  type Connection,
  type Document,
  type TraceEvent,
} from "sessionsim";

const EPOCH = Date.parse("2026-01-01T00:00:00Z");

/** Asserts the fields of an error reply (and that errmsg is a non-empty string). */
function assertError(reply: Document, code: number, codeName: string): void {
  assert.equal(reply.ok, 0, `expected an error reply, got ${JSON.stringify(reply)}`);
  assert.equal(reply.code, code, String(reply.errmsg));
  assert.equal(reply.codeName, codeName);
  assert.equal(typeof reply.errmsg, "string");
  assert.ok((reply.errmsg as string).length > 0);
}

function isNetworkError(kind: "HostUnreachable" | "NetworkTimeout") {
  return (e: unknown): boolean => {
    assert.ok(e instanceof NetworkError, `expected a NetworkError, got ${String(e)}`);
    assert.equal(e.kind, kind);
    return true;
  };
}

/**
 * A reply without the gossip fields every cluster node adds (`$clusterTime`, `operationTime`;
 * checked in their own test), so replies can be compared whole.
 */
function body(reply: Document | undefined): Document | undefined {
  if (reply === undefined) return undefined;
  const { $clusterTime: _ct, operationTime: _ot, ...rest } = reply;
  return rest;
}

const admin = async (conn: Connection, command: Document): Promise<Document> =>
  body(await conn.runCommand("admin", command))!;

// ---- starting a cluster and naming nodes --------------------------------------------------------

void describe("Cluster.start and nodes", () => {
  void test("defaults: 2 shards, 1 mongos, a config server; distinct names from the accessors", async () => {
    const cluster = await Cluster.start();
    const nodes = cluster.nodes();
    assert.equal(nodes.length, 4);
    assert.equal(new Set(nodes).size, 4);
    for (const n of [cluster.mongos(), cluster.shard(0), cluster.shard(1), cluster.config()])
      assert.ok(nodes.includes(n), `${n} in nodes()`);
    assert.equal(cluster.mongos(), cluster.mongos(0));
    assert.equal(cluster.shard(), cluster.shard(0));
    assert.notEqual(cluster.shardName(0), cluster.shardName(1));
    assert.equal(cluster.shardName(), cluster.shardName(0));
    assert.throws(() => cluster.shard(2), RangeError);
    assert.throws(() => cluster.shardName(2), RangeError);
    assert.throws(() => cluster.mongos(1), RangeError);
    // The roles behind the names, as hello reports them.
    const hello = async (node: string): Promise<Document> => admin(cluster.connect(node), { hello: 1 });
    assert.equal((await hello(cluster.mongos())).msg, "isdbgrid");
    assert.equal((await hello(cluster.config())).configsvr, 2);
    for (const i of [0, 1]) {
      const h = await hello(cluster.shard(i));
      assert.equal(h.setName, cluster.shardName(i), "a shard's replica set is named by its shard id");
      assert.equal(h.msg, undefined);
      assert.equal(h.configsvr, undefined);
    }
  });

  void test("shards: 0 and mongos: 3", async () => {
    const cluster = await Cluster.start({ shards: 0, mongos: 3 });
    assert.equal(cluster.nodes().length, 4);
    assert.throws(() => cluster.shard(0), RangeError);
    const routers = [cluster.mongos(0), cluster.mongos(1), cluster.mongos(2)];
    assert.equal(new Set(routers).size, 3);
    assert.deepEqual([...cluster.nodes()].sort(), [cluster.config(), ...routers].sort());
    for (const r of routers) assert.equal((await admin(cluster.connect(r), { hello: 1 })).msg, "isdbgrid");
  });

  void test("membersPerShard: 2 is refused with a clear error; 1 is accepted", async () => {
    await assert.rejects(Cluster.start({ membersPerShard: 2 }), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /membersPerShard/);
      assert.match(e.message, /not supported/);
      return true;
    });
    const cluster = await Cluster.start({ membersPerShard: 1 });
    assert.equal(cluster.nodes().length, 4);
  });

  void test("connect refuses an unknown node", async () => {
    const cluster = await Cluster.start();
    assert.throws(() => cluster.connect("nosuchnode"), /unknown node nosuchnode/);
  });

  void test("virtual time starts at 2026-01-01T00:00:00Z and moves only with the simulation", async () => {
    const cluster = await Cluster.start({ setupSessionsCollection: false });
    assert.equal(cluster.now().getTime(), EPOCH);
    assert.equal(cluster.now().toISOString(), "2026-01-01T00:00:00.000Z");
    const withSetup = await Cluster.start();
    assert.ok(withSetup.now().getTime() >= EPOCH && withSetup.now().getTime() < EPOCH + 60_000);
    const t = withSetup.now().getTime();
    assert.equal(withSetup.now().getTime(), t, "reading the clock does not move it");
  });
});

// ---- commands -----------------------------------------------------------------------------------

void describe("connect and runCommand", () => {
  void test("hello on mongos answers isdbgrid; every node reports logicalSessionTimeoutMinutes 30", async () => {
    const cluster = await Cluster.start();
    const h = await admin(cluster.connect(cluster.mongos()), { hello: 1 });
    assert.equal(h.ok, 1);
    assert.equal(h.msg, "isdbgrid");
    assert.equal(h.isWritablePrimary, true);
    assert.ok(h.localTime instanceof Date);
    for (const node of cluster.nodes()) {
      const reply = await admin(cluster.connect(node), { hello: 1 });
      assert.equal(reply.logicalSessionTimeoutMinutes, 30, node);
    }
    const legacy = await admin(cluster.connect(cluster.shard(0)), { isMaster: 1 });
    assert.equal(legacy.ismaster, true);
    assert.equal(legacy.logicalSessionTimeoutMinutes, 30);
  });

  void test("parameters.localLogicalSessionTimeoutMinutes is reported by every node", async () => {
    const cluster = await Cluster.start({ parameters: { localLogicalSessionTimeoutMinutes: 7 } });
    for (const node of cluster.nodes()) {
      const reply = await cluster.connect(node).runCommand("test", { hello: 1 });
      assert.equal(reply.logicalSessionTimeoutMinutes, 7, node);
      const p = await admin(cluster.connect(node), { getParameter: 1, localLogicalSessionTimeoutMinutes: 1 });
      assert.equal(p.localLogicalSessionTimeoutMinutes, 7, node);
    }
  });

  void test("an unknown command answers CommandNotFound (59)", async () => {
    const cluster = await Cluster.start();
    for (const node of cluster.nodes()) {
      const reply = await cluster.connect(node).runCommand("test", { noSuchCommand: 1 });
      assertError(reply, 59, "CommandNotFound");
      assert.match(reply.errmsg as string, /noSuchCommand/);
    }
  });

  void test("API misuse rejects", async () => {
    const cluster = await Cluster.start();
    const conn = cluster.connect(cluster.mongos());
    await assert.rejects(conn.runCommand(undefined as unknown as string, { ping: 1 }), TypeError);
    await assert.rejects(conn.runCommand("admin", [] as unknown as Document), TypeError);
    await assert.rejects(conn.runCommand("admin", null as unknown as Document), TypeError);
  });

  void test("the command travels over the simulated network: virtual time passes", async () => {
    const cluster = await Cluster.start();
    const t0 = cluster.now().getTime();
    await admin(cluster.connect(cluster.mongos()), { ping: 1 });
    const elapsed = cluster.now().getTime() - t0;
    assert.ok(elapsed > 0 && elapsed <= 4, `round trip took ${elapsed} ms`);
  });
});

void describe("send and wait", () => {
  void test("a 60 s sleep stays in flight across advance and replies 60 s of virtual time later", async () => {
    const cluster = await Cluster.start();
    const conn = cluster.connect(cluster.shard(0));
    const t0 = cluster.now().getTime();
    const command = { sleep: 1, secs: 60, lock: "none" };
    const inflight = conn.send("admin", command);
    assert.equal(inflight.done, false);
    assert.equal(inflight.reply, undefined);
    assert.equal(inflight.node, cluster.shard(0));
    assert.deepEqual(inflight.command, command);
    assert.equal(cluster.now().getTime(), t0, "send does not run the simulation");
    await cluster.advance(1000);
    assert.equal(inflight.done, false);
    await cluster.advance(58_000);
    assert.equal(inflight.done, false);
    const reply = await cluster.wait(inflight);
    assert.deepEqual(body(reply), { ok: 1 });
    assert.equal(inflight.done, true);
    assert.deepEqual(body(inflight.reply), { ok: 1 });
    const elapsed = cluster.now().getTime() - t0;
    assert.ok(elapsed >= 60_000 && elapsed <= 60_004, `reply after ${elapsed} ms`);
  });

  void test("other commands complete while a sleep is in flight", async () => {
    const cluster = await Cluster.start();
    const sleeping = cluster.connect(cluster.shard(0)).send("admin", { sleep: 1, secs: 60, lock: "none" });
    const other = await admin(cluster.connect(cluster.shard(0)), { ping: 1 });
    assert.deepEqual(body(other), { ok: 1 });
    assert.equal(sleeping.done, false);
    await cluster.wait(sleeping);
    assert.equal(sleeping.done, true);
  });

  void test("wait with a too small maxMs rejects after maxMs of virtual time; the reply still comes later", async () => {
    const cluster = await Cluster.start();
    const inflight = cluster.connect(cluster.mongos()).send("admin", { sleep: 1, secs: 60, lock: "none" });
    const t0 = cluster.now().getTime();
    await assert.rejects(cluster.wait(inflight, { maxMs: 5_000 }), /no reply .* 5000 ms/);
    assert.equal(inflight.done, false);
    assert.equal(cluster.now().getTime(), t0 + 5_000, "maxMs of virtual time passed");
    assert.deepEqual(body(await cluster.wait(inflight, { maxMs: 60_000 })), { ok: 1 });
  });

  void test("sleep answers after millis, and without enableTestCommands it does not exist", async () => {
    const cluster = await Cluster.start();
    const t0 = cluster.now().getTime();
    assert.deepEqual(await admin(cluster.connect(cluster.shard(1)), { sleep: 1, millis: 1500, lock: "none" }), {
      ok: 1,
    });
    assert.ok(cluster.now().getTime() - t0 >= 1500);
    const noTestCommands = await Cluster.start({ parameters: { enableTestCommands: false } });
    assertError(await admin(noTestCommands.connect(noTestCommands.shard(0)), { sleep: 1 }), 59, "CommandNotFound");
  });
});

void describe("advance and now", () => {
  void test("advance moves virtual time by exactly ms", async () => {
    const cluster = await Cluster.start();
    const t0 = cluster.now().getTime();
    await cluster.advance(1500);
    assert.equal(cluster.now().getTime(), t0 + 1500);
    await cluster.advance(0);
    assert.equal(cluster.now().getTime(), t0 + 1500);
    await cluster.advance(300_000);
    assert.equal(cluster.now().getTime(), t0 + 301_500);
    await assert.rejects(cluster.advance(-1), RangeError);
    await assert.rejects(cluster.advance(NaN), RangeError);
    assert.equal(cluster.now().getTime(), t0 + 301_500);
  });

  void test("nodes see time advance (serverStatus uptime and localTime)", async () => {
    const cluster = await Cluster.start();
    const conn = cluster.connect(cluster.shard(0));
    await cluster.advance(90_000);
    const s = await admin(conn, { serverStatus: 1 });
    assert.ok((s.uptime as number) >= 90);
    const local = (s.localTime as Date).getTime();
    assert.ok(local <= cluster.now().getTime() && local >= cluster.now().getTime() - 4);
  });
});

// ---- faults -------------------------------------------------------------------------------------

void describe("crash, restart, partition, heal", () => {
  void test("a command to a crashed node rejects with NetworkError; after restart it works again", async () => {
    const cluster = await Cluster.start();
    const conn = cluster.connect(cluster.shard(1));
    const before = await admin(conn, { serverStatus: 1 });
    await cluster.advance(60_000);
    cluster.crash(cluster.shard(1));
    await assert.rejects(admin(conn, { ping: 1 }), isNetworkError("HostUnreachable"));
    await assert.rejects(admin(cluster.connect(cluster.shard(1)), { ping: 1 }), isNetworkError("HostUnreachable"));
    // Other nodes are unaffected.
    assert.deepEqual(await admin(cluster.connect(cluster.shard(0)), { ping: 1 }), { ok: 1 });
    await cluster.restart(cluster.shard(1));
    assert.deepEqual(await admin(conn, { ping: 1 }), { ok: 1 });
    const after = await admin(conn, { serverStatus: 1 });
    assert.notDeepEqual(after.pid, before.pid, "a new process");
    assert.ok((after.uptimeMillis as Long).toNumber() < 1000, "uptime restarts");
  });

  void test("a crash interrupts an operation in progress: its client gets a NetworkError", async () => {
    const cluster = await Cluster.start();
    const inflight = cluster.connect(cluster.shard(0)).send("admin", { sleep: 1, secs: 60, lock: "none" });
    await cluster.advance(1000);
    cluster.crash(cluster.shard(0));
    await assert.rejects(cluster.wait(inflight), isNetworkError("HostUnreachable"));
    assert.equal(inflight.done, true);
    assert.ok(cluster.now().getTime() - EPOCH < 2000, "the client learns at once, not after 60 s");
  });

  void test("a crash loses runtime setParameter changes; startup parameters stay", async () => {
    const cluster = await Cluster.start({ parameters: { localLogicalSessionTimeoutMinutes: 9 } });
    const conn = cluster.connect(cluster.shard(0));
    assert.equal((await admin(conn, { setParameter: 1, transactionLifetimeLimitSeconds: 5 })).was, 60);
    cluster.crash(cluster.shard(0));
    await cluster.restart(cluster.shard(0));
    const p = await admin(conn, {
      getParameter: 1,
      transactionLifetimeLimitSeconds: 1,
      localLogicalSessionTimeoutMinutes: 1,
    });
    assert.equal(p.transactionLifetimeLimitSeconds, 60);
    assert.equal(p.localLogicalSessionTimeoutMinutes, 9);
  });

  void test("crash and restart refuse unknown nodes", async () => {
    const cluster = await Cluster.start();
    assert.throws(() => cluster.crash("nosuchnode"), /unknown node/);
    await assert.rejects(cluster.restart("nosuchnode"), /unknown node/);
  });

  void test("partitioning a client from mongos makes its commands fail with NetworkTimeout; heal restores", async () => {
    const cluster = await Cluster.start({ clientTimeoutMS: 5_000 });
    const cut = cluster.connect(cluster.mongos());
    const other = cluster.connect(cluster.mongos());
    cluster.partition([cluster.mongos()], [cut.clientName]);
    const t0 = cluster.now().getTime();
    await assert.rejects(admin(cut, { ping: 1 }), isNetworkError("NetworkTimeout"));
    assert.equal(cluster.now().getTime() - t0, 5_000, "after clientTimeoutMS of virtual time");
    assert.deepEqual(await admin(other, { ping: 1 }), { ok: 1 }, "other clients are unaffected");
    const drops = cluster.trace().filter((e) => e.type === "net.drop");
    assert.ok(drops.some((e) => e.node === cut.clientName && e.to === cluster.mongos() && e.reason === "partition"));
    cluster.heal();
    assert.deepEqual(await admin(cut, { ping: 1 }), { ok: 1 });
  });

  void test("a partition between mongos and the shards leaves other links alone", async () => {
    const cluster = await Cluster.start({ clientTimeoutMS: 5_000 });
    const router = cluster.connect(cluster.mongos());
    const shard = cluster.connect(cluster.shard(0));
    cluster.partition([cluster.mongos()], [cluster.shard(0), cluster.shard(1)]);
    assert.equal((await admin(router, { hello: 1 })).msg, "isdbgrid");
    assert.deepEqual(await admin(shard, { ping: 1 }), { ok: 1 });
    assert.ok(cluster.simulation.isPartitioned(cluster.mongos(), cluster.shard(1)));
    assert.ok(cluster.simulation.isPartitioned(cluster.shard(0), cluster.mongos()));
    assert.ok(!cluster.simulation.isPartitioned(cluster.mongos(), cluster.config()));
    cluster.heal();
    assert.ok(!cluster.simulation.isPartitioned(cluster.mongos(), cluster.shard(1)));
    const types = cluster.trace().map((e) => e.type);
    assert.ok(types.indexOf("net.partition") < types.indexOf("net.heal"));
  });

  void test("a reply cut by a partition that starts while the command runs is lost", async () => {
    const cluster = await Cluster.start({ clientTimeoutMS: 120_000 });
    const conn = cluster.connect(cluster.shard(0));
    const inflight = conn.send("admin", { sleep: 1, secs: 10, lock: "none" });
    await cluster.advance(1000);
    cluster.partition([conn.clientName], [cluster.shard(0)]);
    await cluster.advance(20_000);
    assert.equal(inflight.done, false, "the reply was dropped");
    cluster.heal();
    await assert.rejects(cluster.wait(inflight), isNetworkError("NetworkTimeout"));
  });
});

// ---- observation ----------------------------------------------------------------------------------

void describe("trace, on/off, traceHash", () => {
  void test("the trace holds net.send, net.deliver and cmd.reply events with time, seq, node", async () => {
    const cluster = await Cluster.start();
    const conn = cluster.connect(cluster.mongos());
    const start = cluster.trace().length;
    const sentAt = cluster.now().getTime();
    await conn.runCommand("test", { ping: 1 });
    await conn.runCommand("test", { bogus: 1 });
    const trace = cluster.trace();
    trace.forEach((e, i) => {
      assert.equal(e.seq, i);
      assert.equal(typeof e.time, "number");
      assert.equal(typeof e.node, "string");
      assert.equal(typeof e.type, "string");
    });
    const mine = trace.slice(start);
    const send = mine.find((e) => e.type === "net.send");
    assert.ok(send?.type === "net.send");
    assert.equal(send.node, conn.clientName);
    assert.equal(send.to, cluster.mongos());
    assert.equal(send.label, "ping");
    assert.equal(send.time, sentAt);
    const deliver = mine.find((e) => e.type === "net.deliver" && e.msgId === send.msgId);
    assert.ok(deliver?.type === "net.deliver");
    assert.equal(deliver.node, cluster.mongos());
    assert.equal(deliver.from, conn.clientName);
    assert.equal(deliver.sentAt, sentAt);
    assert.ok(deliver.time > sentAt);
    const replies = mine.filter((e) => e.type === "cmd.reply");
    assert.deepEqual(
      replies.map((e) => [e.node, e.command, e.db, e.client, e.ok, e.codeName]),
      [
        [cluster.mongos(), "ping", "test", conn.clientName, true, undefined],
        [cluster.mongos(), "bogus", "test", conn.clientName, false, "CommandNotFound"],
      ],
    );
  });

  void test("a trace read earlier does not change as the run goes on", async () => {
    const cluster = await Cluster.start();
    const conn = cluster.connect(cluster.mongos());
    await admin(conn, { ping: 1 });
    const snapshot = cluster.trace();
    const length = snapshot.length;
    await admin(conn, { ping: 1 });
    assert.equal(snapshot.length, length);
    assert.ok(cluster.trace().length > length);
  });

  void test('on("*") sees every event live; typed listeners see their type; off stops both', async () => {
    const cluster = await Cluster.start();
    const conn = cluster.connect(cluster.shard(0));
    const all: TraceEvent[] = [];
    const replies: TraceEvent[] = [];
    const onAll = (e: TraceEvent): void => void all.push(e);
    const onReply = (e: TraceEvent): void => void replies.push(e);
    const start = cluster.trace().length;
    cluster.on("*", onAll);
    cluster.on("cmd.reply", onReply);
    const inflight = conn.send("admin", { sleep: 1, millis: 100, lock: "none" });
    assert.equal(all.length, 1, "the send is seen as it happens");
    assert.equal(all[0].type, "net.send");
    await cluster.wait(inflight);
    assert.deepEqual(all, cluster.trace().slice(start));
    assert.deepEqual(
      all.map((e) => e.type),
      ["net.send", "net.deliver", "cmd.reply", "net.send", "net.deliver"],
    );
    assert.equal(replies.length, 1);
    assert.equal(replies[0], all[2]);
    cluster.off("*", onAll);
    cluster.off("cmd.reply", onReply);
    await admin(conn, { ping: 1 });
    assert.equal(all.length, 5);
    assert.equal(replies.length, 1);
  });

  void test("traceHash is stable, changes with the run, and is equal for equal runs", async () => {
    const run = async (seed: number): Promise<Cluster> => {
      const cluster = await Cluster.start({ seed });
      await admin(cluster.connect(cluster.mongos()), { hello: 1 });
      return cluster;
    };
    const a = await run(1);
    const h = a.traceHash();
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(a.traceHash(), h, "reading the hash changes nothing");
    assert.equal((await run(1)).traceHash(), h);
    assert.notEqual((await run(2)).traceHash(), h);
    await admin(a.connect(a.shard(0)), { ping: 1 });
    assert.notEqual(a.traceHash(), h);
  });
});

void describe("stop", () => {
  void test("after stop(), calls reject or throw", async () => {
    const cluster = await Cluster.start();
    const conn = cluster.connect(cluster.mongos());
    const inflight = conn.send("admin", { sleep: 1, secs: 1, lock: "none" });
    await cluster.stop();
    await assert.rejects(admin(conn, { ping: 1 }), /stopped/);
    await assert.rejects(cluster.wait(inflight), /stopped/);
    await assert.rejects(cluster.advance(10), /stopped/);
    await assert.rejects(cluster.restart(cluster.shard(0)), /stopped/);
    assert.throws(() => conn.send("admin", { ping: 1 }), /stopped/);
    assert.throws(() => cluster.connect(cluster.mongos()), /stopped/);
    assert.throws(() => cluster.crash(cluster.shard(0)), /stopped/);
    assert.throws(() => cluster.partition([cluster.mongos()], [cluster.shard(0)]), /stopped/);
    assert.throws(() => cluster.heal(), /stopped/);
    // Observation still works.
    assert.ok(cluster.trace().length > 0);
    assert.match(cluster.traceHash(), /^[0-9a-f]{64}$/);
  });
});

// ---- bson ---------------------------------------------------------------------------------------

void describe("bson re-exports", () => {
  /** The bson module sessionsim itself resolves (its own dependency), loaded as ESM. */
  async function sessionsimsBson(): Promise<Record<string, unknown>> {
    const req = createRequire(fileURLToPath(import.meta.resolve("sessionsim")));
    const readPkg = (d: string): { name?: string; module?: string } | undefined => {
      try {
        return JSON.parse(readFileSync(join(d, "package.json"), "utf8")) as { name?: string; module?: string };
      } catch {
        return undefined;
      }
    };
    let dir = dirname(req.resolve("bson"));
    while (readPkg(dir)?.name !== "bson") dir = dirname(dir);
    const entry = readPkg(dir)?.module;
    assert.ok(entry !== undefined);
    return (await import(pathToFileURL(join(dir, entry)).href)) as Record<string, unknown>;
  }

  void test("UUID, Binary, Long, Timestamp, ObjectId are the bson package's classes", async () => {
    const bson = await sessionsimsBson();
    assert.equal(bson.UUID, UUID);
    assert.equal(bson.Binary, Binary);
    assert.equal(bson.Long, Long);
    assert.equal(bson.Timestamp, Timestamp);
    assert.equal(bson.ObjectId, ObjectId);
  });

  void test("they behave as bson's types, and replies are built from them", async () => {
    const id = new UUID();
    assert.ok(id instanceof Binary);
    assert.equal(id.sub_type, Binary.SUBTYPE_UUID);
    assert.equal(id.buffer.length, 16);
    assert.equal(Long.fromNumber(2 ** 40).toNumber(), 2 ** 40);
    assert.equal(new Timestamp({ t: 5, i: 1 }).t, 5);
    assert.equal(ObjectId.isValid(new ObjectId().toHexString()), true);
    const cluster = await Cluster.start();
    const s = await admin(cluster.connect(cluster.shard(0)), { serverStatus: 1 });
    assert.ok(s.pid instanceof Long);
    assert.ok(s.uptimeMillis instanceof Long);
    const h = await admin(cluster.connect(cluster.mongos()), { hello: 1 });
    assert.ok((h.topologyVersion as Document).processId instanceof ObjectId);
    assert.ok((h.topologyVersion as Document).counter instanceof Long);
  });
});

// ---- server commands ----------------------------------------------------------------------------

void describe("server commands", () => {
  void test("ping answers {ok: 1} on every node and database", async () => {
    const cluster = await Cluster.start();
    for (const node of cluster.nodes()) {
      assert.deepEqual(body(await cluster.connect(node).runCommand("admin", { ping: 1 })), { ok: 1 });
      assert.deepEqual(body(await cluster.connect(node).runCommand("test", { ping: 1 })), { ok: 1 });
    }
  });

  void test("an invalid database name is refused", async () => {
    const cluster = await Cluster.start();
    assertError(await cluster.connect(cluster.mongos()).runCommand("a.b", { ping: 1 }), 73, "InvalidNamespace");
    assertError(await cluster.connect(cluster.mongos()).runCommand("", { ping: 1 }), 73, "InvalidNamespace");
  });

  void test("buildInfo reports an 8.0 server (also as buildinfo)", async () => {
    const cluster = await Cluster.start();
    const conn = cluster.connect(cluster.mongos());
    const b = await admin(conn, { buildInfo: 1 });
    assert.equal(b.ok, 1);
    assert.match(b.version as string, /^8\.0\.\d+$/);
    assert.deepEqual((b.versionArray as number[]).slice(0, 2), [8, 0]);
    assert.equal(b.maxBsonObjectSize, 16 * 1024 * 1024);
    assert.deepEqual(body(await conn.runCommand("test", { buildinfo: 1 })), body(b));
  });

  void describe("getParameter / setParameter", () => {
    void test("getParameter returns the named parameters with MongoDB's defaults, or all with '*'", async () => {
      const cluster = await Cluster.start();
      const conn = cluster.connect(cluster.shard(0));
      assert.deepEqual(
        await admin(conn, { getParameter: 1, logicalSessionRefreshMillis: 1, maxSessions: 1, comment: "x" }),
        { logicalSessionRefreshMillis: 300_000, maxSessions: 1_000_000, ok: 1 },
      );
      const all = await admin(conn, { getParameter: "*" });
      assert.equal(all.localLogicalSessionTimeoutMinutes, 30);
      assert.equal(all.transactionLifetimeLimitSeconds, 60);
      assert.equal(all.disableLogicalSessionCacheRefresh, false);
      assertError(await admin(conn, { getParameter: 1, noSuchParameter: 1 }), 72, "InvalidOptions");
      assertError(await conn.runCommand("test", { getParameter: 1, maxSessions: 1 }), 13, "Unauthorized");
    });

    void test("setParameter changes a runtime parameter on that node only and answers `was`", async () => {
      const cluster = await Cluster.start();
      const conn = cluster.connect(cluster.shard(0));
      assert.deepEqual(await admin(conn, { setParameter: 1, transactionLifetimeLimitSeconds: 30 }), { was: 60, ok: 1 });
      assert.equal(
        (await admin(conn, { getParameter: 1, transactionLifetimeLimitSeconds: 1 })).transactionLifetimeLimitSeconds,
        30,
      );
      assert.deepEqual(await admin(conn, { setParameter: 1, transactionLifetimeLimitSeconds: 45 }), { was: 30, ok: 1 });
      const elsewhere = await admin(cluster.connect(cluster.shard(1)), {
        getParameter: 1,
        transactionLifetimeLimitSeconds: 1,
      });
      assert.equal(elsewhere.transactionLifetimeLimitSeconds, 60);
      const set = cluster.trace().filter((e) => e.type === "param.set");
      assert.deepEqual(
        set.map((e) => [e.node, e.name, e.value]),
        [
          [cluster.shard(0), "transactionLifetimeLimitSeconds", 30],
          [cluster.shard(0), "transactionLifetimeLimitSeconds", 45],
        ],
      );
    });

    void test("startup-only parameters are refused at runtime with IllegalOperation (20)", async () => {
      const cluster = await Cluster.start();
      const conn = cluster.connect(cluster.mongos());
      for (const name of [
        "localLogicalSessionTimeoutMinutes",
        "logicalSessionRefreshMillis",
        "maxSessions",
        "disableLogicalSessionCacheRefresh",
      ]) {
        const value = name === "disableLogicalSessionCacheRefresh" ? true : 10;
        assertError(await admin(conn, { setParameter: 1, [name]: value }), 20, "IllegalOperation");
      }
      const p = await admin(conn, { getParameter: 1, localLogicalSessionTimeoutMinutes: 1 });
      assert.equal(p.localLogicalSessionTimeoutMinutes, 30, "unchanged");
    });

    void test("values outside the validator bounds, or of the wrong type, are BadValue (2)", async () => {
      const cluster = await Cluster.start();
      const conn = cluster.connect(cluster.shard(1));
      assertError(await admin(conn, { setParameter: 1, transactionLifetimeLimitSeconds: 0 }), 2, "BadValue");
      assertError(await admin(conn, { setParameter: 1, sessionMaxBatchSize: 99 }), 2, "BadValue");
      assertError(await admin(conn, { setParameter: 1, sessionMaxBatchSize: 10_001 }), 2, "BadValue");
      assertError(await admin(conn, { setParameter: 1, transactionLifetimeLimitSeconds: "ten" }), 2, "BadValue");
      // The bounds themselves are allowed.
      assert.equal((await admin(conn, { setParameter: 1, sessionMaxBatchSize: 100 })).ok, 1);
      assert.equal((await admin(conn, { setParameter: 1, sessionMaxBatchSize: 10_000 })).ok, 1);
      assert.equal((await admin(conn, { setParameter: 1, transactionLifetimeLimitSeconds: 1 })).ok, 1);
      const p = await admin(conn, { getParameter: 1, sessionMaxBatchSize: 1, transactionLifetimeLimitSeconds: 1 });
      assert.equal(p.sessionMaxBatchSize, 10_000);
      assert.equal(p.transactionLifetimeLimitSeconds, 1);
    });

    void test("unknown, missing or several parameters are InvalidOptions (72)", async () => {
      const cluster = await Cluster.start();
      const conn = cluster.connect(cluster.shard(0));
      assertError(await admin(conn, { setParameter: 1, noSuchParameter: 1 }), 72, "InvalidOptions");
      assertError(await admin(conn, { setParameter: 1 }), 72, "InvalidOptions");
      assertError(
        await admin(conn, { setParameter: 1, transactionLifetimeLimitSeconds: 5, sessionMaxBatchSize: 200 }),
        72,
        "InvalidOptions",
      );
      assertError(
        await conn.runCommand("test", { setParameter: 1, transactionLifetimeLimitSeconds: 5 }),
        13,
        "Unauthorized",
      );
    });

    void test("invalid startup parameters make Cluster.start fail", async () => {
      await assert.rejects(
        Cluster.start({ parameters: { localLogicalSessionTimeoutMinutes: 0 } }),
        /localLogicalSessionTimeoutMinutes/,
      );
      await assert.rejects(Cluster.start({ parameters: { noSuchParameter: 1 } }), /noSuchParameter/);
    });
  });

  void test("serverStatus has the common header fields", async () => {
    const cluster = await Cluster.start();
    await cluster.advance(5_000);
    for (const [node, process] of [
      [cluster.mongos(), "mongos"],
      [cluster.shard(0), "mongod"],
      [cluster.config(), "mongod"],
    ] as const) {
      const s = await admin(cluster.connect(node), { serverStatus: 1 });
      assert.equal(s.ok, 1);
      assert.equal(s.process, process);
      assert.equal(typeof s.host, "string");
      assert.ok((s.host as string).startsWith(node));
      assert.match(s.version as string, /^8\.0\./);
      assert.ok(s.pid instanceof Long);
      assert.equal(s.uptime, 5);
      assert.ok(
        s.uptimeMillis instanceof Long && s.uptimeMillis.toNumber() >= 5_000 && s.uptimeMillis.toNumber() < 5_010,
      );
      assert.ok(s.uptimeEstimate instanceof Long && s.uptimeEstimate.toNumber() === 5);
      assert.ok(s.localTime instanceof Date);
      assert.ok(Math.abs(s.localTime.getTime() - cluster.now().getTime()) <= 4);
    }
  });

  void describe("configureFailPoint", () => {
    void test("an unknown failpoint name fails with FailPointSetFailed (266)", async () => {
      const cluster = await Cluster.start();
      const reply = await admin(cluster.connect(cluster.shard(0)), {
        configureFailPoint: "noSuchFailPoint",
        mode: "alwaysOn",
      });
      assertError(reply, 266, "FailPointSetFailed");
      assert.match(reply.errmsg as string, /noSuchFailPoint/);
    });

    void test("{times: n} is accepted and count reports how often the failpoint was entered before", async () => {
      const cluster = await Cluster.start();
      const conn = cluster.connect(cluster.shard(0));
      const failpoints = cluster.simulation.contextOf(cluster.shard(0)).failpoints;
      assert.deepEqual(
        await admin(conn, { configureFailPoint: "failCommand", mode: { times: 2 }, data: { errorCode: 91 } }),
        { count: 0, ok: 1 },
      );
      assert.equal(failpoints.isOn("failCommand"), true);
      // The server enters it (as the code under test would): twice, then it turns itself off.
      assert.deepEqual(failpoints.check("failCommand"), { errorCode: 91 });
      assert.deepEqual(failpoints.check("failCommand"), { errorCode: 91 });
      assert.equal(failpoints.check("failCommand"), undefined);
      assert.equal(failpoints.isOn("failCommand"), false);
      assert.deepEqual(await admin(conn, { configureFailPoint: "failCommand", mode: "alwaysOn" }), { count: 2, ok: 1 });
      failpoints.check("failCommand");
      assert.deepEqual(await admin(conn, { configureFailPoint: "failCommand", mode: "off" }), { count: 3, ok: 1 });
      assert.equal(failpoints.isOn("failCommand"), false);
      // Failpoints are per node.
      assert.equal(cluster.simulation.contextOf(cluster.shard(1)).failpoints.isOn("failCommand"), false);
      const set = cluster.trace().filter((e) => e.type === "failpoint.set");
      assert.deepEqual(
        set.map((e) => [e.node, e.name, e.mode]),
        [
          [cluster.shard(0), "failCommand", { times: 2 }],
          [cluster.shard(0), "failCommand", "alwaysOn"],
          [cluster.shard(0), "failCommand", "off"],
        ],
      );
    });

    void test("bad modes and data are refused with MongoDB's codes", async () => {
      const cluster = await Cluster.start();
      const conn = cluster.connect(cluster.mongos());
      assertError(await admin(conn, { configureFailPoint: "failCommand" }), 20, "IllegalOperation");
      assertError(await admin(conn, { configureFailPoint: "failCommand", mode: "sometimes" }), 2, "BadValue");
      assertError(await admin(conn, { configureFailPoint: "failCommand", mode: { times: -1 } }), 2, "BadValue");
      assertError(
        await admin(conn, { configureFailPoint: "failCommand", mode: { activationProbability: 2 } }),
        2,
        "BadValue",
      );
      assertError(await admin(conn, { configureFailPoint: "failCommand", mode: 5 }), 14, "TypeMismatch");
      assertError(
        await admin(conn, { configureFailPoint: "failCommand", mode: "alwaysOn", data: 5 }),
        14,
        "TypeMismatch",
      );
      assertError(
        await conn.runCommand("test", { configureFailPoint: "failCommand", mode: "alwaysOn" }),
        13,
        "Unauthorized",
      );
      assert.equal(cluster.simulation.contextOf(cluster.mongos()).failpoints.isOn("failCommand"), false);
    });
  });

  void test("a sleep is interrupted by killOp: Interrupted (11601) at once, not after its 60 s", async () => {
    const cluster = await Cluster.start();
    const conn = cluster.connect(cluster.shard(0));
    const started = cluster.now().getTime();
    const sleeping = conn.send("admin", { sleep: 1, secs: 60, lock: "none" });
    await cluster.advance(1_000);
    const current = await admin(conn, {
      aggregate: 1,
      pipeline: [{ $currentOp: { localOps: true } }, { $match: { "command.sleep": { $exists: true } } }],
      cursor: {},
    });
    const rows = (current.cursor as Document).firstBatch as Document[];
    assert.equal(rows.length, 1, "the sleep is a running operation");
    assert.deepEqual(await admin(conn, { killOp: 1, op: rows[0].opid }), { info: "attempting to kill op", ok: 1 });
    const reply = await cluster.wait(sleeping);
    assertError(reply, 11601, "Interrupted");
    assert.ok(cluster.now().getTime() - started < 10_000, "answered when killed, long before the 60 s");
  });
});
