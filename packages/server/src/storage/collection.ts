/**
 * One collection of one node: documents by `_id`, in insertion (natural) order, with its indexes,
 * TTL expiry and the locks of open write sets.
 *
 * @packageDocumentation
 */
import { ObjectId } from "bson";
import { InvariantViolation, ServerError, ErrorCodes } from "../errors/index.js";
import { compareBson } from "./bson-order.js";
import { bsonHash, bsonKey } from "./bson-key.js";
import { firstKey, isPlainObject, type Doc } from "./bson-types.js";
import { deepCopy } from "./deep-copy.js";
import { keyValues } from "./field-path.js";
import {
  IndexCatalog,
  duplicateKeyError,
  type CreateIndexSpec,
  type IndexEntry,
  type IndexSpec,
} from "./index-catalog.js";
import { compileFilter, type Matcher } from "./matcher.js";
import { runPipeline, type PipelineOptions } from "./pipeline.js";
import { parseSort, sortDocs } from "./sort.js";
import { applyUpdate, applyUpdateTracked, idSeed, parseUpdate, upsertSeed } from "./update.js";
import type { Timestamp } from "bson";
import { UpdateErrorCodes } from "./update-operators.js";
import { writeConflict, type PendingWrite, type WriteSet } from "./write-set.js";
import { RecordStore, type RecordId } from "./record-store.js";
import type { Catalog } from "./catalog.js";

/** Makes the `_id` of an inserted document that has none. */
export type IdFactory = () => ObjectId;

/**
 * A deterministic ObjectId factory: 4 zero bytes (no wall clock) then a 64-bit counter.
 *
 * @example
 * ```ts
 * const next = sequentialObjectIds(); next().toHexString(); // "000000000000000000000001"
 * ```
 */
export function sequentialObjectIds(start = 1): IdFactory {
  let n = BigInt(start);
  return () => new ObjectId((n++).toString(16).padStart(24, "0"));
}

/** Options of a {@link Collection}. */
export interface CollectionOptions {
  /** Makes `_id`s for inserts without one; default {@link sequentialObjectIds}. */
  readonly idFactory?: IdFactory;
  /** The catalog the collection belongs to (write sets must come from it). */
  readonly catalog?: Catalog;
}

/** Options of {@link Collection.find}. */
export interface FindOptions {
  readonly sort?: Doc;
  readonly skip?: number;
  /** 0 = no limit; a negative limit counts as its absolute value. */
  readonly limit?: number;
  readonly projection?: Doc;
}

/** Options of {@link Collection.update}. */
export interface UpdateOptions {
  readonly upsert?: boolean;
  readonly multi?: boolean;
  /** The node's wall clock (`$$NOW`, `$currentDate`); documents stamped with `$$NOW` keep it. */
  readonly now: Date;
  /** The value of `$$CLUSTER_TIME` / `$currentDate: {$type: "timestamp"}`. */
  readonly clusterTime?: Timestamp;
}

/** The result of {@link Collection.update}, as the `update` command counts it. */
export interface UpdateResult {
  readonly matched: number;
  readonly modified: number;
  /**
   * The `_id` of the document an upsert inserted (a fresh copy per read: it is an accessor, so
   * read it directly; spreading the result drops it).
   */
  readonly upsertedId?: unknown;
}

/** Options of {@link Collection.delete}. */
export interface DeleteOptions {
  /** 1: delete the first match only; 0: all matches. */
  readonly limit: 0 | 1;
}

const INDEX_LOCK_PREFIX = "\u0000";
const indexLockKey = (ix: IndexEntry, key: string): string => INDEX_LOCK_PREFIX + ix.name + INDEX_LOCK_PREFIX + key;

/** A document as one reader sees it: the committed record (if any) and the visible version. */
interface Visible {
  readonly rec: RecordId | undefined;
  readonly doc: Doc;
}

