/**
 * The kill commands (`killSessions`, `killAllSessions`, `killAllSessionsByPattern`), transcribed
 * from MongoDB's test suite:
 * - jstests/libs/kill_sessions.js `runNoAuth` / `runAuth` (hanging `sleep` operations and cursors
 *   killed by each command, selectively by lsid, uid and user; the auth rules), as run on a mongod
 *   and through mongos by jstests/sharding/kill_sessions.js;
 * - jstests/core/txns/kill_sessions_kills_transaction.js (a kill aborts an unprepared transaction);
 * - jstests/replsets/kill_sessions_with_prepared_transaction.js (prepared transactions survive
 *   `killSessions` and `killAllSessions` and commit afterwards);
 * - src/mongo/db/session/kill_sessions_remote.cpp and kill_sessions_common.cpp (the mongos
 *   broadcast to every shard host, HostUnreachable "Failed to kill sessions on some hosts");
 * - the manual pages "killSessions", "killAllSessions", "killAllSessionsByPattern" (killed sessions
 *   remain usable; the `users`/`roles` reading of the manual, behind a cluster option).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  Binary,
  Cluster,
  Long,
  UUID,
  type Connection,
  type Document,
  type InFlight,
  type TraceEvent,
} from "sessionsim";

type Doc = Record<string, unknown>;

/** `computeSHA256Block(s)` of the jstests: a session owner digest (`uid`). */
const sha256 = (s: string): Binary => new Binary(createHash("sha256").update(s, "utf8").digest(), 0);

let lsidCounter = 0;
/** A fresh client-side lsid `{id}` (deterministic UUIDs). */
function newLsid(): { id: UUID } {
  lsidCounter++;
  return { id: new UUID(`00000000-0000-4000-8000-${String(lsidCounter).padStart(12, "0")}`) };
}

function assertOk(reply: Document, what = ""): void {
  assert.equal(reply.ok, 1, `${what} ${JSON.stringify(reply)}`);
}

function assertError(reply: Document, code: number, codeName: string, errmsg?: string | RegExp): void {
  assert.equal(reply.ok, 0, `expected ${codeName}, got ${JSON.stringify(reply)}`);
  assert.equal(reply.code, code, String(reply.errmsg));
  assert.equal(reply.codeName, codeName);
  if (typeof errmsg === "string") assert.equal(reply.errmsg, errmsg);
  else if (errmsg !== undefined) assert.match(String(reply.errmsg), errmsg);
}

/** `startHangingOp`: a `sleep` carrying the session, left running. */
async function startHangingOp(cluster: Cluster, conn: Connection, lsid: Doc): Promise<InFlight> {
  const inflight = conn.send("admin", { sleep: 1, secs: 60, lock: "none", lsid });
  await cluster.advance(20);
  assert.equal(inflight.done, false, "the sleep is running");
  return inflight;
}

async function assertInterrupted(cluster: Cluster, inflight: InFlight): Promise<void> {
  const reply = await cluster.wait(inflight, { maxMs: 1_000 });
  assertError(reply, 11601, "Interrupted", "operation was interrupted");
}

async function assertStillRunning(cluster: Cluster, inflight: InFlight): Promise<void> {
  await cluster.advance(200);
  assert.equal(inflight.done, false, `still running: ${JSON.stringify(inflight.reply)}`);
}

/** `startCursor`: a find with batchSize 1 in the session, leaving a cursor open. */
async function startCursor(conn: Connection, lsid: Doc): Promise<Long> {
  const reply = await conn.runCommand("test", { find: "x", filter: {}, batchSize: 1, lsid });
  assertOk(reply, "find");
  const id = (reply.cursor as { id: Long }).id;
  assert.ok(!id.isZero(), "a cursor stays open");
  return id;
}

async function getMore(conn: Connection, id: Long, lsid: Doc): Promise<Document> {
  return conn.runCommand("test", { getMore: id, collection: "x", batchSize: 1, lsid });
}

async function seed(conn: Connection): Promise<void> {
  assertOk(
    await conn.runCommand("test", { insert: "x", documents: [1, 2, 3, 4, 5].map((i) => ({ _id: i })) }),
    "insert",
  );
}

function eventsOf<T extends TraceEvent["type"]>(
  cluster: Cluster,
  type: T,
  since = 0,
): Extract<TraceEvent, { type: T }>[] {
  return cluster.trace().filter((e, i) => i >= since && e.type === type) as Extract<TraceEvent, { type: T }>[];
}

const KILL_ALL = [
  { killSessions: [] },
  { killAllSessions: [] },
  { killAllSessionsByPattern: [] },
  { killAllSessionsByPattern: [{}] },
] as const;

// ---- without access control -----------------------------------------------------------------

