import type { Task } from "@sessionsim/kernel";
import { isDocument, type Document } from "../idl/bson-types.js";
import { compareBson } from "../storage/index.js";
import type { ServerNode } from "../node/server-node.js";
import { parentLsidKey, type LogicalSessionId } from "../session/index.js";
import type { SessionsCollection } from "../sessions-collection/index.js";
import type { Session } from "../session-catalog/index.js";

/** What one reap did. */
export interface ReapOutcome {
  /**
   * The reap function's return value, `lastTransactionReaperJobEntriesCleanedUp`: on a mongod the
   * `config.transactions` entries deleted, on mongos the sessions reaped from memory.
   */
  readonly reaped: number;
  /** Session-catalog entries erased from memory (sessionsim's count for the trace). */
  readonly reapedFromMemory: number;
}

/**
 * What the periodic reap calls with the cut-off date: it removes the state of sessions last used
 * before that which are gone from `config.system.sessions` — from memory, and on mongods from
 * `config.transactions` — and says how much it removed.
 */
export type ReapSessionsOlderThanFn = (
  node: ServerNode,
  sessionsCollection: SessionsCollection,
  possiblyExpired: Date,
) => Task<ReapOutcome>;

/** `config.transactions`. */
export const TRANSACTIONS_NAMESPACE = "config.transactions";
/** `config.image_collection`. */
export const IMAGE_COLLECTION_NAMESPACE = "config.image_collection";

/** `kMaxSessionDeletionBatchSize` in `session_catalog_mongod.cpp`. */
const MAX_SESSION_DELETION_BATCH_SIZE = 10_000;

function isLsid(v: unknown): v is LogicalSessionId {
  return isDocument(v) && v.id !== undefined && v.uid !== undefined;
}

/**
 * The in-memory part of both reapers: session-catalog entries last checked out before
 * `possiblyExpired` whose logical session is gone from `config.system.sessions` are erased when
 * `canBeReaped` accepts them and nobody uses, waits for or is killing them. Returns how many were
 * erased and the keys of the expired sessions kept because they are still in use.
 *
 * @remarks `removeExpiredTransactionSessionsNotInUseFromMemory`
 * (`src/mongo/db/session/session_catalog_mongod.cpp`) and `RouterSessionCatalog::reapSessionsOlderThan`
 * (`src/mongo/s/session_catalog_router.cpp`): `findExpiredParentSessions` → `findRemovedSessions`
 * → `scanSessionsForReap` for each removed one. The catalog may change while `findRemovedSessions`
 * waits for the shards; the decision is taken on the state found when it returns, as the server's
 * scan takes it under the catalog's lock after the lookup.
 */
export function* removeExpiredSessionsNotInUseFromMemory(
  node: ServerNode,
  sessionsCollection: SessionsCollection,
  possiblyExpired: Date,
  canBeReaped: (s: Session) => boolean,
): Task<{ reaped: number; stillInUse: Set<string> }> {
  const catalog = node.sessionCatalog;
  const stillInUse = new Set<string>();
  const expired = catalog.findExpiredParentSessions(possiblyExpired.getTime());
  if (expired.length === 0) return { reaped: 0, stillInUse };
  const removed = yield* sessionsCollection.findRemovedSessions(node, expired);
  let reaped = 0;
  for (const key of expired) {
    if (!removed.has(key)) continue;
    if (catalog.reapSession(key, canBeReaped)) reaped++;
    else stillInUse.add(key);
  }
  return { reaped, stillInUse };
}

/**
 * The mongod reaper, `MongoDSessionCatalog::reapSessionsOlderThan`: first the in-memory part
 * ({@link removeExpiredSessionsNotInUseFromMemory}, reapable = the transaction participant has no
 * open — in-progress or prepared — transaction), then the on-disk part, which skips the sessions
 * still in memory.
 *
 * @remarks
 * On disk (`removeExpiredTransactionSessionsFromDisk`): scans `config.transactions` with
 * `lastWriteDate < possiblyExpired` sorted by `_id`, skipping the ids of sessions the first part
 * kept; per batch of 10,000 (and at the end) asks `findRemovedSessions` about the parent lsids
 * (`parentLsid` for child sessions) and deletes the images, then the transaction records, of
 * those whose session is gone. Only primaries write (every sessionsim mongod is a primary). A
 * child session shares its parent's catalog entry here, so "still in use" is decided per parent.
 */
