import { type ActionType, allActionTypes } from "./action-types.js";
import { type RoleName, compareRoleNames } from "./names.js";
import { type Privilege, PrivilegeSet, privilege } from "./privilege.js";
import {
  type ResourcePattern,
  anyNormalResource,
  anyResource,
  clusterResource,
  collectionNameResource,
  databaseResource,
  namespaceResource,
} from "./resource-pattern.js";

/** Names of MongoDB's built-in roles (`src/mongo/db/auth/builtin_roles.yml`). */
export const BuiltinRoleNames = Object.freeze({
  read: "read",
  readWrite: "readWrite",
  userAdmin: "userAdmin",
  dbAdmin: "dbAdmin",
  dbOwner: "dbOwner",
  enableSharding: "enableSharding",
  readAnyDatabase: "readAnyDatabase",
  readWriteAnyDatabase: "readWriteAnyDatabase",
  userAdminAnyDatabase: "userAdminAnyDatabase",
  dbAdminAnyDatabase: "dbAdminAnyDatabase",
  clusterMonitor: "clusterMonitor",
  hostManager: "hostManager",
  clusterManager: "clusterManager",
  clusterAdmin: "clusterAdmin",
  __queryableBackup: "__queryableBackup",
  backup: "backup",
  restore: "restore",
  root: "root",
  directShardOperations: "directShardOperations",
  __system: "__system",
} as const);

/** One built-in role name. */
export type BuiltinRoleName = (typeof BuiltinRoleNames)[keyof typeof BuiltinRoleNames];

/** A `matchType` entry of `builtin_roles.yml`; `db` defaults to the role's database. */
type Grant =
  | { readonly match: "cluster" | "any" | "any_normal"; readonly actions: readonly ActionType[] }
  | { readonly match: "database"; readonly db?: string; readonly actions: readonly ActionType[] }
  | { readonly match: "collection"; readonly collection: string; readonly actions: readonly ActionType[] }
  | {
      readonly match: "exact_namespace";
      readonly db?: string;
      readonly collection: string;
      readonly actions: readonly ActionType[];
    };

interface BuiltinRoleDefinition {
  readonly adminOnly: boolean;
  /** Roles whose privileges are copied in (`db` defaults to this role's database). */
  readonly roles: readonly { readonly role: BuiltinRoleName; readonly db?: string }[];
  readonly grants: readonly Grant[];
}