void describe("kill commands without access control (jstests/libs/kill_sessions.js runNoAuth)", () => {
  for (const kill of KILL_ALL) {
    const name = JSON.stringify(kill);
    void test(`${name} on a shard interrupts two hanging operations with Interrupted (11601)`, async () => {
      const c = await Cluster.start({ seed: 11 });
      const conn = c.connect(c.shard(0));
      const killer = c.connect(c.shard(0));
      const h1 = await startHangingOp(c, conn, newLsid());
      const h2 = await startHangingOp(c, c.connect(c.shard(0)), newLsid());
      assertOk(await killer.runCommand("admin", kill), name);
      await assertInterrupted(c, h1);
      await assertInterrupted(c, h2);
      const [local] = eventsOf(c, "kill.local");
      assert.equal(local.node, c.shard(0));
      assert.equal(local.interruptedOps, 2);
      await c.stop();
    });

    void test(`${name} on a shard closes the session's cursors: getMore → CursorNotFound (43)`, async () => {
      const c = await Cluster.start({ seed: 12 });
      const conn = c.connect(c.shard(0));
      await seed(conn);
      const lsid1 = newLsid();
      const lsid2 = newLsid();
      const id1 = await startCursor(conn, lsid1);
      const id2 = await startCursor(conn, lsid2);
      assertOk(await c.connect(c.shard(0)).runCommand("admin", kill), name);
      assertError(await getMore(conn, id1, lsid1), 43, "CursorNotFound");
      assertError(await getMore(conn, id2, lsid2), 43, "CursorNotFound");
      const closed = eventsOf(c, "cursor.close").filter((e) => e.reason === "killSessions");
      assert.equal(closed.length, 2);
      await c.stop();
    });
  }

  void test("the kill command ignores its own lsid (attachLogicalSessionsToOpCtx false)", async () => {
    const c = await Cluster.start({ seed: 13 });
    const conn = c.connect(c.shard(0));
    const lsid = newLsid();
    const h = await startHangingOp(c, conn, lsid);
    // The kill carries the same lsid: it must not kill itself, and it kills the sleep.
    assertOk(await c.connect(c.shard(0)).runCommand("admin", { killSessions: [lsid], lsid }));
    await assertInterrupted(c, h);
    await c.stop();
  });

  void test("killSessions by lsid kills two of three sessions; the third stays alive (makeNoAuthArgKill)", async () => {
    const c = await Cluster.start({ seed: 14 });
    const [l1, l2, l3] = [newLsid(), newLsid(), newLsid()];
    const h1 = await startHangingOp(c, c.connect(c.shard(0)), l1);
    const h2 = await startHangingOp(c, c.connect(c.shard(0)), l2);
    const h3 = await startHangingOp(c, c.connect(c.shard(0)), l3);
    const killer = c.connect(c.shard(0));
    // Without access control every session's uid is SHA-256(""): both forms name the same session.
    assertOk(await killer.runCommand("admin", { killSessions: [l1, { id: l2.id, uid: sha256("") }] }));
    await assertInterrupted(c, h1);
    await assertInterrupted(c, h2);
    await assertStillRunning(c, h3);
    assertOk(await killer.runCommand("admin", { killSessions: [l3] }));
    await assertInterrupted(c, h3);
    await c.stop();
  });

  void test("killAllSessionsByPattern by lsid kills two of three sessions' cursors", async () => {
    const c = await Cluster.start({ seed: 15 });
    const conn = c.connect(c.shard(0));
    await seed(conn);
    const [l1, l2, l3] = [newLsid(), newLsid(), newLsid()];
    const [id1, id2, id3] = [await startCursor(conn, l1), await startCursor(conn, l2), await startCursor(conn, l3)];
    const pattern = (l: { id: UUID }): Doc => ({ lsid: { id: l.id, uid: sha256("") } });
    assertOk(await conn.runCommand("admin", { killAllSessionsByPattern: [pattern(l1), pattern(l2)] }));
    assertError(await getMore(conn, id1, l1), 43, "CursorNotFound");
    assertError(await getMore(conn, id2, l2), 43, "CursorNotFound");
    assertOk(await getMore(conn, id3, l3), "the third cursor is alive");
    await c.stop();
  });

  void test("a pattern with a uid matches by uid only; a pattern with neither kills all and discards the others", async () => {
    const c = await Cluster.start({ seed: 16 });
    const l1 = newLsid();
    const h1 = await startHangingOp(c, c.connect(c.shard(0)), l1);
    const killer = c.connect(c.shard(0));
    // uid wins over lsid: nobody's sessions have this uid, so the lsid is not killed.
    assertOk(
      await killer.runCommand("admin", {
        killAllSessionsByPattern: [{ lsid: { id: l1.id, uid: sha256("") }, uid: sha256("nobody@admin") }],
      }),
    );
    await assertStillRunning(c, h1);
    const [first] = eventsOf(c, "kill.local");
    assert.equal(first.interruptedOps, 0);
    // {users: [...]} alone is a kill-all pattern in the server's code (impersonation data only).
    assertOk(
      await killer.runCommand("admin", {
        killAllSessionsByPattern: [{ uid: sha256("nobody@admin") }, { users: [{ user: "x", db: "y" }], roles: [] }],
      }),
    );
    await assertInterrupted(c, h1);
    const [, second] = eventsOf(c, "kill.local");
    assert.deepEqual(second.patterns, ["all users=[x@y] roles=[]"]);
    await c.stop();
  });

  void test("killed sessions stay listed and usable: a later command in the session works", async () => {
    const c = await Cluster.start({ seed: 17 });
    const conn = c.connect(c.shard(0));
    await seed(conn);
    const lsid = newLsid();
    const h = await startHangingOp(c, conn, lsid);
    assertOk(await c.connect(c.shard(0)).runCommand("admin", { killSessions: [lsid] }));
    await assertInterrupted(c, h);
    const listed = await conn.runCommand("admin", {
      aggregate: 1,
      pipeline: [{ $listLocalSessions: { allUsers: true } }],
      cursor: {},
    });
    assertOk(listed, "$listLocalSessions");
    const ids = (listed.cursor as { firstBatch: Doc[] }).firstBatch.map((d) =>
      ((d._id as Doc).id as UUID).toHexString(),
    );
    assert.ok(ids.includes(lsid.id.toHexString()), "the killed session is still listed");
    const again = await conn.runCommand("test", { find: "x", filter: {}, lsid });
    assertOk(again, "the killed session is usable");
    const h2 = await startHangingOp(c, conn, lsid);
    assertOk(await c.connect(c.shard(0)).runCommand("admin", { killSessions: [lsid] }));
    await assertInterrupted(c, h2);
    await c.stop();
  });

  void test("parse errors follow the IDL (strict structs inside non-strict commands)", async () => {
    const c = await Cluster.start({ seed: 18 });
    const conn = c.connect(c.shard(0));
    const { id } = newLsid();
    const run = (cmd: Doc): Promise<Document> => conn.runCommand("admin", cmd);
    assertError(
      await run({ killSessions: 1 }),
      14,
      "TypeMismatch",
      "BSON field 'KillSessionsCmd.killSessions' is the wrong type 'int', expected type 'array'",
    );
    assertError(
      await run({ killSessions: null }),
      40414,
      "Location40414",
      "BSON field 'KillSessionsCmd.killSessions' is missing but a required field",
    );
    assertError(
      await run({ killSessions: [{}] }),
      40414,
      "Location40414",
      "BSON field 'KillSessionsCmd.killSessions.id' is missing but a required field",
    );
    assertError(
      await run({ killSessions: [{ id, foo: 1 }] }),
      40415,
      "Location40415",
      "BSON field 'KillSessionsCmd.killSessions.foo' is an unknown field.",
    );
    assertError(
      await run({ killSessions: [1] }),
      14,
      "TypeMismatch",
      "BSON field 'KillSessionsCmd.killSessions.0' is the wrong type 'int', expected type 'object'",
    );
    assertError(
      await run({ killAllSessions: [{ user: "a" }] }),
      40414,
      "Location40414",
      "BSON field 'KillAllSessionsCmd.killAllSessions.db' is missing but a required field",
    );
    assertError(
      await run({ killAllSessions: [{ user: "a", db: 1 }] }),
      14,
      "TypeMismatch",
      "BSON field 'KillAllSessionsCmd.killAllSessions.db' is the wrong type 'int', expected type 'string'",
    );
    assertError(
      await run({ killAllSessions: [{ user: "a", db: "b", c: 1 }] }),
      40415,
      "Location40415",
      "BSON field 'KillAllSessionsCmd.killAllSessions.c' is an unknown field.",
    );
    const P = "KillAllSessionsByPatternCmd.killAllSessionsByPattern";
    assertError(
      await run({ killAllSessionsByPattern: {} }),
      14,
      "TypeMismatch",
      `BSON field '${P}' is the wrong type 'object', expected type 'array'`,
    );
    assertError(
      await run({ killAllSessionsByPattern: [{ foo: 1 }] }),
      40415,
      "Location40415",
      `BSON field '${P}.foo' is an unknown field.`,
    );
    // The manual's {lsid: {id}} is refused by the code: LogicalSessionId requires uid.
    assertError(
      await run({ killAllSessionsByPattern: [{ lsid: { id } }] }),
      40414,
      "Location40414",
      `BSON field '${P}.lsid.uid' is missing but a required field`,
    );
    assertError(
      await run({
        killAllSessionsByPattern: [
          { lsid: { id, uid: sha256(""), txnNumber: Long.fromNumber(1), txnUUID: newLsid().id } },
        ],
      }),
      72,
      "InvalidOptions",
      "Cannot kill a child session",
    );
    assertError(
      await run({ killAllSessionsByPattern: [{ uid: new Binary(new Uint8Array(5), 0) }] }),
      12,
      "UnsupportedFormat",
      "Unsupported SHA256Block hash length: 5",
    );
    assertError(
      await run({ killAllSessionsByPattern: [{ users: {} }] }),
      14,
      "TypeMismatch",
      `BSON field '${P}.users' is the wrong type 'object', expected type 'array'`,
    );
    assertError(
      await run({ killAllSessionsByPattern: [{ roles: [{ role: "r" }] }] }),
      40414,
      "Location40414",
      `BSON field '${P}.roles.db' is missing but a required field`,
    );
    assertError(
      await run({ killSessions: [{ id, txnUUID: newLsid().id, txnNumber: Long.fromNumber(1) }] }),
      72,
      "InvalidOptions",
      "Cannot kill a child session",
    );
    // The commands themselves are not strict: unknown top-level fields are ignored.
    assertOk(await run({ killSessions: [], comment: "x", somethingElse: 1 }));
    await c.stop();
  });
});

