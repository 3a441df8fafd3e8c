import type { Binary } from "bson";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { ActionType } from "./action-types.js";
import type { AuthorizationSession } from "./authorization-session.js";
import { formatCommandForError } from "./command-summary.js";
import { digestEquals } from "./digest.js";
import { type RoleName, type RoleRef, type UserName, parseRoleRefs, sameUser, toRoleName } from "./names.js";
import { type Privilege, parsePrivileges, privilege } from "./privilege.js";
import {
  type NamespaceResource,
  type ResourcePattern,
  anyNormalResource,
  clusterResource,
  databaseResource,
  matchTypeOf,
  namespaceResource,
  resourceForNamespaceString,
} from "./resource-pattern.js";

/**
 * What a command needs before it runs: `"none"` (runs even unauthenticated, e.g. `hello`),
 * `"authenticated"` (any authenticated user; finer checks, if any, happen while it runs), or
 * privileges that must all be held.
 */
export type RequiredPrivileges = readonly Privilege[] | "authenticated" | "none";

/** Facts about the caller some commands' requirements depend on. */
export interface RequiredPrivilegesContext {
  /** The authenticated user (`usersInfo` on oneself, `$listSessions` for oneself, ...). */
  readonly user?: UserName | undefined;
  /** Whether the command runs on mongos (changes `$currentOp`'s requirement). */
  readonly isMongos?: boolean | undefined;
}

/** The parsed `$listSessions`/`$listLocalSessions` argument (`ListSessionsSpec`). */
export interface ListSessionsSpec {
  readonly allUsers?: boolean;
  readonly users?: readonly UserName[];
}

/** One `killAllSessionsByPattern` pattern, as far as authorization looks at it. */
export interface KillAllSessionsByPatternAuthInfo {
  readonly users?: readonly UserName[];
  readonly roles?: readonly RoleName[];
}

type Cmd = Readonly<Record<string, unknown>>;
type Requirement = readonly Privilege[] | "authenticated";
type RequirementFn = (db: string, cmd: Cmd, ctx: RequiredPrivilegesContext, name: string) => Requirement;

interface CommandAuthRule {
  /** `Command::adminOnly()`: must be sent to `admin`. */
  readonly adminOnly?: boolean;
  /** `Command::requiresAuth()`, true unless said otherwise. */
  readonly requiresAuth?: boolean;
  /** The privileges the command's check demands; "authenticated" if none. */
  readonly required?: RequirementFn;
  /** Other privilege sets that also satisfy the check (e.g. `create` with only `insert`). */
  readonly alternatives?: (db: string, cmd: Cmd, ctx: RequiredPrivilegesContext) => (readonly Privilege[])[];
}

const listSessionsPrivilege = privilege(clusterResource, "listSessions");

/**
 * The privileges a `$listSessions`/`$listLocalSessions` stage needs: `listSessions` on the
 * cluster if `allUsers` is true or any listed user is not the caller; none otherwise.
 *
 * @remarks
 * `listSessionsRequiredPrivileges` (`document_source_list_sessions.cpp` /
 * `document_source_list_local_sessions.cpp`). With no authenticated user the caller counts as
 * `{user: "", db: ""}`.
 */
export function listSessionsRequiredPrivileges(
  spec: ListSessionsSpec | undefined,
  callerUser: UserName | undefined,
): Privilege[] {
  const me: UserName = callerUser ?? { user: "", db: "" };
  const needs = spec?.allUsers === true || (spec?.users ?? []).some((u) => u.user !== me.user || u.db !== me.db);
  return needs ? [listSessionsPrivilege] : [];
}

/** The namespace a collection command targets (`{find: "x"}` on `test` → `test.x`). */
function commandNs(db: string, cmd: Cmd, name: string): NamespaceResource {
  const v = cmd[name];
  if (typeof v === "string" && v !== "") return namespaceResource(db, v);
  if (name === "aggregate") return namespaceResource(db, "$cmd.aggregate");
  // A collection UUID, or a collection-less form: the database is the closest target.
  return databaseResource(db);
}

