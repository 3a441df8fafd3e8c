import { MaxKey, MinKey } from "bson";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { isDocument, type Document } from "../idl/bson-types.js";
import { compareBson } from "../storage/bson-order.js";
import { formatBson } from "../storage/bson-format.js";
import { MISSING, getPath } from "../storage/field-path.js";

/** A shard as `config.shards` lists it. */
export interface ShardEntry {
  /** The shard id, e.g. "shard0". */
  readonly _id: string;
  /** Replica-set members' node names; the first is the primary. */
  readonly members: readonly string[];
}

/** A chunk of a sharded collection: shard-key range [min, max) and its owner. */
export interface ChunkEntry {
  /** Inclusive lower bound: a document with the shard key's fields (MinKey allowed). */
  min: Document;
  /** Exclusive upper bound (MaxKey allowed). */
  max: Document;
  shard: string;
}

/** A sharded collection as `config.collections` + `config.chunks` describe it. */
export interface ShardedCollectionEntry {
  readonly ns: string;
  /** The shard key pattern, e.g. `{_id: 1}` (range sharding only). */
  readonly key: Document;
  readonly unique: boolean;
  /** Chunks sorted by `min`, covering MinKey..MaxKey without gaps. */
  readonly chunks: ChunkEntry[];
}

/** The shard id `config.databases` gives the config server's own databases. */
export const CONFIG_SERVER_SHARD_ID = "config";

/**
 * Told of every change to the routing metadata, right after it is made: the config server's
 * `ShardingCatalogManager` (sharding-catalog-manager.ts) writes each one as documents of
 * `config.shards`, `config.databases`, `config.collections` and `config.chunks`.
 */
export interface ShardingCatalogObserver {
  /** A shard joined the cluster (`addShard`). */
  shardAdded(shard: ShardEntry): void;
  /** A database got its first primary shard (never "admin" or "config"). */
  databaseCreated(db: string, primary: string): void;
  /** An existing database's primary shard changed. */
  primaryShardChanged(db: string, primary: string): void;
  /** `ns` was sharded: its entry has one chunk. */
  collectionSharded(entry: ShardedCollectionEntry): void;
  /** `original` was replaced by `left` and `right` (same shard) in `entry.chunks`. */
  chunkSplit(entry: ShardedCollectionEntry, original: ChunkEntry, left: ChunkEntry, right: ChunkEntry): void;
  /** `chunk` now belongs to `chunk.shard`, and before to `from`. */
  chunkMoved(entry: ShardedCollectionEntry, chunk: ChunkEntry, from: string): void;
  /** The routing entry of a sharded collection was forgotten (`drop`). */
  collectionDropped(entry: ShardedCollectionEntry): void;
}

/**
 * The cluster's routing metadata: `config.shards`, `config.databases` (each database's primary
 * shard), and the sharded collections with their chunks. The nodes read it directly; an attached
 * {@link ShardingCatalogObserver} keeps the config server's documents in step.
 */
export class ShardingCatalog {
  private readonly shardList: ShardEntry[] = [];
  private readonly databases = new Map<string, string>();
  private readonly collections = new Map<string, ShardedCollectionEntry>();
  private nextPrimary = 0;
  private observer: ShardingCatalogObserver | undefined;

  constructor(
    /** Node names of the config server replica set; the first is the primary. */
    readonly configMembers: readonly string[],
  ) {}

  /** Tells `observer` of every later change (the config server's catalog writer). */
  attach(observer: ShardingCatalogObserver): void {
    this.observer = observer;
  }

  get shards(): readonly ShardEntry[] {
    return this.shardList;
  }

  addShard(entry: ShardEntry): void {
    this.shardList.push(entry);
    this.observer?.shardAdded(entry);
  }

  shard(id: string): ShardEntry | undefined {
    return this.shardList.find((s) => s._id === id);
  }

