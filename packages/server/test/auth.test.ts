// Unit tests for the access-control model (packages/server/src/auth). Expected values come from
// MongoDB's source: logical_session_id_helpers.cpp (digests), builtin_roles.yml (roles),
// resource_pattern_search_list.h (matching), authorization_checks.cpp and the commands' checks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Binary } from "bson";
import {
  AuthorizationSession,
  UserDirectory,
  anyNormalResource,
  anyResource,
  assertUserNameUsableForLogicalSessions,
  builtinRoleNamesForDb,
  builtinRolePrivileges,
  canKillCursor,
  canKillOp,
  checkCanSetUserDigest,
  checkCommandAuth,
  checkKillAllSessionsByPatternImpersonation,
  clusterResource,
  databaseResource,
  digestEquals,
  digestKey,
  formatCommandForError,
  getLogicalSessionUserDigestFor,
  isAdminOnlyCommand,
  isBuiltinRole,
  kInternalUser,
  kNoAuthDigest,
  listSessionsRequiredPrivileges,
  namespaceResource,
  privilege,
  requiredPrivileges,
  resourceSearchList,
  userDigest,
} from "../src/auth/index.js";
import type { ActionType, Privilege, ResourcePattern, UserName } from "../src/auth/index.js";
import { ServerError } from "../src/errors/index.js";

const SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SHA256_ALICE_AT_TEST = "5321f561f469125397124f35354d82300b661910a22aedf68924e60cfbbf033d";