interface PlannedWrite {
  /** The committed record of this `_id`, if any. */
  readonly rec: RecordId | undefined;
  readonly id: unknown;
  /** The version visible to the writer before the write (undefined: none). */
  readonly before: Doc | undefined;
  /** The new version (null: delete). */
  readonly after: Doc | null;
}

/**
 * How an `_id` equality or `$in` filter is answered through the `_id` index: one `_id` (`id`,
 * `hash`; the common case, kept allocation-light) or several (`ids`, `hashes`).
 */
interface IdLookup {
  /** The distinct `_id` values selected (several), or undefined for the single `id`. */
  readonly ids: readonly unknown[] | undefined;
  readonly hashes: readonly number[] | undefined;
  readonly id: unknown;
  /** `bsonHash(id)`. */
  readonly hash: number;
  /** True for `{_id: v}` / `{_id: {$eq: v}}`: an upsert's `_id` is then `v`. */
  readonly equality: boolean;
}

function single(id: unknown): IdLookup {
  return { ids: undefined, hashes: undefined, id, hash: bsonHash(id), equality: true };
}

/**
 * The `_id`s an `_id` equality or `$in` filter selects, or undefined when the filter needs a
 * collection scan. The whole filter is still applied to the documents found.
 */
function idLookup(filter: unknown): IdLookup | undefined {
  if (!isPlainObject(filter) || !("_id" in filter)) return undefined;
  const v = filter._id;
  if (v instanceof RegExp || Array.isArray(v)) return undefined;
  if (!isPlainObject(v)) return single(v);
  const first = firstKey(v);
  if (first === undefined || !first.startsWith("$")) return single(v);
  if (Object.keys(v).length !== 1) return undefined;
  if (first === "$eq") {
    const x = v.$eq;
    return x instanceof RegExp || Array.isArray(x) ? undefined : single(x);
  }
  if (first === "$in" && Array.isArray(v.$in)) {
    const seen = new Set<string>();
    const ids: unknown[] = [];
    for (const x of v.$in) {
      if (x instanceof RegExp || Array.isArray(x)) return undefined;
      if (isPlainObject(x) && Object.keys(x).some((k) => k.startsWith("$"))) return undefined;
      const k = bsonKey(x);
      if (!seen.has(k)) {
        seen.add(k);
        ids.push(x);
      }
    }
    return { ids, hashes: ids.map(bsonHash), id: undefined, hash: 0, equality: false };
  }
  return undefined;
}

/** An upsert's result; `upsertedId` is copied only when read (most callers never do). */
class UpsertResult implements UpdateResult {
  readonly matched = 0;
  readonly modified = 0;
  readonly #id: unknown;
  constructor(id: unknown) {
    this.#id = id;
  }
  get upsertedId(): unknown {
    return deepCopy(this.#id);
  }
}

/**
 * The fields of a projection that only includes top-level fields (`{_id: 1}`, `{a: 1, b: true}`,
 * with `_id: 0` allowed), or undefined for any other projection. Such projections are applied
 * without the aggregation machinery: the reaper and the refresh use `{_id: 1}` on every run.
 */
function topLevelInclusion(projection: Doc): { readonly names: ReadonlySet<string>; readonly id: boolean } | undefined {
  const names = new Set<string>();
  let id = true;
  let includes = false;
  for (const k in projection) {
    const v = projection[k];
    const include = v === true || v === 1;
    const excludeId = k === "_id" && (v === false || v === 0);
    if (k.length === 0 || k.charCodeAt(0) === 36 || k.includes(".") || (!include && !excludeId)) return undefined;
    includes ||= include;
    if (k === "_id") id = include;
    else names.add(k);
  }
  // `{_id: 0}` alone is an exclusion projection.
  return includes ? { names, id } : undefined;
}

/** An inclusion projection of top-level fields: the document's own order, values copied. */
function includeFields(doc: Doc, fields: { readonly names: ReadonlySet<string>; readonly id: boolean }): Doc {
  const out: Doc = {};
  for (const k in doc) if (k === "_id" ? fields.id : fields.names.has(k)) out[k] = deepCopy(doc[k]);
  return out;
}

/** The empty selection. */
const NOTHING: readonly Visible[] = Object.freeze([]);

function onlyId(filter: Doc): boolean {
  for (const k in filter) if (k !== "_id") return false;
  return true;
}

/**
 * A collection: documents keyed by `bsonKey(_id)`, in insertion order (natural order).
 *
 * @remarks
 * - Every method that reads or writes takes an optional {@link WriteSet}: reads through it see
 *   its own uncommitted writes; writes through it stay private until it commits.
 * - Documents going in and coming out are deep copies; stored documents are never aliased.
 * - Filters on `_id` equality or `_id: {$in: [...]}` are answered through the `_id` map (like an
 *   IXSCAN, `$in` results come in `_id` order); other filters scan in natural order.
 *
 * @example
 * ```ts
 * const c = new Collection("config.system.sessions");
 * c.update({ _id: lsid }, [{ $set: { lastUse: "$$NOW" } }], { upsert: true, now });
 * c.find({ "_id.uid": { $in: [uid] } });
 * ```
 */
export class Collection {
  /** The namespace, `"db.coll"`. */
  readonly ns: string;
  /** The catalog this collection belongs to, if any. */
  readonly catalog: Catalog | undefined;
  readonly #store = new RecordStore();
  readonly #indexes: IndexCatalog;
  /** Lock table: `bsonKey(_id)` or index lock key → the open write set that wrote it. */
  readonly #owners = new Map<string, WriteSet>();
  readonly #idFactory: IdFactory;