/** The full namespace a sharding command names (`{shardCollection: "test.x"}`). */
function fullNs(cmd: Cmd, name: string): NamespaceResource {
  const v = cmd[name];
  return resourceForNamespaceString(typeof v === "string" ? v : "");
}

function withBypass(actions: ActionType[], cmd: Cmd): ActionType[] {
  if (cmd["bypassDocumentValidation"] === true) actions.push("bypassDocumentValidation");
  return actions;
}

function on(resource: ResourcePattern, ...actions: ActionType[]): Requirement {
  return [privilege(resource, ...actions)];
}

function roleRefs(value: unknown, db: string): RoleName[] {
  return Array.isArray(value) ? parseRoleRefs(value).map((r) => toRoleName(r, db)) : [];
}

/** `checkAuthorizedToGrantRoles` / `checkAuthorizedToRevokeRoles`. */
function roleGrantPrivileges(roles: readonly RoleName[], action: "grantRole" | "revokeRole"): Privilege[] {
  return roles.map((r) => privilege(databaseResource(r.db), action));
}

/**
 * `checkAuthorizedToGrantPrivilege`/`checkAuthorizedToRevokePrivilege`: privileges on a database
 * or namespace need `grantRole` on that database; anything wider needs it on `admin`.
 */
function privilegeGrantPrivileges(value: unknown, action: "grantRole" | "revokeRole"): Privilege[] {
  let parsed: Privilege[];
  try {
    parsed = parsePrivileges(value ?? []);
  } catch {
    return []; // malformed input fails when the command parses it
  }
  return parsed.map((p) => {
    const t = matchTypeOf(p.resource);
    const db = t === "database" || t === "exact_namespace" ? (p.resource as NamespaceResource).db : "admin";
    return privilege(databaseResource(db), action);
  });
}

function restrictionPrivileges(cmd: Cmd, db: string): Privilege[] {
  return cmd["authenticationRestrictions"] !== undefined
    ? [privilege(databaseResource(db), "setAuthenticationRestriction")]
    : [];
}

function asObject(v: unknown): Cmd | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Cmd) : undefined;
}

function parseUserList(v: unknown): UserName[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((u) => {
    const o = asObject(u) ?? {};
    return { user: String(o["user"] ?? ""), db: String(o["db"] ?? "") };
  });
}

function listSessionsSpecOf(v: unknown): ListSessionsSpec {
  const o = asObject(v) ?? {};
  const users = parseUserList(o["users"]);
  return { allUsers: o["allUsers"] === true, ...(users !== undefined ? { users } : {}) };
}

/** Stages that produce documents themselves (`LiteParsedDocumentSource::isInitialSource`). */
const initialSources: ReadonlySet<string> = new Set([
  "$listSessions",
  "$listLocalSessions",
  "$currentOp",
  "$documents",
  "$collStats",
  "$indexStats",
  "$planCacheStats",
  "$changeStream",
  "$listCachedAndActiveUsers",
]);

function stageName(stage: unknown): string {
  const o = asObject(stage);
  return o === undefined ? "" : (Object.keys(o)[0] ?? "");
}

/** `namespace` a `$lookup`/`$out`/`$merge`/`$unionWith` names: a collection name or `{db, coll}`. */
function foreignNs(v: unknown, db: string): NamespaceResource | undefined {
  if (typeof v === "string") return namespaceResource(db, v);
  const o = asObject(v);
  if (o !== undefined && typeof o["coll"] === "string") {
    return namespaceResource(typeof o["db"] === "string" ? o["db"] : db, o["coll"]);
  }
  return undefined;
}