// ---- access control -----------------------------------------------------------------------------

/** The users and roles of `KillSessionsTestHelper.initializeAuth`, plus a hostManager. */
const AUTH = {
  auth: true,
  roles: [
    { role: "killAnySession", db: "admin", privileges: [{ resource: { cluster: true }, actions: ["killAnySession"] }] },
    { role: "forSimpleTest", db: "admin", privileges: [{ resource: { cluster: true }, actions: ["inprog"] }] },
    { role: "forImpersonate", db: "admin", privileges: [{ resource: { cluster: true }, actions: ["impersonate"] }] },
  ],
  users: [
    { user: "simple", db: "admin", roles: ["forSimpleTest"] },
    { user: "simple2", db: "admin", roles: ["forSimpleTest"] },
    { user: "killAny", db: "admin", roles: ["killAnySession"] },
    { user: "impersonate", db: "admin", roles: ["forImpersonate", "killAnySession"] },
    { user: "ops", db: "admin", roles: ["hostManager"] },
    { user: "alice", db: "test", roles: ["readWrite"] },
    { user: "bob", db: "test", roles: ["read"] },
  ],
} as const;

const as = (user: string, db = "admin") => ({ user, db });

void describe("kill commands with access control (jstests/libs/kill_sessions.js runAuth)", () => {
  void test("killAny kills with the universal pattern; impersonate may send users/roles; killAny may not", async () => {
    const c = await Cluster.start({ seed: 21, ...AUTH });
    const simple = c.connect(c.shard(0), as("simple"));
    const h = await startHangingOp(c, simple, newLsid());
    assertOk(await c.connect(c.shard(0), as("killAny")).runCommand("admin", { killAllSessionsByPattern: [{}] }));
    await assertInterrupted(c, h);

    const h2 = await startHangingOp(c, simple, newLsid());
    assertError(
      await c
        .connect(c.shard(0), as("killAny"))
        .runCommand("admin", { killAllSessionsByPattern: [{ users: [], roles: [] }] }),
      13,
      "Unauthorized",
      "Not authorized to impersonate in killAllSessionsByPattern",
    );
    await assertStillRunning(c, h2);
    assertOk(
      await c
        .connect(c.shard(0), as("impersonate"))
        .runCommand("admin", { killAllSessionsByPattern: [{ users: [], roles: [] }] }),
    );
    await assertInterrupted(c, h2);
    await c.stop();
  });

  void test("killAllSessions and killAllSessionsByPattern need killAnySession; hostManager has it", async () => {
    const c = await Cluster.start({ seed: 22, ...AUTH });
    const simple = c.connect(c.shard(0), as("simple"));
    assertError(
      await simple.runCommand("admin", { killAllSessions: [] }),
      13,
      "Unauthorized",
      /^not authorized on admin to execute command/,
    );
    assertError(await simple.runCommand("admin", { killAllSessionsByPattern: [] }), 13, "Unauthorized");
    const h = await startHangingOp(c, simple, newLsid());
    assertOk(await c.connect(c.shard(0), as("ops")).runCommand("admin", { killAllSessions: [] }));
    await assertInterrupted(c, h);
    await c.stop();
  });

  void test("killSessions: [] kills only the caller's own sessions; [{id}] names the caller's session", async () => {
    const c = await Cluster.start({ seed: 23, ...AUTH });
    const simple = c.connect(c.shard(0), as("simple"));
    const simple2 = c.connect(c.shard(0), as("simple2"));
    const mine = await startHangingOp(c, simple, newLsid());
    const lsid = newLsid();
    const theirs = await startHangingOp(c, simple2, lsid);
    assertOk(await c.connect(c.shard(0), as("simple")).runCommand("admin", { killSessions: [] }));
    await assertInterrupted(c, mine);
    await assertStillRunning(c, theirs);
    // The same {id} from simple addresses (id, SHA-256("simple@admin")): not simple2's session.
    assertOk(await c.connect(c.shard(0), as("simple")).runCommand("admin", { killSessions: [lsid] }));
    await assertStillRunning(c, theirs);
    assertOk(await c.connect(c.shard(0), as("simple2")).runCommand("admin", { killSessions: [lsid] }));
    await assertInterrupted(c, theirs);
    await c.stop();
  });

  void test("killSessions naming another user's uid needs killAnySession (or impersonate)", async () => {
    const c = await Cluster.start({ seed: 24, ...AUTH });
    const lsid = newLsid();
    const h = await startHangingOp(c, c.connect(c.shard(0), as("simple")), lsid);
    const spoofed = { id: lsid.id, uid: sha256("simple@admin") };
    assertError(
      await c.connect(c.shard(0), as("simple2")).runCommand("admin", { killSessions: [spoofed] }),
      13,
      "Unauthorized",
      "Unauthorized to set user digest in LogicalSessionId",
    );
    await assertStillRunning(c, h);
    // Naming one's own uid is allowed ("spoofing our own id").
    const own = newLsid();
    const h2 = await startHangingOp(c, c.connect(c.shard(0), as("simple")), own);
    assertOk(
      await c
        .connect(c.shard(0), as("simple"))
        .runCommand("admin", { killSessions: [{ id: own.id, uid: sha256("simple@admin") }] }),
    );
    await assertInterrupted(c, h2);
    assertOk(await c.connect(c.shard(0), as("killAny")).runCommand("admin", { killSessions: [spoofed] }));
    await assertInterrupted(c, h);
    await c.stop();
  });

  void test("killAllSessions by user and killAllSessionsByPattern by uid are selective", async () => {
    const c = await Cluster.start({ seed: 25, ...AUTH });
    const simple = c.connect(c.shard(0), as("simple"));
    const simple2 = c.connect(c.shard(0), as("simple2"));
    const killAny = c.connect(c.shard(0), as("killAny"));
    const h1 = await startHangingOp(c, simple, newLsid());
    const h2 = await startHangingOp(c, simple, newLsid());
    const h3 = await startHangingOp(c, simple2, newLsid());
    assertOk(await killAny.runCommand("admin", { killAllSessions: [{ user: "simple", db: "admin" }] }));
    await assertInterrupted(c, h1);
    await assertInterrupted(c, h2);
    await assertStillRunning(c, h3);
    assertOk(await killAny.runCommand("admin", { killAllSessionsByPattern: [{ uid: sha256("simple2@admin") }] }));
    await assertInterrupted(c, h3);

    // Cursors too: simple's cursor is closed, simple2's survives.
    await seed(c.connect(c.shard(0), as("alice", "test")));
    const ownerOk = c.connect(c.shard(0), as("alice", "test"));
    const other = c.connect(c.shard(0), as("bob", "test"));
    const la = newLsid();
    const lb = newLsid();
    const ca = await startCursor(ownerOk, la);
    const cb = await startCursor(other, lb);
    assertOk(await killAny.runCommand("admin", { killAllSessions: [{ user: "alice", db: "test" }] }));
    assertError(await getMore(ownerOk, ca, la), 43, "CursorNotFound");
    assertOk(await getMore(other, cb, lb), "bob's cursor survives");
    await c.stop();
  });

  void test("more than one user with roles is refused when the pattern selects something (BadValue)", async () => {
    const c = await Cluster.start({ seed: 26, ...AUTH });
    const impersonate = c.connect(c.shard(0), as("impersonate"));
    const pattern = { users: [as("simple"), as("simple2")], roles: [] };
    // Nothing to kill: the impersonation data is never applied.
    assertOk(await impersonate.runCommand("admin", { killAllSessionsByPattern: [pattern] }));
    const h = await startHangingOp(c, c.connect(c.shard(0), as("simple")), newLsid());
    assertError(
      await impersonate.runCommand("admin", { killAllSessionsByPattern: [pattern] }),
      2,
      "BadValue",
      "Too many users in impersonation data",
    );
    await assertStillRunning(c, h);
    await c.stop();
  });
});

