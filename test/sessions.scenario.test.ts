// Logical sessions in a sharded cluster: per-node caches, the refresh to config.system.sessions,
// endSessions, maxSessions, the sessions collection's creation and auto-healing, TTL expiry, the
// reaper. Scenarios transcribed from MongoDB's jstests and manual pages (each test names its
// source); the rules are in shared/reference/mongo-sessions-semantics.md (§1–4, checklist 1–35).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { Binary, Cluster, Long, UUID, type Connection, type Document, type TraceEvent } from "sessionsim";

const admin = (conn: Connection, command: Document): Promise<Document> => conn.runCommand("admin", command);
const REFRESH = { refreshLogicalSessionCacheNow: 1 };
const START = { startSession: 1 };
/** SHA-256 of "": the uid of every session created without access control. */
const NO_AUTH_UID_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function assertOk(reply: Document, what = "command"): Document {
  assert.equal(reply.ok, 1, `${what} failed: ${JSON.stringify(reply)}`);
  return reply;
}

function assertError(reply: Document, code: number, codeName: string): void {
  assert.equal(reply.ok, 0, `expected an error reply, got ${JSON.stringify(reply)}`);
  assert.equal(reply.code, code, String(reply.errmsg));
  assert.equal(reply.codeName, codeName);
  assert.equal(typeof reply.errmsg, "string");
}

/** `serverStatus.logicalSessionRecordCache` of a node (as `monitor@admin` when access control is on). */
async function cacheStats(cluster: Cluster, node: string, as?: { user: string; db: string }): Promise<Document> {
  const status = assertOk(await admin(cluster.connect(node, as), { serverStatus: 1 }), "serverStatus");
  return status.logicalSessionRecordCache as Document;
}

/** The documents of config.system.sessions, read through mongos. */
async function sessionDocs(cluster: Cluster, as?: { user: string; db: string }): Promise<Document[]> {
  const reply = assertOk(
    await cluster
      .connect(cluster.mongos(), as)
      .runCommand("config", { find: "system.sessions", filter: {}, batchSize: 100_000 }),
    "find config.system.sessions",
  );
  return (reply.cursor as Document).firstBatch as Document[];
}

async function sessionCount(cluster: Cluster): Promise<number> {
  return (await sessionDocs(cluster)).length;
}

function idsOf(docs: readonly Document[]): string[] {
  return docs.map((d) => ((d._id as Document).id as UUID).toHexString(true)).sort();
}

function hex(u: unknown): string {
  return (u as UUID).toHexString(true);
}

function traceOf(cluster: Cluster, type: string, node?: string): TraceEvent[] {
  return cluster.trace().filter((e) => e.type === type && (node === undefined || e.node === node));
}

// ---- startSession --------------------------------------------------------------------------------

void describe("startSession (manual: startSession; jstests/noPassthrough/refresh_logical_session_cache_now.js)", () => {
  void test("replies {id: {id: UUID}, timeoutMinutes: 30, ok: 1} on every node, without uid; ids are v4 UUIDs", async () => {
    const cluster = await Cluster.start({ seed: 1 });
    const seen = new Set<string>();
    for (const node of cluster.nodes()) {
      const reply = assertOk(await admin(cluster.connect(node), START), `startSession on ${node}`);
      assert.deepEqual(
        Object.keys(reply).filter((k) => !k.startsWith("$") && k !== "operationTime"),
        ["id", "timeoutMinutes", "ok"],
      );
      assert.deepEqual(Object.keys(reply.id as Document), ["id"], "the reply never carries the uid");
      const id = (reply.id as Document).id;
      assert.ok(id instanceof UUID, "id is a UUID (BinData subtype 4)");
      assert.equal(reply.timeoutMinutes, 30);
      const h = hex(id);
      assert.match(
        h,
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        "version 4, RFC variant",
      );
      seen.add(h);
    }
    assert.equal(seen.size, cluster.nodes().length, "every session id is new");
  });

  void test("timeoutMinutes is localLogicalSessionTimeoutMinutes", async () => {
    const cluster = await Cluster.start({ seed: 2, parameters: { localLogicalSessionTimeoutMinutes: 5 } });
    const reply = assertOk(await admin(cluster.connect(cluster.mongos()), START));
    assert.equal(reply.timeoutMinutes, 5);
  });

  void test("a session reaches config.system.sessions only at the node's next refresh", async () => {
    // refresh_logical_session_cache_now.js, on mongos.
    const cluster = await Cluster.start({ seed: 3 });
    const conn = cluster.connect(cluster.mongos());
    assertOk(await admin(conn, REFRESH), "initial refresh");
    assertOk(await admin(conn, START));
    assert.equal(await sessionCount(cluster), 0, "should not have session records yet");
    assertOk(await admin(conn, REFRESH));
    assert.equal(await sessionCount(cluster), 1, "should have written session records");
    for (let i = 0; i < 100; i++) assertOk(await admin(conn, START));
    assert.equal(await sessionCount(cluster), 1, "should not have more session records yet");
    assertOk(await admin(conn, REFRESH));
    assert.equal(await sessionCount(cluster), 101, "should have written session records");
  });

  void test("the same seed gives the same session ids; another seed other ids", async () => {
    const ids = async (seed: number): Promise<string> => {
      const cluster = await Cluster.start({ seed });
      const reply = assertOk(await admin(cluster.connect(cluster.mongos()), START));
      return hex((reply.id as Document).id);
    };
    assert.equal(await ids(7), await ids(7));
    assert.notEqual(await ids(7), await ids(8));
  });
});

// ---- per-node caches -------------------------------------------------------------------------------

