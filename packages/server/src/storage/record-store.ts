/**
 * A collection's committed documents (MongoDB's `RecordStore` plus its `_id` index): found by
 * `_id` through a hash index, iterated in insertion (natural) order.
 *
 * @remarks The hash index is a `Map` from a 30-bit {@link bsonHash} of `_id` (a V8 Smi: much
 * cheaper to look up than a string key) to a chain of records compared with `bsonEquals`; natural
 * order is an intrusive doubly-linked list. Records are mutable holders: an update swaps
 * `record.doc` without touching either structure. Stored documents themselves are never mutated.
 *
 * @packageDocumentation
 */
import { bsonEquals } from "./bson-order.js";
import { bsonHash } from "./bson-key.js";
import type { Doc } from "./bson-types.js";

/** One stored document. */
export interface DocRecord {
  /** The current committed version (replaced, never mutated, by updates). */
  doc: Doc;
  /** `bsonHash(doc._id)`. */
  readonly hash: number;
  /** The next record with the same hash. */
  chain: DocRecord | undefined;
  prev: DocRecord | undefined;
  next: DocRecord | undefined;
  /** False once removed. */
  live: boolean;
}

const NOT_FOUND = Object.freeze({ found: undefined, head: undefined });

/** Documents by `_id`, in natural order. */
export class RecordStore {
  readonly #byHash = new Map<number, DocRecord>();
  #head: DocRecord | undefined;
  #tail: DocRecord | undefined;
  #size = 0;

  /** The number of documents. */
  get size(): number {
    return this.#size;
  }

  /** The record whose `_id` equals `id` (`hash` = `bsonHash(id)`). */
  get(id: unknown, hash: number = bsonHash(id)): DocRecord | undefined {
    for (let r = this.#byHash.get(hash); r !== undefined; r = r.chain) {
      if (bsonEquals(r.doc._id, id)) return r;
    }
    return undefined;
  }

  /**
   * The record whose `_id` equals `id`, or — when there is none — the head of the chain of
   * records sharing its hash (for {@link insert}, which then needs no second lookup).
   */
  find(id: unknown, hash: number): { readonly found: DocRecord | undefined; readonly head: DocRecord | undefined } {
    const head = this.#byHash.get(hash);
    for (let r = head; r !== undefined; r = r.chain) if (bsonEquals(r.doc._id, id)) return { found: r, head };
    return head === undefined ? NOT_FOUND : { found: undefined, head };
  }

  /**
   * Appends a document whose `_id` is not present (the caller checked). `head` is the chain head
   * of its hash when the caller has it from {@link find} (null: none).
   */
  insert(doc: Doc, hash: number = bsonHash(doc._id), head?: DocRecord | null): DocRecord {
    const chain = head === undefined ? this.#byHash.get(hash) : (head ?? undefined);
    const rec: DocRecord = { doc, hash, chain, prev: this.#tail, next: undefined, live: true };
    this.#byHash.set(hash, rec);
    if (this.#tail === undefined) this.#head = rec;
    else this.#tail.next = rec;
    this.#tail = rec;
    this.#size++;
    return rec;
  }

  /** Removes a record. */
  remove(rec: DocRecord): void {
    if (!rec.live) return;
    rec.live = false;
    const first = this.#byHash.get(rec.hash);
    if (first === rec) {
      if (rec.chain === undefined) this.#byHash.delete(rec.hash);
      else this.#byHash.set(rec.hash, rec.chain);
    } else {
      let r = first;
      while (r !== undefined && r.chain !== rec) r = r.chain;
      if (r !== undefined) r.chain = rec.chain;
    }
    if (rec.prev === undefined) this.#head = rec.next;
    else rec.prev.next = rec.next;
    if (rec.next === undefined) this.#tail = rec.prev;
    else rec.next.prev = rec.prev;
    this.#size--;
  }

  /** The records in natural order, as an array. */
  toArray(): DocRecord[] {
    const out: DocRecord[] = [];
    for (let r = this.#head; r !== undefined; r = r.next) out.push(r);
    return out;
  }
}
