// Unit tests for logical-session identity (packages/server/src/session): parsing lsids as the IDL
// does (logical_session_id.idl, sessions_commands.idl), the uid rules of makeLogicalSessionId
// (logical_session_id_helpers.cpp) and the session-field checks of initializeOperationSessionInfo
// (initialize_operation_session_info.cpp). Expected messages are the server's.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { Binary, Long, UUID } from "bson";
import { AuthorizationSession, UserDirectory, clusterResource, kNoAuthDigest, privilege } from "../src/auth/index.js";
import type { CommandDefinition } from "../src/commands/command.js";
import { ServerError } from "../src/errors/index.js";
import { OperationContext } from "../src/node/operation-context.js";
import type { ServerNode } from "../src/node/server-node.js";
import {
  castToParentSessionId,
  formatLsid,
  initializeOperationSessionInfo,
  isChildSession,
  lsidFromKey,
  lsidKey,
  makeLogicalSessionId,
  makeLogicalSessionIds,
  makeLogicalSessionRecord,
  makeNewSessionRecord,
  parentLsidKey,
  parseLogicalSessionFromClient,
  parseLogicalSessionsFromClient,
  recordToBSON,
  type LogicalSessionId,
} from "../src/session/index.js";

function sameBytes(a: Binary | undefined, b: Binary): boolean {
  return a !== undefined && Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
}

function sha256(text: string): Binary {
  return new Binary(createHash("sha256").update(text).digest(), 0);
}