/** `LiteParsedDocumentSource::requiredPrivileges` for the stages the simulator knows. */
function stagePrivileges(
  stage: unknown,
  db: string,
  ns: NamespaceResource,
  ctx: RequiredPrivilegesContext,
  bypass: boolean,
): Privilege[] {
  const name = stageName(stage);
  const spec = asObject(stage)?.[name];
  switch (name) {
    case "$listSessions":
    case "$listLocalSessions":
      return listSessionsRequiredPrivileges(listSessionsSpecOf(spec), ctx.user);
    case "$currentOp": {
      // DocumentSourceCurrentOp::LiteParsed: other users' ops need inprog, and so does any
      // $currentOp on mongos that reaches the shards (localOps false).
      const o = asObject(spec) ?? {};
      const needs = o["allUsers"] === true || (ctx.isMongos === true && o["localOps"] !== true);
      return needs ? [privilege(clusterResource, "inprog")] : [];
    }
    case "$collStats":
      return [privilege(ns, "collStats")];
    case "$indexStats":
      return [privilege(ns, "indexStats")];
    case "$planCacheStats":
      return [privilege(ns, "planCacheRead")];
    case "$changeStream":
      return [privilege(ns.collection.startsWith("$cmd") ? databaseResource(ns.db) : ns, "find", "changeStream")];
    case "$out": {
      const target = foreignNs(spec, db);
      if (target === undefined) return [];
      return [privilege(target, "insert", "remove", ...(bypass ? (["bypassDocumentValidation"] as const) : []))];
    }
    case "$merge": {
      const o = asObject(spec);
      const target = foreignNs(o !== undefined ? o["into"] : spec, db);
      if (target === undefined) return [];
      const whenMatched = o?.["whenMatched"] ?? "merge";
      const whenNotMatched = o?.["whenNotMatched"] ?? "insert";
      const actions: ActionType[] = [];
      if (whenNotMatched === "insert") actions.push("insert");
      if (whenMatched !== "fail") actions.push("update");
      if (bypass) actions.push("bypassDocumentValidation");
      return actions.length === 0 ? [] : [privilege(target, ...actions)];
    }
    case "$lookup":
    case "$graphLookup":
    case "$unionWith": {
      const o = asObject(spec);
      const from = name === "$unionWith" ? (o !== undefined ? o["coll"] : spec) : o?.["from"];
      const target = foreignNs(from, db);
      const out: Privilege[] = target !== undefined ? [privilege(target, "find")] : [];
      const sub = o?.["pipeline"];
      if (Array.isArray(sub)) {
        for (const s of sub) out.push(...stagePrivileges(s, db, target ?? ns, ctx, bypass));
      }
      return out;
    }
    case "$facet": {
      const out: Privilege[] = [];
      for (const sub of Object.values(asObject(spec) ?? {})) {
        if (Array.isArray(sub)) for (const s of sub) out.push(...stagePrivileges(s, db, ns, ctx, bypass));
      }
      return out;
    }
    default:
      return [];
  }
}

/**
 * `auth::getPrivilegesForAggregate` (`authorization_checks.cpp`): `find` on the namespace unless
 * the pipeline starts with a stage that generates its own documents, plus each stage's own needs.
 */
function aggregatePrivileges(db: string, cmd: Cmd, ctx: RequiredPrivilegesContext): Requirement {
  const ns = commandNs(db, cmd, "aggregate");
  const pipeline = Array.isArray(cmd["pipeline"]) ? (cmd["pipeline"] as unknown[]) : [];
  if (pipeline.length === 0) return on(ns, "find");
  const out: Privilege[] = [];
  if (!initialSources.has(stageName(pipeline[0]))) out.push(privilege(ns, "find"));
  const bypass = cmd["bypassDocumentValidation"] === true;
  for (const s of pipeline) out.push(...stagePrivileges(s, db, ns, ctx, bypass));
  return out.length === 0 ? "authenticated" : out;
}

/** `usersInfo`: oneself needs nothing; others need `viewUser` on their database. */
function usersInfoPrivileges(db: string, cmd: Cmd, ctx: RequiredPrivilegesContext): Requirement {
  const arg = cmd["usersInfo"];
  const o = asObject(arg);
  if (o !== undefined && o["forAllDBs"] === true) return on(clusterResource, "viewUser");
  if (arg === 1 || arg === true || (typeof arg === "number" && arg !== 0)) {
    return on(databaseResource(db), "viewUser");
  }
  const names = (Array.isArray(arg) ? arg : [arg]).map((n): UserName => {
    if (typeof n === "string") return { user: n, db };
    const u = asObject(n) ?? {};
    return { user: String(u["user"] ?? ""), db: String(u["db"] ?? db) };
  });
  const others = names.filter((n) => !sameUser(n, ctx.user));
  return others.length === 0 ? "authenticated" : others.map((n) => privilege(databaseResource(n.db), "viewUser"));
}

