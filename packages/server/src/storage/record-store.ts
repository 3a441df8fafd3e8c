/**
 * A collection's committed documents (MongoDB's `RecordStore` plus its `_id` index): found by
 * `_id` through a hash index, iterated in insertion (natural) order.
 *
 * @remarks The hash index is an open-addressing table (linear probing over an `Int32Array` of
 * 30-bit {@link bsonHash}es of `_id`; at a million documents it is about twice as fast as a `Map`)
 * whose slots hold chains of records compared with `bsonEquals`; natural order is an intrusive
 * doubly-linked list. Records are mutable holders: an update swaps `record.doc` without touching
 * either structure. Stored documents themselves are never mutated.
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

/** Slot markers: `_id` hashes are 30-bit, so no hash is negative. */
const EMPTY = -1;
const INITIAL_BITS = 4;

/** Documents by `_id`, in natural order. */
export class RecordStore {
  /** Open addressing, linear probing: the hash in each slot (or EMPTY) ... */
  #hashes = new Int32Array(1 << INITIAL_BITS).fill(EMPTY);
  /** ... and the chain of records with that hash. */
  #heads = new Array<DocRecord | undefined>(1 << INITIAL_BITS);
  #bits = INITIAL_BITS;
  /** Occupied slots (kept at most half the table). */
  #used = 0;
  #head: DocRecord | undefined;
  #tail: DocRecord | undefined;
  #size = 0;

  /** The number of documents. */
  get size(): number {
    return this.#size;
  }

  /** The slot of `hash`, or of the empty slot where it would go. */
  #slot(hash: number): number {
    const mask = (1 << this.#bits) - 1;
    const hashes = this.#hashes;
    // Fibonacci hashing spreads the low-entropy low bits of nearby hashes.
    let p = Math.imul(hash, 0x9e3779b1) >>> (32 - this.#bits);
    while (hashes[p] !== EMPTY && hashes[p] !== hash) p = (p + 1) & mask;
    return p;
  }

  /** The record whose `_id` equals `id` (`hash` = `bsonHash(id)`). */
  get(id: unknown, hash: number = bsonHash(id)): DocRecord | undefined {
    const p = this.#slot(hash);
    if (this.#hashes[p] === EMPTY) return undefined; // (most upserts: no second cache miss)
    for (let r = this.#heads[p]; r !== undefined; r = r.chain) {
      if (bsonEquals(r.doc._id, id)) return r;
    }
    return undefined;
  }

  /** Appends a document whose `_id` is not present (the caller checked). */
  insert(doc: Doc, hash: number = bsonHash(doc._id)): DocRecord {
    const p = this.#slot(hash);
    const fresh = this.#hashes[p] === EMPTY;
    const chain = fresh ? undefined : this.#heads[p];
    const rec: DocRecord = { doc, hash, chain, prev: this.#tail, next: undefined, live: true };
    this.#heads[p] = rec;
    if (fresh) {
      this.#hashes[p] = hash;
      if (++this.#used * 2 > this.#hashes.length) this.#grow();
    }
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
    const p = this.#slot(rec.hash);
    const first = this.#heads[p];
    if (first === rec) {
      if (rec.chain === undefined) this.#vacate(p);
      else this.#heads[p] = rec.chain;
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

  /** Empties slot `p`, shifting back the entries after it that probed past it (no tombstones). */
  #vacate(p: number): void {
    const mask = (1 << this.#bits) - 1;
    const hashes = this.#hashes;
    const heads = this.#heads;
    let hole = p;
    for (let j = (p + 1) & mask; hashes[j] !== EMPTY; j = (j + 1) & mask) {
      const home = Math.imul(hashes[j], 0x9e3779b1) >>> (32 - this.#bits);
      // j's entry may fill the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      hashes[hole] = hashes[j];
      heads[hole] = heads[j];
      hole = j;
    }
    hashes[hole] = EMPTY;
    heads[hole] = undefined;
    this.#used--;
  }

  #grow(): void {
    const oldHashes = this.#hashes;
    const oldHeads = this.#heads;
    this.#bits++;
    this.#hashes = new Int32Array(1 << this.#bits).fill(EMPTY);
    this.#heads = new Array<DocRecord | undefined>(1 << this.#bits);
    for (let i = 0; i < oldHashes.length; i++) {
      if (oldHashes[i] === EMPTY) continue;
      const p = this.#slot(oldHashes[i]);
      this.#hashes[p] = oldHashes[i];
      this.#heads[p] = oldHeads[i];
    }
  }
}
