/**
 * A collection's committed documents (MongoDB's `RecordStore` plus its `_id` index): found by
 * `_id` through a hash index, iterated in insertion (natural) order.
 *
 * @remarks Records are small integers ({@link RecordId}) into parallel arrays: the document, its
 * `_id` hash, the next record with that hash and the natural-order links. A million-session
 * refresh stores a million documents; one object per record more made the garbage collector
 * copy a fifth more on every scavenge. The hash index is an open-addressing table (linear
 * probing, back-shift deletion) of `[hash, first record]` pairs in one `Int32Array`, so a probe
 * touches one cache line; hashes are the 30-bit {@link bsonHash}es of `_id` and records with
 * equal hashes are compared with `bsonEquals`. Removed ids are reused. Stored documents
 * themselves are never mutated: an update swaps in a new version with {@link RecordStore.setDoc}.
 *
 * @packageDocumentation
 */
import { bsonEquals } from "./bson-order.js";
import { bsonHash } from "./bson-key.js";
import type { Doc } from "./bson-types.js";

/**
 * A stored document's handle, valid until the record is removed. A later insert may reuse the
 * id, so nothing may keep it past the removal (`Collection` unindexes a record before removing it).
 */
export type RecordId = number;

/** "No record" in the link arrays; also the empty-slot marker (`_id` hashes are never negative). */
const NONE = -1;
const INITIAL_BITS = 4;

/** Documents by `_id`, in natural order. */
export class RecordStore {
  /** Slot `p` is `[table[2p], table[2p + 1]]` = `[hash or NONE, first record with that hash]`. */
  #table = new Int32Array(2 << INITIAL_BITS).fill(NONE);
  #bits = INITIAL_BITS;
  /** Occupied slots (kept at most half the table). */
  #used = 0;
  /** Per record: the current version (undefined once removed) ... */
  readonly #docs: (Doc | undefined)[] = [];
  /** ... its `_id` hash, the next record of its hash chain, and its natural-order neighbours. */
  #hash = new Int32Array(INITIAL_BITS);
  #chain = new Int32Array(INITIAL_BITS);
  #prev = new Int32Array(INITIAL_BITS);
  #next = new Int32Array(INITIAL_BITS);
  /** Removed ids, reused by the next inserts. */
  readonly #free: RecordId[] = [];
  #head = NONE;
  #tail = NONE;
  #size = 0;

  /** The number of documents. */
  get size(): number {
    return this.#size;
  }

  /** The current version of record `r`. */
  doc(r: RecordId): Doc {
    return this.#docs[r]!;
  }

  /** Replaces record `r`'s version (an update; neither index nor order changes). */
  setDoc(r: RecordId, doc: Doc): void {
    this.#docs[r] = doc;
  }

  /** False once `r` has been removed (and until its id is reused). */
  isLive(r: RecordId): boolean {
    return this.#docs[r] !== undefined;
  }

  /** The slot of `hash`, or of the empty slot where it would go. */
  #slot(hash: number): number {
    const mask = (1 << this.#bits) - 1;
    const table = this.#table;
    // Fibonacci hashing spreads the low-entropy low bits of nearby hashes.
    let p = Math.imul(hash, 0x9e3779b1) >>> (32 - this.#bits);
    while (table[2 * p] !== NONE && table[2 * p] !== hash) p = (p + 1) & mask;
    return p;
  }

  /** The record whose `_id` equals `id` (`hash` = `bsonHash(id)`). */
  get(id: unknown, hash: number = bsonHash(id)): RecordId | undefined {
    const p = this.#slot(hash);
    if (this.#table[2 * p] === NONE) return undefined; // (most upserts: no second cache miss)
    for (let r = this.#table[2 * p + 1]; r !== NONE; r = this.#chain[r]) {
      if (bsonEquals(this.#docs[r]!._id, id)) return r;
    }
    return undefined;
  }

  /** Appends a document whose `_id` is not present (the caller checked). */
  insert(doc: Doc, hash: number = bsonHash(doc._id)): RecordId {
    let r = this.#free.pop();
    if (r === undefined) {
      r = this.#docs.length;
      if (r === this.#hash.length) this.#growRecords();
      this.#docs.push(doc);
    } else {
      this.#docs[r] = doc;
    }
    const p = this.#slot(hash);
    const fresh = this.#table[2 * p] === NONE;
    this.#hash[r] = hash;
    this.#chain[r] = fresh ? NONE : this.#table[2 * p + 1];
    this.#table[2 * p + 1] = r;
    if (fresh) {
      this.#table[2 * p] = hash;
      if (++this.#used * 2 > 1 << this.#bits) this.#growTable();
    }
    this.#prev[r] = this.#tail;
    this.#next[r] = NONE;
    if (this.#tail === NONE) this.#head = r;
    else this.#next[this.#tail] = r;
    this.#tail = r;
    this.#size++;
    return r;
  }

  /** Removes a record (nothing if it is already removed). */
  remove(r: RecordId): void {
    if (!this.isLive(r)) return;
    this.#docs[r] = undefined;
    const p = this.#slot(this.#hash[r]);
    const chain = this.#chain;
    if (this.#table[2 * p + 1] === r) {
      if (chain[r] === NONE) this.#vacate(p);
      else this.#table[2 * p + 1] = chain[r];
    } else {
      let q = this.#table[2 * p + 1];
      while (q !== NONE && chain[q] !== r) q = chain[q];
      if (q !== NONE) chain[q] = chain[r];
    }
    const prev = this.#prev[r];
    const next = this.#next[r];
    if (prev === NONE) this.#head = next;
    else this.#next[prev] = next;
    if (next === NONE) this.#tail = prev;
    else this.#prev[next] = prev;
    this.#free.push(r);
    this.#size--;
  }

  /** The records in natural order, as an array. */
  toArray(): RecordId[] {
    const out: RecordId[] = [];
    for (let r = this.#head; r !== NONE; r = this.#next[r]) out.push(r);
    return out;
  }

  /** Empties slot `p`, shifting back the entries after it that probed past it (no tombstones). */
  #vacate(p: number): void {
    const mask = (1 << this.#bits) - 1;
    const table = this.#table;
    let hole = p;
    for (let j = (p + 1) & mask; table[2 * j] !== NONE; j = (j + 1) & mask) {
      const home = Math.imul(table[2 * j], 0x9e3779b1) >>> (32 - this.#bits);
      // j's entry may fill the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      table[2 * hole] = table[2 * j];
      table[2 * hole + 1] = table[2 * j + 1];
      hole = j;
    }
    table[2 * hole] = NONE;
    table[2 * hole + 1] = NONE;
    this.#used--;
  }

  #growTable(): void {
    const old = this.#table;
    this.#bits++;
    this.#table = new Int32Array(2 << this.#bits).fill(NONE);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] === NONE) continue;
      const p = this.#slot(old[i]);
      this.#table[2 * p] = old[i];
      this.#table[2 * p + 1] = old[i + 1];
    }
  }

  #growRecords(): void {
    const grown = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.#hash = grown(this.#hash);
    this.#chain = grown(this.#chain);
    this.#prev = grown(this.#prev);
    this.#next = grown(this.#next);
  }
}