// ---- through mongos ---------------------------------------------------------------------------

void describe("kill commands through mongos (jstests/sharding/kill_sessions.js, kill_sessions_remote.cpp)", () => {
  void test("killAllSessions reaches every member of every shard; shard operations and mongos's own are interrupted", async () => {
    const c = await Cluster.start({ seed: 31, shards: 3 });
    const onShard1 = await startHangingOp(c, c.connect(c.shard(1)), newLsid());
    const onShard2 = await startHangingOp(c, c.connect(c.shard(2)), newLsid());
    const onMongos = await startHangingOp(c, c.connect(c.mongos()), newLsid());
    const since = c.trace().length;
    assertOk(await c.connect(c.mongos()).runCommand("admin", { killAllSessions: [] }));
    await assertInterrupted(c, onShard1);
    await assertInterrupted(c, onShard2);
    await assertInterrupted(c, onMongos);
    const delivered = eventsOf(c, "net.deliver", since)
      .filter((e) => e.label === "killAllSessionsByPattern" && e.from === c.mongos())
      .map((e) => e.node)
      .sort();
    assert.deepEqual(delivered, [c.shard(0), c.shard(1), c.shard(2)]);
    assert.deepEqual(
      eventsOf(c, "kill.local", since)
        .map((e) => e.node)
        .sort(),
      [c.shard(0), c.shard(1), c.shard(2)],
    );
    const [remote] = eventsOf(c, "kill.remote", since);
    assert.equal(remote.node, c.mongos());
    assert.equal(remote.interruptedOps, 1);
    assert.deepEqual([...remote.hosts].sort(), ["shard0:27017", "shard1:27017", "shard2:27017"]);
    assert.deepEqual(remote.failedHosts, []);
    assert.equal(
      eventsOf(c, "kill.local", since).some((e) => e.node === c.config()),
      false,
      "the config server is not a shard",
    );
    await c.stop();
  });

  void test("killSessions by lsid through mongos kills that session on the shards only", async () => {
    const c = await Cluster.start({ seed: 32 });
    const l1 = newLsid();
    const l2 = newLsid();
    const h1 = await startHangingOp(c, c.connect(c.shard(0)), l1);
    const h2 = await startHangingOp(c, c.connect(c.shard(1)), l2);
    assertOk(await c.connect(c.mongos()).runCommand("admin", { killSessions: [l1] }));
    await assertInterrupted(c, h1);
    await assertStillRunning(c, h2);
    await c.stop();
  });

  void test("mongos closes its own cursors of the session", async () => {
    const c = await Cluster.start({ seed: 33 });
    const router = c.connect(c.mongos());
    await seed(router);
    const lsid = newLsid();
    const other = newLsid();
    const id = await startCursor(router, lsid);
    const keep = await startCursor(router, other);
    assertOk(await c.connect(c.mongos()).runCommand("admin", { killSessions: [lsid] }));
    assertError(await getMore(router, id, lsid), 43, "CursorNotFound");
    assertOk(await getMore(router, keep, other), "the other session's cursor survives");
    const [remote] = eventsOf(c, "kill.remote");
    assert.equal(remote.closedCursors, 1);
    await c.stop();
  });

  void test("the patterns sent to the shards carry the caller's impersonation data", async () => {
    const c = await Cluster.start({ seed: 34, ...AUTH });
    const since = c.trace().length;
    assertOk(await c.connect(c.mongos(), as("ops")).runCommand("admin", { killAllSessions: [as("simple")] }));
    const sent = eventsOf(c, "net.send", since).filter((e) => e.label === "killAllSessionsByPattern");
    assert.equal(sent.length, 2);
    const body = sent[0].payload as { command: { killAllSessionsByPattern: Doc[] }; internal: boolean };
    assert.equal(body.internal, true);
    const [pattern] = body.command.killAllSessionsByPattern;
    assert.deepEqual(pattern.users, [{ user: "ops", db: "admin" }]);
    assert.deepEqual(pattern.roles, [{ role: "hostManager", db: "admin" }]);
    assert.equal(
      Buffer.from((pattern.uid as Binary).buffer).toString("hex"),
      Buffer.from(sha256("simple@admin").buffer).toString("hex"),
    );
    await c.stop();
  });

  void test("a crashed shard makes the kill fail HostUnreachable with failedHosts; the others are still killed", async () => {
    const c = await Cluster.start({ seed: 35 });
    const h = await startHangingOp(c, c.connect(c.shard(0)), newLsid());
    c.crash(c.shard(1));
    const reply = await c.connect(c.mongos()).runCommand("admin", { killAllSessions: [] });
    assertError(reply, 6, "HostUnreachable", "Failed to kill sessions on some hosts");
    assert.deepEqual(reply.failedHosts, ["shard1:27017"]);
    await assertInterrupted(c, h);
    await c.stop();
  });

  void test("a partitioned shard fails after KillSessionsPerHostTimeoutMS", async () => {
    const c = await Cluster.start({ seed: 36, parameters: { KillSessionsPerHostTimeoutMS: 5_000 } });
    c.partition([c.mongos()], [c.shard(0)]);
    const start = c.now().getTime();
    const reply = await c.connect(c.mongos()).runCommand("admin", { killSessions: [] });
    assertError(reply, 6, "HostUnreachable", "Failed to kill sessions on some hosts");
    assert.deepEqual(reply.failedHosts, ["shard0:27017"]);
    const elapsed = c.now().getTime() - start;
    assert.ok(elapsed >= 5_000 && elapsed < 6_000, `waited ${elapsed} ms`);
    c.heal();
    assertOk(await c.connect(c.mongos()).runCommand("admin", { killSessions: [] }));
    await c.stop();
  });

  void test("KillSessionsMaxConcurrency bounds the hosts contacted at once", async () => {
    const c = await Cluster.start({ seed: 37, shards: 3, parameters: { KillSessionsMaxConcurrency: 1 } });
    const since = c.trace().length;
    assertOk(await c.connect(c.mongos()).runCommand("admin", { killAllSessions: [] }));
    const trace = c.trace().slice(since);
    let inFlight = 0;
    let most = 0;
    for (const e of trace) {
      if (e.type === "net.send" && e.label === "killAllSessionsByPattern") most = Math.max(most, ++inFlight);
      if (e.type === "net.deliver" && e.label === "killAllSessionsByPattern:reply") inFlight--;
    }
    assert.equal(most, 1);
    assert.equal(eventsOf(c, "kill.local", since).length, 3);
    await c.stop();
  });
});