void describe("per-node caches (reference §2.1, §3.8; jstests/sharding/refresh_sessions.js)", () => {
  void test("a command with an lsid through mongos vivifies the session on mongos and on the shard that ran it", async () => {
    const cluster = await Cluster.start({ seed: 4 });
    const conn = cluster.connect(cluster.mongos());
    const lsid = { id: new UUID() };
    assertOk(await conn.runCommand("test", { insert: "c", documents: [{ _id: 1 }], lsid }), "insert");
    const active = async (node: string): Promise<number> =>
      (await cacheStats(cluster, node)).activeSessionsCount as number;
    assert.equal(await active(cluster.mongos()), 1, "mongos cache");
    const shardCounts = [await active(cluster.shard(0)), await active(cluster.shard(1))];
    assert.equal(shardCounts[0] + shardCounts[1], 1, "exactly the shard that ran the insert");
    assert.equal(await active(cluster.config()), 0, "the config server did not see it");
    // Trace: session.vivify on mongos and on that shard, with the no-auth uid.
    const vivified = traceOf(cluster, "session.vivify").map((e) => e as TraceEvent & { id: string; uid: string });
    assert.equal(vivified.length, 2);
    for (const e of vivified) {
      assert.equal(e.id, hex(lsid.id));
      assert.equal(e.uid, NO_AUTH_UID_HEX);
    }
    // Using it again does not vivify anew (only lastUse moves).
    assertOk(await conn.runCommand("test", { find: "c", filter: {}, lsid }));
    assert.equal(traceOf(cluster, "session.vivify", cluster.mongos()).length, 1);
  });

  void test("an unknown lsid is accepted and becomes a session (checklist 8)", async () => {
    const cluster = await Cluster.start({ seed: 5 });
    const reply = await admin(cluster.connect(cluster.shard(0)), { ping: 1, lsid: { id: new UUID() } });
    assertOk(reply);
    assert.equal((await cacheStats(cluster, cluster.shard(0))).activeSessionsCount, 1);
  });

  void test("each node flushes its own records at its own refresh", async () => {
    // jstests/sharding/refresh_sessions.js
    const cluster = await Cluster.start({ seed: 6 });
    const mongos = cluster.connect(cluster.mongos());
    const shard0 = cluster.connect(cluster.shard(0));
    const shard1 = cluster.connect(cluster.shard(1));
    for (const c of [mongos, shard0, shard1]) assertOk(await c.runCommand("config", REFRESH), "sanity refresh");
    const base = await sessionCount(cluster);
    assertOk(await mongos.runCommand("config", START));
    assertOk(await mongos.runCommand("config", REFRESH));
    assert.equal(await sessionCount(cluster), base + 1, "refresh on mongos did not flush session record");
    assertOk(await shard0.runCommand("config", START));
    assertOk(await shard0.runCommand("config", REFRESH));
    assert.equal(await sessionCount(cluster), base + 2, "refresh on mongod did not flush session record");
    for (const c of [mongos, shard0, shard1]) assertOk(await c.runCommand("config", START));
    assert.equal(await sessionCount(cluster), base + 2, "startSession should not flush records to disk");
    let expected = base + 2;
    for (const c of [mongos, shard0, shard1]) {
      assertOk(await c.runCommand("config", REFRESH));
      assert.equal(await sessionCount(cluster), ++expected, `refresh on ${c.node} did not flush its record`);
    }
  });

  void test("the same session used on mongos and a shard is one document, upserted by both", async () => {
    const cluster = await Cluster.start({ seed: 7 });
    const mongos = cluster.connect(cluster.mongos());
    const lsid = { id: new UUID() };
    assertOk(await mongos.runCommand("test", { insert: "c", documents: [{ _id: 1 }], lsid }));
    assertOk(await admin(mongos, REFRESH));
    for (const node of [cluster.shard(0), cluster.shard(1)]) assertOk(await admin(cluster.connect(node), REFRESH));
    const docs = await sessionDocs(cluster);
    assert.deepEqual(idsOf(docs), [hex(lsid.id)]);
  });

  void test("startSession, refreshSessions and endSessions on mongos are not forwarded to the shards (checklist 34)", async () => {
    const cluster = await Cluster.start({ seed: 8 });
    const mongos = cluster.connect(cluster.mongos());
    const { id } = assertOk(await admin(mongos, START));
    assertOk(await admin(mongos, { refreshSessions: [{ id: new UUID() }] }));
    assertOk(await admin(mongos, { endSessions: [id] }));
    const forwarded = cluster
      .trace()
      .filter(
        (e) =>
          e.type === "net.send" &&
          e.node === cluster.mongos() &&
          ["startSession", "refreshSessions", "endSessions"].includes((e as { label: string }).label),
      );
    assert.deepEqual(forwarded, []);
    for (const node of [cluster.shard(0), cluster.shard(1), cluster.config()])
      assert.equal((await cacheStats(cluster, node)).activeSessionsCount, 0);
    assert.equal((await cacheStats(cluster, cluster.mongos())).activeSessionsCount, 2);
  });
});

// ---- access control and ownership ------------------------------------------------------------------

void describe("session owners with access control (reference §1.2, §7; manual: startSession)", () => {
  const users = [
    { user: "alice", db: "test", roles: [{ role: "readWrite", db: "test" }] },
    { user: "bob", db: "test", roles: [{ role: "readWrite", db: "test" }] },
    {
      user: "monitor",
      db: "admin",
      roles: [
        { role: "clusterMonitor", db: "admin" },
        { role: "readSessionsCollection", db: "admin" },
      ],
    },
  ];
  // As in refresh_sessions_command.js: a role that may read config.system.sessions.
  const roles = [
    {
      role: "readSessionsCollection",
      db: "admin",
      privileges: [{ resource: { db: "config", collection: "system.sessions" }, actions: ["find"] }],
    },
  ];
  const monitor = { user: "monitor", db: "admin" };

  void test("the same id used by two users is two sessions; records carry user: {name}", async () => {
    const cluster = await Cluster.start({ seed: 9, auth: true, users, roles });
    const alice = cluster.connect(cluster.mongos(), { user: "alice", db: "test" });
    const bob = cluster.connect(cluster.mongos(), { user: "bob", db: "test" });
    const id = new UUID();
    assertOk(await alice.runCommand("test", { find: "c", filter: {}, lsid: { id } }));
    assertOk(await bob.runCommand("test", { find: "c", filter: {}, lsid: { id } }));
    assert.equal((await cacheStats(cluster, cluster.mongos(), monitor)).activeSessionsCount, 2);
    assertOk(await admin(cluster.connect(cluster.mongos(), { user: "alice", db: "test" }), REFRESH));
    const docs = await sessionDocs(cluster, monitor);
    assert.equal(docs.length, 2);
    assert.deepEqual(docs.map((d) => (d.user as Document).name).sort(), ["alice@test", "bob@test"]);
    for (const d of docs) assert.equal(hex((d._id as Document).id), hex(id));
  });

  void test("a client-supplied uid is refused unless it is the caller's own digest (Unauthorized 13)", async () => {
    const cluster = await Cluster.start({ seed: 10, auth: true, users, roles });
    const alice = cluster.connect(cluster.mongos(), { user: "alice", db: "test" });
    const otherUid = new Binary(Buffer.alloc(32, 7), 0);
    const reply = await alice.runCommand("test", { find: "c", filter: {}, lsid: { id: new UUID(), uid: otherUid } });
    assertError(reply, 13, "Unauthorized");
    assert.equal(reply.errmsg, "Unauthorized to set user digest in LogicalSessionId");
    // Her own digest is fine.
    const { createHash } = await import("node:crypto");
    const own = new Binary(createHash("sha256").update("alice@test").digest(), 0);
    assertOk(await alice.runCommand("test", { find: "c", filter: {}, lsid: { id: new UUID(), uid: own } }));
  });

  void test("startSession without authentication is refused with Unauthorized (13)", async () => {
    const cluster = await Cluster.start({ seed: 11, auth: true, users, roles });
    assertError(await admin(cluster.connect(cluster.mongos()), START), 13, "Unauthorized");
  });
});