/** `updateUser` (`checkAuthForTypedCommand(UpdateUserCommand)`), the path for another user. */
function updateUserPrivileges(db: string, cmd: Cmd): Requirement {
  const out: Privilege[] = [];
  if (cmd["pwd"] !== undefined || cmd["mechanisms"] !== undefined) {
    out.push(privilege(databaseResource(db), "changePassword"));
  }
  if (cmd["customData"] !== undefined) out.push(privilege(databaseResource(db), "changeCustomData"));
  if (cmd["roles"] !== undefined) {
    out.push(privilege(anyNormalResource, "revokeRole"));
    out.push(...roleGrantPrivileges(roleRefs(cmd["roles"], db), "grantRole"));
  }
  out.push(...restrictionPrivileges(cmd, db));
  return out.length === 0 ? "authenticated" : out;
}

/** `updateUser` on oneself: `changeOwnPassword`/`changeOwnCustomData` instead. */
function updateOwnUserPrivileges(db: string, cmd: Cmd, ctx: RequiredPrivilegesContext): (readonly Privilege[])[] {
  const target = { user: String(cmd["updateUser"] ?? ""), db };
  if (!sameUser(target, ctx.user)) return [];
  const out: Privilege[] = [];
  if (cmd["pwd"] !== undefined || cmd["mechanisms"] !== undefined) {
    out.push(privilege(databaseResource(db), "changeOwnPassword"));
  }
  if (cmd["customData"] !== undefined) out.push(privilege(databaseResource(db), "changeOwnCustomData"));
  if (cmd["roles"] !== undefined) {
    out.push(privilege(anyNormalResource, "revokeRole"));
    out.push(...roleGrantPrivileges(roleRefs(cmd["roles"], db), "grantRole"));
  }
  out.push(...restrictionPrivileges(cmd, db));
  return [out];
}

const none: CommandAuthRule = { requiresAuth: false };
const authenticated: CommandAuthRule = {};
const internalOnly: CommandAuthRule = {
  adminOnly: true,
  required: () => on(clusterResource, "internal"),
};
const onCluster = (action: ActionType, adminOnly = false): CommandAuthRule => ({
  adminOnly,
  required: () => on(clusterResource, action),
});
const onNs = (...actions: ActionType[]): CommandAuthRule => ({
  required: (db, cmd, _ctx, name) => on(commandNs(db, cmd, name), ...actions),
});
const onDb = (action: ActionType): CommandAuthRule => ({
  required: (db) => on(databaseResource(db), action),
});
const onFullNs = (action: ActionType): CommandAuthRule => ({
  adminOnly: true,
  required: (_db, cmd, _ctx, name) => on(fullNs(cmd, name), action),
});

/**
 * Each command's authorization, from its `checkAuthForOperation`/`doCheckAuthorization`/
 * `requiresAuth`/`adminOnly` in the server (8.x line). Unknown commands need authentication.
 */
