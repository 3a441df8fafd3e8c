import fc from "fast-check";
import type { Binary, Long } from "sessionsim";
import { Cluster, NetworkError, type Connection, type Document } from "sessionsim";
import { firstBatch, keyOfRecord, sessionUid, uidHex } from "./util.js";

/**
 * The cluster privileges that decide who may do what with sessions.
 *
 * @example
 * expectedAclOutcome("killAllSessions[]", new Set<SessionPrivilege>(["killAnySession"]), true);
 */
export type SessionPrivilege = "killAnySession" | "impersonate" | "listSessions";

/**
 * Built-in roles and the session privileges they carry on the cluster (MongoDB's role definitions).
 *
 * @example
 * BUILTIN_ROLE_PRIVILEGES.hostManager; // ["killAnySession"]
 */
export const BUILTIN_ROLE_PRIVILEGES: Readonly<Record<string, readonly SessionPrivilege[]>> = Object.freeze({
  read: [],
  readWrite: [],
  clusterMonitor: ["listSessions"],
  clusterManager: ["listSessions"],
  hostManager: ["killAnySession"],
  clusterAdmin: ["listSessions", "killAnySession"],
  root: ["listSessions", "killAnySession"],
});

/**
 * A session command an actor tries, with respect to a victim user's session.
 *
 * @example
 * const action: AclAction = "listSessions{allUsers}";
 * expectedAclOutcome(action, new Set(), true).outcome; // "Unauthorized"
 */
export type AclAction =
  | "startSession"
  | "killSessions[]"
  | "killSessions[own id]"
  | "killSessions[victim uid]"
  | "killAllSessions[]"
  | "killAllSessions[victim]"
  | "killAllSessionsByPattern[]"
  | "killAllSessionsByPattern[victim uid]"
  | "killAllSessionsByPattern[users victim]"
  | "refreshSessions[victim uid]"
  | "endSessions[victim uid]"
  | "listLocalSessions{}"
  | "listLocalSessions{allUsers}"
  | "listLocalSessions{users victim}"
  | "listSessions{}"
  | "listSessions{allUsers}";

/**
 * Every action of the property.
 *
 * @example
 * for (const a of ACL_ACTIONS) console.log(a, expectedAclOutcome(a, new Set(), true).outcome);
 */
export const ACL_ACTIONS: readonly AclAction[] = [
  "startSession",
  "killSessions[]",
  "killSessions[own id]",
  "killSessions[victim uid]",
  "killAllSessions[]",
  "killAllSessions[victim]",
  "killAllSessionsByPattern[]",
  "killAllSessionsByPattern[victim uid]",
  "killAllSessionsByPattern[users victim]",
  "refreshSessions[victim uid]",
  "endSessions[victim uid]",
  "listLocalSessions{}",
  "listLocalSessions{allUsers}",
  "listLocalSessions{users victim}",
  "listSessions{}",
  "listSessions{allUsers}",
];

/**
 * What the reference table expects of an action.
 *
 * @example
 * const e: AclExpectation = expectedAclOutcome("killSessions[victim uid]", new Set(["impersonate"]), true);
 * // { outcome: "ok", killsVictim: true, mayListVictim: false }
 */
export interface AclExpectation {
  /** `ok` or the codeName of the refusal. */
  readonly outcome: "ok" | "Unauthorized";
  /** Whether it kills the victim's session (its cursor dies). */
  readonly killsVictim: boolean;
  /** Whether a listing may show the victim's sessions. */
  readonly mayListVictim: boolean;
}

/**
 * The reference table of who may do what with sessions when access control is on (reference §3,
 * §4.1, §7; checklist 36–43, 53): anyone authenticated may start, refresh, end, kill and list
 * their own sessions; naming another user's `uid` needs `impersonate` (kills also accept
 * `killAnySession`); `killAllSessions` and `killAllSessionsByPattern` need `killAnySession`, plus
 * `impersonate` for `users`/`roles` patterns; listing others' sessions or `allUsers` needs
 * `listSessions`. Unauthenticated clients may do nothing. (`users` in a kill pattern is
 * impersonation data, not a filter: with the privileges it kills every session.)
 *
 * @example
 * expectedAclOutcome("killAllSessions[]", new Set(["killAnySession"]), true);
 * // { outcome: "ok", killsVictim: true, mayListVictim: false }
 */