// ---- listing sessions -------------------------------------------------------------------------------

async function listLocal(conn: Connection, spec: Document = {}): Promise<Document> {
  return admin(conn, { aggregate: 1, pipeline: [{ $listLocalSessions: spec }], cursor: {} });
}

async function listStored(conn: Connection, spec: Document = {}): Promise<Document> {
  return conn.runCommand("config", { aggregate: "system.sessions", pipeline: [{ $listSessions: spec }], cursor: {} });
}

function batch(reply: Document): Document[] {
  return (assertOk(reply, "aggregate").cursor as Document).firstBatch as Document[];
}

void describe("$listLocalSessions and $listSessions (manual: $listLocalSessions, $listSessions; reference §4)", () => {
  void test("a session is listed by $listLocalSessions at once, by $listSessions only after the node's refresh", async () => {
    const cluster = await Cluster.start({ seed: 36, parameters: { disableLogicalSessionCacheRefresh: true } });
    const conn = cluster.connect(cluster.mongos());
    const { id } = assertOk(await admin(conn, START));
    const local = batch(await listLocal(conn, { allUsers: true }));
    assert.equal(local.length, 1);
    assert.deepEqual(Object.keys(local[0]), ["_id", "lastUse"], "no user without access control");
    assert.equal(hex((local[0]._id as Document).id), hex((id as Document).id));
    assert.equal(((local[0]._id as Document).uid as Binary).toString("hex"), NO_AUTH_UID_HEX);
    assert.ok(local[0].lastUse instanceof Date);
    assert.equal(batch(await listStored(conn, { allUsers: true })).length, 0, "not in config.system.sessions yet");
    assert.equal(
      batch(await listLocal(cluster.connect(cluster.shard(0)), { allUsers: true })).length,
      0,
      "another node's cache",
    );
    assertOk(await admin(conn, REFRESH));
    assert.equal(batch(await listLocal(conn, { allUsers: true })).length, 0, "the refresh emptied the cache");
    const stored = batch(await listStored(conn));
    assert.deepEqual(
      idsOf(stored),
      [hex((id as Document).id)],
      "{} lists the caller's (unowned) sessions without auth",
    );
  });

  void test("bad arguments: TypeMismatch (14), UnsupportedFormat (12), unknown field (40415)", async () => {
    const cluster = await Cluster.start({ seed: 37 });
    const conn = cluster.connect(cluster.mongos());
    const notObject = await admin(conn, { aggregate: 1, pipeline: [{ $listLocalSessions: 1 }], cursor: {} });
    assertError(notObject, 14, "TypeMismatch");
    assert.equal(notObject.errmsg, "$listLocalSessions options must be specified in an object, but found: int");
    const both = await listLocal(conn, { allUsers: true, users: [{ user: "a", db: "b" }] });
    assertError(both, 12, "UnsupportedFormat");
    assert.equal(both.errmsg, "$listLocalSessions may not specify {allUsers:true} and {users:[...]} at the same time");
    assertError(await listLocal(conn, { bogus: 1 }), 40415, "Location40415");
    assertError(await listStored(conn, { allUsers: 1 }), 14, "TypeMismatch");
    assertOk(await listLocal(conn, { allUsers: true, users: [] }), "allUsers with an empty users list is fine");
  });

  void test("with access control: your own sessions by default; allUsers or others need listSessions (13)", async () => {
    const users = [
      { user: "alice", db: "test", roles: [{ role: "readWrite", db: "test" }] },
      { user: "bob", db: "test", roles: [{ role: "readWrite", db: "test" }] },
      { user: "mon", db: "admin", roles: [{ role: "clusterMonitor", db: "admin" }] },
    ];
    const cluster = await Cluster.start({
      seed: 38,
      auth: true,
      users,
      parameters: { disableLogicalSessionCacheRefresh: true },
    });
    const alice = cluster.connect(cluster.mongos(), { user: "alice", db: "test" });
    const bob = cluster.connect(cluster.mongos(), { user: "bob", db: "test" });
    const mon = cluster.connect(cluster.mongos(), { user: "mon", db: "admin" });
    assertOk(await admin(alice, START));
    assertOk(await admin(bob, START));
    const mine = batch(await listLocal(alice));
    assert.equal(mine.length, 1);
    assert.equal(mine[0].user, "alice@test", "the cache record names its owner as a string");
    assertError(await listLocal(alice, { allUsers: true }), 13, "Unauthorized");
    assertError(await listLocal(alice, { users: [{ user: "bob", db: "test" }] }), 13, "Unauthorized");
    assert.equal(batch(await listLocal(alice, { users: [{ user: "alice", db: "test" }] })).length, 1);
    assert.equal(batch(await listLocal(mon, { allUsers: true })).length, 2, "clusterMonitor has listSessions");
    assert.equal(batch(await listLocal(mon, { users: [{ user: "bob", db: "test" }] }))[0].user, "bob@test");
    assertOk(await admin(alice, REFRESH));
    const stored = batch(await listStored(mon, { allUsers: true }));
    assert.deepEqual(
      stored.map((d) => (d.user as Document).name).sort(),
      ["alice@test", "bob@test"],
      "stored as user: {name}",
    );
  });

  void test("$listLocalSessions must run on {aggregate: 1} and first; not in a transaction (73, 40602)", async () => {
    const cluster = await Cluster.start({ seed: 39 });
    const conn = cluster.connect(cluster.mongos());
    assertError(
      await conn.runCommand("test", { aggregate: "c", pipeline: [{ $listLocalSessions: {} }], cursor: {} }),
      73,
      "InvalidNamespace",
    );
    assertError(
      await admin(conn, { aggregate: 1, pipeline: [{ $match: {} }, { $listLocalSessions: {} }], cursor: {} }),
      40602,
      "Location40602",
    );
    assertError(
      await conn.runCommand("test", { aggregate: "c", pipeline: [{ $listSessions: {} }], cursor: {} }),
      73,
      "InvalidNamespace",
    );
  });

  void test("not inside $facet (40600); $listSessions works in a $unionWith on config.system.sessions, $listLocalSessions does not (73)", async () => {
    // document_source_facet.cpp / Pipeline::validateFacetPipeline: "<stage> is not allowed to be
    // used within a $facet stage" (FacetRequirement::kNotAllowed of both stages); reference §4.3:
    // $listSessions is allowed in $lookup and $unionWith.
    const cluster = await Cluster.start({ seed: 40, parameters: { disableLogicalSessionCacheRefresh: true } });
    for (const node of [cluster.mongos(), cluster.shard(0)]) {
      const conn = cluster.connect(node);
      for (const [db, target, stage] of [
        ["admin", 1, { $listLocalSessions: {} }],
        ["config", "system.sessions", { $listSessions: { allUsers: true } }],
      ] as const) {
        const reply = await conn.runCommand(db, {
          aggregate: target,
          pipeline: [{ $facet: { sessions: [{ $match: {} }, stage] } }],
          cursor: {},
        });
        const name = Object.keys(stage)[0];
        assertError(reply, 40600, "Location40600");
        assert.equal(reply.errmsg, `${name} is not allowed to be used within a $facet stage`, `on ${node}`);
      }
      const inUnion = await conn.runCommand("config", {
        aggregate: "system.sessions",
        pipeline: [{ $unionWith: { coll: "system.sessions", pipeline: [{ $listLocalSessions: {} }] } }],
        cursor: {},
      });
      // Its {aggregate: 1} check fails first (jstests/aggregation/sources/unionWith/unionWith_invalid_usage.js).
      assertError(inUnion, 73, "InvalidNamespace");
      assert.equal(
        inUnion.errmsg,
        "$listLocalSessions must be run against the database with {aggregate: 1}, not a collection",
      );
    }
    const mongos = cluster.connect(cluster.mongos());
    assertOk(await admin(mongos, START));
    assertOk(await admin(mongos, REFRESH));
    const stored = batch(
      await mongos.runCommand("config", {
        aggregate: "system.sessions",
        pipeline: [
          { $match: { _id: null } },
          { $unionWith: { coll: "system.sessions", pipeline: [{ $listSessions: { allUsers: true } }] } },
        ],
        cursor: {},
      }),
    );
    assert.equal(stored.length, 1, "the $unionWith lists the stored session");
    assertError(
      await mongos.runCommand("test", {
        aggregate: "c",
        pipeline: [{ $unionWith: { coll: "d", pipeline: [{ $listSessions: {} }] } }],
        cursor: {},
      }),
      73,
      "InvalidNamespace",
    );
  });
});

