/**
 * `config.transactions` rows (IDL `SessionTxnRecord`, `session_txn_record.idl`).
 *
 * @packageDocumentation
 */
import { Long, Timestamp } from "bson";
import { isDocument, type Document } from "../../idl/bson-types.js";
import type { LogicalSessionId } from "../../session/index.js";
import type { Catalog } from "../../storage/catalog.js";

/** `config.transactions`. */
export const SESSION_TRANSACTIONS_NS = "config.transactions";

/** `DurableTxnStateEnum`: the `state` of a transaction's row (retryable writes have none). */
export const DurableTxnStates = Object.freeze({
  Prepared: "prepared",
  Committed: "committed",
  Aborted: "aborted",
  InProgress: "inProgress",
} as const);

/** One of {@link DurableTxnStates}. */
export type DurableTxnState = (typeof DurableTxnStates)[keyof typeof DurableTxnStates];

/** The replica set term in every op time (single-member sets keep term 1). */
const TERM = Long.fromNumber(1);

/** A parsed row. */
export interface SessionTxnRecord {
  readonly txnNum: Long;
  readonly lastWriteOpTime: Timestamp;
  readonly lastWriteDate: Date;
  readonly state?: DurableTxnState;
}

/** `{ts, t}` op time. */
export function opTime(ts: Timestamp): Document {
  return { ts, t: TERM };
}

/** Reads `lsid`'s row, if any. */
export function readSessionTxnRecord(catalog: Catalog, lsid: LogicalSessionId): SessionTxnRecord | undefined {
  const doc = catalog.get(SESSION_TRANSACTIONS_NS)?.findOne({ _id: { id: lsid.id, uid: lsid.uid } });
  if (doc === undefined) return undefined;
  const txnNum = doc.txnNum instanceof Long ? doc.txnNum : Long.fromNumber(Number(doc.txnNum ?? -1));
  const lw =
    isDocument(doc.lastWriteOpTime) && doc.lastWriteOpTime.ts instanceof Timestamp
      ? doc.lastWriteOpTime.ts
      : Timestamp.fromBits(0, 0);
  const state = typeof doc.state === "string" ? (doc.state as DurableTxnState) : undefined;
  return {
    txnNum,
    lastWriteOpTime: lw,
    lastWriteDate: doc.lastWriteDate instanceof Date ? doc.lastWriteDate : new Date(0),
    ...(state === undefined ? {} : { state }),
  };
}

/**
 * Replaces (upserts) `lsid`'s row, as `updateSessionEntry` does in the same storage transaction
 * as the write it records.
 */
export function writeSessionTxnRecord(
  catalog: Catalog,
  lsid: LogicalSessionId,
  record: {
    txnNum: Long;
    lastWriteOpTime: Timestamp;
    lastWriteDate: Date;
    state?: DurableTxnState;
    startOpTime?: Timestamp;
  },
): void {
  const replacement: Document = {
    txnNum: record.txnNum,
    lastWriteOpTime: opTime(record.lastWriteOpTime),
    lastWriteDate: record.lastWriteDate,
  };
  if (record.state !== undefined) replacement.state = record.state;
  if (record.startOpTime !== undefined) replacement.startOpTime = opTime(record.startOpTime);
  catalog
    .collection(SESSION_TRANSACTIONS_NS)
    .update({ _id: { id: lsid.id, uid: lsid.uid } }, replacement, { upsert: true, now: record.lastWriteDate });
}