// Action lists shared between roles, as the YAML anchors of builtin_roles.yml.
const readRoleActions: readonly ActionType[] = [
  "changeStream",
  "collStats",
  "dbHash",
  "dbStats",
  "find",
  "killCursors",
  "listCollections",
  "listIndexes",
  "listSearchIndexes",
  "planCacheRead",
];
const readWriteRoleActions: readonly ActionType[] = [
  ...readRoleActions,
  "cleanupStructuredEncryptionData",
  "compactStructuredEncryptionData",
  "convertToCapped",
  "createCollection",
  "createIndex",
  "createSearchIndexes",
  "dropCollection",
  "dropIndex",
  "dropSearchIndex",
  "insert",
  "remove",
  "renameCollectionSameDB",
  "update",
  "updateSearchIndex",
];
const userAdminRoleActions: readonly ActionType[] = [
  "changeCustomData",
  "changePassword",
  "createUser",
  "createRole",
  "dropUser",
  "dropRole",
  "grantRole",
  "revokeRole",
  "setAuthenticationRestriction",
  "viewUser",
  "viewRole",
];
const dbAdminRoleActions: readonly ActionType[] = [
  "analyze",
  "bypassDocumentValidation",
  "collMod",
  "collStats",
  "compact",
  "convertToCapped",
  "createCollection",
  "dbStats",
  "dropCollection",
  "dropDatabase",
  "dropIndex",
  "dropSearchIndex",
  "createIndex",
  "createSearchIndexes",
  "enableProfiler",
  "listCollections",
  "listIndexes",
  "listSearchIndexes",
  "updateSearchIndex",
  "planCacheIndexFilter",
  "planCacheRead",
  "planCacheWrite",
  "reIndex",
  "renameCollectionSameDB",
  "storageDetails",
  "validate",
];
const dbAdminRoleSingleTenantActions: readonly ActionType[] = ["configureQueryAnalyzer"];
const systemProfileActions: readonly ActionType[] = [
  ...readRoleActions,
  "convertToCapped",
  "createCollection",
  "dropCollection",
];
const readRoleAndIndexActions: readonly ActionType[] = [
  ...readRoleActions,
  "createIndex",
  "createSearchIndexes",
  "dropIndex",
  "dropSearchIndex",
];
const clusterMonitorRoleClusterActions: readonly ActionType[] = [
  "connPoolStats",
  "getCmdLineOpts",
  "getDefaultRWConcern",
  "getLog",
  "getParameter",
  "getShardMap",
  "hostInfo",
  "listDatabases",
  "listSampledQueries",
  "listSessions",
  "listShards",
  "netstat",
  "operationMetrics",
  "replSetGetConfig",
  "replSetGetStatus",
  "serverStatus",
  "top",
  "useUUID",
  "inprog",
  "shardingState",
  "allCollectionStats",
  "shardedDataDistribution",
];
const clusterMonitorRoleDatabaseActions: readonly ActionType[] = [
  "collStats",
  "dbStats",
  "getDatabaseVersion",
  "getShardVersion",
  "indexStats",
];
const hostManagerRoleClusterActions: readonly ActionType[] = [
  "applicationMessage",
  "auditConfigure",
  "connPoolSync",
  "dropConnections",
  "logRotate",
  "oidReset",
  "setParameter",
  "shutdown",
  "touch",
  "unlock",
  "flushRouterConfig",
  "fsync",
  "invalidateUserCache",
  "killAnyCursor",
  "killAnySession",
  "killop",
  "replSetResizeOplog",
  "resync",
  "trafficRecord",
  "rotateCertificates",
  "oidcListKeys",
  "oidcRefreshKeys",
];
const clusterManagerRoleClusterActions: readonly ActionType[] = [
  "appendOplogNote",
  "applicationMessage",
  "replSetConfigure",
  "replSetGetConfig",
  "replSetGetStatus",
  "replSetStateChange",
  "resync",
  "addShard",
  "removeShard",
  "listSessions",
  "listShards",
  "flushRouterConfig",
  "cleanupOrphaned",
  "getDefaultRWConcern",
  "runTenantMigration",
  "setDefaultRWConcern",
  "setFeatureCompatibilityVersion",
  "setClusterParameter",
  "getClusterParameter",
  "setChangeStreamState",
  "getChangeStreamState",
  "querySettings",
  "queryStatsRead",
  "queryStatsReadTransformed",
  "checkMetadataConsistency",
  "transitionFromDedicatedConfigServer",
  "transitionToDedicatedConfigServer",
];
const clusterManagerRoleDatabaseActions: readonly ActionType[] = [
  "analyzeShardKey",
  "configureQueryAnalyzer",
  "clearJumboFlag",
  "splitChunk",
  "moveChunk",
  "moveCollection",
  "enableSharding",
  "splitVector",
  "refineCollectionShardKey",
  "reshardCollection",
];
const clusterManagerRoleWriteActions: readonly ActionType[] = ["insert", "update", "remove"];
const restoreRoleWriteActions: readonly ActionType[] = [
  "bypassDocumentValidation",
  "collMod",
  "convertToCapped",
  "createCollection",
  "createIndex",
  "createSearchIndexes",
  "dropCollection",
  "insert",
  "updateSearchIndex",
];

/**
 * The built-in roles, transcribed from `src/mongo/db/auth/builtin_roles.yml` (8.x development
 * line). Entries with `matchType: any_system_buckets` are omitted (time-series buckets are not
 * modelled). `__system` is special-cased in `builtin_roles.tpl.cpp`: all actions on any resource.
 */