const rules: ReadonlyMap<string, CommandAuthRule> = new Map<string, CommandAuthRule>([
  // Handshake, auth and test-only commands: `requiresAuth()` false.
  ["hello", none],
  ["isMaster", none],
  ["ismaster", none],
  ["ping", none],
  ["buildInfo", none],
  ["buildinfo", none],
  ["saslStart", none],
  ["saslContinue", none],
  ["authenticate", none],
  ["logout", none],
  ["connectionStatus", none],
  // fail_point_cmd.cpp: "No auth needed because it only works when enabled via command line."
  ["configureFailPoint", { adminOnly: true, requiresAuth: false }],
  ["sleep", { adminOnly: true, requiresAuth: false }],

  // Sessions: checkAuthForOperation OK ("Any user can kill their own sessions"); requiresAuth
  // stays true, so an unauthenticated client is refused before the command runs.
  ["startSession", authenticated],
  ["refreshSessions", authenticated],
  ["endSessions", authenticated],
  ["killSessions", authenticated],
  ["killAllSessions", onCluster("killAnySession")],
  ["killAllSessionsByPattern", onCluster("killAnySession")],
  ["refreshLogicalSessionCacheNow", authenticated],
  ["reapLogicalSessionCacheNow", authenticated],

  // Transactions.
  ["commitTransaction", { adminOnly: true }],
  ["abortTransaction", { adminOnly: true }],
  ["prepareTransaction", internalOnly],
  ["coordinateCommitTransaction", internalOnly],

  // CRUD (authorization_checks.cpp).
  [
    "find",
    {
      required: (db, cmd) => [
        privilege(commandNs(db, cmd, "find"), "find"),
        ...(cmd["term"] !== undefined ? [privilege(clusterResource, "internal")] : []),
      ],
    },
  ],
  // checkAuthForGetMore: authentication only (the cursor's owner is checked when it is used).
  [
    "getMore",
    {
      required: (_db, cmd) => (cmd["term"] !== undefined ? on(clusterResource, "internal") : "authenticated"),
    },
  ],
  ["count", onNs("find")],
  ["distinct", onNs("find")],
  ["insert", { required: (db, cmd) => on(commandNs(db, cmd, "insert"), ...withBypass(["insert"], cmd)) }],
  [
    "update",
    {
      required: (db, cmd) => {
        const updates = Array.isArray(cmd["updates"]) ? (cmd["updates"] as unknown[]) : [];
        const upsert = updates.some((u) => asObject(u)?.["upsert"] === true);
        return on(commandNs(db, cmd, "update"), ...withBypass(upsert ? ["update", "insert"] : ["update"], cmd));
      },
    },
  ],
  ["delete", onNs("remove")],
  ...(["findAndModify", "findandmodify"] as const).map((name): [string, CommandAuthRule] => [
    name,
    {
      required: (db, cmd) => {
        const actions: ActionType[] = ["find"];
        if (cmd["update"] !== undefined && cmd["update"] !== null && cmd["update"] !== false) {
          actions.push("update");
        }
        if (cmd["upsert"] === true) actions.push("insert");
        if (cmd["remove"] === true) actions.push("remove");
        return on(commandNs(db, cmd, name), ...withBypass(actions, cmd));
      },
    },
  ]),
  ["aggregate", { required: aggregatePrivileges }],
  // checkAuthForKillCursors is per cursor (see canKillCursor).
  ["killCursors", authenticated],

  // Operations.
  [
    "currentOp",
    {
      adminOnly: true,
      required: (_db, cmd) => (cmd["$ownOps"] === true ? "authenticated" : on(clusterResource, "inprog")),
    },
  ],
  // KillOpCmdBase: killop on the cluster, or any authenticated user (own ops only, see canKillOp).
  ["killOp", { adminOnly: true }],

  // Diagnostics and parameters.
  ["serverStatus", onCluster("serverStatus")],
  // ReplSetCommand: admin only, `replSetStateChange` on the cluster (repl_set_commands.cpp).
  ["replSetStepDown", onCluster("replSetStateChange", true)],
  ["getParameter", onCluster("getParameter", true)],
  ["setParameter", onCluster("setParameter", true)],
  ["logApplicationMessage", onCluster("applicationMessage", true)],
  ["listDatabases", authenticated],

  // User management (user_management_commands_common.cpp).
  [
    "createUser",
    {
      required: (db, cmd) => [
        privilege(databaseResource(db), "createUser"),
        ...roleGrantPrivileges(roleRefs(cmd["roles"], db), "grantRole"),
        ...restrictionPrivileges(cmd, db),
      ],
    },
  ],
  [
    "updateUser",
    {
      required: (db, cmd) => updateUserPrivileges(db, cmd),
      alternatives: (db, cmd, ctx) => updateOwnUserPrivileges(db, cmd, ctx),
    },
  ],
  ["dropUser", onDb("dropUser")],
  ["dropAllUsersFromDatabase", onDb("dropUser")],
  ["usersInfo", { required: usersInfoPrivileges }],
  [
    "createRole",
    {
      required: (db, cmd) => [
        privilege(databaseResource(db), "createRole"),
        ...roleGrantPrivileges(roleRefs(cmd["roles"], db), "grantRole"),
        ...privilegeGrantPrivileges(cmd["privileges"], "grantRole"),
        ...restrictionPrivileges(cmd, db),
      ],
    },
  ],
  [
    "updateRole",
    {
      required: (db, cmd) => [
        privilege(anyNormalResource, "revokeRole"),
        ...roleGrantPrivileges(roleRefs(cmd["roles"], db), "grantRole"),
        ...(cmd["privileges"] !== undefined ? privilegeGrantPrivileges(cmd["privileges"], "grantRole") : []),
        ...restrictionPrivileges(cmd, db),
      ],
    },
  ],
  ["dropRole", onDb("dropRole")],
  ["dropAllRolesFromDatabase", onDb("dropRole")],
  ["grantRolesToUser", { required: (db, cmd) => roleGrantPrivileges(roleRefs(cmd["roles"], db), "grantRole") }],
  ["grantRolesToRole", { required: (db, cmd) => roleGrantPrivileges(roleRefs(cmd["roles"], db), "grantRole") }],
  ["revokeRolesFromUser", { required: (db, cmd) => roleGrantPrivileges(roleRefs(cmd["roles"], db), "revokeRole") }],
  ["revokeRolesFromRole", { required: (db, cmd) => roleGrantPrivileges(roleRefs(cmd["roles"], db), "revokeRole") }],
  ["grantPrivilegesToRole", { required: (_db, cmd) => privilegeGrantPrivileges(cmd["privileges"], "grantRole") }],
  ["revokePrivilegesFromRole", { required: (_db, cmd) => privilegeGrantPrivileges(cmd["privileges"], "revokeRole") }],
  [
    "rolesInfo",
    {
      required: (db, cmd) => {
        const arg = cmd["rolesInfo"];
        if (asObject(arg) !== undefined && !("role" in (arg as Cmd))) return on(databaseResource(db), "viewRole");
        if (typeof arg === "number" || arg === true) return on(databaseResource(db), "viewRole");
        const names = (Array.isArray(arg) ? arg : [arg]).map((r) => toRoleName(r as RoleRef, db));
        return names.map((r) => privilege(databaseResource(r.db), "viewRole"));
      },
    },
  ],

  // Sharding (mongos commands; the namespace comes from the command's value).
  ["shardCollection", onFullNs("enableSharding")],
  ["enableSharding", onFullNs("enableSharding")],
  ["split", onFullNs("splitChunk")],
  ["moveChunk", onFullNs("moveChunk")],
  ["addShard", onCluster("addShard", true)],
  ["removeShard", onCluster("removeShard", true)],
  ["listShards", onCluster("listShards", true)],

  // DDL.
  ["createIndexes", onNs("createIndex")],
  ["drop", onNs("dropCollection")],
  ["dropDatabase", onDb("dropDatabase")],
  ["dropIndexes", onNs("dropIndex")],
  ["deleteIndexes", onNs("dropIndex")],
  [
    "listCollections",
    {
      required: (db, cmd) =>
        cmd["authorizedCollections"] === true && cmd["nameOnly"] === true
          ? "authenticated"
          : on(databaseResource(db), "listCollections"),
    },
  ],
  ["listIndexes", onNs("listIndexes")],
  ["collMod", onNs("collMod")],
  // checkAuthForCreate: createCollection, or insert, on the namespace (+ convertToCapped).
  [
    "create",
    {
      required: (db, cmd) =>
        on(
          commandNs(db, cmd, "create"),
          "createCollection",
          ...(cmd["capped"] === true ? (["convertToCapped"] as const) : []),
        ),
      alternatives: (db, cmd) => [
        on(
          commandNs(db, cmd, "create"),
          "insert",
          ...(cmd["capped"] === true ? (["convertToCapped"] as const) : []),
        ) as readonly Privilege[],
      ],
    },
  ],
]);