export function expectedAclOutcome(
  action: AclAction,
  privileges: ReadonlySet<SessionPrivilege>,
  authenticated: boolean,
): AclExpectation {
  const deny: AclExpectation = { outcome: "Unauthorized", killsVictim: false, mayListVictim: false };
  if (!authenticated) return deny;
  const kill = privileges.has("killAnySession");
  const imp = privileges.has("impersonate");
  const list = privileges.has("listSessions");
  const ok = (killsVictim = false, mayListVictim = false): AclExpectation => ({
    outcome: "ok",
    killsVictim,
    mayListVictim,
  });
  switch (action) {
    case "startSession":
    case "killSessions[]":
    case "killSessions[own id]":
    case "listLocalSessions{}":
    case "listSessions{}":
      return ok();
    case "killSessions[victim uid]":
      return kill || imp ? ok(true) : deny;
    case "killAllSessions[]":
    case "killAllSessions[victim]":
    case "killAllSessionsByPattern[]":
    case "killAllSessionsByPattern[victim uid]":
      return kill ? ok(true) : deny;
    case "killAllSessionsByPattern[users victim]":
      return kill && imp ? ok(true) : deny;
    case "refreshSessions[victim uid]":
    case "endSessions[victim uid]":
      return imp ? ok() : deny;
    case "listLocalSessions{allUsers}":
    case "listLocalSessions{users victim}":
    case "listSessions{allUsers}":
      return list ? ok(false, true) : deny;
  }
}

/**
 * A user of the property: built-in roles and custom roles made of session privileges.
 *
 * @example
 * const carol: AclUser = { name: "carol", builtin: ["clusterMonitor"], custom: [["impersonate"]] };
 * privilegesOf(carol); // Set { "listSessions", "impersonate" }
 */
export interface AclUser {
  readonly name: string;
  readonly builtin: readonly string[];
  /** Each entry is one custom role holding these cluster actions. */
  readonly custom: readonly (readonly SessionPrivilege[])[];
}

/**
 * The session privileges a user holds through all its roles.
 *
 * @example
 * privilegesOf({ name: "u", builtin: ["root"], custom: [] }); // Set { "listSessions", "killAnySession" }
 */
export function privilegesOf(u: AclUser): Set<SessionPrivilege> {
  const out = new Set<SessionPrivilege>();
  for (const r of u.builtin) for (const p of BUILTIN_ROLE_PRIVILEGES[r] ?? []) out.add(p);
  for (const c of u.custom) for (const p of c) out.add(p);
  return out;
}

/**
 * One case: users (the first one is the victim), and actions by them or by an anonymous client.
 *
 * @example
 * const c: AclCase = { seed: 1, users: [victim, carol], steps: [{ actor: 1, action: "killAllSessions[]" }] };
 * await runAclCase(c);
 */
export interface AclCase {
  readonly seed: number;
  readonly users: readonly AclUser[];
  readonly steps: readonly { readonly actor: number | "anonymous"; readonly action: AclAction }[];
}

/**
 * Random users with built-in and custom roles, and session commands they try.
 *
 * @example
 * fc.sample(aclCase(), 1);
 */