const definitions: { readonly [R in BuiltinRoleName]: BuiltinRoleDefinition } = {
  read: {
    adminOnly: false,
    roles: [],
    grants: [
      { match: "database", actions: readRoleActions },
      { match: "exact_namespace", collection: "system.js", actions: readRoleActions },
    ],
  },
  readWrite: {
    adminOnly: false,
    roles: [],
    grants: [
      { match: "database", actions: readWriteRoleActions },
      { match: "exact_namespace", collection: "system.js", actions: readWriteRoleActions },
    ],
  },
  userAdmin: {
    adminOnly: false,
    roles: [],
    grants: [{ match: "database", actions: userAdminRoleActions }],
  },
  dbAdmin: {
    adminOnly: false,
    roles: [],
    grants: [
      { match: "database", actions: dbAdminRoleActions },
      { match: "database", actions: dbAdminRoleSingleTenantActions },
      { match: "exact_namespace", collection: "system.profile", actions: systemProfileActions },
    ],
  },
  dbOwner: {
    adminOnly: false,
    roles: [{ role: "readWrite" }, { role: "dbAdmin" }, { role: "userAdmin" }],
    grants: [],
  },
  enableSharding: {
    adminOnly: false,
    roles: [],
    grants: [
      {
        match: "any_normal",
        actions: [
          "analyzeShardKey",
          "enableSharding",
          "moveCollection",
          "refineCollectionShardKey",
          "reshardCollection",
        ],
      },
    ],
  },
  readAnyDatabase: {
    adminOnly: true,
    roles: [],
    grants: [
      { match: "any_normal", actions: readRoleActions },
      { match: "cluster", actions: ["listDatabases"] },
      { match: "collection", collection: "system.js", actions: readRoleActions },
    ],
  },
  readWriteAnyDatabase: {
    adminOnly: true,
    roles: [{ role: "readAnyDatabase" }],
    grants: [
      { match: "any_normal", actions: readWriteRoleActions },
      { match: "collection", collection: "system.js", actions: readWriteRoleActions },
    ],
  },
  userAdminAnyDatabase: {
    adminOnly: true,
    roles: [],
    grants: [
      { match: "any_normal", actions: [...userAdminRoleActions, "listCachedAndActiveUsers"] },
      { match: "database", db: "local", actions: userAdminRoleActions },
      { match: "database", db: "config", actions: userAdminRoleActions },
      {
        match: "cluster",
        actions: ["listDatabases", "authSchemaUpgrade", "invalidateUserCache", "viewUser"],
      },
      { match: "exact_namespace", db: "admin", collection: "system.users", actions: readRoleAndIndexActions },
      { match: "exact_namespace", db: "admin", collection: "system.roles", actions: readRoleAndIndexActions },
      { match: "collection", collection: "system.users", actions: readRoleActions },
      { match: "exact_namespace", db: "admin", collection: "system.version", actions: readRoleActions },
      { match: "exact_namespace", db: "admin", collection: "system.backup_users", actions: readRoleActions },
    ],
  },
  dbAdminAnyDatabase: {
    adminOnly: true,
    roles: [],
    grants: [
      { match: "cluster", actions: ["listDatabases", "applyOps"] },
      { match: "any_normal", actions: dbAdminRoleActions },
      { match: "any_normal", actions: dbAdminRoleSingleTenantActions },
      { match: "collection", collection: "system.profile", actions: systemProfileActions },
    ],
  },
  clusterMonitor: {
    adminOnly: true,
    roles: [
      { role: "read", db: "config" },
      { role: "read", db: "local" },
    ],
    grants: [
      { match: "cluster", actions: clusterMonitorRoleClusterActions },
      { match: "any_normal", actions: clusterMonitorRoleDatabaseActions },
      { match: "database", db: "config", actions: clusterMonitorRoleDatabaseActions },
      {
        match: "exact_namespace",
        db: "config",
        collection: "system.sessions",
        actions: clusterMonitorRoleDatabaseActions,
      },
      { match: "database", db: "local", actions: clusterMonitorRoleDatabaseActions },
      { match: "exact_namespace", db: "local", collection: "system.replset", actions: ["find"] },
      { match: "exact_namespace", db: "local", collection: "replset.election", actions: ["find"] },
      { match: "exact_namespace", db: "local", collection: "replset.minvalid", actions: ["find"] },
      { match: "collection", collection: "system.profile", actions: ["find"] },
    ],
  },
  hostManager: {
    adminOnly: true,
    roles: [],
    grants: [
      { match: "cluster", actions: hostManagerRoleClusterActions },
      { match: "any_normal", actions: ["killCursors"] },
    ],
  },
  clusterManager: {
    adminOnly: true,
    roles: [{ role: "read", db: "config" }],
    grants: [
      { match: "cluster", actions: clusterManagerRoleClusterActions },
      { match: "any_normal", actions: clusterManagerRoleDatabaseActions },
      { match: "database", db: "config", actions: clusterManagerRoleDatabaseActions },
      { match: "database", db: "local", actions: clusterManagerRoleDatabaseActions },
      { match: "exact_namespace", db: "local", collection: "system.replset", actions: readRoleActions },
      { match: "any", actions: ["dbCheck"] },
      { match: "exact_namespace", db: "local", collection: "system.healthlog", actions: readRoleActions },
      { match: "database", db: "config", actions: clusterManagerRoleWriteActions },
      { match: "database", db: "local", actions: clusterManagerRoleWriteActions },
      {
        match: "exact_namespace",
        db: "local",
        collection: "replset.election",
        actions: clusterManagerRoleWriteActions,
      },
      {
        match: "exact_namespace",
        db: "local",
        collection: "replset.minvalid",
        actions: clusterManagerRoleWriteActions,
      },
    ],
  },
  clusterAdmin: {
    adminOnly: true,
    roles: [{ role: "clusterMonitor" }, { role: "hostManager" }, { role: "clusterManager" }],
    grants: [
      { match: "any_normal", actions: ["dropDatabase"] },
      { match: "any", actions: ["importCollection", "exportCollection"] },
    ],
  },
  __queryableBackup: {
    adminOnly: true,
    roles: [],
    grants: [
      { match: "any", actions: ["collStats", "listCollections", "listIndexes", "listSearchIndexes"] },
      { match: "any_normal", actions: ["find"] },
      { match: "cluster", actions: ["getParameter", "listDatabases", "useUUID"] },
      { match: "database", db: "config", actions: ["find"] },
      { match: "database", db: "local", actions: ["find"] },
      { match: "exact_namespace", db: "local", collection: "replset.election", actions: ["find"] },
      { match: "exact_namespace", db: "local", collection: "replset.minvalid", actions: ["find"] },
      { match: "collection", collection: "system.js", actions: ["find"] },
      { match: "collection", collection: "system.users", actions: ["find"] },
      { match: "collection", collection: "system.profile", actions: ["find"] },
      { match: "exact_namespace", db: "admin", collection: "system.backup_users", actions: ["find"] },
      { match: "exact_namespace", db: "admin", collection: "system.roles", actions: ["find"] },
      { match: "exact_namespace", db: "admin", collection: "system.version", actions: ["find"] },
      { match: "exact_namespace", db: "config", collection: "settings", actions: ["find"] },
    ],
  },
  backup: {
    adminOnly: true,
    roles: [{ role: "__queryableBackup" }],
    grants: [
      { match: "cluster", actions: ["appendOplogNote", "serverStatus", "setUserWriteBlockMode"] },
      { match: "exact_namespace", db: "config", collection: "settings", actions: ["insert", "update"] },
    ],
  },
  restore: {
    adminOnly: true,
    roles: [],
    grants: [
      {
        match: "cluster",
        actions: [
          "getParameter",
          "forceUUID",
          "useUUID",
          "bypassWriteBlockingMode",
          "setUserWriteBlockMode",
          "applyOps",
        ],
      },
      { match: "database", db: "local", actions: restoreRoleWriteActions },
      { match: "database", db: "config", actions: restoreRoleWriteActions },
      { match: "exact_namespace", db: "local", collection: "system.replset", actions: restoreRoleWriteActions },
      { match: "exact_namespace", db: "local", collection: "replset.election", actions: restoreRoleWriteActions },
      { match: "exact_namespace", db: "local", collection: "replset.minvalid", actions: restoreRoleWriteActions },
      { match: "any", actions: ["listCollections"] },
      { match: "any_normal", actions: [...restoreRoleWriteActions, ...userAdminRoleActions] },
      { match: "collection", collection: "system.js", actions: restoreRoleWriteActions },
      { match: "exact_namespace", db: "admin", collection: "tempusers", actions: ["find"] },
      { match: "exact_namespace", db: "admin", collection: "temproles", actions: ["find"] },
      {
        match: "exact_namespace",
        db: "admin",
        collection: "system.backup_users",
        actions: restoreRoleWriteActions,
      },
      {
        match: "exact_namespace",
        db: "admin",
        collection: "system.version",
        actions: [...restoreRoleWriteActions, "find"],
      },
      {
        match: "collection",
        collection: "system.users",
        actions: [...restoreRoleWriteActions, "find", "update", "remove"],
      },
      { match: "exact_namespace", db: "admin", collection: "system.roles", actions: ["createIndex"] },
    ],
  },
  root: {
    adminOnly: true,
    roles: [
      { role: "clusterAdmin" },
      { role: "userAdminAnyDatabase" },
      { role: "dbAdminAnyDatabase" },
      { role: "readWriteAnyDatabase" },
      { role: "backup" },
      { role: "restore" },
      { role: "directShardOperations" },
    ],
    grants: [
      { match: "any", actions: ["validate"] },
      { match: "cluster", actions: ["useTenant"] },
      { match: "exact_namespace", db: "config", collection: "system.preimages", actions: ["find", "remove"] },
      {
        match: "exact_namespace",
        db: "config",
        collection: "system.change_collection",
        actions: ["find", "insert", "remove", "update"],
      },
    ],
  },
  directShardOperations: {
    adminOnly: true,
    roles: [],
    grants: [{ match: "cluster", actions: ["issueDirectShardOperations"] }],
  },
  __system: {
    adminOnly: true,
    roles: [],
    grants: [{ match: "any", actions: allActionTypes }],
  },
};