  constructor(ns: string, options: CollectionOptions = {}) {
    this.ns = ns;
    this.catalog = options.catalog;
    this.#idFactory = options.idFactory ?? sequentialObjectIds();
    this.#indexes = new IndexCatalog(ns);
  }

  /** The number of committed documents. */
  get size(): number {
    return this.#store.size;
  }

  /** True if an open or prepared write set has written to this collection. */
  hasOpenWrites(): boolean {
    return this.#owners.size > 0;
  }

  // -------------------------------------------------------------------------------------------
  // Views

  #checkWriteSet(ws: WriteSet | undefined): void {
    if (ws !== undefined && this.catalog !== undefined && ws.catalog !== this.catalog) {
      throw new InvariantViolation(`write set ${ws.label} belongs to another catalog than ${this.ns}`);
    }
  }

  #pending(ws: WriteSet | undefined): Map<string, PendingWrite> | undefined {
    if (ws === undefined) return undefined;
    const p = ws._writesFor(this, false);
    return p !== undefined && p.size > 0 ? p : undefined;
  }

  /** The document with `_id` `id` as seen through `ws` (`doc` undefined if none is visible). */
  #visibleById(
    id: unknown,
    ws: WriteSet | undefined,
    hash = bsonHash(id),
  ): { rec: RecordId | undefined; doc: Doc | undefined } {
    const rec = this.#store.get(id, hash);
    const pending = this.#pending(ws);
    if (pending !== undefined) {
      const p = pending.get(bsonKey(id));
      if (p !== undefined) return { rec, doc: p.doc ?? undefined };
    }
    return { rec, doc: rec === undefined ? undefined : this.#store.doc(rec) };
  }

  /** The version of committed record `rec` seen through `ws`. */
  #visibleOfRec(rec: RecordId, ws: WriteSet | undefined): Doc | undefined {
    const doc = this.#store.doc(rec);
    const pending = this.#pending(ws);
    if (pending !== undefined) {
      const p = pending.get(bsonKey(doc._id));
      if (p !== undefined) return p.doc ?? undefined;
    }
    return doc;
  }

  /** The committed document with `_id` `id`, as a selection (no write set). */
  #visibleCommitted(id: unknown, hash: number): readonly Visible[] {
    const rec = this.#store.get(id, hash);
    return rec === undefined ? NOTHING : [{ rec, doc: this.#store.doc(rec) }];
  }

  /** All documents visible through `ws`, in natural order (its own inserts last). */
  #scan(ws: WriteSet | undefined): Visible[] {
    const out: Visible[] = [];
    const pending = this.#pending(ws);
    if (pending === undefined) {
      for (const rec of this.#store.toArray()) out.push({ rec, doc: this.#store.doc(rec) });
      return out;
    }
    const overridden = new Map<RecordId, Doc | null>();
    const added: Doc[] = [];
    for (const p of pending.values()) {
      const rec = this.#store.get(p.id);
      if (rec !== undefined) overridden.set(rec, p.doc);
      else if (p.doc !== null) added.push(p.doc);
    }
    for (const rec of this.#store.toArray()) {
      const o = overridden.get(rec);
      if (o === undefined) out.push({ rec, doc: this.#store.doc(rec) });
      else if (o !== null) out.push({ rec, doc: o });
    }
    for (const doc of added) out.push({ rec: undefined, doc });
    return out;
  }

  /** The matching documents (not copies) through `ws`, up to `limit` (0 = all). */
  #select(filter: unknown, ws: WriteSet | undefined, limit = 0, lookup = idLookup(filter)): readonly Visible[] {
    if (lookup !== undefined) {
      const f = filter as Doc;
      const m: Matcher | undefined = onlyId(f) ? undefined : compileFilter(f);
      let out: Visible[] | undefined; // most lookups of an upsert find nothing: no array then
      const pending = this.#pending(ws);
      const { ids, hashes } = lookup;
      const n = ids === undefined ? 1 : ids.length;
      for (let i = 0; i < n; i++) {
        const id = ids === undefined ? lookup.id : ids[i];
        const hash = hashes === undefined ? lookup.hash : hashes[i];
        let rec: RecordId | undefined;
        let doc: Doc | undefined;
        if (pending === undefined) {
          rec = this.#store.get(id, hash);
          doc = rec === undefined ? undefined : this.#store.doc(rec);
        } else {
          ({ rec, doc } = this.#visibleById(id, ws, hash));
        }
        if (doc !== undefined && (m === undefined || m(doc))) (out ??= []).push({ rec, doc });
      }
      if (out === undefined) return NOTHING;
      if (out.length > 1) out.sort((a, b) => compareBson(a.doc._id, b.doc._id));
      return limit > 0 && out.length > limit ? out.slice(0, limit) : out;
    }
    const m = compileFilter(filter);
    const out: Visible[] = [];
    for (const v of this.#scan(ws)) {
      if (m(v.doc)) {
        out.push(v);
        if (limit > 0 && out.length >= limit) break;
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  /**
   * Documents matching `filter` (copies), with MongoDB's find semantics.
   *
   * @throws ServerError BadValue for a malformed filter, 15975 for a bad sort.
   */
  find(filter: unknown = {}, options: FindOptions = {}, ws?: WriteSet): Doc[] {
    this.#checkWriteSet(ws);
    const sort =
      options.sort !== undefined && Object.keys(options.sort).length > 0 ? parseSort(options.sort) : undefined;
    const skip = options.skip ?? 0;
    const limit = Math.abs(options.limit ?? 0);
    if (skip < 0) throw new ServerError(ErrorCodes.BadValue, "skip value must be non-negative");
    const early = sort === undefined && limit > 0 ? skip + limit : 0;
    let docs = this.#select(filter, ws, early).map((v) => v.doc);
    if (sort !== undefined) docs = sortDocs(docs, sort);
    docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
    if (options.projection !== undefined && Object.keys(options.projection).length > 0) {
      const fields = topLevelInclusion(options.projection);
      if (fields !== undefined) return docs.map((d) => includeFields(d, fields));
      return runPipeline(docs, [{ $project: options.projection }], { now: new Date(0) });
    }
    return docs.map((d) => deepCopy(d));
  }

  /**
   * The committed documents in natural order, not copies: for the server's own periodic jobs
   * (the reaper) that read a few fields of every document and must not pay for a query.
   * Callers must not modify them.
   */
  committed(): readonly Readonly<Doc>[] {
    return this.#store.toArray().map((rec) => this.#store.doc(rec));
  }

  /** The first document matching `filter` (a copy), or undefined. */
  findOne(filter: unknown = {}, options: FindOptions = {}, ws?: WriteSet): Doc | undefined {
    return this.find(filter, { ...options, limit: 1 }, ws)[0];
  }

  /** The number of documents matching `filter`. */
  count(filter: unknown = {}, ws?: WriteSet): number {
    this.#checkWriteSet(ws);
    if (
      this.#pending(ws) === undefined &&
      (filter === undefined || (isPlainObject(filter) && firstKey(filter) === undefined))
    ) {
      return this.#store.size;
    }
    return this.#select(filter, ws).length;
  }

  /**
   * Runs an aggregation pipeline over the documents visible through `ws` (see `runPipeline`).
   *
   * @throws ServerError 40324 for an unknown stage.
   */
  aggregate(pipeline: unknown, options: PipelineOptions, ws?: WriteSet): Doc[] {
    this.#checkWriteSet(ws);
    return runPipeline(
      this.#scan(ws).map((v) => v.doc),
      pipeline,
      options,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  #assertUnlocked(lockKey: string, ws: WriteSet | undefined): void {
    const owner = this.#owners.get(lockKey);
    if (owner !== undefined && owner !== ws) throw writeConflict();
  }

  #lock(lockKey: string, ws: WriteSet): void {
    if (!this.#owners.has(lockKey)) {
      this.#owners.set(lockKey, ws);
      ws._noteLock(this, lockKey);
    }
  }

  /** Throws DuplicateKey if `w.after` would duplicate a unique secondary index key in ws's view. */
  #checkUnique(w: PlannedWrite, ws: WriteSet | undefined, unique: readonly IndexEntry[]): void {
    const after = w.after;
    if (after === null) return;
    const pending = this.#pending(ws);
    const ownKey = pending !== undefined ? bsonKey(w.id) : "";
    for (const ix of unique) {
      for (const ik of ix.keysOf(after)) {
        if (ws !== undefined || this.#owners.size > 0) this.#assertUnlocked(indexLockKey(ix, ik.key), ws);
        const holder = ix.entries!.get(ik.key);
        if (holder !== undefined && this.#store.isLive(holder) && holder !== w.rec) {
          const seen = this.#visibleOfRec(holder, ws);
          if (seen !== undefined && ix.hasKey(seen, ik.key)) throw duplicateKeyError(this.ns, ix, ik.values);
        }
        if (pending !== undefined) {
          for (const [k, p] of pending) {
            if (k !== ownKey && p.doc !== null && ix.hasKey(p.doc, ik.key))
              throw duplicateKeyError(this.ns, ix, ik.values);
          }
        }
      }
    }
  }

  /** Validates (locks, unique keys) and applies planned writes, in order. */
  #execute(plan: readonly PlannedWrite[], ws: WriteSet | undefined): void {
    if (ws !== undefined) ws._assertWritable();
    if (this.#owners.size > 0) for (const w of plan) this.#assertUnlocked(bsonKey(w.id), ws);
    const unique = this.#indexes.unique();
    for (const w of plan) {
      if (unique.length > 0) this.#checkUnique(w, ws, unique);
      if (ws === undefined) {
        this.#applyBase(w.rec, w.after, unique);
        continue;
      }
      const key = bsonKey(w.id);
      ws._writesFor(this, true).set(key, { id: w.id, doc: w.after });
      this.#lock(key, ws);
      for (const ix of unique) {
        for (const d of [w.before, w.after]) {
          if (d) for (const ik of ix.keysOf(d)) this.#lock(indexLockKey(ix, ik.key), ws);
        }
      }
    }
  }

  /** Applies one write to the committed documents and the unique index maps. */
  #applyBase(rec: RecordId | undefined, after: Doc | null, unique: readonly IndexEntry[]): void {
    if (rec !== undefined && unique.length > 0) this.#unindex(rec, unique);
    if (after === null) {
      if (rec !== undefined) this.#store.remove(rec);
      return;
    }
    if (rec !== undefined) this.#store.setDoc(rec, after);
    else rec = this.#store.insert(after);
    if (unique.length > 0) this.#index(rec, unique);
  }

  #unindex(rec: RecordId, unique: readonly IndexEntry[]): void {
    for (const ix of unique)
      for (const ik of ix.keysOf(this.#store.doc(rec))) if (ix.entries!.get(ik.key) === rec) ix.entries!.delete(ik.key);
  }

  #index(rec: RecordId, unique: readonly IndexEntry[]): void {
    for (const ix of unique) for (const ik of ix.keysOf(this.#store.doc(rec))) ix.entries!.set(ik.key, rec);
  }

  /** Normalizes a document for insertion: `_id` first (generated if missing), valid `_id`. */
  #prepareInsert(doc: Doc): Doc {
    let d = doc;
    if (!("_id" in d) || d._id === undefined) {
      const out: Doc = { _id: this.#idFactory() };
      for (const k in d) if (k !== "_id") out[k] = d[k];
      d = out;
    } else if (firstKey(d) !== "_id") {
      const out: Doc = { _id: d._id };
      for (const k in d) if (k !== "_id") out[k] = d[k];
      d = out;
    }
    const id = d._id;
    if (Array.isArray(id))
      throw new ServerError(UpdateErrorCodes.InvalidIdField, "The '_id' value cannot be of type array");
    if (id instanceof RegExp) throw new ServerError(UpdateErrorCodes.InvalidIdField, "can't use a regex for _id");
    return d;
  }

  /**
   * Inserts `d` (already normalized). `hash` is `bsonHash(d._id)`; `known` is the committed record
   * of that `_id` the caller has just looked up through `ws` (null: none; then no document is
   * visible), undefined if it has not.
   */
  #insertPrepared(d: Doc, ws: WriteSet | undefined, hash: number, known?: RecordId | null): void {
    if (ws !== undefined) ws._assertWritable();
    let rec = known ?? undefined;
    if (known === undefined) {
      const v = this.#visibleById(d._id, ws, hash);
      if (v.doc !== undefined) {
        if (this.#owners.size > 0) this.#assertUnlocked(bsonKey(d._id), ws);
        throw duplicateKeyError(this.ns, undefined, [d._id]);
      }
      rec = v.rec;
    }
    if (ws === undefined && this.#owners.size === 0 && this.#indexes.unique().length === 0) {
      this.#store.insert(d, hash); // the hot path: no locks, no unique indexes
      return;
    }
    this.#execute([{ rec, id: d._id, before: undefined, after: d }], ws);
  }

  /**
   * Inserts a copy of `doc`, adding `_id` (from the id factory) when missing and moving `_id`
   * first.
   *
   * @returns the `_id` (a copy).
   * @throws ServerError DuplicateKey (11000) `E11000 duplicate key error collection: <ns> index:
   * _id_ dup key: { _id: <value> }` (or a unique index's), WriteConflict (112) if an open write
   * set other than `ws` has written that `_id`.
   */
  insertOne(doc: Doc, ws?: WriteSet): unknown {
    this.#checkWriteSet(ws);
    if (!isPlainObject(doc)) throw new ServerError(ErrorCodes.BadValue, "document to insert must be an object");
    const d = this.#prepareInsert(deepCopy(doc));
    this.#insertPrepared(d, ws, bsonHash(d._id));
    return deepCopy(d._id);
  }

  /**
   * Updates the documents matching `filter` (the first only, unless `multi`).
   *
   * @remarks `update` is a replacement document, a modifier document or a pipeline (see
   * `parseUpdate`). With `upsert` and no match, a document is built from the filter's equality
   * conditions (so `_id` comes from `filter._id`) and the update is applied to it. Documents whose
   * new version equals the old are matched but not modified (and not written: no conflict).
   * A multi-update checks every target's lock before writing any; a later DuplicateKey leaves
   * the earlier documents updated, as in MongoDB.
   *
   * @throws ServerError FailedToParse/BadValue/TypeMismatch/ImmutableField (66) for bad updates,
   * DuplicateKey, WriteConflict.
   *
   * @example
   * ```ts
   * coll.update({ _id: lsid }, [{ $set: { lastUse: "$$NOW" } }, { $set: { user: { name } } }],
   *   { upsert: true, now });
   * ```
   */
  update(filter: unknown, update: unknown, options: UpdateOptions, ws?: WriteSet): UpdateResult {
    this.#checkWriteSet(ws);
    const parsed = parseUpdate(update);
    if (options.multi && parsed.kind === "replacement") {
      throw new ServerError(ErrorCodes.FailedToParse, "multi update is not supported for replacement-style update");
    }
    const lookup = idLookup(filter);
    const byIdOnly = lookup?.equality === true && onlyId(filter as Doc);
    // `{_id: v}` outside a write set (the refresh's upserts): one probe of the `_id` index.
    const targets: readonly Visible[] =
      byIdOnly && ws === undefined
        ? this.#visibleCommitted(lookup.id, lookup.hash)
        : this.#select(filter, ws, options.multi ? 0 : 1, lookup);
    if (targets.length === 0) {
      if (!options.upsert) return { matched: 0, modified: 0 };
      const seed = byIdOnly ? idSeed(lookup.id) : upsertSeed(filter);
      const insertEnv = { now: options.now, clusterTime: options.clusterTime, isInsert: true };
      const doc = this.#prepareInsert(applyUpdate(seed, parsed, insertEnv));
      if (byIdOnly && "_id" in seed) {
        // The new _id is the filter's (an update cannot change it), which the lookup just missed.
        const rec = ws === undefined ? undefined : this.#store.get(doc._id, lookup.hash);
        this.#insertPrepared(doc, ws, lookup.hash, rec ?? null);
      } else {
        this.#insertPrepared(doc, ws, bsonHash(doc._id));
      }
      return new UpsertResult(doc._id);
    }
    const env = { now: options.now, clusterTime: options.clusterTime, isInsert: false };
    const plan: PlannedWrite[] = [];
    let modified = 0;
    const direct = ws === undefined && this.#owners.size === 0 && this.#indexes.unique().length === 0;
    for (const { rec, doc: before } of targets) {
      const { doc: after, changed } = applyUpdateTracked(before, parsed, env);
      if (!changed) continue;
      modified++;
      if (direct && rec !== undefined)
        this.#store.setDoc(rec, after); // the hot path: swap the version in place
      else plan.push({ rec, id: before._id, before, after });
    }
    if (plan.length > 0) this.#execute(plan, ws);
    return { matched: targets.length, modified };
  }

  /**
   * Deletes the documents matching `filter` (the first only with `limit: 1`).
   *
   * @returns the number deleted.
   * @throws ServerError WriteConflict if another open write set has written one of them.
   */
  delete(filter: unknown, options: DeleteOptions = { limit: 0 }, ws?: WriteSet): number {
    this.#checkWriteSet(ws);
    const targets = this.#select(filter, ws, options.limit === 1 ? 1 : 0);
    this.#execute(
      targets.map(({ rec, doc }) => ({ rec, id: doc._id, before: doc, after: null })),
      ws,
    );
    return targets.length;
  }

  // -------------------------------------------------------------------------------------------
  // Indexes

  /**
   * Creates an index (`createIndexes`).
   *
   * @returns true if created, false if an identical index already existed.
   * @throws ServerError IndexOptionsConflict (85), 86, CannotCreateIndex (67), DuplicateKey when
   * a unique index meets duplicate committed documents.
   */
  createIndex(spec: CreateIndexSpec): boolean {
    const s = this.#indexes.prepare(spec);
    if (s === undefined) return false;
    const entry = this.#indexes.add(s);
    if (entry.entries !== undefined) {
      try {
        for (const rec of this.#store.toArray()) {
          for (const ik of entry.keysOf(this.#store.doc(rec))) {
            const holder = entry.entries.get(ik.key);
            if (holder !== undefined && holder !== rec) throw duplicateKeyError(this.ns, entry, ik.values);
            entry.entries.set(ik.key, rec);
          }
        }
      } catch (e) {
        this.#indexes.drop(s.name);
        throw e;
      }
    }
    return true;
  }

  /**
   * Drops an index.
   *
   * @throws ServerError IndexNotFound (27), InvalidOptions (72) for `_id_`.
   */
  dropIndex(name: string): void {
    this.#indexes.drop(name);
  }

  /**
   * Changes the `expireAfterSeconds` of an index (`collMod` with `index: {name,
   * expireAfterSeconds}`).
   *
   * @returns the previous value (undefined if the index was not a TTL index).
   * @throws ServerError IndexNotFound (27).
   */
  setExpireAfterSeconds(name: string, seconds: number): number | undefined {
    const old = this.#indexes.get(name);
    if (old === undefined)
      throw new ServerError(ErrorCodes.IndexNotFound, `cannot find index ${name} for ns ${this.ns}`);
    this.#indexes.replace(name, { ...old.spec, expireAfterSeconds: seconds });
    return old.spec.expireAfterSeconds;
  }

  /** The index specs (`listIndexes`), `_id_` first. */
  listIndexes(): IndexSpec[] {
    return this.#indexes.list();
  }

  /**
   * One pass of the TTL monitor: deletes and returns the committed documents whose indexed date
   * plus `expireAfterSeconds` is `<= now`.
   *
   * @remarks Non-date values are ignored; an array expires by its earliest date. Documents
   * written by an open write set are skipped (MongoDB's TTL delete would hit a write conflict and
   * retry on a later pass). See `ttl_monitor.cpp`.
   */
  expireTtl(now: Date): Doc[] {
    const ttl = this.#indexes.ttl();
    if (ttl.length === 0) return [];
    const t = now.getTime();
    const expired: RecordId[] = [];
    for (const rec of this.#store.toArray()) {
      const d = this.#store.doc(rec);
      if (this.#owners.size > 0 && this.#owners.has(bsonKey(d._id))) continue;
      for (const ix of ttl) {
        const field = ix.fields[0];
        const v = field.includes(".") ? keyValues(d, field) : d[field];
        let earliest = Infinity;
        if (v instanceof Date) earliest = v.getTime();
        else if (Array.isArray(v))
          for (const e of v) if (e instanceof Date && e.getTime() < earliest) earliest = e.getTime();
        if (earliest + ix.ttlSeconds! * 1000 <= t) {
          expired.push(rec);
          break;
        }
      }
    }
    const unique = this.#indexes.unique();
    const docs = expired.map((r) => this.#store.doc(r));
    for (const rec of expired) this.#applyBase(rec, null, unique);
    return docs;
  }

  // -------------------------------------------------------------------------------------------
  // Write-set hooks

  /** @internal Applies a committing write set's writes atomically. */
  _applyCommitted(writes: ReadonlyMap<string, PendingWrite>): void {
    const unique = this.#indexes.unique();
    const list = [...writes.values()].map((p) => ({ rec: this.#store.get(p.id), after: p.doc }));
    // Unindex every old version before indexing any new one, so swaps within the write set work.
    if (unique.length > 0) for (const w of list) if (w.rec !== undefined) this.#unindex(w.rec, unique);
    for (const w of list) {
      if (w.after === null) {
        if (w.rec !== undefined) this.#store.remove(w.rec);
      } else if (w.rec !== undefined) {
        this.#store.setDoc(w.rec, w.after);
      } else {
        w.rec = this.#store.insert(w.after);
      }
    }
    if (unique.length > 0) for (const w of list) if (w.after !== null) this.#index(w.rec!, unique);
  }

  /** @internal Releases locks held by `ws`. */
  _releaseLocks(ws: WriteSet, locks: Iterable<string>): void {
    for (const k of locks) if (this.#owners.get(k) === ws) this.#owners.delete(k);
  }
}