export function aclCase(): fc.Arbitrary<AclCase> {
  const privilege = fc.constantFrom<SessionPrivilege>("killAnySession", "impersonate", "listSessions");
  const user = (name: string): fc.Arbitrary<AclUser> =>
    fc.record({
      name: fc.constant(name),
      builtin: fc.subarray(Object.keys(BUILTIN_ROLE_PRIVILEGES), { maxLength: 2 }),
      custom: fc.array(fc.uniqueArray(privilege, { minLength: 1, maxLength: 3 }), { maxLength: 2 }),
    });
  return fc.integer({ min: 2, max: 4 }).chain((n) =>
    fc.record({
      seed: fc.integer({ min: 1, max: 1_000_000 }),
      users: fc.tuple(...Array.from({ length: n }, (_, i) => user(i === 0 ? "victim" : `u${i}`))),
      steps: fc.array(
        fc.record({
          actor: fc.oneof(
            { arbitrary: fc.integer({ min: 1, max: n - 1 }), weight: 6 },
            { arbitrary: fc.constant<"anonymous">("anonymous"), weight: 1 },
          ),
          action: fc.constantFrom(...ACL_ACTIONS),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    }),
  );
}

/**
 * A disagreement between the cluster and the reference table.
 *
 * @example
 * for (const m of await runAclCase(c)) console.log(`${m.actor} ${m.action}: expected ${m.expected}, got ${m.actual}`);
 */
export interface AclMismatch {
  readonly step: number;
  readonly actor: string;
  readonly action: AclAction;
  readonly expected: string;
  readonly actual: string;
}

const DB = "test";

function customRoleName(userIndex: number, roleIndex: number): string {
  return `acl_u${userIndex}_r${roleIndex}`;
}

/**
 * Runs one access-control case on a fresh 1-shard cluster with auth on, and returns every
 * disagreement with {@link expectedAclOutcome}: replies (ok vs Unauthorized), whether the
 * victim's cursor survived each kill, and whether a listing showed sessions of users it had no
 * right to see.
 *
 * @example
 * const [c] = fc.sample(aclCase(), { seed: 1, numRuns: 1 });
 * const mismatches = await runAclCase(c); // [] when the cluster follows the table
 */
export async function runAclCase(c: AclCase): Promise<AclMismatch[]> {
  const roles = c.users.flatMap((u, i) =>
    u.custom.map((privs, j) => ({
      role: customRoleName(i, j),
      db: "admin",
      privileges: [{ resource: { cluster: true }, actions: [...privs] }],
      roles: [],
    })),
  );
  const users = [
    { user: "admin", db: "admin", roles: [{ role: "root", db: "admin" }] },
    ...c.users.map((u, i) => ({
      user: u.name,
      db: DB,
      roles: [
        ...u.builtin.map((r) => ({ role: r, db: r === "read" || r === "readWrite" ? DB : "admin" })),
        ...u.custom.map((_, j) => ({ role: customRoleName(i, j), db: "admin" })),
        { role: "readWrite", db: DB },
      ],
    })),
  ];
  const cluster = await Cluster.start({
    seed: c.seed,
    shards: 1,
    mongos: 1,
    auth: true,
    users,
    roles,
    clientTimeoutMS: 30_000,
  });
  const mismatches: AclMismatch[] = [];
  try {
    const admin = cluster.connect(cluster.mongos(), { user: "admin", db: "admin" });
    await admin.runCommand(DB, { insert: "items", documents: Array.from({ length: 10 }, (_, i) => ({ _id: i })) });
    const conns = c.users.map((u) => cluster.connect(cluster.mongos(), { user: u.name, db: DB }));
    const anon = cluster.connect(cluster.mongos());
    const uidOf = (i: number): Binary => sessionUid(true, { user: c.users[i].name, db: DB });
    const victimUid = uidHex(uidOf(0));
    // The victim's session, with an open cursor on mongos.
    const victimSession = (await conns[0].runCommand("admin", { startSession: 1 })).id as Document;
    let cursor = await openCursor(conns[0], victimSession);
    await admin.runCommand("admin", { refreshLogicalSessionCacheNow: 1 });
    await conns[0].runCommand(DB, { find: "items", filter: {}, batchSize: 1, lsid: victimSession });
    for (let s = 0; s < c.steps.length; s++) {
      const { actor, action } = c.steps[s];
      const conn = actor === "anonymous" ? anon : conns[actor];
      const actorName = actor === "anonymous" ? "anonymous" : c.users[actor].name;
      const authenticated = actor !== "anonymous";
      const privileges = actor === "anonymous" ? new Set<SessionPrivilege>() : privilegesOf(c.users[actor]);
      const expected = expectedAclOutcome(action, privileges, authenticated);
      const victim = { id: (victimSession as { id: unknown }).id, uid: uidOf(0) };
      let reply: Document;
      try {
        reply = await conn.runCommand(dbOf(action), commandOf(action, victim, c.users[0].name));
      } catch (e) {
        if (e instanceof NetworkError) {
          mismatches.push({
            step: s,
            actor: actorName,
            action,
            expected: expected.outcome,
            actual: `NetworkError ${e.message}`,
          });
          continue;
        }
        throw e;
      }
      const actual = reply.ok === 1 ? "ok" : String(reply.codeName);
      if (actual !== expected.outcome)
        mismatches.push({
          step: s,
          actor: actorName,
          action,
          expected: expected.outcome,
          actual: `${actual}${reply.ok === 1 ? "" : ` (${String(reply.errmsg)})`}`,
        });
      // Listings: nobody sees sessions they have no right to see.
      if (reply.ok === 1 && action.startsWith("list") && actor !== "anonymous") {
        const own = uidHex(uidOf(actor));
        for (const d of firstBatch(reply)) {
          const key = keyOfRecord(d);
          const uid = key?.split(":")[1];
          if (
            uid !== undefined &&
            uid !== own &&
            !(expected.mayListVictim && uid === victimUid) &&
            !expected.mayListVictim
          )
            mismatches.push({
              step: s,
              actor: actorName,
              action,
              expected: "only own sessions listed",
              actual: `listed a session of uid ${uid.slice(0, 8)}`,
            });
        }
      }
      // Kills: the victim's cursor dies exactly when the table says the kill reaches it.
      if (action.startsWith("kill")) {
        const alive = await getMoreOk(conns[0], cursor, victimSession);
        const killedVictim = !alive;
        const shouldKill = expected.killsVictim && expected.outcome === "ok" && actual === "ok";
        if (killedVictim !== shouldKill)
          mismatches.push({
            step: s,
            actor: actorName,
            action,
            expected: shouldKill ? "victim's cursor killed" : "victim's cursor alive",
            actual: killedVictim ? "victim's cursor killed" : "victim's cursor alive",
          });
        if (killedVictim) cursor = await openCursor(conns[0], victimSession);
      }
    }
  } finally {
    await cluster.stop();
  }
  return mismatches;
}

async function openCursor(conn: Connection, lsid: Document): Promise<Long> {
  const r = await conn.runCommand(DB, { find: "items", filter: {}, batchSize: 1, lsid });
  return (r.cursor as { id: Long }).id;
}

async function getMoreOk(conn: Connection, id: Long, lsid: Document): Promise<boolean> {
  const r = await conn.runCommand(DB, { getMore: id, collection: "items", batchSize: 1, lsid });
  return r.ok === 1;
}

function dbOf(action: AclAction): string {
  return action.startsWith("listSessions") ? "config" : "admin";
}

function commandOf(action: AclAction, victim: { id: unknown; uid: Binary }, victimName: string): Document {
  switch (action) {
    case "startSession":
      return { startSession: 1 };
    case "killSessions[]":
      return { killSessions: [] };
    case "killSessions[own id]":
      return { killSessions: [{ id: victim.id }] };
    case "killSessions[victim uid]":
      return { killSessions: [{ id: victim.id, uid: victim.uid }] };
    case "killAllSessions[]":
      return { killAllSessions: [] };
    case "killAllSessions[victim]":
      return { killAllSessions: [{ user: victimName, db: DB }] };
    case "killAllSessionsByPattern[]":
      return { killAllSessionsByPattern: [] };
    case "killAllSessionsByPattern[victim uid]":
      return { killAllSessionsByPattern: [{ uid: victim.uid }] };
    case "killAllSessionsByPattern[users victim]":
      return { killAllSessionsByPattern: [{ users: [{ user: victimName, db: DB }] }] };
    case "refreshSessions[victim uid]":
      return { refreshSessions: [{ id: victim.id, uid: victim.uid }] };
    case "endSessions[victim uid]":
      return { endSessions: [{ id: victim.id, uid: victim.uid }] };
    case "listLocalSessions{}":
      return { aggregate: 1, pipeline: [{ $listLocalSessions: {} }], cursor: {} };
    case "listLocalSessions{allUsers}":
      return { aggregate: 1, pipeline: [{ $listLocalSessions: { allUsers: true } }], cursor: {} };
    case "listLocalSessions{users victim}":
      return {
        aggregate: 1,
        pipeline: [{ $listLocalSessions: { users: [{ user: victimName, db: DB }] } }],
        cursor: {},
      };
    case "listSessions{}":
      return { aggregate: "system.sessions", pipeline: [{ $listSessions: {} }], cursor: {} };
    case "listSessions{allUsers}":
      return { aggregate: "system.sessions", pipeline: [{ $listSessions: { allUsers: true } }], cursor: {} };
  }
}

/**
 * The access-control property: for random users, roles and session commands, every outcome
 * agrees with {@link expectedAclOutcome}.
 *
 * @example
 * await fc.assert(accessControlProperty(), { seed: 42, numRuns: 20 });
 */
export function accessControlProperty(): fc.IAsyncPropertyWithHooks<[AclCase]> {
  return fc.asyncProperty(aclCase(), async (c) => {
    const m = await runAclCase(c);
    if (m.length > 0)
      throw new Error(
        m.map((x) => `step ${x.step}: ${x.actor} ${x.action}: expected ${x.expected}, got ${x.actual}`).join("\n"),
      );
  });
}