// ---- refresh statistics -----------------------------------------------------------------------------

void describe("serverStatus.logicalSessionRecordCache (reference §2.2; manual: serverStatus)", () => {
  void test("every field is reported, and a refresh empties the cache and counts what it wrote", async () => {
    const cluster = await Cluster.start({ seed: 12, parameters: { disableLogicalSessionCacheRefresh: true } });
    const conn = cluster.connect(cluster.mongos());
    const before = await cacheStats(cluster, cluster.mongos());
    for (const f of [
      "activeSessionsCount",
      "sessionsCollectionJobCount",
      "lastSessionsCollectionJobDurationMillis",
      "lastSessionsCollectionJobTimestamp",
      "lastSessionsCollectionJobEntriesRefreshed",
      "lastSessionsCollectionJobEntriesEnded",
      "lastSessionsCollectionJobEntriesFailedToRefresh",
      "lastSessionsCollectionJobCursorsClosed",
      "transactionReaperJobCount",
      "lastTransactionReaperJobDurationMillis",
      "lastTransactionReaperJobTimestamp",
      "lastTransactionReaperJobEntriesCleanedUp",
      "sessionCatalogSize",
    ])
      assert.ok(f in before, `${f} is reported`);
    assert.equal(before.sessionsCollectionJobCount, 0);
    assert.ok(before.lastSessionsCollectionJobTimestamp instanceof Date);
    for (let i = 0; i < 10; i++) assertOk(await admin(conn, START));
    assert.equal((await cacheStats(cluster, cluster.mongos())).activeSessionsCount, 10);
    assertOk(await admin(conn, REFRESH));
    const after = await cacheStats(cluster, cluster.mongos());
    assert.equal(after.activeSessionsCount, 0, "a successful refresh swaps the cache out");
    assert.equal(after.sessionsCollectionJobCount, 1);
    assert.equal(after.lastSessionsCollectionJobEntriesRefreshed, 10);
    assert.equal(after.lastSessionsCollectionJobEntriesFailedToRefresh, 0);
    assert.equal(after.lastSessionsCollectionJobEntriesEnded, 0);
    assert.ok(
      (after.lastSessionsCollectionJobTimestamp as Date).getTime() >=
        before.lastSessionsCollectionJobTimestamp.getTime(),
    );
    const end = traceOf(cluster, "refresh.end", cluster.mongos()).at(-1) as TraceEvent & Document;
    assert.equal(end.ok, true);
    assert.equal(end.refreshed, 10);
  });

  void test("every node refreshes on its own every logicalSessionRefreshMillis, at a seeded phase", async () => {
    const period = 300_000;
    const cluster = await Cluster.start({ seed: 13 });
    await cluster.advance(period);
    for (const node of cluster.nodes()) {
      const stats = await cacheStats(cluster, node);
      // The config server also ran the set-up refresh at start.
      const expected = node === cluster.config() ? 2 : 1;
      assert.equal(stats.sessionsCollectionJobCount, expected, `${node} refreshed once per period`);
      assert.equal(stats.transactionReaperJobCount, 1, `${node} reaped once per period`);
    }
    const starts = traceOf(cluster, "refresh.start").filter((e) => e.time > cluster.trace()[0].time);
    assert.equal(new Set(starts.map((e) => e.time)).size, starts.length, "the nodes' phases differ");
    await cluster.advance(period);
    assert.equal((await cacheStats(cluster, cluster.mongos())).sessionsCollectionJobCount, 2);
  });

  void test("disableLogicalSessionCacheRefresh turns the refresh and reap jobs off", async () => {
    const cluster = await Cluster.start({ seed: 14, parameters: { disableLogicalSessionCacheRefresh: true } });
    const conn = cluster.connect(cluster.mongos());
    assertOk(await admin(conn, START));
    await cluster.advance(3 * 300_000);
    const stats = await cacheStats(cluster, cluster.mongos());
    assert.equal(stats.sessionsCollectionJobCount, 0);
    assert.equal(stats.transactionReaperJobCount, 0);
    assert.equal(stats.activeSessionsCount, 1);
  });

  void test("a session used by a running operation is refreshed even if it is not in the cache (no user)", async () => {
    // reference §2.5 step 6; jstests/sharding/verify_sessions_expiration_sharded.js (test 4)
    const cluster = await Cluster.start({ seed: 15, parameters: { disableLogicalSessionCacheRefresh: true } });
    const shard = cluster.connect(cluster.shard(0));
    const lsid = { id: new UUID() };
    const sleeping = shard.send("admin", { sleep: 1, secs: 60, lock: "none", lsid });
    await cluster.advance(10);
    assertOk(await admin(shard, REFRESH), "first refresh (the session is cached)");
    assert.deepEqual(idsOf(await sessionDocs(cluster)), [hex(lsid.id)]);
    // Remove the record as TTL would; the running op keeps the session alive.
    assertOk(
      await cluster
        .connect(cluster.mongos())
        .runCommand("config", { delete: "system.sessions", deletes: [{ q: {}, limit: 0 }] }),
    );
    assertOk(await admin(shard, REFRESH), "second refresh (only the running op has it)");
    assert.deepEqual(idsOf(await sessionDocs(cluster)), [hex(lsid.id)], "re-created from the running operation");
    assertOk(await cluster.wait(sleeping));
  });
});