function ruleFor(commandName: string): CommandAuthRule {
  const rule = rules.get(commandName);
  if (rule !== undefined) return rule;
  if (commandName.startsWith("_configsvr") || commandName.startsWith("_shardsvr")) return internalOnly;
  return authenticated;
}

/** Whether the command must be sent to the `admin` database (`Command::adminOnly()`). */
export function isAdminOnlyCommand(commandName: string): boolean {
  return ruleFor(commandName).adminOnly === true;
}

/**
 * What `commandName` run on `db` with body `cmd` needs, as the command's `checkAuthForOperation`
 * computes it.
 *
 * @remarks
 * Some checks accept alternatives (`create` with `insert` instead of `createCollection`,
 * `updateUser` on oneself with `changeOwnPassword`); this returns the primary requirement and
 * {@link checkCommandAuth} also accepts the alternatives. Checks made while the command runs are
 * separate: other users' `uid` in `killSessions`/lsids ({@link checkCanSetUserDigest}),
 * impersonation in `killAllSessionsByPattern`
 * ({@link checkKillAllSessionsByPatternImpersonation}), per-cursor `killCursors`
 * ({@link canKillCursor}), per-operation `killOp` ({@link canKillOp}).
 *
 * @example
 * ```ts
 * requiredPrivileges("insert", "test", { insert: "x", documents: [] });
 * // [{ resource: { db: "test", collection: "x" }, actions: ["insert"] }]
 * requiredPrivileges("startSession", "admin", { startSession: 1 }); // "authenticated"
 * ```
 */