function grantResource(g: Grant, roleDb: string): ResourcePattern {
  switch (g.match) {
    case "cluster":
      return clusterResource;
    case "any":
      return anyResource;
    case "any_normal":
      return anyNormalResource;
    case "database":
      return databaseResource(g.db ?? roleDb);
    case "collection":
      return collectionNameResource(g.collection);
    case "exact_namespace":
      return namespaceResource(g.db ?? roleDb, g.collection);
  }
}

function isBuiltinRoleName(name: string): name is BuiltinRoleName {
  return Object.hasOwn(definitions, name);
}

/**
 * Whether a database can hold roles: a valid database name other than `$external`.
 *
 * @remarks
 * `isValidDB` in `builtin_roles.tpl.cpp` (`NamespaceString::validDBName` with `$` allowed, and not
 * the virtual `$external` database).
 */
export function isValidRoleDb(db: string): boolean {
  if (db === "" || db === "$external" || db.length >= 64) return false;
  return !/[/\\. "*<>:|?]/.test(db) && !db.includes("\u0000");
}

/**
 * Whether `role@db` is a built-in role. Admin-only roles (the "AnyDatabase" and cluster roles,
 * `backup`, `restore`, `root`, `__system`) exist only on `admin`; the others on every valid
 * database except `$external`.
 *
 * @remarks
 * `auth::isBuiltinRole` in `builtin_roles.tpl.cpp`.
 */
export function isBuiltinRole(role: RoleName): boolean {
  if (!isValidRoleDb(role.db) || !isBuiltinRoleName(role.role)) return false;
  return !definitions[role.role].adminOnly || role.db === "admin";
}

/**
 * The built-in roles that exist on `db`, sorted by name.
 *
 * @remarks
 * `auth::getBuiltinRoleNamesForDB`: every role on `admin`, the non-admin-only ones elsewhere.
 */
export function builtinRoleNamesForDb(db: string): RoleName[] {
  if (!isValidRoleDb(db)) return [];
  return (Object.keys(definitions) as BuiltinRoleName[])
    .filter((r) => db === "admin" || !definitions[r].adminOnly)
    .map((role) => Object.freeze({ role, db }))
    .sort(compareRoleNames);
}

function addBuiltinPrivileges(set: PrivilegeSet, role: BuiltinRoleName, db: string): void {
  const def = definitions[role];
  for (const sub of def.roles) addBuiltinPrivileges(set, sub.role, sub.db ?? db);
  for (const g of def.grants) set.add(privilege(grantResource(g, db), ...g.actions));
}

/**
 * The privileges of a built-in role, including those copied from the roles it is built from
 * (e.g. `root` includes `clusterAdmin`'s), merged per resource; `undefined` if `role` is not
 * built-in.
 *
 * @remarks
 * `auth::addPrivilegesForBuiltinRole`: in the role graph a built-in role is a leaf carrying all of
 * these privileges, so e.g. a user granted `dbOwner` holds no separate `readWrite` role. Notably
 * no built-in role other than `__system` has `impersonate` or `internal` (so not `root`).
 */
export function builtinRolePrivileges(role: RoleName): Privilege[] | undefined {
  if (!isBuiltinRole(role)) return undefined;
  const key = `${role.db}\u0000${role.role}`;
  let privileges = privilegeCache.get(key);
  if (privileges === undefined) {
    const set = new PrivilegeSet();
    addBuiltinPrivileges(set, role.role as BuiltinRoleName, role.db);
    privileges = Object.freeze(set.toArray());
    privilegeCache.set(key, privileges);
  }
  return [...privileges];
}

const privilegeCache = new Map<string, readonly Privilege[]>();