  /** The node name of a shard's primary (or of the config server primary for "config"). */
  primaryNodeOf(shardId: string): string | undefined {
    if (shardId === CONFIG_SERVER_SHARD_ID) return this.configMembers[0];
    return this.shard(shardId)?.members[0];
  }

  /**
   * The primary shard of an existing database (undefined if it has none yet): reads never create a
   * database (mongos answers a read of a database that does not exist with an empty result).
   */
  existingPrimaryShard(db: string): string | undefined {
    if (db === "admin" || db === "config") return CONFIG_SERVER_SHARD_ID;
    return this.databases.get(db);
  }

  /**
   * The primary shard of `db`, created on first use as `enableSharding`/implicit database creation
   * by a write or DDL command does: "admin" and "config" live on the config server; a new database goes to the next shard in
   * turn (deterministic). Undefined when there are no shards.
   */
  primaryShard(db: string): string | undefined {
    if (db === "admin" || db === "config") return CONFIG_SERVER_SHARD_ID;
    const known = this.databases.get(db);
    if (known !== undefined) return known;
    if (this.shardList.length === 0) return undefined;
    const id = this.shardList[this.nextPrimary++ % this.shardList.length]._id;
    this.databases.set(db, id);
    this.observer?.databaseCreated(db, id);
    return id;
  }

  /** Sets a database's primary shard (`movePrimary` / `enableSharding` with `primaryShard`). */
  setPrimaryShard(db: string, shardId: string): void {
    const known = this.databases.get(db);
    if (known === shardId) return;
    this.databases.set(db, shardId);
    // "admin" and "config" have no config.databases entry (they always live on the config server).
    if (db === "admin" || db === "config") return;
    if (known === undefined) this.observer?.databaseCreated(db, shardId);
    else this.observer?.primaryShardChanged(db, shardId);
  }

  // ---- sharded collections (`config.collections`, `config.chunks`) ---------------------------

  /** The routing entry of a sharded collection, or undefined if `ns` is not sharded. */
  collection(ns: string): ShardedCollectionEntry | undefined {
    return this.collections.get(ns);
  }

  /** Namespaces of every sharded collection, in the order they were sharded. */
  shardedNamespaces(): string[] {
    return [...this.collections.keys()];
  }

  /**
   * Shards `ns` on `key` with one chunk [MinKey, MaxKey) on `shard` (`shardCollection` on an
   * empty or unsharded collection). Returns the existing entry if it is already sharded on `key`.
   */
  shardCollection(ns: string, key: Document, shard: string, unique = false): ShardedCollectionEntry {
    const existing = this.collections.get(ns);
    if (existing !== undefined) {
      if (compareKeys(existing.key, key) !== 0 || Object.keys(existing.key).join() !== Object.keys(key).join())
        throw new ServerError(
          ErrorCodes.AlreadyInitialized,
          `sharding already enabled for collection ${ns} with options { key: ${formatBson(existing.key)}, unique: ${existing.unique} }`,
        );
      return existing;
    }
    const entry: ShardedCollectionEntry = {
      ns,
      key: { ...key },
      unique,
      chunks: [{ min: boundOf(key, new MinKey()), max: boundOf(key, new MaxKey()), shard }],
    };
    this.collections.set(ns, entry);
    this.observer?.collectionSharded(entry);
    return entry;
  }

  /** Forgets a sharded collection's routing entry (`drop`). */
  dropCollection(ns: string): void {
    const entry = this.collections.get(ns);
    if (entry === undefined) return;
    this.collections.delete(ns);
    this.observer?.collectionDropped(entry);
  }

  /** The shard key values of `doc` in key order; missing fields are `null` (as MongoDB extracts them). */
  shardKeyOf(entry: ShardedCollectionEntry, doc: Document): Document {
    const out: Document = {};
    for (const field of Object.keys(entry.key)) {
      const v = getPath(doc, field);
      out[field] = v === MISSING ? null : v;
    }
    return out;
  }