export function requiredPrivileges(
  commandName: string,
  db: string,
  cmd: Readonly<Record<string, unknown>>,
  context: RequiredPrivilegesContext = {},
): RequiredPrivileges {
  const rule = ruleFor(commandName);
  const req = rule.required?.(db, cmd, context, commandName) ?? "authenticated";
  if (req === "authenticated" || req.length === 0) {
    return rule.requiresAuth === false ? "none" : "authenticated";
  }
  return req;
}

function unauthorized(errmsg: string): ServerError {
  return new ServerError(ErrorCodes.Unauthorized, errmsg);
}

/**
 * Refuses a command the connection may not run, as the server's command dispatch does.
 *
 * @remarks
 * In order (`checkAuthorizationImplPreParse` and `CommandInvocation::checkAuthorization`,
 * `src/mongo/db/commands.cpp`):
 * 1. an admin-only command sent elsewhere → `Unauthorized` "<name> may only be run against the
 *    admin database." (also with access control off);
 * 2. access control off → allowed;
 * 3. no authenticated user and the command requires authentication → `Unauthorized`
 *    "Command <name> requires authentication";
 * 4. missing privileges → `Unauthorized` "not authorized on <db> to execute command { ... }" (the
 *    command body with `$db`, passwords shown as "xxx").
 *
 * @example
 * ```ts
 * checkCommandAuth(session, "insert", "other", { insert: "x", documents: [] });
 * // throws: not authorized on other to execute command { insert: "x", documents: [], $db: "other" }
 * ```
 */
export function checkCommandAuth(
  session: AuthorizationSession,
  commandName: string,
  db: string,
  cmd: Readonly<Record<string, unknown>>,
  context: { readonly isMongos?: boolean } = {},
): void {
  const rule = ruleFor(commandName);
  if (rule.adminOnly === true && db !== "admin") {
    throw unauthorized(`${commandName} may only be run against the admin database.`);
  }
  if (!session.authEnabled) return;
  const user = session.user;
  if (rule.requiresAuth !== false && user === undefined) {
    throw unauthorized(`Command ${commandName} requires authentication`);
  }
  const ctx: RequiredPrivilegesContext = { user, isMongos: context.isMongos };
  const req = requiredPrivileges(commandName, db, cmd, ctx);
  if (req === "none" || req === "authenticated") return;
  if (session.isAuthorizedForPrivileges(req)) return;
  for (const alt of rule.alternatives?.(db, cmd, ctx) ?? []) {
    if (session.isAuthorizedForPrivileges(alt)) return;
  }
  throw unauthorized(`not authorized on ${db} to execute command ${formatCommandForError(commandName, db, cmd)}`);
}

