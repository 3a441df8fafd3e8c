import type { Task } from "@sessionsim/kernel";
import { isDocument, type Document } from "../idl/bson-types.js";
import { compareBson } from "../storage/index.js";
import type { ServerNode } from "../node/server-node.js";
import { parentLsidKey, type LogicalSessionId } from "../session/index.js";
import type { SessionsCollection } from "../sessions-collection/index.js";

/**
 * What the periodic reap calls with the cut-off date: it removes transaction state of sessions
 * older than that which are gone from `config.system.sessions`, and returns how many
 * `config.transactions` entries it deleted.
 */
export type ReapSessionsOlderThanFn = (
  node: ServerNode,
  sessionsCollection: SessionsCollection,
  possiblyExpired: Date,
) => Task<number>;

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
 * The mongod reaper's on-disk part: deletes `config.transactions` (and `config.image_collection`)
 * entries whose `lastWriteDate` is older than `possiblyExpired` and whose logical session is no
 * longer in `config.system.sessions`.
 *
 * @remarks
 * `MongoDSessionCatalog::reapSessionsOlderThan` → `removeExpiredTransactionSessionsFromDisk`
 * (`src/mongo/db/session/session_catalog_mongod.cpp`): scans `config.transactions` with
 * `lastWriteDate < possiblyExpired` sorted by `_id`; per batch of 10,000 (and at the end) asks
 * `findRemovedSessions` about the parent lsids (`parentLsid` for child sessions) and deletes the
 * images, then the transaction records, of those whose session is gone. Only primaries write
 * (every sessionsim mongod is a primary). The in-memory half (session catalog entries not checked
 * out for 30 minutes) belongs to the session catalog and is not modelled here.
 */
export function* reapSessionsOlderThanMongod(
  node: ServerNode,
  sessionsCollection: SessionsCollection,
  possiblyExpired: Date,
): Task<number> {
  const catalog = node.durable?.catalog;
  const transactions = catalog?.get(TRANSACTIONS_NAMESPACE);
  if (catalog === undefined || transactions === undefined) return 0;
  // {lastWriteDate: {$lt: possiblyExpired}} sorted by _id, read directly: this runs on every
  // mongod every refresh interval, and a compiled query costs more than the scan.
  const cutoff = possiblyExpired.getTime();
  const candidates = transactions
    .committed()
    .filter((doc) => doc.lastWriteDate instanceof Date && doc.lastWriteDate.getTime() < cutoff)
    .sort((a, b) => compareBson(a._id, b._id));
  let reaped = 0;
  for (let start = 0; start < candidates.length; start += MAX_SESSION_DELETION_BATCH_SIZE) {
    const batch = candidates.slice(start, start + MAX_SESSION_DELETION_BATCH_SIZE);
    const parentKeyOf = (doc: Document): string | undefined => {
      const parent = isLsid(doc.parentLsid) ? doc.parentLsid : doc._id;
      return isLsid(parent) ? parentLsidKey(parent) : undefined;
    };
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
 * mongos's reap function: `RouterSessionCatalog::reapSessionsOlderThan` only drops idle router
 * sessions from memory (not modelled); mongos stores nothing on disk, so nothing is deleted.
 */
// eslint-disable-next-line require-yield
export function* reapSessionsOlderThanRouter(): Task<number> {
  return 0;
}
