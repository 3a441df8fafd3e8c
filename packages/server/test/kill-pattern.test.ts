// Unit tests for kill patterns and the matcher (packages/server/src/kill). Expected behaviour comes
// from src/mongo/db/session/session_killer.cpp (SessionKiller::Matcher), kill_sessions.cpp
// (makeKillAllSessionsByPattern), kill_sessions.h (pattern-set identity), kill_sessions_common.h
// (ScopedKillAllSessionsByPatternImpersonator) and kill_sessions.idl.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Long, UUID } from "bson";
import { AuthorizationSession, UserDirectory, kNoAuthDigest, userDigest } from "../src/auth/index.js";
import { ServerError } from "../src/errors/index.js";
import {
  SessionKillerMatcher,
  describeKillPattern,
  killPatternSet,
  makeKillAllSessionsByPattern,
  makeKillAllSessionsByPatternForLsid,
  makeKillAllSessionsByPatternForUser,
  parseKillAllSessionsByPattern,
} from "../src/kill/index.js";

const uuid = (n: number): UUID => new UUID(`00000000-0000-4000-8000-${String(n).padStart(12, "0")}`);
const alice = userDigest("alice", "test");
const bob = userDigest("bob", "test");

function lsid(n: number, uid = alice) {
  return { id: uuid(n), uid };
}

function serverError(code: number, message?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ServerError, String(e));
    assert.equal(e.code, code);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  };
}

void describe("SessionKiller::Matcher", () => {
  void it("matches by lsid, by uid, and any of several patterns", () => {
    const m = new SessionKillerMatcher([{ lsid: lsid(1) }, { uid: bob }]);
    assert.equal(m.matches(lsid(1)), true);
    assert.equal(m.matches(lsid(2)), false);
    assert.equal(m.matches(lsid(2, bob)), true);
    assert.equal(m.matches(undefined), false);
    assert.equal(m.isKillAll, false);
  });

  void it("a pattern with a uid ignores its lsid", () => {
    const m = new SessionKillerMatcher([{ lsid: lsid(1), uid: bob }]);
    assert.equal(m.matches(lsid(1)), false);
    assert.equal(m.matches(lsid(7, bob)), true);
  });

  void it("a pattern with neither uid nor lsid kills all and is the only pattern kept", () => {
    const m = new SessionKillerMatcher([{ uid: bob }, { users: [{ user: "x", db: "y" }] }, { lsid: lsid(1) }]);
    assert.equal(m.isKillAll, true);
    assert.deepEqual(m.patterns, [{ users: [{ user: "x", db: "y" }] }]);
    assert.equal(m.matches(lsid(99, kNoAuthDigest)), true);
  });

  void it("a child session matches through its parent", () => {
    const m = new SessionKillerMatcher([{ lsid: lsid(1) }]);
    assert.equal(m.matches({ ...lsid(1), txnNumber: Long.fromNumber(3), txnUUID: uuid(50) }), true);
    assert.equal(m.matches({ ...lsid(2), txnNumber: Long.fromNumber(3), txnUUID: uuid(50) }), false);
  });

  void it("patterns equal in lsid and uid collapse in a pattern set (users/roles are not part of the identity)", () => {
    const set = killPatternSet(
      [
        { uid: bob, users: [] },
        { uid: bob, users: [{ user: "a", db: "b" }] },
      ],
      "code",
    );
    assert.equal(set.length, 1);
    assert.equal(
      killPatternSet(
        [
          { uid: bob, users: [] },
          { uid: bob, users: [{ user: "a", db: "b" }] },
        ],
        "manual",
      ).length,
      2,
    );
  });

  void it("impersonation data with more than one user is refused only with roles present", () => {
    const m = new SessionKillerMatcher([{}]);
    const two = [
      { user: "a", db: "b" },
      { user: "c", db: "d" },
    ];
    assert.throws(
      () => m.impersonate({ users: two, roles: [] }),
      serverError(2, "Too many users in impersonation data"),
    );
    m.impersonate({ users: two });
    m.impersonate({ users: [two[0]], roles: [] });
    new SessionKillerMatcher([{}], "manual").impersonate({ users: two, roles: [] });
  });

  void it("the manual's reading filters by owner and by the owner's roles", () => {
    const dir = new UserDirectory();
    dir.createUser({ user: "alice", db: "test", roles: ["readWrite"] });
    dir.createUser({ user: "bob", db: "test", roles: ["read"] });
    const byUser = new SessionKillerMatcher([{ users: [{ user: "alice", db: "test" }] }], "manual", dir);
    assert.equal(byUser.isKillAll, false);
    assert.equal(byUser.matches(lsid(1, alice)), true);
    assert.equal(byUser.matches(lsid(1, bob)), false);
    const byRole = new SessionKillerMatcher([{ roles: [{ role: "read", db: "test" }] }], "manual", dir);
    assert.equal(byRole.matches(lsid(1, alice)), false);
    assert.equal(byRole.matches(lsid(1, bob)), true);
    assert.equal(byRole.matches(lsid(1, kNoAuthDigest)), false, "an ownerless session has no roles");
    // Empty lists are no criterion: a kill-all, as in the code's reading.
    assert.equal(new SessionKillerMatcher([{ users: [], roles: [] }], "manual", dir).isKillAll, true);
  });
});