// ---- endSessions -------------------------------------------------------------------------------------

void describe("endSessions (jstests/noPassthrough/end_sessions_command.js; manual: endSessions)", () => {
  void test("ended sessions are removed at the next refresh; unknown sessions are fine", async () => {
    const cluster = await Cluster.start({ seed: 16 });
    const conn = cluster.connect(cluster.mongos());
    assertOk(await admin(conn, REFRESH), "failed to refresh");
    const sessions: Document[] = [];
    for (let i = 0; i < 20; i++) sessions.push(assertOk(await admin(conn, START), "unable to start session"));
    assertOk(await admin(conn, REFRESH));
    assert.equal(await sessionCount(cluster), 20, "refresh should have written 20 session records");
    assertOk(await admin(conn, { endSessions: sessions.slice(0, 10).map((s) => s.id) }), "failed to end sessions");
    assert.equal(await sessionCount(cluster), 20, "endSessions only queues");
    assertOk(await admin(conn, REFRESH));
    assert.equal(await sessionCount(cluster), 10, "endSessions and refresh should result in 10 remaining sessions");
    assert.equal((await cacheStats(cluster, cluster.mongos())).lastSessionsCollectionJobEntriesEnded, 10);
    // Double delete the remaining 10.
    const twice = sessions.slice(10).flatMap((s) => [s.id, s.id]);
    assertOk(await admin(conn, { endSessions: twice }));
    assertOk(await admin(conn, REFRESH));
    assert.equal(await sessionCount(cluster), 0, "endSessions and refresh should result in 0 remaining sessions");
    // Sessions that were never created.
    assertOk(
      await admin(conn, {
        endSessions: [
          { id: new UUID("bacb219c-214c-47f9-a94a-6c7f434b3bae") },
          { id: new UUID("bacb219c-214c-47f9-a94a-6c7f434b3baf") },
        ],
      }),
    );
    assertOk(await admin(conn, REFRESH));
  });

  void test("a session used through a command, then ended, goes away at the refresh", async () => {
    // end_sessions_command.js, "verify that end on the session handle actually ends sessions"
    const cluster = await Cluster.start({ seed: 17 });
    const conn = cluster.connect(cluster.mongos());
    const lsid = { id: new UUID() };
    assertOk(await admin(conn, { ping: 1, lsid }), "do something to tickle the session");
    assertOk(await admin(conn, { ...REFRESH, lsid }));
    assert.equal(await sessionCount(cluster), 1, "the command should have written 1 session record");
    assertOk(await admin(conn, { endSessions: [lsid] }));
    assertOk(await admin(conn, REFRESH));
    assert.equal(await sessionCount(cluster), 0);
  });

  void test("endSessions is not a kill: the session stays usable and is re-created when used again", async () => {
    const cluster = await Cluster.start({ seed: 18 });
    const conn = cluster.connect(cluster.mongos());
    const lsid = { id: new UUID() };
    assertOk(await conn.runCommand("test", { insert: "c", documents: [{ _id: 1 }], lsid }));
    assertOk(await admin(conn, REFRESH));
    assertOk(await admin(conn, { endSessions: [lsid] }));
    assertOk(await conn.runCommand("test", { insert: "c", documents: [{ _id: 2 }], lsid }), "still usable");
    assertOk(await admin(conn, REFRESH));
    // The refresh swapped out the re-use, but ended sessions are excluded from the upsert.
    assert.equal(await sessionCount(cluster), 0);
    assertOk(await conn.runCommand("test", { find: "c", filter: {}, lsid }));
    assertOk(await admin(conn, REFRESH));
    assert.deepEqual(idsOf(await sessionDocs(cluster)), [hex(lsid.id)], "re-created after use");
  });

  void test("a child (internal) lsid fails InvalidOptions", async () => {
    const cluster = await Cluster.start({ seed: 19 });
    const reply = await admin(cluster.connect(cluster.mongos()), {
      endSessions: [{ id: new UUID(), txnNumber: Long.fromNumber(1), txnUUID: new UUID() }],
    });
    assertError(reply, 72, "InvalidOptions");
    assert.match(String(reply.errmsg), /^Cannot specify a child session id /);
  });
});

// ---- maxSessions ----------------------------------------------------------------------------------------

void describe("maxSessions (jstests/noPassthrough/refresh_sessions_command.js; reference §2.4)", () => {
  void test("a full cache refuses new sessions with TooManyLogicalSessions (261) until the next refresh", async () => {
    const cluster = await Cluster.start({
      seed: 20,
      parameters: { maxSessions: 3, disableLogicalSessionCacheRefresh: true },
    });
    const conn = cluster.connect(cluster.mongos());
    const ids: Document[] = [];
    for (let i = 0; i < 3; i++) ids.push(assertOk(await admin(conn, START)).id as Document);
    const full = await admin(conn, START);
    assertError(full, 261, "TooManyLogicalSessions");
    assert.match(
      String(full.errmsg),
      /^Unable to add session ID .* into the cache because the number of active sessions is too high$/,
    );
    // Known sessions are still fine; a command with a new lsid fails.
    assertOk(await admin(conn, { refreshSessions: ids }), "refresh of known sessions");
    assertOk(await admin(conn, { refreshSessions: [ids[0], ids[0], ids[0]] }), "duplicates");
    assertOk(await admin(conn, { refreshSessions: [] }), "empty set");
    assertError(await admin(conn, { refreshSessions: [{ id: new UUID() }] }), 261, "TooManyLogicalSessions");
    assertError(
      await conn.runCommand("test", { find: "c", filter: {}, lsid: { id: new UUID() } }),
      261,
      "TooManyLogicalSessions",
    );
    // Once refreshed, all of them are in the collection and the cache has room again.
    assertOk(await admin(conn, REFRESH), "could not force refresh");
    assert.equal(await sessionCount(cluster), 3, "should have refreshed all session records");
    assertOk(await admin(conn, START), "room after the refresh");
  });

  void test("the limit is per node: a full mongos does not stop the shards", async () => {
    const cluster = await Cluster.start({
      seed: 21,
      parameters: { maxSessions: 1, disableLogicalSessionCacheRefresh: true },
    });
    assertOk(await admin(cluster.connect(cluster.mongos()), START));
    assertError(await admin(cluster.connect(cluster.mongos()), START), 261, "TooManyLogicalSessions");
    assertOk(await admin(cluster.connect(cluster.shard(0)), START));
  });
});

