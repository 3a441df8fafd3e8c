/**
 * What a mongod's transaction layer keeps across a crash, besides `config.transactions` itself.
 *
 * @packageDocumentation
 */
import type { Long, Timestamp } from "bson";
import type { Document } from "../../idl/bson-types.js";
import type { LogicalSessionId } from "../../session/index.js";
import type { WriteSet } from "../../storage/write-set.js";

/**
 * A prepared transaction as its prepare oplog entry preserves it: the session, the number, the
 * prepare timestamp and its write set (still holding its locks).
 */
export interface PreparedTransactionRecord {
  readonly lsid: LogicalSessionId;
  readonly txnNumber: Long;
  readonly prepareTimestamp: Timestamp;
  readonly writeSet: WriteSet;
}

/**
 * The executed statements of a session's latest retryable write (what MongoDB finds by walking
 * the oplog chain from the `config.transactions` entry's `lastWriteOpTime`): stmtId → the
 * statement's result, from which a retry's reply is rebuilt.
 */
export interface RetryableWriteHistory {
  readonly txnNumber: Long;
  readonly statements: Map<number, Document>;
}

/**
 * The durable part of the transaction layer (`node.durable.transactions`): prepared
 * transactions and retryable-write history, keyed by the parent session key. Together with the
 * `config.transactions` rows in the catalog, this is what a restarted mongod recovers its
 * sessions from.
 *
 * @remarks A history entry is only trusted while the session's `config.transactions` row names
 * the same `txnNum`: once the reaper deletes the row, the history is unreachable (as the oplog
 * chain is in MongoDB) and is dropped at the session's next refresh from storage.
 */
export class DurableTransactions {
  /** Prepared transactions by session key. */
  readonly prepared = new Map<string, PreparedTransactionRecord>();
  /** Retryable-write history by session key. */
  readonly history = new Map<string, RetryableWriteHistory>();
}
