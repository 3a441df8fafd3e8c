import type { Document } from "../idl/bson-types.js";

/**
 * The counters behind `serverStatus.logicalSessionRecordCache`.
 *
 * @remarks
 * IDL `LogicalSessionCacheStats` (`src/mongo/db/session/logical_session_cache_stats.idl`, [M]):
 * the `*UpdatedTimestamp` dates are absent until first set; `sessionCatalogSize` is added by the
 * serverStatus section (the node's session catalog size; 0 until a catalog reports one).
 */
export class LogicalSessionCacheStats {
  sessionsCollectionJobCount = 0;
  lastSessionsCollectionJobDurationMillis = 0;
  lastSessionsCollectionJobDurationMillisUpdatedTimestamp: number | undefined;
  lastSessionsCollectionJobTimestamp: number;
  lastSessionsCollectionJobEntriesFailedToRefresh = 0;
  lastSessionsCollectionJobEntriesRefreshed = 0;
  lastSessionsCollectionJobEntriesRefreshedUpdatedTimestamp: number | undefined;
  lastSessionsCollectionJobEntriesEnded = 0;
  lastSessionsCollectionJobEntriesEndedUpdatedTimestamp: number | undefined;
  lastSessionsCollectionJobCursorsClosed = 0;
  lastSessionsCollectionJobCursorsClosedUpdatedTimestamp: number | undefined;
  transactionReaperJobCount = 0;
  lastTransactionReaperJobDurationMillis = 0;
  lastTransactionReaperJobDurationUpdatedTimestamp: number | undefined;
  lastTransactionReaperJobTimestamp: number;
  lastTransactionReaperJobEntriesCleanedUp = 0;
  lastTransactionReaperJobEntriesCleanedUpUpdatedTimestamp: number | undefined;

  /** Both job timestamps start at the cache's creation (`LogicalSessionCacheImpl` constructor). */
  constructor(now: number) {
    this.lastSessionsCollectionJobTimestamp = now;
    this.lastTransactionReaperJobTimestamp = now;
  }

  /** The serverStatus section, fields in the IDL's order. */
  toBSON(activeSessionsCount: number, sessionCatalogSize: number): Document {
    const out: Document = {
      activeSessionsCount,
      sessionsCollectionJobCount: this.sessionsCollectionJobCount,
      lastSessionsCollectionJobDurationMillis: this.lastSessionsCollectionJobDurationMillis,
    };
    const date = (field: string, ms: number | undefined): void => {
      if (ms !== undefined) out[field] = new Date(ms);
    };
    date(
      "lastSessionsCollectionJobDurationMillisUpdatedTimestamp",
      this.lastSessionsCollectionJobDurationMillisUpdatedTimestamp,
    );
    date("lastSessionsCollectionJobTimestamp", this.lastSessionsCollectionJobTimestamp);
    out.lastSessionsCollectionJobEntriesFailedToRefresh = this.lastSessionsCollectionJobEntriesFailedToRefresh;
    out.lastSessionsCollectionJobEntriesRefreshed = this.lastSessionsCollectionJobEntriesRefreshed;
    date(
      "lastSessionsCollectionJobEntriesRefreshedUpdatedTimestamp",
      this.lastSessionsCollectionJobEntriesRefreshedUpdatedTimestamp,
    );
    out.lastSessionsCollectionJobEntriesEnded = this.lastSessionsCollectionJobEntriesEnded;
    date(
      "lastSessionsCollectionJobEntriesEndedUpdatedTimestamp",
      this.lastSessionsCollectionJobEntriesEndedUpdatedTimestamp,
    );
    out.lastSessionsCollectionJobCursorsClosed = this.lastSessionsCollectionJobCursorsClosed;
    date(
      "lastSessionsCollectionJobCursorsClosedUpdatedTimestamp",
      this.lastSessionsCollectionJobCursorsClosedUpdatedTimestamp,
    );
    out.transactionReaperJobCount = this.transactionReaperJobCount;
    out.lastTransactionReaperJobDurationMillis = this.lastTransactionReaperJobDurationMillis;
    date("lastTransactionReaperJobDurationUpdatedTimestamp", this.lastTransactionReaperJobDurationUpdatedTimestamp);
    date("lastTransactionReaperJobTimestamp", this.lastTransactionReaperJobTimestamp);
    out.lastTransactionReaperJobEntriesCleanedUp = this.lastTransactionReaperJobEntriesCleanedUp;
    date(
      "lastTransactionReaperJobEntriesCleanedUpUpdatedTimestamp",
      this.lastTransactionReaperJobEntriesCleanedUpUpdatedTimestamp,
    );
    out.sessionCatalogSize = sessionCatalogSize;
    return out;
  }
}
