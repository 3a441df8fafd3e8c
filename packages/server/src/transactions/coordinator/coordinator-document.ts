/**
 * The coordinator's durable state: one document per transaction in
 * `config.transaction_coordinators`.
 *
 * @packageDocumentation
 */
import { Long, Timestamp } from "bson";
import { ServerError } from "../../errors/index.js";
import type { Document } from "../../idl/bson-types.js";
import type { Catalog } from "../../storage/catalog.js";
import { bsonKey } from "../../storage/bson-key.js";

/** `NamespaceString::kTransactionCoordinatorsNamespace`. */
export const TRANSACTION_COORDINATORS_NS = "config.transaction_coordinators";

/** The coordinator's decision (IDL `CoordinatorCommitDecision`). */
export type CoordinatorDecision =
  | { readonly decision: "commit"; readonly commitTimestamp: Timestamp }
  | { readonly decision: "abort"; readonly abortStatus: AbortStatus };

/** A serialised error status: why the transaction aborts. */
export interface AbortStatus {
  readonly code: number;
  readonly codeName: string;
  readonly errmsg: string;
}

/** A `config.transaction_coordinators` document, parsed (IDL `TransactionCoordinatorDocument`). */
export interface CoordinatorDocument {
  readonly lsid: Document;
  readonly txnNumber: Long;
  readonly participants: readonly string[];
  readonly decision?: CoordinatorDecision;
}

/** The document's `_id`: the transaction's `OperationSessionInfo` `{lsid, txnNumber}`. */
export function coordinatorDocId(lsid: Document, txnNumber: Long): Document {
  return { lsid, txnNumber };
}

/** The decision as stored in the document. */
export function decisionToBson(decision: CoordinatorDecision): Document {
  return decision.decision === "commit"
    ? { decision: "commit", commitTimestamp: decision.commitTimestamp }
    : { decision: "abort", abortStatus: { ...decision.abortStatus } };
}

function decisionFromBson(d: unknown): CoordinatorDecision | undefined {
  if (d === undefined || d === null || typeof d !== "object") return undefined;
  const doc = d as Document;
  if (doc.decision === "commit" && doc.commitTimestamp instanceof Timestamp)
    return { decision: "commit", commitTimestamp: doc.commitTimestamp };
  const s = (doc.abortStatus ?? {}) as Document;
  return {
    decision: "abort",
    abortStatus: {
      code: Number(s.code ?? 251),
      codeName: String(s.codeName ?? "NoSuchTransaction"),
      errmsg: String(s.errmsg ?? ""),
    },
  };
}

function sameParticipants(a: readonly unknown[], b: readonly string[]): boolean {
  return a.length === b.length && b.every((p) => a.includes(p));
}

function findDoc(catalog: Catalog, lsid: Document, txnNumber: Long): Document | undefined {
  const coll = catalog.get(TRANSACTION_COORDINATORS_NS);
  if (coll === undefined) return undefined;
  const key = bsonKey(coordinatorDocId(lsid, txnNumber));
  return coll.find({}).find((d) => bsonKey(d._id) === key);
}

/**
 * Writes the participant list (step `writingParticipantList`).
 *
 * @remarks
 * `persistParticipantListBlocking` (`transaction_coordinator_util.cpp`): an upsert matching
 * `{_id, $or: [{participants: {$exists: false}}, <same participant list>]}`; a document with a
 * different list is error 51025. Durable at once: a shard is a one-member replica set, so the
 * write is majority-committed when it is applied.
 *
 * @throws ServerError 51025 if the document exists with a different participant list.
 */
export function persistParticipantList(
  catalog: Catalog,
  lsid: Document,
  txnNumber: Long,
  participants: readonly string[],
): void {
  const existing = findDoc(catalog, lsid, txnNumber);
  if (existing !== undefined) {
    if (Array.isArray(existing.participants) && sameParticipants(existing.participants, participants)) return;
    throw new ServerError(
      51025,
      `While attempting to write participant list [${participants.join(" ")} ] for ${idString(lsid, txnNumber)}, found document with a different participant list: ${JSON.stringify(existing.participants)}`,
    );
  }
  catalog
    .collection(TRANSACTION_COORDINATORS_NS)
    .insertOne({ _id: coordinatorDocId(lsid, txnNumber), participants: [...participants] });
}

/**
 * Writes the decision (step `writingDecision`).
 *
 * @remarks
 * `persistDecisionBlocking`: an upsert matching `{_id, <same participants>, $or: [{decision:
 * {$exists: false}}, {decision: <same>}]}`; no match is error 51026.
 *
 * @throws ServerError 51026 if the document has other participants or another decision.
 */
export function persistDecision(
  catalog: Catalog,
  lsid: Document,
  txnNumber: Long,
  participants: readonly string[],
  decision: CoordinatorDecision,
  now: Date,
): void {
  const coll = catalog.collection(TRANSACTION_COORDINATORS_NS);
  const stored = decisionToBson(decision);
  const existing = findDoc(catalog, lsid, txnNumber);
  if (existing === undefined) {
    coll.insertOne({ _id: coordinatorDocId(lsid, txnNumber), participants: [...participants], decision: stored });
    return;
  }
  const sameDecision = existing.decision === undefined || bsonKey(existing.decision) === bsonKey(stored);
  if (!Array.isArray(existing.participants) || !sameParticipants(existing.participants, participants) || !sameDecision)
    throw new ServerError(
      51026,
      `While attempting to write decision '${decision.decision}' for${idString(lsid, txnNumber)}, either failed to find document for this lsid:txnNumber or document existed with a different participant list, decision or commitTimestamp`,
    );
  coll.update({ _id: existing._id }, { $set: { decision: stored } }, { upsert: false, multi: false, now });
}

/**
 * Deletes the document once the decision is acknowledged (step `deletingCoordinatorDoc`).
 *
 * @remarks `deleteCoordinatorDocBlocking`: only a document with a decision is deleted; otherwise
 * error 51027.
 *
 * @throws ServerError 51027 if there is no document with a decision.
 */
export function deleteCoordinatorDoc(catalog: Catalog, lsid: Document, txnNumber: Long): void {
  const existing = findDoc(catalog, lsid, txnNumber);
  if (existing === undefined || existing.decision === undefined)
    throw new ServerError(
      51027,
      `While attempting to delete document for ${idString(lsid, txnNumber)}, either failed to find document for this lsid:txnNumber or document existed without a decision`,
    );
  catalog.collection(TRANSACTION_COORDINATORS_NS).delete({ _id: existing._id }, { limit: 1 });
}

/** Every coordinator document, in storage order (`readAllCoordinatorDocs`). */
export function readAllCoordinatorDocs(catalog: Catalog): CoordinatorDocument[] {
  const coll = catalog.get(TRANSACTION_COORDINATORS_NS);
  if (coll === undefined) return [];
  const out: CoordinatorDocument[] = [];
  for (const d of coll.find({})) {
    const id = d._id as Document | undefined;
    if (id === undefined || typeof id !== "object" || !(id.txnNumber instanceof Long)) continue;
    const decision = decisionFromBson(d.decision);
    out.push({
      lsid: id.lsid as Document,
      txnNumber: id.txnNumber,
      participants: Array.isArray(d.participants) ? d.participants.map(String) : [],
      ...(decision === undefined ? {} : { decision }),
    });
  }
  return out;
}

function idString(lsid: Document, txnNumber: Long): string {
  const id = lsid.id as { toHexString?: (dashes?: boolean) => string } | undefined;
  return `${typeof id?.toHexString === "function" ? id.toHexString(true) : "?"}:${txnNumber.toString()}`;
}