  /** The chunk owning shard-key value `key`. */
  chunkFor(entry: ShardedCollectionEntry, key: Document): ChunkEntry {
    const chunks = entry.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (compareKeys(chunks[mid].min, key) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return chunks[lo];
  }

  /** The shard owning the document `doc` of sharded collection `entry`. */
  shardForDocument(entry: ShardedCollectionEntry, doc: Document): string {
    return this.chunkFor(entry, this.shardKeyOf(entry, doc)).shard;
  }

  /** Shards owning at least one chunk, in shard order. */
  owningShards(entry: ShardedCollectionEntry): string[] {
    const owners = new Set(entry.chunks.map((c) => c.shard));
    return this.shardList.map((s) => s._id).filter((id) => owners.has(id));
  }

  /**
   * The shards a query must visit (mongos targeting): one shard when the filter fixes every
   * shard-key field by equality, else every shard owning a chunk.
   */
  shardsForQuery(entry: ShardedCollectionEntry, filter: Document): string[] {
    const key: Document = {};
    for (const field of Object.keys(entry.key)) {
      const v = equalityValue(filter, field);
      if (v === MISSING) return this.owningShards(entry);
      key[field] = v;
    }
    return [this.chunkFor(entry, key).shard];
  }

  /** Splits the chunk containing `middle` at `middle` (`split` with `middle`). */
  split(entry: ShardedCollectionEntry, middle: Document): void {
    const key = this.shardKeyOf(entry, middle);
    const chunk = this.chunkFor(entry, key);
    if (compareKeys(chunk.min, key) === 0 || compareKeys(chunk.max, key) === 0)
      throw new ServerError(
        ErrorCodes.InvalidOptions,
        `cannot split chunk ${formatBson(chunk.min)} -->> ${formatBson(chunk.max)} at its bound ${formatBson(key)}`,
      );
    const i = entry.chunks.indexOf(chunk);
    const left: ChunkEntry = { min: chunk.min, max: key, shard: chunk.shard };
    const right: ChunkEntry = { min: key, max: chunk.max, shard: chunk.shard };
    entry.chunks.splice(i, 1, left, right);
    this.observer?.chunkSplit(entry, chunk, left, right);
  }

  /** The chunk whose bounds are exactly `[min, max)`, if any. */
  chunkWithBounds(entry: ShardedCollectionEntry, min: Document, max: Document): ChunkEntry | undefined {
    return entry.chunks.find((c) => compareKeys(c.min, min) === 0 && compareKeys(c.max, max) === 0);
  }

  /** Changes a chunk's owner (the metadata half of `moveChunk`; the caller moves the documents). */
  setChunkShard(entry: ShardedCollectionEntry, chunk: ChunkEntry, shard: string): void {
    const from = chunk.shard;
    if (from === shard) return;
    chunk.shard = shard;
    this.observer?.chunkMoved(entry, chunk, from);
  }
}

/** A key document with every field of `pattern` set to `value` (MinKey or MaxKey). */
function boundOf(pattern: Document, value: unknown): Document {
  return Object.fromEntries(Object.keys(pattern).map((f) => [f, value]));
}

/** Compares two shard-key documents field by field in BSON order. */
export function compareKeys(a: Document, b: Document): number {
  const av = Object.values(a);
  const bv = Object.values(b);
  for (let i = 0; i < Math.min(av.length, bv.length); i++) {
    const c = compareBson(av[i], bv[i]);
    if (c !== 0) return c;
  }
  return av.length - bv.length;
}

/** The value a filter fixes `field` to by equality (`{f: v}` or `{f: {$eq: v}}`), or MISSING. */
function equalityValue(filter: Document, field: string): unknown {
  if (!Object.hasOwn(filter, field)) return MISSING;
  const v = filter[field];
  if (isDocument(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$eq") return v.$eq;
    if (keys.some((k) => k.startsWith("$"))) return MISSING;
  }
  return v;
}