// ---- the sessions collection: creation, failures, auto-healing --------------------------------------

void describe("config.system.sessions setup (jstests/sharding/sessions_collection_auto_healing.js)", () => {
  void test("before the config server sets it up, shard and mongos refreshes fail NamespaceNotSharded (118) and keep their sessions", async () => {
    const cluster = await Cluster.start({
      seed: 22,
      setupSessionsCollection: false,
      parameters: { disableLogicalSessionCacheRefresh: true },
    });
    for (const node of [cluster.shard(0), cluster.mongos()]) {
      const conn = cluster.connect(node);
      assertOk(await admin(conn, START), `startSession on ${node}`);
      const reply = await admin(conn, REFRESH);
      assertError(reply, 118, "NamespaceNotSharded");
      assert.equal(reply.errmsg, "Session collection 'config.system.sessions' is not sharded");
      assert.equal(
        (await cacheStats(cluster, node)).activeSessionsCount,
        1,
        "the session is kept for the next refresh",
      );
    }
    // The config server's refresh creates it: sharded on {_id: 1} with lsidTTLIndex.
    assertOk(await admin(cluster.connect(cluster.config()), REFRESH));
    const created = traceOf(cluster, "sessionsCollection.create");
    assert.equal(created.length, 1);
    const owner = (created[0] as TraceEvent & { shard: string }).shard;
    const indexes = assertOk(await cluster.connect(owner).runCommand("config", { listIndexes: "system.sessions" }));
    const ttl = ((indexes.cursor as Document).firstBatch as Document[]).find((ix) => ix.name === "lsidTTLIndex");
    assert.deepEqual(ttl?.key, { lastUse: 1 });
    assert.equal(ttl?.expireAfterSeconds, 1800);
    // Now the others' refreshes flush their kept sessions.
    for (const node of [cluster.shard(0), cluster.mongos()]) assertOk(await admin(cluster.connect(node), REFRESH));
    assert.equal(await sessionCount(cluster), 2);
  });

  void test("the config server's refresh fails ShardNotFound (70) while there are no shards", async () => {
    const cluster = await Cluster.start({
      seed: 23,
      shards: 0,
      parameters: { disableLogicalSessionCacheRefresh: true },
    });
    const config = cluster.connect(cluster.config());
    assertOk(await admin(config, START), "sessions work on the config server before any shard");
    assertOk(await admin(cluster.connect(cluster.mongos()), START), "and on mongos");
    const reply = await admin(config, REFRESH);
    assertError(reply, 70, "ShardNotFound");
    assert.equal(
      reply.errmsg,
      "Failed to create config.system.sessions: cannot create the collection until there are shards",
    );
    assertError(await admin(cluster.connect(cluster.mongos()), REFRESH), 118, "NamespaceNotSharded");
    assert.equal(traceOf(cluster, "sessionsCollection.create").length, 0, "nothing was created");
  });

  void test("a dropped TTL index is re-created by the config server's refresh only", async () => {
    const cluster = await Cluster.start({ seed: 24, parameters: { disableLogicalSessionCacheRefresh: true } });
    const owner = (traceOf(cluster, "sessionsCollection.create")[0] as TraceEvent & { shard: string }).shard;
    const shard = cluster.connect(owner);
    const ttlIndexExists = async (): Promise<boolean> => {
      const reply = assertOk(await shard.runCommand("config", { listIndexes: "system.sessions" }));
      return ((reply.cursor as Document).firstBatch as Document[]).some((ix) => ix.name === "lsidTTLIndex");
    };
    assertOk(await shard.runCommand("config", { dropIndexes: "system.sessions", index: "lsidTTLIndex" }));
    assert.equal(await ttlIndexExists(), false);
    assertOk(await admin(shard, REFRESH));
    assert.equal(await ttlIndexExists(), false, "a shard's refresh does not heal it");
    assertOk(await admin(cluster.connect(cluster.config()), REFRESH));
    assert.equal(await ttlIndexExists(), true, "the config server's refresh heals it");
  });

  void test("a dropped collection is re-created (sharded, indexed) by the next config server refresh", async () => {
    const cluster = await Cluster.start({ seed: 25, parameters: { disableLogicalSessionCacheRefresh: true } });
    const mongos = cluster.connect(cluster.mongos());
    assertOk(await admin(mongos, START));
    assertOk(await admin(mongos, REFRESH));
    assertOk(await mongos.runCommand("config", { drop: "system.sessions" }), "drop through mongos");
    assertOk(await admin(mongos, START));
    assertError(await admin(mongos, REFRESH), 118, "NamespaceNotSharded");
    assertOk(await admin(cluster.connect(cluster.config()), REFRESH));
    assert.equal(traceOf(cluster, "sessionsCollection.create").length, 2, "sharded again");
    assertOk(await admin(mongos, REFRESH));
    assert.equal(await sessionCount(cluster), 1, "the session the failed refresh kept");
  });
});

// ---- refresh failures ----------------------------------------------------------------------------------

