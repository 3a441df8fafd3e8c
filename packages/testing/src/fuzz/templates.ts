import { Binary, Long, UUID, type Document } from "sessionsim";

/**
 * A valid command of MongoDB's documented shape, with the database it runs against.
 *
 * @example
 * const t: CommandTemplate = { db: "admin", command: { endSessions: [{ id: new UUID() }] } };
 * await runFuzz({ count: 100, seed: 1, templates: [t] });
 */
export interface CommandTemplate {
  readonly db: string;
  readonly command: Document;
}

const id = new UUID("6f1a3c4e-2b7d-4e59-9a1c-0d2e3f405162");
const uid = new Binary(new Uint8Array(32).fill(7), 0);

/**
 * Valid commands of every kind a node understands (MongoDB's documented shapes), the seeds of
 * the mutation fuzzer. Commands a role does not register answer `CommandNotFound`, which is a
 * MongoDB-shaped reply too.
 *
 * @example
 * COMMAND_TEMPLATES.map((t) => Object.keys(t.command)[0]); // ["hello", "ping", ...]
 */
export const COMMAND_TEMPLATES: readonly CommandTemplate[] = [
  { db: "admin", command: { hello: 1 } },
  { db: "admin", command: { isMaster: 1 } },
  { db: "admin", command: { ping: 1 } },
  { db: "admin", command: { buildInfo: 1 } },
  { db: "admin", command: { serverStatus: 1 } },
  { db: "admin", command: { getParameter: 1, logicalSessionRefreshMillis: 1 } },
  { db: "admin", command: { setParameter: 1, transactionLifetimeLimitSeconds: 60 } },
  {
    db: "admin",
    command: { configureFailPoint: "failCommand", mode: { times: 1 }, data: { failCommands: ["ping"], errorCode: 2 } },
  },
  { db: "admin", command: { sleep: 1, secs: 1, lock: "none" } },
  { db: "admin", command: { startSession: 1 } },
  { db: "admin", command: { refreshSessions: [{ id }] } },
  { db: "admin", command: { endSessions: [{ id }] } },
  { db: "admin", command: { killSessions: [{ id }] } },
  { db: "admin", command: { killSessions: [] } },
  { db: "admin", command: { killAllSessions: [{ user: "alice", db: "test" }] } },
  {
    db: "admin",
    command: {
      killAllSessionsByPattern: [
        { lsid: { id, uid } },
        { uid },
        { users: [{ user: "alice", db: "test" }], roles: [{ role: "readWrite", db: "test" }] },
      ],
    },
  },
  { db: "admin", command: { refreshLogicalSessionCacheNow: 1 } },
  { db: "admin", command: { reapLogicalSessionCacheNow: 1 } },
  { db: "admin", command: { aggregate: 1, pipeline: [{ $listLocalSessions: { allUsers: true } }], cursor: {} } },
  {
    db: "admin",
    command: {
      aggregate: 1,
      pipeline: [{ $listLocalSessions: { users: [{ user: "alice", db: "test" }] } }],
      cursor: {},
    },
  },
  {
    db: "config",
    command: { aggregate: "system.sessions", pipeline: [{ $listSessions: {} }, { $match: {} }], cursor: {} },
  },
  { db: "admin", command: { aggregate: 1, pipeline: [{ $currentOp: { allUsers: true } }], cursor: {} } },
  {
    db: "test",
    command: {
      insert: "items",
      documents: [{ _id: 1, v: 1 }],
      ordered: false,
      lsid: { id },
      txnNumber: Long.fromNumber(1),
    },
  },
  {
    db: "test",
    command: { update: "items", updates: [{ q: { _id: 1 }, u: { $inc: { v: 1 } }, upsert: true, multi: false }] },
  },
  { db: "test", command: { delete: "items", deletes: [{ q: { _id: 1 }, limit: 1 }] } },
  {
    db: "test",
    command: { find: "items", filter: { _id: { $gt: 0 } }, sort: { _id: 1 }, batchSize: 1, limit: 5, lsid: { id } },
  },
  { db: "test", command: { findAndModify: "items", query: { _id: 1 }, update: { $set: { v: 2 } }, new: true } },
  { db: "test", command: { count: "items", query: {} } },
  { db: "test", command: { getMore: Long.fromNumber(12345), collection: "items", batchSize: 2 } },
  { db: "test", command: { killCursors: "items", cursors: [Long.fromNumber(12345)] } },
  {
    db: "test",
    command: { aggregate: "items", pipeline: [{ $match: {} }, { $group: { _id: null, n: { $sum: 1 } } }], cursor: {} },
  },
  { db: "test", command: { createIndexes: "items", indexes: [{ key: { v: 1 }, name: "v_1" }] } },
  { db: "test", command: { listIndexes: "items" } },
  { db: "test", command: { dropIndexes: "items", index: "v_1" } },
  { db: "test", command: { create: "other" } },
  { db: "test", command: { drop: "other" } },
  { db: "test", command: { listCollections: 1 } },
  { db: "admin", command: { enableSharding: "test" } },
  { db: "admin", command: { shardCollection: "test.items", key: { _id: 1 } } },
  { db: "admin", command: { split: "test.items", middle: { _id: 0 } } },
  { db: "admin", command: { moveChunk: "test.items", find: { _id: 1 }, to: "shard1" } },
  { db: "admin", command: { killOp: 1, op: 1 } },
  {
    db: "test",
    command: {
      insert: "items",
      documents: [{ _id: 2 }],
      lsid: { id },
      txnNumber: Long.fromNumber(2),
      startTransaction: true,
      autocommit: false,
    },
  },
  { db: "admin", command: { commitTransaction: 1, lsid: { id }, txnNumber: Long.fromNumber(2), autocommit: false } },
  { db: "admin", command: { abortTransaction: 1, lsid: { id }, txnNumber: Long.fromNumber(2), autocommit: false } },
  {
    db: "admin",
    command: { prepareTransaction: 1, lsid: { id, uid }, txnNumber: Long.fromNumber(2), autocommit: false },
  },
  {
    db: "admin",
    command: {
      coordinateCommitTransaction: 1,
      participants: [{ shardId: "shard0" }, { shardId: "shard1" }],
      lsid: { id, uid },
      txnNumber: Long.fromNumber(2),
      autocommit: false,
    },
  },
  { db: "admin", command: { createUser: "carol", pwd: "pw", roles: [{ role: "read", db: "test" }] } },
  {
    db: "admin",
    command: {
      createRole: "killer",
      privileges: [{ resource: { cluster: true }, actions: ["killAnySession"] }],
      roles: [],
    },
  },
  { db: "admin", command: { grantRolesToUser: "carol", roles: ["killer"] } },
  { db: "admin", command: { usersInfo: 1 } },
  { db: "admin", command: { rolesInfo: 1 } },
  { db: "admin", command: { dropUser: "carol" } },
  { db: "admin", command: { revokeRolesFromUser: "carol", roles: [{ role: "killer", db: "admin" }] } },
  {
    db: "admin",
    command: {
      grantPrivilegesToRole: "killer",
      privileges: [{ resource: { cluster: true }, actions: ["listSessions"] }],
    },
  },
];