// ---- transactions ------------------------------------------------------------------------------

const txnFields = (lsid: Doc, txnNumber: number, first = false): Doc => ({
  lsid,
  txnNumber: Long.fromNumber(txnNumber),
  autocommit: false,
  ...(first ? { startTransaction: true } : {}),
});

/** Starts a transaction on `conn` (a shard) that inserts `doc`, and prepares it if asked. */
async function startTxn(conn: Connection, lsid: Doc, doc: Doc, prepare: boolean): Promise<unknown> {
  assertOk(
    await conn.runCommand("test", { insert: "x", documents: [doc], ...txnFields(lsid, 1, true) }),
    "insert in txn",
  );
  if (!prepare) return undefined;
  const reply = await conn.runCommand("admin", { prepareTransaction: 1, ...txnFields(lsid, 1) });
  assertOk(reply, "prepareTransaction");
  return reply.prepareTimestamp;
}

async function findIds(conn: Connection): Promise<unknown[]> {
  const reply = await conn.runCommand("test", { find: "x", filter: {}, sort: { _id: 1 } });
  assertOk(reply, "find");
  return (reply.cursor as { firstBatch: Doc[] }).firstBatch.map((d) => d._id);
}

void describe("kills and transactions (jstests/replsets/kill_sessions_with_prepared_transaction.js)", () => {
  void test("killSessions aborts an unprepared transaction (jstests/core/txns/kill_sessions_kills_transaction.js)", async () => {
    const c = await Cluster.start({ seed: 41 });
    const conn = c.connect(c.shard(0));
    const lsid = newLsid();
    await startTxn(conn, lsid, { _id: 5 }, false);
    assertOk(await conn.runCommand("admin", { killSessions: [lsid] }));
    assertError(
      await conn.runCommand("admin", { commitTransaction: 1, ...txnFields(lsid, 1) }),
      251,
      "NoSuchTransaction",
    );
    // The killed session is usable: a new txnNumber starts and commits.
    assertOk(await conn.runCommand("test", { insert: "x", documents: [{ _id: 6 }], ...txnFields(lsid, 2, true) }));
    assertOk(await conn.runCommand("admin", { commitTransaction: 1, ...txnFields(lsid, 2) }));
    assert.deepEqual(await findIds(conn), [6]);
    const [local] = eventsOf(c, "kill.local");
    assert.equal(local.abortedTransactions, 1);
    await c.stop();
  });

  void test("killSessions leaves a prepared transaction intact; it commits afterwards", async () => {
    const c = await Cluster.start({ seed: 42 });
    const conn = c.connect(c.shard(0));
    const lsid = newLsid();
    const ts = await startTxn(conn, lsid, { _id: 0 }, true);
    // An operation carrying the session (not part of the transaction) is still interrupted.
    const sleeping = await startHangingOp(c, c.connect(c.shard(0)), lsid);
    assertOk(await conn.runCommand("admin", { killSessions: [lsid] }));
    await assertInterrupted(c, sleeping);
    const [local] = eventsOf(c, "kill.local");
    assert.equal(local.skippedPrepared, 1);
    assert.equal(local.abortedTransactions, 0);
    assert.equal(local.interruptedOps, 1);
    assertOk(
      await conn.runCommand("admin", { commitTransaction: 1, commitTimestamp: ts, ...txnFields(lsid, 1) }),
      "commit",
    );
    assert.deepEqual(await findIds(conn), [0]);
    await c.stop();
  });

  for (const via of ["shard", "mongos"] as const) {
    void test(`killAllSessions (${via}) aborts the unprepared transaction and leaves two prepared ones`, async () => {
      const c = await Cluster.start({ seed: via === "shard" ? 43 : 44 });
      const conn = c.connect(c.shard(0));
      const [s1, s2, s3] = [newLsid(), newLsid(), newLsid()];
      const ts1 = await startTxn(conn, s1, { _id: 1 }, true);
      const ts2 = await startTxn(conn, s2, { _id: 2 }, true);
      await startTxn(conn, s3, { _id: 3 }, false);
      const since = c.trace().length;
      const killer = c.connect(via === "shard" ? c.shard(0) : c.mongos());
      assertOk(await killer.runCommand("admin", { killAllSessions: [] }));
      const local = eventsOf(c, "kill.local", since).find((e) => e.node === c.shard(0));
      assert.ok(local !== undefined);
      assert.equal(local.abortedTransactions, 1);
      assert.equal(local.skippedPrepared, 2);
      assertError(
        await conn.runCommand("admin", { commitTransaction: 1, ...txnFields(s3, 1) }),
        251,
        "NoSuchTransaction",
      );
      assertOk(await conn.runCommand("admin", { commitTransaction: 1, commitTimestamp: ts1, ...txnFields(s1, 1) }));
      assertOk(await conn.runCommand("admin", { commitTransaction: 1, commitTimestamp: ts2, ...txnFields(s2, 1) }));
      assert.deepEqual(await findIds(conn), [1, 2]);
      await c.stop();
    });
  }

  void test("a cross-shard transaction prepared by its coordinator survives killAllSessions through mongos and commits", async () => {
    const c = await Cluster.start({ seed: 46 });
    const router = c.connect(c.mongos());
    assertOk(await router.runCommand("admin", { shardCollection: "test.accounts", key: { _id: 1 } }));
    assertOk(await router.runCommand("admin", { split: "test.accounts", middle: { _id: 100 } }));
    assertOk(await router.runCommand("admin", { moveChunk: "test.accounts", find: { _id: 100 }, to: c.shardName(1) }));
    assertOk(
      await router.runCommand("test", {
        insert: "accounts",
        documents: [
          { _id: 1, v: 0 },
          { _id: 101, v: 0 },
        ],
      }),
    );
    const a = newLsid();
    const b = newLsid();
    const set = (id: number): Doc => ({ q: { _id: id }, u: { $set: { v: 1 } } });
    assertOk(await router.runCommand("test", { update: "accounts", updates: [set(1)], ...txnFields(a, 1, true) }));
    assertOk(await router.runCommand("test", { update: "accounts", updates: [set(101)], ...txnFields(a, 1) }));
    assertOk(
      await router.runCommand("test", { insert: "accounts", documents: [{ _id: 2 }], ...txnFields(b, 1, true) }),
    );
    // The coordinator (the first shard the transaction targeted) stops after sendingPrepare.
    const coordinator = c.connect(c.shard(0));
    assertOk(
      await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "alwaysOn" }),
    );
    const commit = router.send("admin", { commitTransaction: 1, ...txnFields(a, 1) });
    await c.advance(1_000);
    assert.equal(commit.done, false, "the commit waits for the coordinator");
    const since = c.trace().length;
    assertOk(await c.connect(c.mongos()).runCommand("admin", { killAllSessions: [] }));
    const locals = eventsOf(c, "kill.local", since);
    assert.deepEqual(locals.map((e) => e.skippedPrepared).sort(), [1, 1], "A is prepared on both shards");
    assert.equal(
      locals.reduce((n, e) => n + e.abortedTransactions, 0),
      1,
      "B is aborted",
    );
    const bNext = await router.runCommand("test", { find: "accounts", filter: {}, ...txnFields(b, 1) });
    assertError(bNext, 251, "NoSuchTransaction");
    // The client's commitTransaction carries A's lsid: mongos interrupts it (and the shard its
    // coordinateCommitTransaction); the coordinator itself carries on.
    assertError(await c.wait(commit, { maxMs: 1_000 }), 11601, "Interrupted");
    assertOk(await coordinator.runCommand("admin", { configureFailPoint: "hangBeforeWritingDecision", mode: "off" }));
    await c.advance(1_000);
    assertOk(await router.runCommand("admin", { commitTransaction: 1, ...txnFields(a, 1) }), "A's commit, retried");
    const rows = await router.runCommand("test", { find: "accounts", filter: {}, sort: { _id: 1 } });
    assert.deepEqual((rows.cursor as { firstBatch: Doc[] }).firstBatch, [
      { _id: 1, v: 1 },
      { _id: 101, v: 1 },
    ]);
    await c.stop();
  });

  void test("a prepared transaction survives a kill and can still be aborted by its coordinator", async () => {
    const c = await Cluster.start({ seed: 45 });
    const conn = c.connect(c.shard(0));
    const lsid = newLsid();
    await startTxn(conn, lsid, { _id: 9 }, true);
    assertOk(await c.connect(c.mongos()).runCommand("admin", { killAllSessionsByPattern: [] }));
    assertOk(await conn.runCommand("admin", { abortTransaction: 1, ...txnFields(lsid, 1) }), "abort");
    assert.deepEqual(await findIds(conn), []);
    await c.stop();
  });
});