/** Asserts that `fn` throws a ServerError with this code (and message, if given). */
function throwsServer(fn: () => unknown, code: number, errmsg?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ServerError, `expected a ServerError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (typeof errmsg === "string") assert.equal(e.message, errmsg);
    else if (errmsg !== undefined) assert.match(e.message, errmsg);
    return true;
  });
}

function directory(): UserDirectory {
  const dir = new UserDirectory();
  dir.createRole({
    role: "impersonator",
    db: "admin",
    privileges: [privilege(clusterResource, "impersonate")],
    roles: [],
  });
  dir.createRole({
    role: "killer",
    db: "admin",
    privileges: [privilege(clusterResource, "killAnySession")],
    roles: [],
  });
  dir.createUser({ user: "alice", db: "test", roles: [{ role: "readWrite", db: "test" }] });
  dir.createUser({ user: "imp", db: "admin", roles: ["impersonator"] });
  dir.createUser({ user: "killer", db: "admin", roles: ["killer"] });
  dir.createUser({ user: "x".repeat(10_000), db: "test", roles: [] });
  return dir;
}

const dir = directory();
const noAuth = new AuthorizationSession(dir, false);
const alice = new AuthorizationSession(dir, true, { user: "alice", db: "test" });
const nobody = new AuthorizationSession(dir, true);

// ---- parsing -------------------------------------------------------------------------------------

void describe("parseLogicalSessionFromClient (IDL LogicalSessionFromClient, strict)", () => {
  const ctx = "OperationSessionInfo.lsid";

  void it("accepts {id} and the optional uid, txnNumber, txnUUID", () => {
    const id = new UUID();
    assert.deepEqual(parseLogicalSessionFromClient({ id }, ctx), { id });
    const uid = sha256("alice@test");
    const full = parseLogicalSessionFromClient({ id, uid, txnNumber: Long.fromNumber(3), txnUUID: new UUID() }, ctx);
    assert.equal(full.txnNumber?.toNumber(), 3);
    assert.ok(sameBytes(full.uid, uid));
    // A Binary of subtype 4 is a UUID too.
    const bin = parseLogicalSessionFromClient({ id: new Binary(id.buffer, 4) }, ctx);
    assert.ok(bin.id instanceof UUID);
    assert.equal(bin.id.toHexString(), id.toHexString());
  });

  void it("refuses malformed lsids with the server's parse errors", () => {
    throwsServer(
      () => parseLogicalSessionFromClient("x", ctx),
      14,
      "BSON field 'OperationSessionInfo.lsid' is the wrong type 'string', expected type 'object'",
    );
    throwsServer(
      () => parseLogicalSessionFromClient({}, ctx),
      40414,
      "BSON field 'OperationSessionInfo.lsid.id' is missing but a required field",
    );
    throwsServer(
      () => parseLogicalSessionFromClient({ id: null }, ctx),
      40414,
      "BSON field 'OperationSessionInfo.lsid.id' is missing but a required field",
    );
    throwsServer(
      () => parseLogicalSessionFromClient({ id: "invalid" }, ctx),
      14,
      "BSON field 'OperationSessionInfo.lsid.id' is the wrong type 'string', expected type 'binData'",
    );
    throwsServer(
      () => parseLogicalSessionFromClient({ id: new Binary(new Uint8Array(16), 0) }, ctx),
      14,
      "BSON field 'OperationSessionInfo.lsid.id' is the wrong binData type 'general', expected type 'UUID'",
    );
    throwsServer(() => parseLogicalSessionFromClient({ id: new Binary(new Uint8Array(8), 4) }, ctx), 207);
    throwsServer(
      () => parseLogicalSessionFromClient({ id: new UUID(), uid: new Binary(new Uint8Array(16), 0) }, ctx),
      12,
      "Unsupported SHA256Block hash length: 16",
    );
    throwsServer(
      () => parseLogicalSessionFromClient({ id: new UUID(), uid: new UUID() }, ctx),
      14,
      "BSON field 'OperationSessionInfo.lsid.uid' is the wrong binData type 'UUID', expected type 'general'",
    );
    throwsServer(
      () => parseLogicalSessionFromClient({ id: new UUID(), foo: 1 }, ctx),
      40415,
      "BSON field 'OperationSessionInfo.lsid.foo' is an unknown field.",
    );
    throwsServer(
      () => parseLogicalSessionFromClient({ id: new UUID(), txnNumber: "1" }, ctx),
      14,
      "BSON field 'OperationSessionInfo.lsid.txnNumber' is the wrong type 'string', expected type 'long'",
    );
  });

  void it("parses the array of refreshSessions / endSessions with the server's paths", () => {
    assert.equal(parseLogicalSessionsFromClient("endSessions", []).length, 0);
    assert.equal(parseLogicalSessionsFromClient("endSessions", [{ id: new UUID() }, { id: new UUID() }]).length, 2);
    throwsServer(
      () => parseLogicalSessionsFromClient("endSessions", "invalid"),
      14,
      "BSON field 'endSessions.endSessions' is the wrong type 'string', expected type 'array'",
    );
    throwsServer(
      () => parseLogicalSessionsFromClient("endSessions", [{ id: null }]),
      40414,
      "BSON field 'endSessions.endSessionsFromClient.id' is missing but a required field",
    );
    throwsServer(
      () => parseLogicalSessionsFromClient("refreshSessions", [{ id: "invalid" }]),
      14,
      "BSON field 'refreshSessions.refreshSessionsFromClient.id' is the wrong type 'string', expected type 'binData'",
    );
    throwsServer(
      () => parseLogicalSessionsFromClient("refreshSessions", [5]),
      14,
      /'refreshSessions\.refreshSessions\.0'.*expected type 'object'/,
    );
  });
});

// ---- uid rules -------------------------------------------------------------------------------------

void describe("makeLogicalSessionId (logical_session_id_helpers.cpp; reference §1.2)", () => {
  void it("without access control every session's uid is SHA-256 of the empty string", () => {
    const lsid = makeLogicalSessionId({ id: new UUID() }, noAuth);
    assert.ok(sameBytes(lsid.uid, kNoAuthDigest));
    assert.ok(sameBytes(lsid.uid, sha256("")));
    // Any uid is accepted when access control is off.
    const spoof = makeLogicalSessionId({ id: new UUID(), uid: sha256("bob@test") }, noAuth);
    assert.ok(sameBytes(spoof.uid, sha256("bob@test")));
  });

  void it('with access control the uid is SHA-256 of "user@db"', () => {
    const lsid = makeLogicalSessionId({ id: new UUID() }, alice);
    assert.ok(sameBytes(lsid.uid, sha256("alice@test")));
  });

  void it("a client uid is allowed if it is the caller's own, with impersonate, or with an allowSpoof privilege", () => {
    const own = makeLogicalSessionId({ id: new UUID(), uid: sha256("alice@test") }, alice);
    assert.ok(sameBytes(own.uid, sha256("alice@test")));
    throwsServer(
      () => makeLogicalSessionId({ id: new UUID(), uid: sha256("bob@test") }, alice),
      13,
      "Unauthorized to set user digest in LogicalSessionId",
    );
    const imp = new AuthorizationSession(dir, true, { user: "imp", db: "admin" });
    assert.ok(
      sameBytes(makeLogicalSessionId({ id: new UUID(), uid: sha256("bob@test") }, imp).uid, sha256("bob@test")),
    );
    const killer = new AuthorizationSession(dir, true, { user: "killer", db: "admin" });
    throwsServer(() => makeLogicalSessionId({ id: new UUID(), uid: sha256("bob@test") }, killer), 13);
    const allowSpoof = [privilege(clusterResource, "killAnySession")];
    assert.ok(makeLogicalSessionId({ id: new UUID(), uid: sha256("bob@test") }, killer, allowSpoof));
  });

  void it("nobody authenticated, too long a name, txnNumber without txnUUID", () => {
    throwsServer(() => makeLogicalSessionId({ id: new UUID() }, nobody), 13, "Logical sessions require authentication");
    const long = new AuthorizationSession(dir, true, { user: "x".repeat(10_000), db: "test" });
    throwsServer(
      () => makeLogicalSessionId({ id: new UUID() }, long),
      2,
      "Username too long to use with logical sessions",
    );
    throwsServer(
      () => makeLogicalSessionId({ id: new UUID(), txnNumber: Long.fromNumber(1) }, noAuth),
      72,
      "Cannot specify txnNumber in lsid without specifying txnUUID",
    );
  });

  void it("the same id from two users is two sessions; duplicates collapse in makeLogicalSessionIds", () => {
    const id = new UUID();
    const bob = new AuthorizationSession(
      (() => {
        const d = directory();
        d.createUser({ user: "bob", db: "test", roles: [] });
        return d;
      })(),
      true,
      { user: "bob", db: "test" },
    );
    const a = makeLogicalSessionId({ id }, alice);
    const b = makeLogicalSessionId({ id }, bob);
    assert.notEqual(parentLsidKey(a), parentLsidKey(b));
    assert.equal(makeLogicalSessionIds([{ id }, { id }, { id: new UUID() }], alice).length, 2);
  });
});

// ---- keys and records --------------------------------------------------------------------------------

void describe("session keys and records", () => {
  void it("keys are equal for equal {id, uid} content and round-trip", () => {
    const id = new UUID();
    const a: LogicalSessionId = { id, uid: sha256("") };
    const b: LogicalSessionId = { id: new UUID(id.toHexString()), uid: new Binary(Buffer.from(sha256("").buffer), 0) };
    assert.equal(parentLsidKey(a), parentLsidKey(b));
    assert.equal(parentLsidKey(a).length, 19);
    const back = lsidFromKey(parentLsidKey(a));
    assert.equal(back.id.toHexString(), id.toHexString());
    assert.ok(sameBytes(back.uid, a.uid));
    assert.notEqual(parentLsidKey(a), parentLsidKey({ id, uid: sha256("alice@test") }));
  });

  void it("a child session keys apart from its parent but casts to it", () => {
    const parent: LogicalSessionId = { id: new UUID(), uid: sha256("") };
    const child: LogicalSessionId = { ...parent, txnNumber: Long.fromNumber(2), txnUUID: new UUID() };
    assert.ok(isChildSession(child));
    assert.ok(!isChildSession(parent));
    assert.notEqual(lsidKey(child), lsidKey(parent));
    assert.equal(parentLsidKey(child), parentLsidKey(parent));
    assert.deepEqual(Object.keys(castToParentSessionId(child)), ["id", "uid"]);
    assert.match(formatLsid(child), /^[0-9a-f-]{36} - [A-Za-z0-9+/=]{44} - 2 - [0-9a-f-]{36}$/);
  });

  void it("records: startSession owns the session with access control; a vivify names the user only for the owner", () => {
    const none = makeNewSessionRecord(noAuth, new UUID(), 1000);
    assert.equal(none.user, undefined);
    assert.ok(sameBytes(none.lsid.uid, kNoAuthDigest));
    const owned = makeNewSessionRecord(alice, new UUID(), 1000);
    assert.equal(owned.user, "alice@test");
    assert.deepEqual(Object.keys(recordToBSON(owned)), ["_id", "lastUse", "user"]);
    assert.ok(recordToBSON(owned).lastUse instanceof Date);
    const other = makeLogicalSessionRecord({ id: new UUID(), uid: sha256("bob@test") }, 5, alice);
    assert.equal(other.user, undefined, "not the owner");
    const mine = makeLogicalSessionRecord({ id: new UUID(), uid: sha256("alice@test"), txnUUID: new UUID() }, 5, alice);
    assert.equal(mine.user, "alice@test");
    assert.deepEqual(Object.keys(mine.lsid), ["id", "uid"], "child fields dropped");
    assert.equal(makeLogicalSessionRecord(mine.lsid, 5).user, undefined, "running-op records carry no user");
  });
});

// ---- initializeOperationSessionInfo ------------------------------------------------------------------

interface Vivified {
  readonly lsid: LogicalSessionId;
  readonly user: string | undefined;
}

function run(
  command: Record<string, unknown>,
  options: { authz?: AuthorizationSession; def?: Partial<CommandDefinition> } = {},
): { op: OperationContext; vivified: Vivified[] } {
  const name = Object.keys(command)[0];
  const op = new OperationContext(1, { db: "test", command }, name, "client1", 0);
  op.authz = options.authz ?? noAuth;
  const vivified: Vivified[] = [];
  const node = { sessionCache: { vivify: (lsid: LogicalSessionId, user?: string) => vivified.push({ lsid, user }) } };
  const def: CommandDefinition = { name, on: [], run: () => ({}), ...options.def };
  initializeOperationSessionInfo(op, def, node as unknown as ServerNode);
  return { op, vivified };
}

void describe("initializeOperationSessionInfo (initialize_operation_session_info.cpp; reference §5.1)", () => {
  const lsid = { id: new UUID() };

  void it("an lsid is resolved, stored on the operation and vivified", () => {
    const { op, vivified } = run({ find: "c", lsid });
    assert.equal(vivified.length, 1);
    assert.equal((op.lsid as LogicalSessionId).id.toHexString(), lsid.id.toHexString());
    assert.ok(sameBytes((op.lsid as LogicalSessionId).uid, kNoAuthDigest));
    const owned = run({ find: "c", lsid }, { authz: alice });
    assert.equal(owned.vivified[0].user, "alice@test", "the owner's record carries the name");
  });

  void it("txnNumber, autocommit and startTransaction are checked in the server's order", () => {
    const ok = run({ insert: "c", lsid, txnNumber: Long.fromNumber(5), autocommit: false, startTransaction: true });
    assert.equal(ok.op.txnNumber?.toNumber(), 5);
    assert.equal(ok.op.autocommit, false);
    assert.equal(ok.op.startTransaction, true);
    throwsServer(
      () => run({ insert: "c", txnNumber: 1 }),
      72,
      "Transaction number requires a session ID to also be specified",
    );
    throwsServer(() => run({ insert: "c", lsid, txnNumber: -1 }), 72, "Transaction number cannot be negative");
    throwsServer(
      () => run({ insert: "c", lsid, autocommit: false }),
      72,
      "'autocommit' field requires a transaction number to also be specified",
    );
    throwsServer(
      () => run({ insert: "c", lsid, txnNumber: 1, autocommit: true }),
      72,
      "Specifying autocommit=true is not allowed.",
    );
    throwsServer(
      () => run({ insert: "c", lsid, txnNumber: 1, startTransaction: true }),
      72,
      "'startTransaction' field requires 'autocommit' field to also be specified",
    );
    throwsServer(
      () => run({ insert: "c", lsid, txnNumber: 1, autocommit: false, startTransaction: false }),
      72,
      "Specifying startTransaction=false is not allowed.",
    );
    throwsServer(
      () => run({ insert: "c", lsid, txnNumber: 1, txnRetryCounter: 1 }, { authz: alice }),
      72,
      "txnRetryCounter is only allowed for internal clients",
    );
  });

  void it("field types are the IDL's", () => {
    throwsServer(
      () => run({ find: "c", lsid: 5 }),
      14,
      "BSON field 'OperationSessionInfo.lsid' is the wrong type 'int', expected type 'object'",
    );
    throwsServer(
      () => run({ find: "c", lsid, txnNumber: "1" }),
      14,
      "BSON field 'OperationSessionInfo.txnNumber' is the wrong type 'string', expected type 'long'",
    );
    throwsServer(
      () => run({ find: "c", lsid, txnNumber: 1, autocommit: 0 }),
      14,
      "BSON field 'OperationSessionInfo.autocommit' is the wrong type 'int', expected type 'bool'",
    );
  });

  void it("commands that do not require auth refuse txnNumber (50889) and autocommit (263)", () => {
    const def = { requiresAuth: false };
    throwsServer(
      () => run({ hello: 1, lsid, txnNumber: 1 }, { def }),
      50889,
      "It is illegal to provide a txnNumber for this command",
    );
    throwsServer(
      () => run({ hello: 1, lsid, autocommit: false }, { def }),
      263,
      "This command is not supported in transactions",
    );
    // An lsid alone is fine, and vivified.
    assert.equal(run({ hello: 1, lsid }, { def }).vivified.length, 1);
    // With access control on and nobody authenticated, the session info is ignored.
    const ignored = run({ hello: 1, lsid }, { def, authz: nobody });
    assert.equal(ignored.vivified.length, 0);
    assert.equal(ignored.op.lsid, undefined);
  });

  void it("commands that do not attach sessions (the kill commands) check the uid but do not vivify", () => {
    const { op, vivified } = run({ killSessions: [], lsid, txnNumber: -5 }, { def: { attachSessions: false } });
    assert.equal(vivified.length, 0);
    assert.equal(op.lsid, undefined);
    throwsServer(
      () =>
        run(
          { killSessions: [], lsid: { id: new UUID(), uid: sha256("bob@test") } },
          { def: { attachSessions: false }, authz: alice },
        ),
      13,
      "Unauthorized to set user digest in LogicalSessionId",
    );
  });

  void it("child (internal) sessions: internal clients only, and only in transactions", () => {
    const child = { id: new UUID(), txnNumber: Long.fromNumber(1), txnUUID: new UUID() };
    throwsServer(
      () => run({ insert: "c", lsid: child, txnNumber: 1, autocommit: false }, { authz: alice }),
      72,
      "Internal sessions are only allowed for internal clients",
    );
    throwsServer(
      () => run({ insert: "c", lsid: child }),
      72,
      "Internal sessions are not supported outside of transactions",
    );
    const ok = run({ insert: "c", lsid: child, txnNumber: 1, autocommit: false, startTransaction: true });
    assert.equal(ok.vivified.length, 1);
  });
});