void describe("a refresh whose writes fail ([M] partial failure; reference §2.5 step 7, checklist 27)", () => {
  // MongoDB's jstest "Test that when refreshing the timestamp in the sessions collection fails due to
  // errors (like ShardNotFound or WriteConcernErrors), the sessions pending to be ended are still
  // processed" (its sharded variant: failCommand on `update` of config.system.sessions on the shards).
  void test("failed batches go back to the cache, ended sessions are still removed, ok: 0 with the first error", async () => {
    const cluster = await Cluster.start({ seed: 26, parameters: { disableLogicalSessionCacheRefresh: true } });
    const conn = cluster.connect(cluster.mongos());
    assertOk(await admin(conn, REFRESH), "failed initial refresh");
    const initial = await sessionCount(cluster);
    const sessions: Document[] = [];
    for (let i = 0; i < 10; i++) sessions.push(assertOk(await admin(conn, START)));
    assertOk(await admin(conn, REFRESH));
    assert.equal((await sessionCount(cluster)) - initial, 10);
    assertOk(await admin(conn, { endSessions: sessions.slice(0, 3).map((s) => s.id) }));
    const eleventh = assertOk(await admin(conn, START));
    const failUpdates = (mode: unknown) =>
      Promise.all(
        [cluster.shard(0), cluster.shard(1)].map((n) =>
          admin(cluster.connect(n), {
            configureFailPoint: "failCommand",
            mode,
            data: {
              errorCode: 1,
              failCommands: ["update"],
              failInternalCommands: true,
              namespace: "config.system.sessions",
            },
          }),
        ),
      );
    for (const r of await failUpdates("alwaysOn")) assertOk(r, "configureFailPoint");
    const failed = await admin(conn, REFRESH);
    assertError(failed, 1, "InternalError");
    assert.equal((await sessionCount(cluster)) - initial, 7, "10 - 3 ended, without the 11th");
    let stats = await cacheStats(cluster, cluster.mongos());
    assert.equal(stats.lastSessionsCollectionJobEntriesEnded, 3);
    assert.equal(stats.lastSessionsCollectionJobEntriesRefreshed, 0);
    assert.equal(stats.lastSessionsCollectionJobEntriesFailedToRefresh, 1);
    assert.equal(stats.activeSessionsCount, 1, "the 11th session is back in the cache");
    assertOk(await admin(conn, { endSessions: sessions.slice(3, 6).map((s) => s.id) }));
    assertError(await admin(conn, REFRESH), 1, "InternalError");
    assert.equal((await sessionCount(cluster)) - initial, 4);
    for (const r of await failUpdates("off")) assertOk(r);
    assertOk(await admin(conn, { endSessions: sessions.slice(6, 8).map((s) => s.id) }));
    assertOk(await admin(conn, REFRESH), "refresh should succeed after disabling failpoint");
    assert.equal((await sessionCount(cluster)) - initial, 3, "10 - 8 ended + the 11th");
    stats = await cacheStats(cluster, cluster.mongos());
    assert.equal(stats.lastSessionsCollectionJobEntriesEnded, 2);
    assert.equal(stats.lastSessionsCollectionJobEntriesRefreshed, 1);
    assert.equal(stats.lastSessionsCollectionJobEntriesFailedToRefresh, 0);
    assertOk(await admin(conn, { endSessions: [...sessions.slice(8).map((s) => s.id), eleventh.id] }));
    assertOk(await admin(conn, REFRESH));
    assert.equal(await sessionCount(cluster), initial, "all sessions should be cleaned up");
  });
});

// ---- TTL and lastUse -------------------------------------------------------------------------------------

void describe("expiry (manual: TTL Indexes; reference §1.4, §2.6)", () => {
  void test("a record written at refresh time r disappears between r + 30 min and r + 31 min", async () => {
    const cluster = await Cluster.start({ seed: 27, parameters: { disableLogicalSessionCacheRefresh: true } });
    const conn = cluster.connect(cluster.mongos());
    const { id } = assertOk(await admin(conn, START));
    assertOk(await admin(conn, REFRESH));
    const [doc] = await sessionDocs(cluster);
    const written = (doc.lastUse as Date).getTime();
    await cluster.advance(30 * 60_000 - 5_000);
    assert.equal(await sessionCount(cluster), 1, "still there before lastUse + 30 min");
    await cluster.advance(65_000);
    assert.equal(await sessionCount(cluster), 0, "deleted by the TTL monitor within a minute after expiry");
    const expire = traceOf(cluster, "ttl.expire").find(
      (e) => (e as TraceEvent & { ns: string }).ns === "config.system.sessions",
    );
    assert.ok(expire !== undefined, "ttl.expire traced");
    assert.ok(expire.time >= written + 30 * 60_000 && expire.time <= written + 31 * 60_000);
    const ids = (expire as TraceEvent & { ids: Document[] }).ids;
    assert.deepEqual(
      ids.map((x) => hex(x.id)),
      [hex((id as Document).id)],
    );
  });

  void test("lastUse is the applying node's clock at refresh time and moves forward with each refresh", async () => {
    // jstests/sharding/verify_sessions_expiration_sharded.js (test 2)
    const cluster = await Cluster.start({ seed: 28, parameters: { disableLogicalSessionCacheRefresh: true } });
    const conn = cluster.connect(cluster.mongos());
    const lsid = { id: new UUID() };
    let last = 0;
    for (let i = 0; i < 3; i++) {
      assertOk(await conn.runCommand("test", { find: "c", filter: {}, lsid }));
      await cluster.advance(60_000);
      assertOk(await admin(conn, REFRESH));
      const [doc] = await sessionDocs(cluster);
      const lastUse = (doc.lastUse as Date).getTime();
      assert.ok(lastUse > last, "lastUse advanced");
      assert.ok(lastUse >= cluster.now().getTime() - 1000, "lastUse is the refresh time, not the time of use");
      last = lastUse;
    }
  });

  void test("a shard's clock sets lastUse: a clock 10 minutes behind writes records that expire 10 minutes early", async () => {
    const cluster = await Cluster.start({ seed: 29, parameters: { disableLogicalSessionCacheRefresh: true } });
    const owner = (traceOf(cluster, "sessionsCollection.create")[0] as TraceEvent & { shard: string }).shard;
    cluster.setClock(owner, -10 * 60_000);
    const conn = cluster.connect(cluster.mongos());
    assertOk(await admin(conn, START));
    assertOk(await admin(conn, REFRESH));
    const [doc] = await sessionDocs(cluster);
    assert.ok(cluster.now().getTime() - (doc.lastUse as Date).getTime() >= 10 * 60_000 - 1000);
  });

  void test("records deleted as if expired: the next refresh does not bring back sessions not used since", async () => {
    // jstests/sharding/verify_sessions_expiration_sharded.js (test 1)
    const cluster = await Cluster.start({ seed: 30, parameters: { disableLogicalSessionCacheRefresh: true } });
    const mongos = cluster.connect(cluster.mongos());
    const lsid = { id: new UUID() };
    assertOk(await admin(mongos, { ping: 1, lsid }));
    assertOk(await admin(mongos, REFRESH));
    assert.equal(await sessionCount(cluster), 1);
    assertOk(await mongos.runCommand("config", { delete: "system.sessions", deletes: [{ q: {}, limit: 0 }] }));
    assertOk(await admin(mongos, REFRESH));
    assert.equal(await sessionCount(cluster), 0);
  });
});