/**
 * Whether the connection may kill a cursor on `ns` owned by `owner`.
 *
 * @remarks
 * `auth::checkAuthForKillCursors` (`authorization_checks.cpp`): `killAnyCursor` on the cluster,
 * or being the cursor's owner, or `killAnyCursor` on the namespace (on the database for a
 * `listCollections` cursor). The `killCursors` action is not consulted (deprecated in favour of
 * `killAnyCursor`). On refusal the server reports `Unauthorized` "not authorized to kill cursor
 * on <ns>" for that cursor.
 */
export function canKillCursor(
  session: AuthorizationSession,
  ns: NamespaceResource,
  owner: UserName | undefined,
): boolean {
  if (session.isAuthorized(clusterResource, "killAnyCursor")) return true;
  if (session.isCoauthorizedWith(owner)) return true;
  const target = ns.collection === "$cmd.listCollections" ? databaseResource(ns.db) : ns;
  return session.isAuthorized(target, "killAnyCursor");
}

/**
 * Whether the connection may kill an operation run by `owner`.
 *
 * @remarks
 * `KillOpCmdBase::findOpForKilling`: `killop` on the cluster, or the same user as the operation's
 * client. An operation the caller may not kill is silently left alone (the command still replies
 * `{info: "attempting to kill op", ok: 1}`).
 */
export function canKillOp(session: AuthorizationSession, owner: UserName | undefined): boolean {
  return session.isAuthorized(clusterResource, "killop") || session.isCoauthorizedWith(owner);
}

/**
 * Refuses an lsid whose client-supplied `uid` the caller may not use.
 *
 * @remarks
 * `makeLogicalSessionId` (`logical_session_id_helpers.cpp`): allowed with any of `allowSpoof`
 * (killSessions passes `killAnySession` on the cluster), with `impersonate` on the cluster, or
 * when `uid` is the caller's own digest; else `Unauthorized` "Unauthorized to set user digest in
 * LogicalSessionId". Always allowed with access control off.
 */
export function checkCanSetUserDigest(
  session: AuthorizationSession,
  uid: Binary,
  allowSpoof: readonly Privilege[] = [],
): void {
  if (!session.authEnabled) return;
  if (allowSpoof.some((p) => session.isAuthorizedForPrivileges([p]))) return;
  if (session.isAuthorized(clusterResource, "impersonate")) return;
  if (session.isAuthenticated && digestEquals(session.digest(), uid)) return;
  throw unauthorized("Unauthorized to set user digest in LogicalSessionId");
}

/**
 * The impersonation checks of `killAllSessionsByPattern` (after its `killAnySession` check).
 *
 * @remarks
 * `kill_all_sessions_by_pattern_command.cpp`: without `impersonate` on the cluster, a pattern
 * carrying `users` or `roles` → `Unauthorized` "Not authorized to impersonate in
 * killAllSessionsByPattern"; `getKillAllSessionsByPatternImpersonateData`: more than one user →
 * `BadValue` "Too many users in impersonation data".
 */
export function checkKillAllSessionsByPatternImpersonation(
  session: AuthorizationSession,
  patterns: readonly KillAllSessionsByPatternAuthInfo[],
): void {
  if (!session.isAuthorized(clusterResource, "impersonate")) {
    for (const p of patterns) {
      if (p.users !== undefined || p.roles !== undefined) {
        throw unauthorized("Not authorized to impersonate in killAllSessionsByPattern");
      }
    }
  }
  for (const p of patterns) {
    if ((p.users?.length ?? 0) > 1) {
      throw new ServerError(ErrorCodes.BadValue, "Too many users in impersonation data");
    }
  }
}