/** Asserts `fn` throws a ServerError with this code (and message, if given). */
function throwsServerError(fn: () => unknown, code: number, errmsg?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ServerError, `expected ServerError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof errmsg === "string") assert.equal(e.errmsg, errmsg);
    else if (errmsg !== undefined) assert.match(e.errmsg, errmsg);
    return true;
  });
}

/** A directory with one user per role of interest, and a session factory. */
function fixture(): { dir: UserDirectory; as: (user: string, db?: string) => AuthorizationSession } {
  const dir = new UserDirectory();
  dir.createUser({ user: "alice", db: "test", roles: ["readWrite"] });
  dir.createUser({ user: "monitor", db: "admin", roles: ["clusterMonitor"] });
  dir.createUser({ user: "hostmgr", db: "admin", roles: ["hostManager"] });
  dir.createUser({ user: "clusteradmin", db: "admin", roles: ["clusterAdmin"] });
  dir.createUser({ user: "clustermgr", db: "admin", roles: ["clusterManager"] });
  dir.createUser({ user: "root", db: "admin", roles: ["root"] });
  dir.createUser({ user: "rwany", db: "admin", roles: ["readWriteAnyDatabase"] });
  dir.createUser({ user: "reader", db: "test", roles: ["read"] });
  dir.createUser({ user: "useradmin", db: "test", roles: ["userAdmin"] });
  dir.createUser({ user: "nobody", db: "test", roles: [] });
  const testUsers = new Set(["alice", "reader", "useradmin", "nobody"]);
  return {
    dir,
    as: (user, db = testUsers.has(user) ? "test" : "admin") => new AuthorizationSession(dir, true, { user, db }),
  };
}

const ns = (db: string, coll: string): ResourcePattern => namespaceResource(db, coll);

void describe("user digest (logical_session_id_helpers.cpp)", () => {
  void it("kNoAuthDigest is SHA-256 of the empty string, BinData subtype 0, 32 bytes", () => {
    assert.ok(kNoAuthDigest instanceof Binary);
    assert.equal(kNoAuthDigest.sub_type, 0);
    assert.equal(kNoAuthDigest.position, 32);
    assert.equal(digestKey(kNoAuthDigest), SHA256_EMPTY);
  });

  void it("userDigest hashes the display name user@db", () => {
    const d = userDigest("alice", "test");
    assert.equal(d.sub_type, Binary.SUBTYPE_DEFAULT);
    assert.equal(d.position, 32);
    assert.equal(digestKey(d), SHA256_ALICE_AT_TEST);
    assert.ok(digestEquals(d, userDigest("alice", "test")));
    assert.ok(!digestEquals(d, userDigest("alice", "admin")));
    // "alice@test" as user "alice@t" on db "est" would be "alice@t@est": different.
    assert.notEqual(digestKey(userDigest("alice@t", "est")), SHA256_ALICE_AT_TEST);
  });

  void it("getLogicalSessionUserDigestFor: empty user and db give kNoAuthDigest", () => {
    assert.equal(digestKey(getLogicalSessionUserDigestFor("", "")), SHA256_EMPTY);
    assert.equal(digestKey(getLogicalSessionUserDigestFor("alice", "test")), SHA256_ALICE_AT_TEST);
  });

  void it("rejects display names of 10000 bytes or more (counted in UTF-8 bytes)", () => {
    // "u...u@db": user of n chars + "@db" (3 bytes).
    assert.doesNotThrow(() => assertUserNameUsableForLogicalSessions("u".repeat(9996), "db")); // 9999
    throwsServerError(
      () => assertUserNameUsableForLogicalSessions("u".repeat(9997), "db"), // 10000
      2,
      "Username too long to use with logical sessions",
    );
    // 3333 three-byte characters = 9999 bytes, + "@db" = 10002 bytes, though only 3337 chars.
    throwsServerError(() => assertUserNameUsableForLogicalSessions("€".repeat(3333), "db"), 2);
  });
});

void describe("AuthorizationSession.digest (getLogicalSessionUserDigestForLoggedInUser)", () => {
  void it("auth off: kNoAuthDigest, even when authenticated", () => {
    const { dir } = fixture();
    const s = new AuthorizationSession(dir, false, { user: "alice", db: "test" });
    assert.ok(s.isAuthenticated);
    assert.equal(digestKey(s.digest()), SHA256_EMPTY);
    assert.equal(digestKey(new AuthorizationSession(dir, false).digest()), SHA256_EMPTY);
  });

  void it("auth on, nobody authenticated: Unauthorized", () => {
    const { dir } = fixture();
    throwsServerError(
      () => new AuthorizationSession(dir, true).digest(),
      13,
      "Logical sessions require authentication",
    );
  });

  void it("auth on: SHA-256 of user@db", () => {
    const { as } = fixture();
    const s = as("alice");
    assert.equal(s.userName, "alice@test");
    assert.equal(digestKey(s.digest()), SHA256_ALICE_AT_TEST);
  });

  void it("auth on, too long a user name: BadValue", () => {
    const dir = new UserDirectory();
    dir.createUser({ user: "x".repeat(10000), db: "test", roles: [] });
    const s = new AuthorizationSession(dir, true, { user: "x".repeat(10000), db: "test" });
    throwsServerError(() => s.digest(), 2, "Username too long to use with logical sessions");
  });

  void it("authenticating as an unknown user fails; a dropped user is logged out", () => {
    const { dir, as } = fixture();
    throwsServerError(() => new AuthorizationSession(dir, true, { user: "ghost", db: "test" }), 18);
    const s = as("alice");
    dir.dropUser("alice", "test");
    assert.equal(s.isAuthenticated, false);
    assert.equal(s.userName, undefined);
    assert.equal(s.isAuthorized(ns("test", "x"), "insert"), false);
  });
});

void describe("built-in roles (builtin_roles.yml)", () => {
  void it("clusterMonitor can listSessions, inprog, serverStatus, getParameter but not killAnySession", () => {
    const s = fixture().as("monitor");
    for (const a of ["listSessions", "inprog", "serverStatus", "getParameter", "useUUID"] as const) {
      assert.ok(s.isAuthorized(clusterResource, a), a);
    }
    for (const a of ["killAnySession", "killop", "setParameter", "impersonate"] as const) {
      assert.equal(s.isAuthorized(clusterResource, a), false, a);
    }
    // Inherited read@config: can read config.system.sessions? No (system collection), but config.x yes.
    assert.ok(s.isAuthorized(ns("config", "chunks"), "find"));
    assert.ok(s.isAuthorized(ns("config", "system.sessions"), "collStats"));
    assert.equal(s.isAuthorized(ns("config", "system.sessions"), "find"), false);
    assert.equal(s.isAuthorized(ns("test", "x"), "find"), false);
  });

  void it("hostManager can killAnySession, killop, setParameter, killAnyCursor but cannot impersonate", () => {
    const s = fixture().as("hostmgr");
    for (const a of ["killAnySession", "killop", "setParameter", "killAnyCursor", "applicationMessage"] as const) {
      assert.ok(s.isAuthorized(clusterResource, a), a);
    }
    assert.equal(s.isAuthorized(clusterResource, "impersonate"), false);
    assert.equal(s.isAuthorized(clusterResource, "listSessions"), false);
    assert.equal(s.isAuthorized(clusterResource, "inprog"), false);
  });

  void it("clusterManager has the sharding actions on the right resources", () => {
    const s = fixture().as("clustermgr");
    for (const a of ["addShard", "listShards", "listSessions", "removeShard"] as const) {
      assert.ok(s.isAuthorized(clusterResource, a), a);
    }
    for (const a of ["enableSharding", "splitChunk", "moveChunk"] as const) {
      assert.ok(s.isAuthorized(ns("test", "x"), a), a);
      assert.ok(s.isAuthorized(databaseResource("test"), a), a);
      assert.equal(s.isAuthorized(clusterResource, a), false, `${a} is not a cluster action`);
    }
    assert.equal(s.isAuthorized(clusterResource, "killAnySession"), false);
  });

  void it("clusterAdmin = clusterManager + clusterMonitor + hostManager + dropDatabase", () => {
    const s = fixture().as("clusteradmin");
    for (const a of ["listSessions", "inprog", "killAnySession", "killop", "addShard", "serverStatus"] as const) {
      assert.ok(s.isAuthorized(clusterResource, a), a);
    }
    assert.ok(s.isAuthorized(databaseResource("test"), "dropDatabase"));
    assert.ok(s.isAuthorized(ns("test", "x"), "moveChunk"));
    assert.equal(s.isAuthorized(clusterResource, "impersonate"), false);
    assert.equal(s.isAuthorized(ns("test", "x"), "insert"), false);
  });

  void it("root has nearly everything, but neither impersonate nor internal", () => {
    const s = fixture().as("root");
    assert.ok(s.isAuthorized(clusterResource, "killAnySession"));
    assert.ok(s.isAuthorized(clusterResource, "listSessions"));
    assert.ok(s.isAuthorized(ns("test", "x"), "insert"));
    assert.ok(s.isAuthorized(databaseResource("test"), "createUser"));
    assert.equal(s.isAuthorized(clusterResource, "impersonate"), false);
    assert.equal(s.isAuthorized(clusterResource, "internal"), false);
    const all = builtinRolePrivileges({ role: "root", db: "admin" }) ?? [];
    assert.ok(!all.some((p) => p.actions.includes("impersonate") || p.actions.includes("internal")));
  });

  void it("__system (the internal user's role) has everything, including impersonate and internal", () => {
    const s = new AuthorizationSession(new UserDirectory(), true, kInternalUser);
    assert.deepEqual(s.roles(), [{ role: "__system", db: "admin" }]);
    for (const a of ["impersonate", "internal", "killAnySession"] as const) {
      assert.ok(s.isAuthorized(clusterResource, a), a);
    }
    assert.ok(s.isAuthorized(ns("config", "system.sessions"), "remove"));
    assert.ok(s.isAuthorized(anyResource, "find"));
  });

  void it("readWrite on test: insert on test.x but not other.x; system.js yes, system.profile no", () => {
    const s = fixture().as("alice");
    assert.ok(s.isAuthorized(ns("test", "x"), "insert"));
    assert.ok(s.isAuthorizedForPrivileges([privilege(ns("test", "x"), "find", "update", "remove", "createIndex")]));
    assert.equal(s.isAuthorized(ns("other", "x"), "insert"), false);
    assert.ok(s.isAuthorized(ns("test", "system.js"), "insert"));
    assert.equal(s.isAuthorized(ns("test", "system.profile"), "find"), false);
    assert.equal(s.isAuthorized(databaseResource("test"), "dropDatabase"), false);
    assert.equal(s.isAuthorized(clusterResource, "listSessions"), false);
  });

  void it("read on test cannot write", () => {
    const s = fixture().as("reader");
    assert.ok(s.isAuthorized(ns("test", "x"), "find"));
    assert.equal(s.isAuthorized(ns("test", "x"), "insert"), false);
  });

  void it("AnyDatabase roles do not reach local and config (resource_pattern_search_list.h)", () => {
    const s = fixture().as("rwany");
    assert.ok(s.isAuthorized(ns("other", "x"), "insert"));
    assert.ok(s.isAuthorized(ns("admin", "x"), "insert"));
    assert.equal(s.isAuthorized(ns("config", "x"), "insert"), false);
    assert.equal(s.isAuthorized(ns("local", "x"), "find"), false);
    assert.equal(s.isAuthorized(ns("config", "system.sessions"), "find"), false);
  });

  void it("role names are scoped to a database; admin-only roles exist only on admin", () => {
    assert.ok(isBuiltinRole({ role: "read", db: "test" }));
    assert.ok(isBuiltinRole({ role: "read", db: "admin" }));
    assert.ok(isBuiltinRole({ role: "clusterMonitor", db: "admin" }));
    assert.equal(isBuiltinRole({ role: "clusterMonitor", db: "test" }), false);
    assert.equal(isBuiltinRole({ role: "root", db: "test" }), false);
    assert.equal(isBuiltinRole({ role: "read", db: "$external" }), false);
    const onTest = builtinRoleNamesForDb("test").map((r) => r.role);
    assert.deepEqual(onTest, ["dbAdmin", "dbOwner", "enableSharding", "read", "readWrite", "userAdmin"]);
    assert.ok(builtinRoleNamesForDb("admin").some((r) => r.role === "__system"));
  });

  void it("a built-in role's privileges are bound to its database", () => {
    const dir = new UserDirectory();
    dir.createUser({ user: "u", db: "admin", roles: [{ role: "readWrite", db: "sales" }] });
    const s = new AuthorizationSession(dir, true, { user: "u", db: "admin" });
    assert.ok(s.isAuthorized(ns("sales", "orders"), "insert"));
    assert.equal(s.isAuthorized(ns("admin", "x"), "insert"), false);
  });
});

void describe("resource matching (ResourcePatternSearchList)", () => {
  void it("search lists", () => {
    assert.deepEqual(resourceSearchList(clusterResource), [anyResource, clusterResource]);
    assert.deepEqual(resourceSearchList(ns("test", "x")), [
      anyResource,
      anyNormalResource,
      databaseResource("test"),
      { db: "", collection: "x" },
      { db: "test", collection: "x" },
    ]);
    assert.deepEqual(resourceSearchList(ns("config", "system.sessions")), [
      anyResource,
      { db: "", collection: "system.sessions" },
      { db: "config", collection: "system.sessions" },
    ]);
    assert.deepEqual(resourceSearchList(databaseResource("local")), [anyResource, databaseResource("local")]);
  });

  void it("actions may be covered by different patterns", () => {
    const dir = new UserDirectory();
    dir.createRole({
      role: "split",
      db: "admin",
      privileges: [
        { resource: { db: "test", collection: "" }, actions: ["find"] },
        { resource: { db: "", collection: "x" }, actions: ["insert"] },
      ],
      roles: [],
    });
    dir.createUser({ user: "u", db: "admin", roles: ["split"] });
    const s = new AuthorizationSession(dir, true, { user: "u", db: "admin" });
    assert.ok(s.isAuthorizedForActions(ns("test", "x"), ["find", "insert"]));
    assert.equal(s.isAuthorizedForActions(ns("test", "y"), ["find", "insert"]), false);
    assert.ok(s.isAuthorized(ns("other", "x"), "insert"));
  });
});

void describe("UserDirectory", () => {
  void it("duplicate user: 51003; unknown role: RoleNotFound; no users in local", () => {
    const { dir } = fixture();
    throwsServerError(
      () => dir.createUser({ user: "alice", db: "test", roles: [] }),
      51003,
      'User "alice@test" already exists',
    );
    throwsServerError(
      () => dir.createUser({ user: "bob", db: "test", roles: ["clusterMonitor"] }),
      31,
      "Could not find role: clusterMonitor@test",
    );
    throwsServerError(() => dir.createUser({ user: "bob", db: "local", roles: [] }), 2);
    assert.equal(dir.hasUser("bob", "test"), false);
  });

  void it("roles as strings resolve to the user's database; {role, db} elsewhere", () => {
    const dir = new UserDirectory();
    const doc = dir.createUser({ user: "bob", db: "sales", roles: ["read", { role: "clusterMonitor", db: "admin" }] });
    assert.deepEqual(doc.roles, [
      { role: "read", db: "sales" },
      { role: "clusterMonitor", db: "admin" },
    ]);
    assert.equal(doc._id, "sales.bob");
  });

  void it("duplicate role: 51002; built-in name: BadValue; foreign privileges on a non-admin role: 49", () => {
    const dir = new UserDirectory();
    dir.createRole({ role: "r", db: "test", privileges: [], roles: [] });
    throwsServerError(
      () => dir.createRole({ role: "r", db: "test", privileges: [], roles: [] }),
      51002,
      'Role "r@test" already exists',
    );
    throwsServerError(() => dir.createRole({ role: "readWrite", db: "test", privileges: [], roles: [] }), 2);
    throwsServerError(
      () =>
        dir.createRole({
          role: "imp",
          db: "test",
          privileges: [{ resource: { cluster: true }, actions: ["impersonate"] }],
          roles: [],
        }),
      49,
      "Roles on the 'test' database cannot be granted privileges that target other databases or the cluster",
    );
    throwsServerError(
      () => dir.createRole({ role: "q", db: "test", privileges: [], roles: [{ role: "read", db: "other" }] }),
      49,
    );
    throwsServerError(
      () =>
        dir.createRole({
          role: "bad",
          db: "admin",
          privileges: [{ resource: { cluster: true }, actions: ["noSuchAction" as ActionType] }],
          roles: [],
        }),
      2,
    );
    throwsServerError(
      () => dir.createRole({ role: "r2", db: "test", privileges: [], roles: ["nope"] }),
      31,
      "Could not find role: nope@test",
    );
  });

  void it("custom role with impersonate (on admin)", () => {
    const dir = new UserDirectory();
    dir.createRole({
      role: "impersonator",
      db: "admin",
      privileges: [{ resource: { cluster: true }, actions: ["impersonate", "killAnySession"] }],
      roles: [],
    });
    dir.createUser({ user: "mongos", db: "admin", roles: ["impersonator"] });
    const s = new AuthorizationSession(dir, true, { user: "mongos", db: "admin" });
    assert.ok(s.isAuthorized(clusterResource, "impersonate"));
    assert.ok(s.isAuthorized(clusterResource, "killAnySession"));
    assert.equal(s.isAuthorized(clusterResource, "listSessions"), false);
  });

  void it("inheritance: custom roles inherit custom and built-in roles, transitively", () => {
    const dir = new UserDirectory();
    dir.createRole({
      role: "base",
      db: "test",
      privileges: [{ resource: { db: "test", collection: "audit" }, actions: ["insert"] }],
      roles: ["read"],
    });
    dir.createRole({ role: "mid", db: "test", privileges: [], roles: ["base"] });
    dir.createRole({
      role: "top",
      db: "admin",
      privileges: [{ resource: { cluster: true }, actions: ["listSessions"] }],
      roles: [{ role: "mid", db: "test" }],
    });
    dir.createUser({ user: "carol", db: "test", roles: [{ role: "top", db: "admin" }] });
    const s = new AuthorizationSession(dir, true, { user: "carol", db: "test" });
    assert.ok(s.isAuthorized(clusterResource, "listSessions"));
    assert.ok(s.isAuthorized(ns("test", "audit"), "insert"));
    assert.ok(s.isAuthorized(ns("test", "anything"), "find"));
    assert.equal(s.isAuthorized(ns("test", "anything"), "insert"), false);
    assert.deepEqual(s.roles(), [
      { role: "top", db: "admin" },
      { role: "base", db: "test" },
      { role: "mid", db: "test" },
      { role: "read", db: "test" },
    ]);
    assert.deepEqual(s.directRoles(), [{ role: "top", db: "admin" }]);

    // Dropping a role removes it from whoever inherited it; resolution follows immediately.
    dir.dropRole("base", "test");
    assert.equal(s.isAuthorized(ns("test", "audit"), "insert"), false);
    assert.equal(s.isAuthorized(ns("test", "anything"), "find"), false);
    assert.deepEqual(dir.getRole("mid", "test")?.roles, []);
    throwsServerError(() => dir.dropRole("base", "test"), 31);
    throwsServerError(() => dir.dropRole("read", "test"), 49);
  });

  void it("built-in roles are leaves: dbOwner does not list readWrite", () => {
    const dir = new UserDirectory();
    dir.createUser({ user: "o", db: "test", roles: ["dbOwner"] });
    const s = new AuthorizationSession(dir, true, { user: "o", db: "test" });
    assert.deepEqual(s.roles(), [{ role: "dbOwner", db: "test" }]);
    assert.ok(s.isAuthorized(ns("test", "x"), "insert"));
    assert.ok(s.isAuthorized(databaseResource("test"), "createUser"));
    assert.ok(s.isAuthorized(databaseResource("test"), "dropDatabase"));
  });

  void it("grantRolesToUser / revokeRolesFromUser / grantPrivilegesToRole", () => {
    const { dir, as } = fixture();
    const s = as("nobody");
    assert.equal(s.isAuthorized(ns("test", "x"), "find"), false);
    dir.grantRolesToUser("nobody", "test", ["read", "read"]);
    assert.deepEqual(dir.getUser("nobody", "test")?.roles, [{ role: "read", db: "test" }]);
    assert.ok(s.isAuthorized(ns("test", "x"), "find"));
    dir.revokeRolesFromUser("nobody", "test", ["read"]);
    assert.equal(s.isAuthorized(ns("test", "x"), "find"), false);
    throwsServerError(() => dir.grantRolesToUser("ghost", "test", ["read"]), 11, "User 'ghost@test' not found");
    throwsServerError(() => dir.grantRolesToUser("nobody", "test", ["nope"]), 31);

    dir.createRole({ role: "custom", db: "test", privileges: [], roles: [] });
    dir.grantRolesToUser("nobody", "test", ["custom"]);
    assert.equal(s.isAuthorized(ns("test", "x"), "remove"), false);
    dir.grantPrivilegesToRole("custom", "test", [{ resource: { db: "test", collection: "x" }, actions: ["remove"] }]);
    assert.ok(s.isAuthorized(ns("test", "x"), "remove"));
    throwsServerError(
      () =>
        dir.grantPrivilegesToRole("custom", "test", [{ resource: { db: "other", collection: "" }, actions: ["find"] }]),
      49,
    );
    throwsServerError(() => dir.grantPrivilegesToRole("read", "test", []), 49);
  });

  void it("usersInfo: deterministic order, showPrivileges", () => {
    const dir = new UserDirectory();
    dir.createUser({ user: "zed", db: "test", roles: ["read"], customData: { team: "a" } });
    dir.createUser({ user: "amy", db: "test", roles: [] });
    dir.createUser({ user: "bob", db: "admin", roles: [] });
    assert.deepEqual(
      dir.usersInfo("test", 1).map((u) => u._id),
      ["test.amy", "test.zed"],
    );
    assert.deepEqual(
      dir.usersInfo("test", { forAllDBs: true }).map((u) => u._id),
      ["admin.bob", "test.amy", "test.zed"],
    );
    assert.deepEqual(
      dir.usersInfo("test", ["zed", { user: "bob", db: "admin" }, "ghost"]).map((u) => u._id),
      ["admin.bob", "test.zed"],
    );
    const [zed] = dir.usersInfo("test", "zed", { showPrivileges: true });
    assert.deepEqual(zed?.customData, { team: "a" });
    assert.deepEqual(zed?.mechanisms, ["SCRAM-SHA-1", "SCRAM-SHA-256"]);
    assert.deepEqual(zed?.inheritedRoles, [{ role: "read", db: "test" }]);
    assert.ok(zed?.inheritedPrivileges?.some((p) => p.actions.includes("find")));
  });
});

void describe("access control off", () => {
  void it("everything is authorized, authenticated or not", () => {
    const { dir } = fixture();
    const s = new AuthorizationSession(dir, false);
    assert.ok(s.isAuthorized(clusterResource, "impersonate"));
    assert.ok(s.isAuthorizedForPrivileges([privilege(ns("x", "y"), "insert")]));
    assert.doesNotThrow(() => checkCommandAuth(s, "killAllSessions", "admin", { killAllSessions: [] }));
    assert.doesNotThrow(() => checkCommandAuth(s, "startSession", "admin", { startSession: 1 }));
  });
});

void describe("requiredPrivileges", () => {
  const pr = (resource: ResourcePattern, ...actions: ActionType[]): Privilege => privilege(resource, ...actions);

  void it("handshake and test commands need nothing", () => {
    for (const c of [
      "hello",
      "isMaster",
      "ping",
      "buildInfo",
      "saslStart",
      "saslContinue",
      "configureFailPoint",
      "sleep",
    ]) {
      assert.equal(requiredPrivileges(c, "admin", { [c]: 1 }), "none", c);
    }
  });

  void it("session and transaction commands need only authentication", () => {
    for (const c of [
      "startSession",
      "refreshSessions",
      "endSessions",
      "killSessions",
      "commitTransaction",
      "abortTransaction",
      "getMore",
      "killCursors",
      "killOp",
      "refreshLogicalSessionCacheNow",
      "noSuchCommand",
    ]) {
      assert.equal(requiredPrivileges(c, "admin", { [c]: 1 }), "authenticated", c);
    }
  });

  void it("killAllSessions / killAllSessionsByPattern need killAnySession on the cluster", () => {
    assert.deepEqual(requiredPrivileges("killAllSessions", "admin", { killAllSessions: [] }), [
      pr(clusterResource, "killAnySession"),
    ]);
    assert.deepEqual(requiredPrivileges("killAllSessionsByPattern", "admin", { killAllSessionsByPattern: [] }), [
      pr(clusterResource, "killAnySession"),
    ]);
  });

  void it("CRUD", () => {
    assert.deepEqual(requiredPrivileges("find", "test", { find: "x" }), [pr(ns("test", "x"), "find")]);
    assert.deepEqual(requiredPrivileges("find", "test", { find: "x", term: 1 }), [
      pr(ns("test", "x"), "find"),
      pr(clusterResource, "internal"),
    ]);
    assert.deepEqual(requiredPrivileges("insert", "test", { insert: "x", documents: [] }), [
      pr(ns("test", "x"), "insert"),
    ]);
    assert.deepEqual(requiredPrivileges("update", "test", { update: "x", updates: [{ q: {}, u: {}, upsert: true }] }), [
      pr(ns("test", "x"), "update", "insert"),
    ]);
    assert.deepEqual(requiredPrivileges("delete", "test", { delete: "x", deletes: [] }), [
      pr(ns("test", "x"), "remove"),
    ]);
    assert.deepEqual(
      requiredPrivileges("findAndModify", "test", { findAndModify: "x", update: { $inc: { n: 1 } }, upsert: true }),
      [pr(ns("test", "x"), "find", "update", "insert")],
    );
    assert.deepEqual(requiredPrivileges("findAndModify", "test", { findAndModify: "x", remove: true }), [
      pr(ns("test", "x"), "find", "remove"),
    ]);
    assert.deepEqual(requiredPrivileges("count", "test", { count: "x" }), [pr(ns("test", "x"), "find")]);
  });

  void it("aggregate: find on the namespace plus stage privileges", () => {
    assert.deepEqual(requiredPrivileges("aggregate", "test", { aggregate: "x", pipeline: [] }), [
      pr(ns("test", "x"), "find"),
    ]);
    assert.deepEqual(
      requiredPrivileges("aggregate", "test", {
        aggregate: "x",
        pipeline: [{ $match: {} }, { $lookup: { from: "y", as: "j" } }, { $out: "z" }],
      }),
      [pr(ns("test", "x"), "find"), pr(ns("test", "y"), "find"), pr(ns("test", "z"), "insert", "remove")],
    );
    // $listSessions is an initial source: no find on config.system.sessions.
    const alice: UserName = { user: "alice", db: "test" };
    assert.equal(
      requiredPrivileges(
        "aggregate",
        "config",
        { aggregate: "system.sessions", pipeline: [{ $listSessions: {} }] },
        { user: alice },
      ),
      "authenticated",
    );
    assert.deepEqual(
      requiredPrivileges("aggregate", "config", {
        aggregate: "system.sessions",
        pipeline: [{ $listSessions: { allUsers: true } }],
      }),
      [pr(clusterResource, "listSessions")],
    );
    assert.deepEqual(
      requiredPrivileges(
        "aggregate",
        "admin",
        { aggregate: 1, pipeline: [{ $listLocalSessions: { users: [alice] } }] },
        { user: alice },
      ),
      "authenticated",
    );
  });

  void it("$currentOp: own ops without inprog on mongod; inprog for allUsers, and on mongos unless localOps", () => {
    const agg = (spec: object) => ({ aggregate: 1, pipeline: [{ $currentOp: spec }] });
    assert.equal(requiredPrivileges("aggregate", "admin", agg({})), "authenticated");
    assert.deepEqual(requiredPrivileges("aggregate", "admin", agg({ allUsers: true })), [
      pr(clusterResource, "inprog"),
    ]);
    assert.deepEqual(requiredPrivileges("aggregate", "admin", agg({}), { isMongos: true }), [
      pr(clusterResource, "inprog"),
    ]);
    assert.equal(
      requiredPrivileges("aggregate", "admin", agg({ localOps: true }), { isMongos: true }),
      "authenticated",
    );
    assert.deepEqual(requiredPrivileges("currentOp", "admin", { currentOp: 1 }), [pr(clusterResource, "inprog")]);
    assert.equal(requiredPrivileges("currentOp", "admin", { currentOp: 1, $ownOps: true }), "authenticated");
  });

  void it("listSessionsRequiredPrivileges (§4.1)", () => {
    const me: UserName = { user: "alice", db: "test" };
    assert.deepEqual(listSessionsRequiredPrivileges({}, me), []);
    assert.deepEqual(listSessionsRequiredPrivileges({ users: [me] }, me), []);
    assert.deepEqual(listSessionsRequiredPrivileges({ users: [me, { user: "bob", db: "test" }] }, me), [
      pr(clusterResource, "listSessions"),
    ]);
    assert.deepEqual(listSessionsRequiredPrivileges({ users: [{ user: "alice", db: "admin" }] }, me), [
      pr(clusterResource, "listSessions"),
    ]);
    assert.deepEqual(listSessionsRequiredPrivileges({ allUsers: true }, me), [pr(clusterResource, "listSessions")]);
    assert.deepEqual(listSessionsRequiredPrivileges({ users: [me] }, undefined), [pr(clusterResource, "listSessions")]);
  });

  void it("diagnostics, sharding, DDL, internal", () => {
    assert.deepEqual(requiredPrivileges("serverStatus", "admin", { serverStatus: 1 }), [
      pr(clusterResource, "serverStatus"),
    ]);
    assert.deepEqual(requiredPrivileges("getParameter", "admin", { getParameter: 1 }), [
      pr(clusterResource, "getParameter"),
    ]);
    assert.deepEqual(requiredPrivileges("setParameter", "admin", { setParameter: 1 }), [
      pr(clusterResource, "setParameter"),
    ]);
    assert.deepEqual(requiredPrivileges("shardCollection", "admin", { shardCollection: "test.x", key: { _id: 1 } }), [
      pr(ns("test", "x"), "enableSharding"),
    ]);
    assert.deepEqual(requiredPrivileges("enableSharding", "admin", { enableSharding: "test" }), [
      pr(databaseResource("test"), "enableSharding"),
    ]);
    assert.deepEqual(requiredPrivileges("split", "admin", { split: "test.x", middle: { _id: 0 } }), [
      pr(ns("test", "x"), "splitChunk"),
    ]);
    assert.deepEqual(requiredPrivileges("moveChunk", "admin", { moveChunk: "test.x" }), [
      pr(ns("test", "x"), "moveChunk"),
    ]);
    assert.deepEqual(requiredPrivileges("addShard", "admin", { addShard: "rs/h:1" }), [
      pr(clusterResource, "addShard"),
    ]);
    assert.deepEqual(requiredPrivileges("createIndexes", "test", { createIndexes: "x" }), [
      pr(ns("test", "x"), "createIndex"),
    ]);
    assert.deepEqual(requiredPrivileges("drop", "test", { drop: "x" }), [pr(ns("test", "x"), "dropCollection")]);
    assert.deepEqual(requiredPrivileges("dropDatabase", "test", { dropDatabase: 1 }), [
      pr(databaseResource("test"), "dropDatabase"),
    ]);
    assert.deepEqual(requiredPrivileges("listCollections", "test", { listCollections: 1 }), [
      pr(databaseResource("test"), "listCollections"),
    ]);
    assert.deepEqual(requiredPrivileges("prepareTransaction", "admin", { prepareTransaction: 1 }), [
      pr(clusterResource, "internal"),
    ]);
    assert.deepEqual(requiredPrivileges("coordinateCommitTransaction", "admin", { coordinateCommitTransaction: 1 }), [
      pr(clusterResource, "internal"),
    ]);
    assert.deepEqual(requiredPrivileges("_shardsvrShardCollection", "admin", {}), [pr(clusterResource, "internal")]);
  });

  void it("user management", () => {
    assert.deepEqual(
      requiredPrivileges("createUser", "test", {
        createUser: "u",
        pwd: "p",
        roles: ["read", { role: "clusterMonitor", db: "admin" }],
      }),
      [
        pr(databaseResource("test"), "createUser"),
        pr(databaseResource("test"), "grantRole"),
        pr(databaseResource("admin"), "grantRole"),
      ],
    );
    assert.deepEqual(requiredPrivileges("dropUser", "test", { dropUser: "u" }), [
      pr(databaseResource("test"), "dropUser"),
    ]);
    assert.deepEqual(requiredPrivileges("grantRolesToUser", "test", { grantRolesToUser: "u", roles: ["read"] }), [
      pr(databaseResource("test"), "grantRole"),
    ]);
    assert.deepEqual(
      requiredPrivileges("createRole", "test", {
        createRole: "r",
        privileges: [
          { resource: { db: "test", collection: "x" }, actions: ["find"] },
          { resource: { cluster: true }, actions: ["inprog"] },
        ],
        roles: [],
      }),
      [
        pr(databaseResource("test"), "createRole"),
        pr(databaseResource("test"), "grantRole"),
        pr(databaseResource("admin"), "grantRole"),
      ],
    );
    const alice: UserName = { user: "alice", db: "test" };
    assert.equal(requiredPrivileges("usersInfo", "test", { usersInfo: "alice" }, { user: alice }), "authenticated");
    assert.deepEqual(requiredPrivileges("usersInfo", "test", { usersInfo: "bob" }, { user: alice }), [
      pr(databaseResource("test"), "viewUser"),
    ]);
    assert.deepEqual(requiredPrivileges("usersInfo", "test", { usersInfo: { forAllDBs: true } }), [
      pr(clusterResource, "viewUser"),
    ]);
  });

  void it("admin-only commands", () => {
    for (const c of [
      "commitTransaction",
      "abortTransaction",
      "currentOp",
      "killOp",
      "getParameter",
      "setParameter",
      "shardCollection",
      "configureFailPoint",
    ]) {
      assert.ok(isAdminOnlyCommand(c), c);
    }
    for (const c of ["startSession", "killSessions", "killAllSessions", "find", "endSessions"]) {
      assert.equal(isAdminOnlyCommand(c), false, c);
    }
  });
});

void describe("checkCommandAuth", () => {
  void it("unauthenticated startSession is refused before it runs", () => {
    const { dir } = fixture();
    const s = new AuthorizationSession(dir, true);
    throwsServerError(
      () => checkCommandAuth(s, "startSession", "admin", { startSession: 1 }),
      13,
      "Command startSession requires authentication",
    );
    throwsServerError(
      () => checkCommandAuth(s, "find", "test", { find: "x" }),
      13,
      "Command find requires authentication",
    );
    assert.doesNotThrow(() => checkCommandAuth(s, "hello", "admin", { hello: 1 }));
  });

  void it("any authenticated user may start, refresh, end and kill own sessions", () => {
    const s = fixture().as("nobody");
    for (const c of ["startSession", "refreshSessions", "endSessions", "killSessions"]) {
      assert.doesNotThrow(() => checkCommandAuth(s, c, "admin", { [c]: c === "startSession" ? 1 : [] }), c);
    }
  });

  void it("missing privileges: 'not authorized on <db> to execute command { ... }'", () => {
    const s = fixture().as("alice");
    assert.doesNotThrow(() => checkCommandAuth(s, "insert", "test", { insert: "x", documents: [{ _id: 1 }] }));
    throwsServerError(
      () => checkCommandAuth(s, "insert", "other", { insert: "x", documents: [{ _id: 1 }], ordered: true }),
      13,
      'not authorized on other to execute command { insert: "x", documents: [ { _id: 1 } ], ordered: true, $db: "other" }',
    );
    throwsServerError(
      () => checkCommandAuth(s, "killAllSessions", "admin", { killAllSessions: [] }),
      13,
      'not authorized on admin to execute command { killAllSessions: [], $db: "admin" }',
    );
  });

  void it("killAllSessions: hostManager yes, clusterMonitor no", () => {
    const { as } = fixture();
    assert.doesNotThrow(() => checkCommandAuth(as("hostmgr"), "killAllSessions", "admin", { killAllSessions: [] }));
    throwsServerError(() => checkCommandAuth(as("monitor"), "killAllSessions", "admin", { killAllSessions: [] }), 13);
  });

  void it("admin-only commands sent elsewhere are refused even with auth off", () => {
    const s = new AuthorizationSession(new UserDirectory(), false);
    throwsServerError(
      () => checkCommandAuth(s, "commitTransaction", "test", { commitTransaction: 1 }),
      13,
      "commitTransaction may only be run against the admin database.",
    );
  });

  void it("passwords are redacted in the message", () => {
    const s = fixture().as("alice");
    throwsServerError(
      () => checkCommandAuth(s, "createUser", "test", { createUser: "eve", pwd: "secret", roles: [] }),
      13,
      'not authorized on test to execute command { createUser: "eve", pwd: "xxx", roles: [], $db: "test" }',
    );
  });

  void it("alternatives: create with insert only; updateUser on oneself with changeOwnPassword", () => {
    const dir = new UserDirectory();
    dir.createRole({
      role: "ins",
      db: "test",
      privileges: [
        { resource: { db: "test", collection: "" }, actions: ["insert"] },
        { resource: { db: "test", collection: "" }, actions: ["changeOwnPassword"] },
      ],
      roles: [],
    });
    dir.createUser({ user: "u", db: "test", roles: ["ins"] });
    dir.createUser({ user: "v", db: "test", roles: [] });
    const s = new AuthorizationSession(dir, true, { user: "u", db: "test" });
    assert.doesNotThrow(() => checkCommandAuth(s, "create", "test", { create: "x" }));
    assert.doesNotThrow(() => checkCommandAuth(s, "updateUser", "test", { updateUser: "u", pwd: "p" }));
    throwsServerError(() => checkCommandAuth(s, "updateUser", "test", { updateUser: "v", pwd: "p" }), 13);
  });

  void it("$listSessions for all users needs listSessions (clusterMonitor yes, readWrite no)", () => {
    const { as } = fixture();
    const cmd = { aggregate: "system.sessions", pipeline: [{ $listSessions: { allUsers: true } }], cursor: {} };
    assert.doesNotThrow(() => checkCommandAuth(as("monitor"), "aggregate", "config", cmd));
    throwsServerError(() => checkCommandAuth(as("alice"), "aggregate", "config", cmd), 13);
    // Own sessions only: fine for anybody authenticated.
    assert.doesNotThrow(() =>
      checkCommandAuth(as("alice"), "aggregate", "config", {
        aggregate: "system.sessions",
        pipeline: [{ $listSessions: { users: [{ user: "alice", db: "test" }] } }],
      }),
    );
  });
});

void describe("runtime checks", () => {
  void it("canKillCursor: owner, killAnyCursor; not the killCursors action", () => {
    const { as } = fixture();
    const alice: UserName = { user: "alice", db: "test" };
    const reader: UserName = { user: "reader", db: "test" };
    assert.ok(canKillCursor(as("alice"), namespaceResource("test", "x"), alice));
    // read has killCursors on test, but that action is not what checkAuthForKillCursors checks.
    assert.equal(canKillCursor(as("reader"), namespaceResource("test", "x"), alice), false);
    assert.ok(canKillCursor(as("hostmgr"), namespaceResource("test", "x"), reader));
  });

  void it("canKillOp: own ops, or killop", () => {
    const { as } = fixture();
    const alice: UserName = { user: "alice", db: "test" };
    assert.ok(canKillOp(as("alice"), alice));
    assert.equal(canKillOp(as("reader"), alice), false);
    assert.ok(canKillOp(as("hostmgr"), alice));
  });

  void it("checkCanSetUserDigest: own uid, killAnySession when allowed, impersonate", () => {
    const { as } = fixture();
    const bobUid = userDigest("bob", "test");
    assert.doesNotThrow(() => checkCanSetUserDigest(as("alice"), userDigest("alice", "test")));
    throwsServerError(
      () => checkCanSetUserDigest(as("alice"), bobUid),
      13,
      "Unauthorized to set user digest in LogicalSessionId",
    );
    const killAny = [privilege(clusterResource, "killAnySession")];
    assert.doesNotThrow(() => checkCanSetUserDigest(as("hostmgr"), bobUid, killAny));
    throwsServerError(() => checkCanSetUserDigest(as("hostmgr"), bobUid), 13);
    throwsServerError(() => checkCanSetUserDigest(as("root"), kNoAuthDigest), 13);
    assert.doesNotThrow(() =>
      checkCanSetUserDigest(new AuthorizationSession(new UserDirectory(), true, kInternalUser), bobUid),
    );
    assert.doesNotThrow(() => checkCanSetUserDigest(new AuthorizationSession(new UserDirectory(), false), bobUid));
  });

  void it("killAllSessionsByPattern impersonation data needs impersonate; one user at most", () => {
    const { as } = fixture();
    const withUsers = [{ users: [{ user: "alice", db: "test" }], roles: [] }];
    throwsServerError(
      () => checkKillAllSessionsByPatternImpersonation(as("root"), withUsers),
      13,
      "Not authorized to impersonate in killAllSessionsByPattern",
    );
    assert.doesNotThrow(() => checkKillAllSessionsByPatternImpersonation(as("hostmgr"), [{}]));
    const internal = new AuthorizationSession(new UserDirectory(), true, kInternalUser);
    assert.doesNotThrow(() => checkKillAllSessionsByPatternImpersonation(internal, withUsers));
    throwsServerError(
      () =>
        checkKillAllSessionsByPatternImpersonation(internal, [
          {
            users: [
              { user: "a", db: "x" },
              { user: "b", db: "x" },
            ],
          },
        ]),
      2,
      "Too many users in impersonation data",
    );
  });
});

void describe("formatCommandForError (BSONObj::toString)", () => {
  void it("prints like the server", () => {
    const uuid = new Binary(Buffer.from("00112233445566778899aabbccddeeff", "hex"), 4);
    assert.equal(
      formatCommandForError("find", "test", { find: "x", filter: {}, limit: 1.5, lsid: { id: uuid }, big: 2 ** 40 }),
      '{ find: "x", filter: {}, limit: 1.5, lsid: { id: UUID("00112233-4455-6677-8899-aabbccddeeff") }, big: 1099511627776.0, $db: "test" }',
    );
  });
});