// ---- cursors -------------------------------------------------------------------------------------------------

void describe("cursors of expired and ended sessions (jstests/sharding/verify_sessions_expiration_sharded.js, test 3)", () => {
  void test("a refresh kills the cursors whose session is gone from config.system.sessions", async () => {
    const cluster = await Cluster.start({ seed: 31, parameters: { disableLogicalSessionCacheRefresh: true } });
    const mongos = cluster.connect(cluster.mongos());
    assertOk(
      await mongos.runCommand("test", {
        insert: "c",
        documents: Array.from({ length: 10 }, (_, i) => ({ _id: i, b: 1 })),
      }),
    );
    const lsid = { id: new UUID() };
    const found = assertOk(await mongos.runCommand("test", { find: "c", filter: { b: 1 }, batchSize: 1, lsid }));
    const cursorId = (found.cursor as Document).id as Long;
    assert.ok(!cursorId.isZero(), "the cursor stays open");
    assertOk(await admin(mongos, REFRESH));
    assertOk(await mongos.runCommand("config", { delete: "system.sessions", deletes: [{ q: {}, limit: 0 }] }));
    assertOk(await admin(mongos, REFRESH));
    assert.equal(await sessionCount(cluster), 0);
    const stats = await cacheStats(cluster, cluster.mongos());
    assert.ok((stats.lastSessionsCollectionJobCursorsClosed as number) >= 1, "the cursor was closed");
    const more = await mongos.runCommand("test", { getMore: cursorId, collection: "c", lsid });
    assertError(more, 43, "CursorNotFound");
  });

  void test("endSessions kills the session's cursors on that node at its next refresh", async () => {
    const cluster = await Cluster.start({ seed: 32, parameters: { disableLogicalSessionCacheRefresh: true } });
    const mongos = cluster.connect(cluster.mongos());
    assertOk(
      await mongos.runCommand("test", { insert: "c", documents: Array.from({ length: 5 }, (_, i) => ({ _id: i })) }),
    );
    const lsid = { id: new UUID() };
    const found = assertOk(await mongos.runCommand("test", { find: "c", filter: {}, batchSize: 1, lsid }));
    const cursorId = (found.cursor as Document).id as Long;
    assertOk(await admin(mongos, { endSessions: [lsid] }));
    assertOk(
      await mongos.runCommand("test", { getMore: cursorId, collection: "c", batchSize: 1, lsid }),
      "ending is not killing",
    );
    assertOk(await admin(mongos, REFRESH));
    assert.ok(((await cacheStats(cluster, cluster.mongos())).lastSessionsCollectionJobCursorsClosed as number) >= 1);
    assertError(await mongos.runCommand("test", { getMore: cursorId, collection: "c", lsid }), 43, "CursorNotFound");
  });
});

// ---- the reaper -----------------------------------------------------------------------------------------------

void describe("the transaction reaper (reference §2.7; logical_session_cache.idl TransactionRecordMinimumLifetimeMinutes)", () => {
  void test("config.transactions entries older than 30 minutes whose session is gone are deleted on the shard", async () => {
    const cluster = await Cluster.start({ seed: 33, parameters: { disableLogicalSessionCacheRefresh: true } });
    const shard = cluster.connect(cluster.shard(0));
    const { createHash } = await import("node:crypto");
    const uid = new Binary(createHash("sha256").update("").digest(), 0);
    const gone = { id: new UUID(), uid };
    const alive = { id: new UUID(), uid };
    const recent = { id: new UUID(), uid };
    const old = new Date(cluster.now().getTime() - 31 * 60_000);
    assertOk(
      await shard.runCommand("config", {
        insert: "transactions",
        documents: [
          { _id: gone, txnNum: Long.fromNumber(1), lastWriteDate: old },
          { _id: alive, txnNum: Long.fromNumber(1), lastWriteDate: old },
          { _id: recent, txnNum: Long.fromNumber(1), lastWriteDate: cluster.now() },
        ],
      }),
    );
    // Only `alive` has a session record.
    assertOk(await admin(cluster.connect(cluster.mongos()), { refreshSessions: [{ id: alive.id }] }));
    assertOk(await admin(cluster.connect(cluster.mongos()), REFRESH));
    assertOk(await admin(shard, { reapLogicalSessionCacheNow: 1 }));
    const left = assertOk(await shard.runCommand("config", { find: "transactions", filter: {} }));
    const ids = ((left.cursor as Document).firstBatch as Document[]).map((d) => hex((d._id as Document).id)).sort();
    assert.deepEqual(ids, [hex(alive.id), hex(recent.id)].sort());
    const stats = await cacheStats(cluster, cluster.shard(0));
    assert.equal(stats.lastTransactionReaperJobEntriesCleanedUp, 1);
    assert.equal(stats.transactionReaperJobCount, 1);
  });

  void test("mongos stores nothing: its reap succeeds and deletes nothing", async () => {
    const cluster = await Cluster.start({ seed: 34 });
    assertOk(await admin(cluster.connect(cluster.mongos()), { reapLogicalSessionCacheNow: 1 }));
    assert.equal((await cacheStats(cluster, cluster.mongos())).lastTransactionReaperJobEntriesCleanedUp, 0);
  });

  void test("without the sessions collection the reap is skipped, not failed", async () => {
    const cluster = await Cluster.start({
      seed: 35,
      setupSessionsCollection: false,
      parameters: { disableLogicalSessionCacheRefresh: true },
    });
    assertOk(await admin(cluster.connect(cluster.shard(0)), { reapLogicalSessionCacheNow: 1 }));
  });
});

// ---- determinism ---------------------------------------------------------------------------------------------------

void describe("determinism (architecture.md)", () => {
  void test("the same seed gives the same trace with periodic refreshes, reaps and TTL passes", async () => {
    const run = async (seed: number): Promise<string> => {
      const cluster = await Cluster.start({ seed, parameters: { logicalSessionRefreshMillis: 60_000 } });
      const conn = cluster.connect(cluster.mongos());
      for (let i = 0; i < 5; i++) assertOk(await admin(conn, START));
      assertOk(
        await conn.runCommand("test", {
          insert: "c",
          documents: [{ _id: 1 }],
          lsid: { id: new UUID("0f6e3a58-8d62-4b5c-9c8b-7f5a2b1c0d9e") },
        }),
      );
      await cluster.advance(40 * 60_000);
      return cluster.traceHash();
    };
    assert.equal(await run(42), await run(42));
    assert.notEqual(await run(42), await run(43));
  });
});