export function* reapSessionsOlderThanMongod(
  node: ServerNode,
  sessionsCollection: SessionsCollection,
  possiblyExpired: Date,
): Task<ReapOutcome> {
  const participants = node.participants;
  const memory = yield* removeExpiredSessionsNotInUseFromMemory(
    node,
    sessionsCollection,
    possiblyExpired,
    (s) => participants?.canBeReaped(s) ?? true,
  );
  const reaped = yield* removeExpiredTransactionSessionsFromDisk(
    node,
    sessionsCollection,
    possiblyExpired,
    memory.stillInUse,
  );
  return { reaped, reapedFromMemory: memory.reaped };
}

function* removeExpiredTransactionSessionsFromDisk(
  node: ServerNode,
  sessionsCollection: SessionsCollection,
  possiblyExpired: Date,
  stillInUse: ReadonlySet<string>,
): Task<number> {
  const catalog = node.durable?.catalog;
  const transactions = catalog?.get(TRANSACTIONS_NAMESPACE);
  if (catalog === undefined || transactions === undefined) return 0;
  const parentKeyOf = (doc: Document): string | undefined => {
    const parent = isLsid(doc.parentLsid) ? doc.parentLsid : doc._id;
    return isLsid(parent) ? parentLsidKey(parent) : undefined;
  };
  // {lastWriteDate: {$lt: possiblyExpired}} sorted by _id, read directly: this runs on every
  // mongod every refresh interval, and a compiled query costs more than the scan.
  const cutoff = possiblyExpired.getTime();
  const candidates = transactions
    .committed()
    .filter(
      (doc) =>
        doc.lastWriteDate instanceof Date &&
        doc.lastWriteDate.getTime() < cutoff &&
        !stillInUse.has(parentKeyOf(doc) ?? ""),
    )
    .sort((a, b) => compareBson(a._id, b._id));
  let reaped = 0;
  for (let start = 0; start < candidates.length; start += MAX_SESSION_DELETION_BATCH_SIZE) {
    const batch = candidates.slice(start, start + MAX_SESSION_DELETION_BATCH_SIZE);
    const parents = new Set<string>();
    for (const doc of batch) {
      const k = parentKeyOf(doc);
      if (k !== undefined) parents.add(k);
    }
    const removed = yield* sessionsCollection.findRemovedSessions(node, [...parents]);
    const ids = batch.filter((doc) => removed.has(parentKeyOf(doc) ?? "")).map((doc) => doc._id);
    if (ids.length === 0) continue;
    const images = catalog.get(IMAGE_COLLECTION_NAMESPACE);
    for (const id of ids) images?.delete({ _id: id }, { limit: 1 });
    for (const id of ids) reaped += catalog.get(TRANSACTIONS_NAMESPACE)?.delete({ _id: id }, { limit: 1 }) ?? 0;
  }
  return reaped;
}

/**
 * mongos's reap function, `RouterSessionCatalog::reapSessionsOlderThan`: only the in-memory part
 * (router sessions, with their transaction routers); mongos stores nothing on disk. It returns the
 * number of sessions reaped, which is what mongos reports as
 * `lastTransactionReaperJobEntriesCleanedUp`. `TransactionRouter::canBeReaped` (no active yields)
 * always holds: sessionsim's router never yields a checked-out session.
 */
export function* reapSessionsOlderThanRouter(
  node: ServerNode,
  sessionsCollection: SessionsCollection,
  possiblyExpired: Date,
): Task<ReapOutcome> {
  const memory = yield* removeExpiredSessionsNotInUseFromMemory(node, sessionsCollection, possiblyExpired, () => true);
  return { reaped: memory.reaped, reapedFromMemory: memory.reaped };
}
