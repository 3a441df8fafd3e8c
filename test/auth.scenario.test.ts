/**
 * Access control and user management, transcribed from MongoDB's documentation and jstests:
 * - manual "Server Sessions" > "Sessions and Access Control": "If the deployment transitions to
 *   authentication without any downtime, any sessions without an owner cannot be used" (DOCS-10552);
 * - jstests/auth/user_management_commands_lib.js (createUser, createRole, grantRolesToUser,
 *   usersInfo, dropUser);
 * - jstests/auth/kill_sessions.js (a custom role with killAnySession may kill others' sessions).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Binary, Cluster, type Document } from "sessionsim";

const NO_AUTH_UID = new Binary(
  Buffer.from("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hex"),
  0,
);
const local = (reply: Document) => (reply.cursor as { firstBatch: Document[] }).firstBatch;

void describe("user management and turning auth on", () => {
  void test("users and roles created with commands; a custom role grants killAnySession", async () => {
    const c = await Cluster.start({ seed: 11 });
    const root = c.connect(c.mongos());
    assert.equal((await root.runCommand("test", { createUser: "alice", pwd: "x", roles: ["readWrite"] })).ok, 1);
    const dup = await root.runCommand("test", { createUser: "alice", pwd: "x", roles: [] });
    assert.deepEqual([dup.ok, dup.code], [0, 51003]);
    const badRole = await root.runCommand("test", { createUser: "carol", pwd: "x", roles: ["noSuchRole"] });
    assert.deepEqual([badRole.ok, badRole.codeName], [0, "RoleNotFound"]);
    assert.equal(
      (
        await root.runCommand("admin", {
          createRole: "killer",
          privileges: [{ resource: { cluster: true }, actions: ["killAnySession"] }],
          roles: [],
        })
      ).ok,
      1,
    );
    await root.runCommand("test", { createUser: "bob", pwd: "x", roles: [] });
    assert.equal(
      (await root.runCommand("test", { grantRolesToUser: "bob", roles: [{ role: "killer", db: "admin" }] })).ok,
      1,
    );
    const info = await root.runCommand("test", { usersInfo: "bob" });
    assert.deepEqual((info.users as Document[])[0].roles, [{ role: "killer", db: "admin" }]);

    c.enableAuth();
    const alice = c.connect(c.mongos(), { user: "alice", db: "test" });
    const bob = c.connect(c.mongos(), { user: "bob", db: "test" });
    await alice.runCommand("admin", { startSession: 1 });
    const refused = await alice.runCommand("admin", { killAllSessions: [] });
    assert.equal(refused.codeName, "Unauthorized");
    assert.equal((await bob.runCommand("admin", { killAllSessions: [{ user: "alice", db: "test" }] })).ok, 1);
    assert.equal((await root.runCommand("admin", { ping: 1 })).ok, 1, "ping needs no authentication");
    const anon = await root.runCommand("admin", { startSession: 1 });
    assert.equal(anon.codeName, "Unauthorized");
    await c.stop();
  });

  void test("sessions started before auth was enabled cannot be used after (DOCS-10552)", async () => {
    const c = await Cluster.start({
      seed: 12,
      users: [
        {
          user: "alice",
          db: "test",
          roles: [
            { role: "readWrite", db: "test" },
            { role: "clusterMonitor", db: "admin" },
          ],
        },
      ],
    });
    const before = await c.connect(c.mongos()).runCommand("admin", { startSession: 1 });
    const id = (before.id as Document).id;
    c.enableAuth();
    const alice = c.connect(c.mongos(), { user: "alice", db: "test" });
    const spoof = await alice.runCommand("admin", { refreshSessions: [{ id, uid: NO_AUTH_UID }] });
    assert.deepEqual(
      [spoof.ok, spoof.codeName, spoof.errmsg],
      [0, "Unauthorized", "Unauthorized to set user digest in LogicalSessionId"],
    );
    // Naming only the id addresses alice's own session with that id: a different session.
    assert.equal((await alice.runCommand("admin", { refreshSessions: [{ id }] })).ok, 1);
    const all = local(
      await alice.runCommand("admin", {
        aggregate: 1,
        pipeline: [{ $listLocalSessions: { allUsers: true } }],
        cursor: {},
      }),
    );
    const same = all.filter(
      (d) => ((d._id as Document).id as Binary).toString("hex") === (id as Binary).toString("hex"),
    );
    assert.equal(same.length, 2, "the unowned session and alice's session share the id but not the uid");
    assert.deepEqual(same.map((d) => d.user ?? null).sort(), ["alice@test", null].sort());
    await c.stop();
  });
});