void describe("kill pattern construction and parsing", () => {
  const dir = new UserDirectory();
  dir.createUser({ user: "ops", db: "admin", roles: ["hostManager"] });
  const authz = new AuthorizationSession(dir, true, { user: "ops", db: "admin" });

  void it("server-built patterns carry the caller's user and roles (code reading) or nothing (manual)", () => {
    assert.deepEqual(makeKillAllSessionsByPattern(authz), {
      users: [{ user: "ops", db: "admin" }],
      roles: [{ role: "hostManager", db: "admin" }],
    });
    assert.deepEqual(makeKillAllSessionsByPattern(authz, "manual"), {});
    const forUser = makeKillAllSessionsByPatternForUser(authz, { user: "alice", db: "test" });
    assert.equal(describeKillPattern(forUser).startsWith("uid:"), true);
    assert.throws(
      () => makeKillAllSessionsByPatternForLsid(authz, { ...lsid(1), txnNumber: Long.fromNumber(1), txnUUID: uuid(2) }),
      serverError(72, "Cannot kill a child session"),
    );
  });

  void it("parses a full pattern and names fields in errors", () => {
    const ctx = "KillAllSessionsByPatternCmd.killAllSessionsByPattern";
    const p = parseKillAllSessionsByPattern(
      { lsid: { id: uuid(1), uid: alice }, uid: bob, users: [null, { user: "u", db: "d" }], roles: [] },
      ctx,
    );
    assert.equal(p.lsid?.id.toHexString(), uuid(1).toHexString());
    assert.deepEqual(p.users, [{ user: "u", db: "d" }], "null elements are skipped");
    assert.deepEqual(p.roles, []);
    assert.throws(
      () => parseKillAllSessionsByPattern({ users: [{ user: "u" }] }, ctx),
      serverError(40414, `BSON field '${ctx}.users.db' is missing but a required field`),
    );
    assert.throws(
      () => parseKillAllSessionsByPattern({ lsid: { id: uuid(1), uid: alice, x: 1 } }, ctx),
      serverError(40415, `BSON field '${ctx}.lsid.x' is an unknown field.`),
    );
    assert.throws(
      () => parseKillAllSessionsByPattern({ lsid: 1 }, ctx),
      serverError(14, `BSON field '${ctx}.lsid' is the wrong type 'int', expected type 'object'`),
    );
    assert.deepEqual(parseKillAllSessionsByPattern({ uid: null }, ctx), {}, "null fields are absent");
  });
});
