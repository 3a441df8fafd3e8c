import { Future, NetworkError, spawn, wait, type Settled, type Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { isDocument, type Document } from "../idl/bson-types.js";
import type { ServerNode } from "../node/server-node.js";
import { runOnShard } from "../sharding/router.js";
import type { ShardedCollectionEntry } from "../sharding/sharding-catalog.js";
import { frozenLsidFromKey, parentLsidKey, uidEntryOfKey, type LogicalSessionId } from "../session/index.js";
import { freezePipeline } from "../storage/index.js";

/** `NamespaceString::kLogicalSessionsNamespace`. */
export const SESSIONS_NAMESPACE = "config.system.sessions";
/** The database and collection parts of {@link SESSIONS_NAMESPACE}. */
export const SESSIONS_DB = "config";
export const SESSIONS_COLLECTION = "system.sessions";
/** `SessionsCollection::kSessionsTTLIndex`. */
export const SESSIONS_TTL_INDEX = "lsidTTLIndex";

/**
 * The sessions a refresh upserts: parent-session keys (see `parentLsidKey`), their frozen lsids
 * (see `frozenLsidFromKey`: the stored documents' `_id`s) and, per key, whether the record carries
 * its owner's name. Flat arrays instead of a million record objects.
 */
export interface RefreshBatchInput {
  readonly keys: readonly string[];
  readonly lsids: readonly LogicalSessionId[];
  /** 1 where the record has a `user` (the name comes from the interned uid). */
  readonly withUser: Uint8Array;
}

/** What `refreshSessions` reports: the keys whose batch failed and every batch error. */
export interface RefreshSessionsResult {
  readonly failedKeys: readonly string[];
  readonly errors: readonly ServerError[];
}

/**
 * Where a node's logical session cache persists its records (`SessionsCollection`).
 *
 * @remarks
 * `src/mongo/db/session/sessions_collection.h`. In a sharded cluster mongos and shard members use
 * {@link SessionsCollectionSharded} and the config server {@link SessionsCollectionConfigServer}.
 */
export interface SessionsCollection {
  /** Makes sure the collection can be written (creating it on the config server); throws if not. */
  setupSessionsCollection(node: ServerNode): Task<void>;
  /** Throws unless the collection exists and is sharded. */
  checkSessionsCollectionExists(node: ServerNode): void;
  /** Upserts the records; failed batches are reported, not thrown. */
  refreshSessions(node: ServerNode, input: RefreshBatchInput): Task<RefreshSessionsResult>;
  /** Deletes the records of these sessions; throws the first batch error after trying every batch. */
  removeRecords(node: ServerNode, keys: readonly string[]): Task<void>;
  /** The keys among `keys` whose record is not in the collection; throws on error. */
  findRemovedSessions(node: ServerNode, keys: readonly string[]): Task<Set<string>>;
}

// ---- helpers ------------------------------------------------------------------------------------

/** A ServerError for any failure of a remote call (NetworkError → HostUnreachable / NetworkTimeout). */
export function toServerError(e: unknown): ServerError {
  if (e instanceof ServerError) return e;
  if (e instanceof NetworkError)
    return new ServerError(
      e.kind === "HostUnreachable" ? ErrorCodes.HostUnreachable : ErrorCodes.NetworkTimeout,
      e.message,
    );
  throw e;
}

function replyError(reply: Document): ServerError | undefined {
  if (Number(reply.ok) === 1) return undefined;
  const code = typeof reply.code === "number" ? reply.code : ErrorCodes.UnknownError;
  return new ServerError(code, String(reply.errmsg ?? "command failed"));
}

/** The status of a command reply (`getStatusFromCommandResult`). */
export function commandStatus(reply: Document): ServerError | undefined {
  return replyError(reply);
}

/**
 * The status of a write command reply (`getStatusFromWriteCommandReply` /
 * `BatchedCommandResponse::toStatus`): a top-level error, else the first write error, else the
 * write concern error.
 */
export function writeCommandStatus(reply: Document): ServerError | undefined {
  const top = replyError(reply);
  if (top !== undefined) return top;
  const writeErrors = reply.writeErrors;
  if (Array.isArray(writeErrors) && writeErrors.length > 0 && isDocument(writeErrors[0])) {
    const w = writeErrors[0];
    return new ServerError(typeof w.code === "number" ? w.code : ErrorCodes.UnknownError, String(w.errmsg ?? ""));
  }
  const wce = reply.writeConcernError;
  if (isDocument(wce))
    return new ServerError(
      typeof wce.code === "number" ? wce.code : ErrorCodes.WriteConcernFailed,
      String(wce.errmsg ?? ""),
    );
  return undefined;
}

/** Runs `command` on a shard's primary; network failures become ServerErrors. */
function* runOnShardChecked(node: ServerNode, shardId: string, command: Document): Task<Document> {
  try {
    return yield* runOnShard(node, shardId, { db: SESSIONS_DB, command, internal: true });
  } catch (e) {
    throw toServerError(e);
  }
}

/** Sends one command per shard, in parallel, and waits for every reply (or failure). */
export function* sendToShards(
  node: ServerNode,
  sends: readonly { readonly shard: string; readonly command: Document }[],
): Task<Settled<Document>[]> {
  const futures = sends.map((s) => spawn(runOnShardChecked(node, s.shard, s.command)));
  const all = new Future<Settled<Document>[]>();
  const results = new Array<Settled<Document>>(futures.length);
  let pending = futures.length;
  if (pending === 0) all.resolve(results);
  futures.forEach((f, i) =>
    f.onSettle((r) => {
      results[i] = r;
      if (--pending === 0) all.resolve(results);
    }),
  );
  return yield* wait(all);
}

/** Keys grouped by the shard owning their `_id`, in shard-id order (the server's `std::multimap`). */
interface Grouped {
  /** Positions into the input, grouped. */
  readonly order: Uint32Array;
  /** The shard of each position in `order`. */
  readonly shards: readonly string[];
}

const NOT_SHARDED = "Collection config.system.sessions is not sharded";

/** The routing entry of the sessions collection, or NamespaceNotSharded. */
function routingEntry(node: ServerNode, message = NOT_SHARDED): ShardedCollectionEntry {
  const entry = node.shared.sharding.collection(SESSIONS_NAMESPACE);
  if (entry === undefined) throw new ServerError(ErrorCodes.NamespaceNotSharded, message);
  return entry;
}

/**
 * `_groupSessionRecordsByOwningShard`: the chunk owning each session's `_id`. With one chunk (the
 * common case) no lookup is needed and the input order is kept.
 */
function groupByOwningShard(node: ServerNode, lsids: readonly LogicalSessionId[]): Grouped {
  const entry = routingEntry(node);
  const order = new Uint32Array(lsids.length);
  for (let i = 0; i < lsids.length; i++) order[i] = i;
  const owners = new Set(entry.chunks.map((c) => c.shard));
  if (owners.size === 1) {
    const shard = entry.chunks[0].shard;
    return { order, shards: new Array<string>(lsids.length).fill(shard) };
  }
  const sharding = node.shared.sharding;
  const shardOf = lsids.map((lsid) => sharding.shardForDocument(entry, { _id: lsid }));
  // Stable sort of positions by shard id.
  const sorted = Array.from(order).sort((a, b) => (shardOf[a] < shardOf[b] ? -1 : shardOf[a] > shardOf[b] ? 1 : a - b));
  return { order: Uint32Array.from(sorted), shards: sorted.map((i) => shardOf[i]) };
}

/** Splits positions `[start, end)` of a grouping into one run per shard. */
function runsOf(grouped: Grouped, start: number, end: number): { shard: string; from: number; to: number }[] {
  const runs: { shard: string; from: number; to: number }[] = [];
  let from = start;
  for (let i = start + 1; i <= end; i++) {
    if (i === end || grouped.shards[i] !== grouped.shards[from]) {
      runs.push({ shard: grouped.shards[from], from, to: i });
      from = i;
    }
  }
  return runs;
}

const NO_USER_UPDATE: readonly Document[] = freezePipeline([{ $set: { lastUse: "$$NOW" } }]);
const updateByUser = new Map<string, readonly Document[]>();

/**
 * The refresh's update for a record (`updateQuery` in `sessions_collection.cpp`):
 * `[{$set: {lastUse: "$$NOW"}}, {$set: {user: {name}}}]` — `lastUse` is the applying node's clock.
 * Shared per user, so a million statements do not build a million pipelines.
 */
function updateFor(user: string | undefined): readonly Document[] {
  if (user === undefined) return NO_USER_UPDATE;
  let u = updateByUser.get(user);
  if (u === undefined) {
    u = freezePipeline([{ $set: { lastUse: "$$NOW" } }, { $set: { user: { name: user } } }]);
    updateByUser.set(user, u);
  }
  return u;
}

function majorityWriteConcern(node: ServerNode): Document {
  return { w: "majority", wtimeout: node.params.sessionWriteConcernTimeoutSystemMillis };
}

// ---- the sharded variant ----------------------------------------------------------------------

/**
 * The sessions collection as mongos and shard members see it: a sharded collection they only
 * check and write through the chunk owners.
 *
 * @remarks
 * `SessionsCollectionSharded` (`src/mongo/db/global_catalog/ddl/sessions_collection_sharded.cpp`):
 * `setupSessionsCollection` only calls `checkSessionsCollectionExists` ("If the collection doesn't
 * exist, fail. Only the config servers generate it."): NamespaceNotSharded (118) "Session
 * collection 'config.system.sessions' is not sharded". Records are grouped by owning shard and
 * sent in unordered `update` batches of `sessionMaxBatchSize` with `{w: "majority", wtimeout:
 * sessionWriteConcernTimeoutSystemMillis}` (`SessionsCollection::_doRefresh`); a failed batch's
 * records are returned for the next refresh ([M] `RefreshSessionsResult`). Removal sends
 * `{q: {_id}, limit: 1}` deletes and throws the first error after every batch
 * (`_doRemove`); `findRemovedSessions` sends `find` with `{_id: {$in}}`, projection `{_id: 1}`
 * and `readConcern: {level: "local"}` (`_doFindRemoved`). ShardingStateNotInitialized is not
 * modelled: sharding is initialised on every node from the start.
 */
export class SessionsCollectionSharded implements SessionsCollection {
  // eslint-disable-next-line require-yield
  *setupSessionsCollection(node: ServerNode): Task<void> {
    this.checkSessionsCollectionExists(node);
  }

  checkSessionsCollectionExists(node: ServerNode): void {
    routingEntry(node, `Session collection '${SESSIONS_NAMESPACE}' is not sharded`);
  }

  *refreshSessions(node: ServerNode, input: RefreshBatchInput): Task<RefreshSessionsResult> {
    const { keys, lsids, withUser } = input;
    const grouped = groupByOwningShard(node, lsids);
    const batchSize = node.params.sessionMaxBatchSize;
    const failedKeys: string[] = [];
    const errors: ServerError[] = [];
    for (let start = 0; start < keys.length; start += batchSize) {
      const end = Math.min(keys.length, start + batchSize);
      const sends = runsOf(grouped, start, end).map((run) => {
        const updates = new Array<Document>(run.to - run.from);
        for (let p = run.from; p < run.to; p++) {
          const i = grouped.order[p];
          const key = keys[i];
          const user = withUser[i] === 1 ? uidEntryOfKey(key).user : undefined;
          updates[p - run.from] = { q: { _id: lsids[i] }, u: updateFor(user), upsert: true };
        }
        return {
          shard: run.shard,
          command: {
            update: SESSIONS_COLLECTION,
            updates,
            ordered: false,
            writeConcern: majorityWriteConcern(node),
          },
        };
      });
      const results = yield* sendToShards(node, sends);
      const failure = firstFailure(results, writeCommandStatus);
      if (failure !== undefined) {
        errors.push(failure);
        for (let p = start; p < end; p++) failedKeys.push(keys[grouped.order[p]]);
      }
    }
    return { failedKeys, errors };
  }

  *removeRecords(node: ServerNode, keys: readonly string[]): Task<void> {
    if (keys.length === 0) return;
    const lsids = keys.map(frozenLsidFromKey);
    const grouped = groupByOwningShard(node, lsids);
    const batchSize = node.params.sessionMaxBatchSize;
    let first: ServerError | undefined;
    for (let start = 0; start < keys.length; start += batchSize) {
      const end = Math.min(keys.length, start + batchSize);
      const sends = runsOf(grouped, start, end).map((run) => {
        const deletes: Document[] = [];
        for (let p = run.from; p < run.to; p++) deletes.push({ q: { _id: lsids[grouped.order[p]] }, limit: 1 });
        return {
          shard: run.shard,
          command: { delete: SESSIONS_COLLECTION, deletes, ordered: false, writeConcern: majorityWriteConcern(node) },
        };
      });
      const results = yield* sendToShards(node, sends);
      first ??= firstFailure(results, writeCommandStatus);
    }
    if (first !== undefined) throw first;
  }

  *findRemovedSessions(node: ServerNode, keys: readonly string[]): Task<Set<string>> {
    const removed = new Set(keys);
    if (keys.length === 0) return removed;
    const lsids = keys.map(frozenLsidFromKey);
    const grouped = groupByOwningShard(node, lsids);
    const batchSize = node.params.sessionMaxBatchSize;
    for (let start = 0; start < keys.length; start += batchSize) {
      const end = Math.min(keys.length, start + batchSize);
      const sends = runsOf(grouped, start, end).map((run) => {
        const ids: Document[] = [];
        for (let p = run.from; p < run.to; p++) ids.push(lsids[grouped.order[p]]);
        return {
          shard: run.shard,
          command: {
            find: SESSIONS_COLLECTION,
            filter: { _id: { $in: ids } },
            projection: { _id: 1 },
            batchSize: ids.length,
            limit: ids.length,
            singleBatch: true,
            readConcern: { level: "local" },
          },
        };
      });
      const results = yield* sendToShards(node, sends);
      const failure = firstFailure(results, commandStatus);
      if (failure !== undefined) throw failure;
      for (const r of results) {
        if (!r.ok) continue;
        const cursor = r.value.cursor;
        const batch = isDocument(cursor) && Array.isArray(cursor.firstBatch) ? cursor.firstBatch : [];
        for (const doc of batch) {
          const id = isDocument(doc) ? doc._id : undefined;
          if (isDocument(id) && id.id !== undefined && id.uid !== undefined)
            removed.delete(parentLsidKey(id as LogicalSessionId));
        }
      }
    }
    return removed;
  }
}

/** The first failure among settled replies (a rejection, or a reply whose status is an error). */
function firstFailure(
  results: readonly Settled<Document>[],
  status: (reply: Document) => ServerError | undefined,
): ServerError | undefined {
  for (const r of results) {
    if (!r.ok) return toServerError(r.error);
    const s = status(r.value);
    if (s !== undefined) return s;
  }
  return undefined;
}

// ---- the config server variant ------------------------------------------------------------------

/**
 * The config server's sessions collection: like {@link SessionsCollectionSharded}, but its setup
 * creates the collection.
 *
 * @remarks
 * `SessionsCollectionConfigServer::setupSessionsCollection`
 * (`src/mongo/db/global_catalog/ddl/sessions_collection_config_server.cpp`), on every refresh (no
 * latch, so a dropped collection or index is re-created — "auto-healing"):
 * `_shardCollectionIfNeeded`: if not sharded and there are no shards → ShardNotFound (70) "Failed to
 * create config.system.sessions: cannot create the collection until there are shards"; else shard
 * it on `{_id: 1}` (`shardLogicalSessionsCollectionRequest`; one chunk, on the first shard here).
 * `_generateIndexesIfNeeded`: `createIndexes` of `{key: {lastUse: 1}, name: "lsidTTLIndex",
 * expireAfterSeconds: 60 * localLogicalSessionTimeoutMinutes}` on every shard owning a chunk; any
 * failure fails the setup (an index with another TTL fails IndexOptionsConflict: a changed timeout
 * is not propagated, SERVER-43218).
 */
export class SessionsCollectionConfigServer extends SessionsCollectionSharded {
  override *setupSessionsCollection(node: ServerNode): Task<void> {
    const sharding = node.shared.sharding;
    if (sharding.collection(SESSIONS_NAMESPACE) === undefined) {
      if (sharding.shards.length === 0)
        throw new ServerError(
          ErrorCodes.ShardNotFound,
          `Failed to create ${SESSIONS_NAMESPACE}: cannot create the collection until there are shards`,
        );
      const shard = sharding.shards[0]._id;
      sharding.shardCollection(SESSIONS_NAMESPACE, { _id: 1 }, shard);
      node.ctx.record({ type: "sessionsCollection.create", ns: SESSIONS_NAMESPACE, shard });
    }
    const entry = routingEntry(node);
    const command = generateCreateIndexesCmd(node);
    const results = yield* sendToShards(
      node,
      sharding.owningShards(entry).map((shard) => ({ shard, command })),
    );
    const failure = firstFailure(results, commandStatus);
    if (failure !== undefined) throw failure;
  }
}

/** `SessionsCollection::generateCreateIndexesCmd()`. */
export function generateCreateIndexesCmd(node: ServerNode): Document {
  return {
    createIndexes: SESSIONS_COLLECTION,
    indexes: [
      {
        key: { lastUse: 1 },
        name: SESSIONS_TTL_INDEX,
        expireAfterSeconds: node.params.localLogicalSessionTimeoutMinutes * 60,
      },
    ],
    writeConcern: { w: 1, wtimeout: 0 },
  };
}
