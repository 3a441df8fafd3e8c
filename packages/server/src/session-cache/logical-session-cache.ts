import type { Binary } from "bson";
import { spawn, type NodeContext, type Settled, type Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import type { ServerNode } from "../node/server-node.js";
import { NodeRoles } from "../node/topology.js";
import {
  formatLsid,
  internUid,
  frozenLsidFromKey,
  isChildSession,
  noteUidUser,
  parentLsidKey,
  uidEntryOfKey,
  uidToken,
  type LogicalSessionId,
  type LogicalSessionRecord,
} from "../session/index.js";
import {
  SessionsCollectionConfigServer,
  SessionsCollectionSharded,
  toServerError,
  type SessionsCollection,
} from "../sessions-collection/index.js";
import { LogicalSessionCacheStats } from "./logical-session-cache-stats.js";
import {
  reapSessionsOlderThanMongod,
  reapSessionsOlderThanRouter,
  type ReapOutcome,
  type ReapSessionsOlderThanFn,
} from "./reap.js";

/**
 * What the cache needs from the node's cursor manager (`ServiceLiaison::getOpenCursorSessions`,
 * `killCursorsWithMatchingSessions`).
 */
interface CursorService {
  sessionsWithOpenCursors(): readonly Document[];
  killCursorsWithMatchingSessions(
    matches: (lsid: Document) => boolean,
    reason?: "sessionEnded" | "sessionExpired",
  ): number;
}

/** Options of a {@link LogicalSessionCache} (defaults follow the node's role, as mongod/mongos main do). */
export interface LogicalSessionCacheOptions {
  readonly sessionsCollection?: SessionsCollection;
  readonly reapSessionsOlderThan?: ReapSessionsOlderThanFn;
}

const configServerSessionsCollection = new SessionsCollectionConfigServer();
const shardedSessionsCollection = new SessionsCollectionSharded();

/**
 * Caches by their node incarnation, keyed by the incarnation's failpoint registry: the one object
 * the kernel's context and every wrapper of it (e.g. cluster-time gossip) share.
 */
const cachesByIncarnation = new WeakMap<object, LogicalSessionCache>();

/**
 * The logical session cache of the node whose context is `ctx` (for benchmarks and tools that hold
 * a kernel; e.g. `logicalSessionCacheOf(kernel.contextOf("mongos0"))`).
 */
export function logicalSessionCacheOf(ctx: Pick<NodeContext, "failpoints">): LogicalSessionCache | undefined {
  return cachesByIncarnation.get(ctx.failpoints);
}

/**
 * A cached session: its parent lsid, built once from the key and frozen — the refresh's upserts and
 * the stored documents share it, so a refresh allocates no lsid per session — and `lastUse`
 * (whole ms) packed with the has-user flag (see {@link pack}).
 */
interface CachedSession {
  readonly lsid: LogicalSessionId;
  packed: number;
}

/** `lastUse` (whole ms) and the has-user flag packed in one number: `lastUse * 2 + flag`. */
function pack(lastUse: number, withUser: boolean): number {
  return lastUse * 2 + (withUser ? 1 : 0);
}

function packedLastUse(v: number): number {
  return Math.floor(v / 2);
}

function packedWithUser(v: number): boolean {
  return v % 2 === 1;
}

/**
 * One node's logical session cache: the sessions used on this node since its last successful
 * refresh, the sessions ended since then, and the periodic refresh and reap jobs.
 *
 * @remarks
 * `LogicalSessionCacheImpl` (`src/mongo/db/session/logical_session_cache_impl.cpp`, [M]). Every
 * node has one: mongos and shard members write through {@link SessionsCollectionSharded}, the
 * config server through {@link SessionsCollectionConfigServer} (which creates the collection).
 * State as in the server: `_activeSessions` (parent lsid → record) and `_endingSessions`. Both
 * jobs run every `logicalSessionRefreshMillis`, first at a seeded offset in [0, period), and are
 * not scheduled with `disableLogicalSessionCacheRefresh`.
 *
 * Memory: a cached session is one map entry — a 19-character key (the id's 16 bytes and an
 * interned uid token) and a {@link CachedSession}: the frozen lsid (its UUID's bytes pooled, its
 * uid interned) and one number packing `lastUse` and whether the record has a user (the user's
 * name is interned with its uid). Records are built only when read.
 *
 * @example
 * ```ts
 * node.sessionCache.vivify(lsid);            // a command carried lsid
 * const status = yield* node.sessionCache.refreshNow(); // undefined, or the first error
 * ```
 */
export class LogicalSessionCache {
  readonly #node: ServerNode;
  readonly #sessionsColl: SessionsCollection;
  readonly #reapSessionsOlderThan: ReapSessionsOlderThanFn;
  readonly #stats: LogicalSessionCacheStats;
  /** `_activeSessions`: parent key → cached session. */
  #active = new Map<string, CachedSession>();
  /** `_endingSessions`: parent keys. */
  #ending = new Set<string>();
  #periodicRefreshRunning = false;
  #periodicReapRunning = false;
  /** Reports `sessionCatalogSize` for serverStatus (set by the session catalog, when there is one). */
  sessionCatalogSize: () => number = () => 0;

  constructor(node: ServerNode, options: LogicalSessionCacheOptions = {}) {
    this.#node = node;
    this.#sessionsColl =
      options.sessionsCollection ??
      (node.role === NodeRoles.configsvr ? configServerSessionsCollection : shardedSessionsCollection);
    this.#reapSessionsOlderThan =
      options.reapSessionsOlderThan ??
      (node.role === NodeRoles.mongos ? reapSessionsOlderThanRouter : reapSessionsOlderThanMongod);
    this.#stats = new LogicalSessionCacheStats(node.now());
    cachesByIncarnation.set(node.ctx.failpoints, this);
    node.serverStatusSections.set("logicalSessionRecordCache", () => this.stats());
    if (!node.params.disableLogicalSessionCacheRefresh) this.#scheduleJobs();
  }

  // ---- entry points --------------------------------------------------------------------------

  /**
   * Records a use of `lsid` (its parent) on this node: updates `lastUse`, or adds a record —
   * with `user` if given (the caller's `"user@db"` when it owns the session).
   *
   * @remarks `LogicalSessionCacheImpl::vivify`; a new record goes through `_addToCacheIfNotFull`.
   * @throws ServerError TooManyLogicalSessions (261) if the cache already holds `maxSessions`.
   */
  vivify(lsid: LogicalSessionId, user?: string): void {
    const key = parentLsidKey(lsid);
    const now = Math.floor(this.#node.now());
    const cached = this.#active.get(key);
    if (cached !== undefined) {
      cached.packed = pack(now, packedWithUser(cached.packed));
      return;
    }
    this.#addToCacheIfNotFull(key, lsid, now, user);
    this.#node.ctx.record({ type: "session.vivify", id: lsid.id.toHexString(true), uid: internUid(lsid.uid).hex });
  }

  /**
   * Adds the record of a new session (`startSession`); an existing record is left as it is.
   *
   * @throws ServerError TooManyLogicalSessions (261) if the cache already holds `maxSessions`.
   */
  startSession(record: LogicalSessionRecord): void {
    const key = parentLsidKey(record.lsid);
    if (this.#active.has(key)) return;
    this.#addToCacheIfNotFull(key, record.lsid, Math.floor(record.lastUse), record.user);
    this.#node.ctx.record({
      type: "session.start",
      id: record.lsid.id.toHexString(true),
      uid: internUid(record.lsid.uid).hex,
      ...(record.user !== undefined ? { user: record.user } : {}),
    });
  }

  /**
   * Queues sessions to be ended at the next refresh: nothing else happens now — no operation is
   * killed, no transaction aborted, the session stays usable.
   *
   * @throws ServerError InvalidOptions "Cannot specify a child session id <lsid>" for a child lsid
   * (before queueing any).
   */
  endSessions(lsids: readonly LogicalSessionId[]): void {
    for (const lsid of lsids) this.#assertParent(lsid);
    for (const lsid of lsids) {
      this.#ending.add(parentLsidKey(lsid));
      this.#node.ctx.record({ type: "session.end", id: lsid.id.toHexString(true), uid: internUid(lsid.uid).hex });
    }
  }

  /** The cached record of a session, if any (`peekCached`; child lsids are refused). */
  peekCached(lsid: LogicalSessionId): LogicalSessionRecord | undefined {
    this.#assertParent(lsid);
    const key = parentLsidKey(lsid);
    const cached = this.#active.get(key);
    return cached === undefined ? undefined : this.#record(key, cached);
  }

  /**
   * The cached sessions' ids, in cache order; only those whose `uid` is one of `userDigests` if
   * given (`listIds`).
   */
  listIds(userDigests?: readonly Binary[]): LogicalSessionId[] {
    const tokens = userDigests === undefined ? undefined : new Set(userDigests.map((d) => uidToken(d)));
    const out: LogicalSessionId[] = [];
    for (const [key, cached] of this.#active)
      if (tokens === undefined || tokens.has(key.slice(16))) out.push(cached.lsid);
    return out;
  }

  /** The cached records, in cache order (what `$listLocalSessions` walks). */
  listRecords(userDigests?: readonly Binary[]): LogicalSessionRecord[] {
    const tokens = userDigests === undefined ? undefined : new Set(userDigests.map((d) => uidToken(d)));
    const out: LogicalSessionRecord[] = [];
    for (const [key, cached] of this.#active)
      if (tokens === undefined || tokens.has(key.slice(16))) out.push(this.#record(key, cached));
    return out;
  }

  /** The number of cached sessions (`size()`). */
  size(): number {
    return this.#active.size;
  }

  /** The number of sessions queued by `endSessions` for the next refresh. */
  endingCount(): number {
    return this.#ending.size;
  }

  /** `serverStatus.logicalSessionRecordCache`. */
  stats(): Document {
    return this.#stats.toBSON(this.#active.size, this.sessionCatalogSize());
  }

  /**
   * Runs a refresh now and returns its status: undefined, or the first error (setup failure,
   * failed upsert batch, failed removal) — `refreshNow` [M].
   */
  *refreshNow(): Task<ServerError | undefined> {
    try {
      return yield* this.#refresh();
    } catch (e) {
      return toServerError(e);
    }
  }

  /** Runs a reap now (`reapNow`); throws its error. */
  *reapNow(): Task<void> {
    yield* this.#reap();
  }

  // ---- internals -----------------------------------------------------------------------------

  #record(key: string, { lsid, packed }: CachedSession): LogicalSessionRecord {
    const lastUse = packedLastUse(packed);
    const user = packedWithUser(packed) ? uidEntryOfKey(key).user : undefined;
    return user === undefined ? { lsid, lastUse } : { lsid, lastUse, user };
  }

  #assertParent(lsid: LogicalSessionId): void {
    if (isChildSession(lsid))
      throw new ServerError(ErrorCodes.InvalidOptions, `Cannot specify a child session id ${formatLsid(lsid)}`);
  }

  /** `_addToCacheIfNotFull`. */
  #addToCacheIfNotFull(key: string, lsid: LogicalSessionId, lastUse: number, user: string | undefined): void {
    if (this.#active.size >= this.#node.params.maxSessions)
      throw new ServerError(
        ErrorCodes.TooManyLogicalSessions,
        `Unable to add session ID ${formatLsid({ id: lsid.id, uid: lsid.uid })} into the cache because the number of active sessions is too high`,
      );
    if (user !== undefined) noteUidUser(lsid.uid, user);
    this.#active.set(key, { lsid: frozenLsidFromKey(key), packed: pack(lastUse, user !== undefined) });
  }

  #scheduleJobs(): void {
    const ctx = this.#node.ctx;
    const period = this.#node.params.logicalSessionRefreshMillis;
    const rng = ctx.random("logicalSessionCache");
    const every = (label: string, first: number, run: () => void): void => {
      const fire = (): void => {
        ctx.setTimer(period, fire, label);
        run();
      };
      ctx.setTimer(first, fire, label);
    };
    every("LogicalSessionCacheRefresh", Math.floor(rng.next() * period), () => this.#periodicRefresh());
    every("LogicalSessionCacheReap", Math.floor(rng.next() * period), () => this.#periodicReap());
  }

  /** `_periodicRefresh`: a run at a time; failures are only logged (traced). */
  #periodicRefresh(): void {
    if (this.#periodicRefreshRunning) return;
    this.#periodicRefreshRunning = true;
    spawn(this.refreshNow()).onSettle((r) => {
      this.#periodicRefreshRunning = false;
      this.#reportBug("LogicalSessionCacheRefresh", r);
    });
  }

  /** `_periodicReap`: a run at a time; failures are only logged (traced). */
  #periodicReap(): void {
    if (this.#periodicReapRunning) return;
    this.#periodicReapRunning = true;
    spawn(this.#reap()).onSettle((r) => {
      this.#periodicReapRunning = false;
      // A failed reap is only logged by the server ("Failed to reap transaction table").
      if (!r.ok && r.error instanceof ServerError) return;
      this.#reportBug("LogicalSessionCacheReap", r);
    });
  }

  /** A periodic job that died of something other than a ServerError is a simulator bug: trace it. */
  #reportBug(job: string, r: Settled<unknown>): void {
    if (r.ok) return;
    const e = r.error;
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    this.#node.ctx.record({ type: "node.bug", opId: 0, command: job, error });
  }

  /** `_refresh` [M], step by step (reference §2.5). */
  *#refresh(): Task<ServerError | undefined> {
    const node = this.#node;
    const stats = this.#stats;
    const startedAt = node.now();
    stats.lastSessionsCollectionJobTimestamp = startedAt;
    stats.sessionsCollectionJobCount++;
    node.ctx.record({ type: "refresh.start" });
    const outcome = { refreshed: 0, ended: 0, failed: 0, cursorsClosed: 0 };
    try {
      const status = yield* this.#refreshSteps(outcome);
      node.ctx.record({
        type: "refresh.end",
        ok: status === undefined,
        ...outcome,
        ...(status === undefined ? {} : { codeName: status.codeName, error: status.errmsg }),
      });
      return status;
    } catch (e) {
      const err = toServerError(e);
      node.ctx.record({ type: "refresh.end", ok: false, ...outcome, codeName: err.codeName, error: err.errmsg });
      throw err;
    } finally {
      stats.lastSessionsCollectionJobDurationMillis = Math.floor(node.now() - startedAt);
      stats.lastSessionsCollectionJobDurationMillisUpdatedTimestamp = node.now();
    }
  }

  *#refreshSteps(outcome: {
    refreshed: number;
    ended: number;
    failed: number;
    cursorsClosed: number;
  }): Task<ServerError | undefined> {
    const node = this.#node;
    const stats = this.#stats;
    const coll = this.#sessionsColl;

    // 3. Set up (config server: create) the collection; on failure nothing was swapped out.
    yield* coll.setupSessionsCollection(node);

    // 4. Swap out the ending and active sessions; new uses go to fresh containers meanwhile.
    const ending = this.#ending;
    const active = this.#active;
    this.#ending = new Set();
    this.#active = new Map();
    // Back-swappers: restore the swapped-out state and merge in what was added since (existing
    // entries win, as `emplace` does).
    const backSwapActive = (): void => {
      const added = this.#active;
      this.#active = active;
      for (const [k, v] of added) if (!active.has(k)) active.set(k, v);
    };
    const backSwapEnding = (): void => {
      const added = this.#ending;
      this.#ending = ending;
      for (const k of added) ending.add(k);
    };

    // 5. Ended sessions are not refreshed.
    for (const k of ending) active.delete(k);

    // 6. Records: sessions of running operations (no user), then the cached records; one per
    // session (a running op's record wins, as the server's record set keyed by id does).
    let running: Set<string> | undefined;
    for (const op of node.ops.values()) {
      const lsid = op.lsid as LogicalSessionId | undefined;
      if (lsid === undefined) continue;
      const k = parentLsidKey(lsid);
      if (ending.has(k)) continue;
      (running ??= new Set()).add(k);
    }
    const keys: string[] = running === undefined ? [] : [...running];
    const lsids = keys.map(frozenLsidFromKey);
    const withUser = new Uint8Array(keys.length + active.size);
    // forEach, not for-of: a million sessions would allocate a million [key, value] entries.
    active.forEach((cached, k) => {
      if (running?.has(k) === true) return;
      withUser[keys.length] = packedWithUser(cached.packed) ? 1 : 0;
      keys.push(k);
      lsids.push(cached.lsid);
    });

    // 7. Upsert; failed batches' records go back to the cache, the refresh continues.
    let result;
    try {
      result = yield* coll.refreshSessions(node, { keys, lsids, withUser: withUser.subarray(0, keys.length) });
    } catch (e) {
      backSwapActive();
      backSwapEnding();
      throw e;
    }
    for (const k of result.failedKeys) {
      const cached = active.get(k);
      if (cached !== undefined && !this.#active.has(k)) this.#active.set(k, cached);
    }
    const status = result.errors[0];
    outcome.refreshed = keys.length - result.failedKeys.length;
    outcome.failed = result.failedKeys.length;
    stats.lastSessionsCollectionJobEntriesRefreshed = outcome.refreshed;
    stats.lastSessionsCollectionJobEntriesFailedToRefresh = outcome.failed;
    stats.lastSessionsCollectionJobEntriesRefreshedUpdatedTimestamp = node.now();

    // 8. Remove the ended sessions' records; on failure the end requests are kept.
    try {
      yield* coll.removeRecords(node, [...ending]);
    } catch (e) {
      backSwapEnding();
      throw e;
    }
    outcome.ended = ending.size;
    stats.lastSessionsCollectionJobEntriesEnded = ending.size;
    stats.lastSessionsCollectionJobEntriesEndedUpdatedTimestamp = node.now();

    // 9–11. Kill the cursors of ended sessions and of sessions gone from the collection (except
    // sessions used again meanwhile); errors of the lookup are ignored.
    const cursors = (node as unknown as { readonly cursors?: CursorService }).cursors;
    const openCursorSessions = new Set<string>();
    for (const lsid of cursors?.sessionsWithOpenCursors() ?? []) {
      const k = parentLsidKey(lsid as LogicalSessionId);
      if (!this.#active.has(k)) openCursorSessions.add(k);
    }
    let removed = new Set<string>();
    if (openCursorSessions.size > 0) {
      try {
        removed = yield* coll.findRemovedSessions(node, [...openCursorSessions]);
      } catch (e) {
        toServerError(e); // "Ignore errors." (simulator bugs still surface)
      }
    }
    let closed = 0;
    if (cursors !== undefined && (ending.size > 0 || removed.size > 0)) {
      if (ending.size > 0)
        closed += cursors.killCursorsWithMatchingSessions(
          (lsid) => ending.has(parentLsidKey(lsid as LogicalSessionId)),
          "sessionEnded",
        );
      if (removed.size > 0)
        closed += cursors.killCursorsWithMatchingSessions(
          (lsid) => removed.has(parentLsidKey(lsid as LogicalSessionId)),
          "sessionExpired",
        );
    }
    outcome.cursorsClosed = closed;
    stats.lastSessionsCollectionJobCursorsClosed = closed;
    stats.lastSessionsCollectionJobCursorsClosedUpdatedTimestamp = node.now();
    return status;
  }

  /** `_reap` (reference §2.7); throws its error. */
  *#reap(): Task<void> {
    const node = this.#node;
    const stats = this.#stats;
    const startedAt = node.now();
    stats.lastTransactionReaperJobTimestamp = startedAt;
    stats.transactionReaperJobCount++;
    try {
      this.#sessionsColl.checkSessionsCollectionExists(node);
    } catch (e) {
      // "Sessions collection is not set up; waiting until next sessions reap interval"
      const err = toServerError(e);
      node.ctx.record({ type: "reap.end", ok: true, reaped: 0, skipped: err.codeName });
      return;
    }
    const possiblyExpired = new Date(node.now() - node.params.TransactionRecordMinimumLifetimeMinutes * 60_000);
    let outcome: ReapOutcome;
    try {
      outcome = yield* this.#reapSessionsOlderThan(node, this.#sessionsColl, possiblyExpired);
    } catch (e) {
      const err = toServerError(e);
      stats.lastTransactionReaperJobDurationMillis = Math.floor(node.now() - startedAt);
      stats.lastTransactionReaperJobDurationUpdatedTimestamp = node.now();
      node.ctx.record({ type: "reap.end", ok: false, reaped: 0, codeName: err.codeName, error: err.errmsg });
      throw err;
    }
    stats.lastTransactionReaperJobDurationMillis = Math.floor(node.now() - startedAt);
    stats.lastTransactionReaperJobDurationUpdatedTimestamp = node.now();
    stats.lastTransactionReaperJobEntriesCleanedUp = outcome.reaped;
    stats.lastTransactionReaperJobEntriesCleanedUpUpdatedTimestamp = node.now();
    node.ctx.record({ type: "reap.end", ok: true, reaped: outcome.reaped, reapedFromMemory: outcome.reapedFromMemory });
  }
}