// ---- the manual's reading of users/roles --------------------------------------------------------

void describe("killSessionsPatternSemantics: 'manual' (the manual page killAllSessionsByPattern)", () => {
  async function run(semantics: "code" | "manual", pattern: Doc): Promise<{ alice: boolean; bob: boolean }> {
    const c = await Cluster.start({ seed: 51, ...AUTH, killSessionsPatternSemantics: semantics });
    const alice = await startHangingOp(c, c.connect(c.shard(0), as("alice", "test")), newLsid());
    const bob = await startHangingOp(c, c.connect(c.shard(0), as("bob", "test")), newLsid());
    assertOk(
      await c.connect(c.mongos(), as("impersonate")).runCommand("admin", { killAllSessionsByPattern: [pattern] }),
    );
    await c.advance(200);
    const killed = (h: InFlight): boolean => h.done && h.reply?.code === 11601;
    const out = { alice: killed(alice), bob: killed(bob) };
    await c.stop();
    return out;
  }

  void test("{users} kills every session in the code's reading, only the owners' in the manual's", async () => {
    const pattern = { users: [as("alice", "test")] };
    assert.deepEqual(await run("code", pattern), { alice: true, bob: true });
    assert.deepEqual(await run("manual", pattern), { alice: true, bob: false });
  });

  void test("{roles} kills every session in the code's reading, only owners holding the role in the manual's", async () => {
    const pattern = { roles: [{ role: "read", db: "test" }] };
    assert.deepEqual(await run("code", pattern), { alice: true, bob: true });
    assert.deepEqual(await run("manual", pattern), { alice: false, bob: true });
  });

  void test("an unknown setting is refused at start", async () => {
    await assert.rejects(
      Cluster.start({ killSessionsPatternSemantics: "docs" as unknown as "code" }),
      /killSessionsPatternSemantics must be "code" or "manual"/,
    );
  });
});
