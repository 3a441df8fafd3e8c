/**
 * A multi-document transaction's private writes (what WiredTiger keeps in a transaction's
 * update chain): visible to reads through the write set, invisible to everyone else until
 * {@link WriteSet.commit} applies them all at once.
 *
 * @packageDocumentation
 */
import { InvariantViolation, ServerError, ErrorCodes } from "../errors/index.js";
import type { Doc } from "./bson-types.js";
import type { Catalog } from "./catalog.js";
import type { Collection } from "./collection.js";

/** A write set's new version of one document. */
export interface PendingWrite {
  /** The document's `_id`. */
  readonly id: unknown;
  /** The new version, or `null` for a delete. */
  readonly doc: Doc | null;
}

/** The states of a write set. */
export const WriteSetStates = Object.freeze({
  Open: "open",
  Prepared: "prepared",
  Committed: "committed",
  Aborted: "aborted",
} as const);

/** One of {@link WriteSetStates}. */
export type WriteSetState = (typeof WriteSetStates)[keyof typeof WriteSetStates];

const transitions: { readonly [s in WriteSetState]: readonly WriteSetState[] } = {
  open: ["prepared", "committed", "aborted"],
  prepared: ["committed", "aborted"],
  committed: [],
  aborted: [],
};

/**
 * The message of MongoDB's WriteConflict (112), raised when a write touches a document (or unique
 * index key) that another open transaction has written.
 */
export const WRITE_CONFLICT_MESSAGE =
  "WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.";

/** A new WriteConflict (112) error. */
export function writeConflict(): ServerError {
  return new ServerError(ErrorCodes.WriteConflict, WRITE_CONFLICT_MESSAGE);
}

/**
 * The private writes of one multi-document transaction across the collections of one
 * {@link Catalog}.
 *
 * @remarks
 * - Reads that pass the write set see the committed documents plus its own writes; other reads
 *   see only committed documents.
 * - Every document key (and unique index key) it writes is locked: a write by anyone else —
 *   another write set or a non-transactional write — gets WriteConflict (112) until it commits
 *   or aborts. Reads never conflict.
 * - {@link WriteSet.prepare} freezes it (no more writes) but keeps the locks; a prepared write set
 *   is durable state: it survives {@link Catalog.abortUnpreparedWriteSets} (a node restart).
 *
 * @example
 * ```ts
 * const ws = catalog.beginWriteSet("lsid1:txn5");
 * catalog.collection("test.c").insertOne({ _id: 1 }, ws);
 * catalog.collection("test.c").find({}, {}, ws); // [{ _id: 1 }]
 * catalog.collection("test.c").find({});         // []
 * ws.commit();
 * ```
 */
export class WriteSet {
  /** A label for traces and recovery (e.g. the session and transaction number). */
  readonly label: string;
  /** The catalog whose collections this write set writes. */
  readonly catalog: Catalog;
  #state: WriteSetState = WriteSetStates.Open;
  /** Per collection: `bsonKey(_id)` → new version (`doc: null` = deleted), in first-write order. */
  readonly #writes = new Map<Collection, Map<string, PendingWrite>>();
  /** Per collection: the lock keys held. */
  readonly #locks = new Map<Collection, Set<string>>();

  /** Starts a write set on `catalog` (same as {@link Catalog.beginWriteSet}). */
  constructor(catalog: Catalog, label = "") {
    this.catalog = catalog;
    this.label = label;
    catalog._register(this);
  }

  /** The current state. */
  get state(): WriteSetState {
    return this.#state;
  }

  /** True once prepared (and until committed or aborted). */
  get prepared(): boolean {
    return this.#state === WriteSetStates.Prepared;
  }

  /** True while open or prepared (holding locks). */
  get active(): boolean {
    return this.#state === WriteSetStates.Open || this.#state === WriteSetStates.Prepared;
  }

  /** The number of documents written (inserted, updated or deleted). */
  get size(): number {
    let n = 0;
    for (const w of this.#writes.values()) n += w.size;
    return n;
  }

  /** The namespaces written, sorted. */
  namespaces(): string[] {
    return [...new Set([...this.#writes.keys()].map((c) => c.ns))].sort();
  }

  #transition(to: WriteSetState): void {
    if (!transitions[this.#state].includes(to)) {
      throw new InvariantViolation(`WriteSet ${this.label}: illegal transition ${this.#state} -> ${to}`);
    }
    this.#state = to;
  }

  /** Freezes the write set for two-phase commit; it keeps its locks. */
  prepare(): void {
    this.#transition(WriteSetStates.Prepared);
  }

  /** Applies all writes atomically and releases the locks. */
  commit(): void {
    this.#transition(WriteSetStates.Committed);
    for (const [coll, writes] of this.#writes) coll._applyCommitted(writes);
    this.#release();
  }

  /** Discards all writes and releases the locks. */
  abort(): void {
    this.#transition(WriteSetStates.Aborted);
    this.#release();
  }

  #release(): void {
    for (const [coll, locks] of this.#locks) coll._releaseLocks(this, locks);
    this.#locks.clear();
    this.#writes.clear();
    this.catalog._forget(this);
  }

  /** @internal The pending writes for `coll` (created if `create`). */
  _writesFor(coll: Collection, create: true): Map<string, PendingWrite>;
  /** @internal */
  _writesFor(coll: Collection, create: false): Map<string, PendingWrite> | undefined;
  _writesFor(coll: Collection, create: boolean): Map<string, PendingWrite> | undefined {
    let w = this.#writes.get(coll);
    if (w === undefined && create) this.#writes.set(coll, (w = new Map<string, PendingWrite>()));
    return w;
  }

  /** @internal Records that this write set holds `lockKey` in `coll`. */
  _noteLock(coll: Collection, lockKey: string): void {
    let s = this.#locks.get(coll);
    if (s === undefined) this.#locks.set(coll, (s = new Set()));
    s.add(lockKey);
  }

  /** @internal Throws unless the write set may still write. */
  _assertWritable(): void {
    if (this.#state !== WriteSetStates.Open) {
      throw new InvariantViolation(`WriteSet ${this.label}: cannot write in state ${this.#state}`);
    }
  }
}
