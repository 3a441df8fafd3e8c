/**
 * The config server's sharding catalog collections: `config.shards`, `config.databases`,
 * `config.collections` and `config.chunks`, written on the config server's durable catalog every
 * time the routing metadata changes, so that `find` / `count` / `aggregate` on them work as on
 * any collection (directly on the config server, or through mongos, which sends reads of
 * `config.*` there).
 *
 * @packageDocumentation
 */
import { Long, ObjectId, Timestamp, UUID } from "bson";
import { v4 as uuidv4 } from "uuid";
import type { Rng } from "@sessionsim/kernel";
import type { Document } from "../idl/bson-types.js";
import type { ServerNode } from "../node/server-node.js";
import type { Collection } from "../storage/collection.js";
import type { ChunkEntry, ShardEntry, ShardedCollectionEntry, ShardingCatalogObserver } from "./sharding-catalog.js";

/** `NamespaceString::kConfigsvrShardsNamespace` and friends. */
const CONFIG_SHARDS_NAMESPACE = "config.shards";
const CONFIG_DATABASES_NAMESPACE = "config.databases";
const CONFIG_COLLECTIONS_NAMESPACE = "config.collections";
const CONFIG_CHUNKS_NAMESPACE = "config.chunks";

/** `ShardType::ShardState::kShardAware`. */
const SHARD_AWARE = 1;
/** `logical_sessions::kMaxChunkSizeBytes`, set on config.system.sessions' entry after it is created. */
const SESSIONS_MAX_CHUNK_SIZE_BYTES = 200_000;
const SESSIONS_NAMESPACE = "config.system.sessions";
/** `minSnapshotHistoryWindowInSeconds`' default (not a sessionsim parameter). */
const MIN_SNAPSHOT_HISTORY_WINDOW_SECS = 300;
/** The port every node name is given in host strings (as `hello` reports it). */
const PORT = 27017;

/** A chunk version `{major, minor}` (`ChunkVersion`; stored as `Timestamp(major, minor)`). */
interface Version {
  readonly major: number;
  readonly minor: number;
}

/** One `history` entry of a chunk (`ChunkHistoryBase`: `validAfter`, `shard`). */
interface HistoryEntry {
  readonly validAfter: Timestamp;
  readonly shard: string;
}

/** What config.chunks keeps of a chunk beyond its range and owner. */
interface ChunkMeta {
  readonly id: ObjectId;
  version: Version;
  history: HistoryEntry[];
  /** Insertion order in config.chunks (a query's natural order picks the control chunk). */
  readonly seq: number;
}

/** What config.collections keeps of a sharded collection, and its collection version. */
interface CollectionMeta {
  readonly uuid: UUID;
  readonly epoch: ObjectId;
  readonly timestamp: Timestamp;
  readonly lastmod: Date;
  /** The largest chunk version (`ChunkVersion` of the collection). */
  version: Version;
}

/** A database's `version` (`DatabaseVersion`: `uuid`, `timestamp`, `lastMod`). */
interface DatabaseMeta {
  readonly uuid: UUID;
  readonly timestamp: Timestamp;
  lastMod: number;
}

/** A version-4 UUID from a seeded stream (`UUID::gen()`). */
function newUUID(random: Rng): UUID {
  const bytes = new Uint8Array(16);
  uuidv4({ random: random.bytes(16) }, bytes);
  return new UUID(bytes);
}

/**
 * Writes the routing metadata as the config server's `config.*` documents, with MongoDB's shapes.
 *
 * @remarks
 * `ShardingCatalogManager` (`src/mongo/db/global_catalog/ddl/sharding_catalog_manager*.cpp`) and
 * the types of `src/mongo/s/catalog/`:
 * - `config.shards` (`type_shard.cpp`): `{_id, host: "<set>/<host:port>,...", state: 1,
 *   topologyTime}` — `topologyTime` is the cluster time of `addShard`.
 * - `config.databases` (`type_database.idl`, `database_version.idl`): `{_id, primary, version:
 *   {uuid, timestamp, lastMod: 1}}`; "admin" and "config" never get one
 *   (jstests/sharding/shard_collection_config_db.js); a new primary bumps `lastMod`.
 * - `config.collections` (`type_collection.idl`, fields in IDL order, `unique` and `noBalance`
 *   always written): `{_id: ns, lastmodEpoch, lastmod: Date, timestamp, uuid, key, unique,
 *   noBalance}`; config.system.sessions then gets `maxChunkSizeBytes: 200000`
 *   (`SessionsCollectionConfigServer::_shardCollectionIfNeeded`).
 * - `config.chunks` (`ChunkType::toConfigBSON` in `type_chunk.cpp`): `{_id: ObjectId, uuid,
 *   min, max, shard, lastmod: Timestamp(major, minor), onCurrentShardSince, history: [{validAfter,
 *   shard}]}`. The first chunk is version 1|0 and valid after the collection's `timestamp`
 *   (`InitialSplitPolicy`); a split gives its pieces the next minor versions of the collection,
 *   the left piece keeping the original `_id` (`_splitChunkInTransaction`); a migration gives
 *   the moved chunk (major+1)|0, `onCurrentShardSince` = the commit time prepended to its history
 *   (entries older than the history window dropped, one always kept), and one other chunk left on
 *   the donor — the control chunk — (major+1)|1 (`commitChunkMigration`).
 *
 * Timestamps are ticks of the config server's cluster clock (each write is an oplog entry
 * there); ObjectIds and UUIDs come from seeded streams of the config server. The documents are
 * kept apart from the routing decisions: users may write to these collections (as MongoDB
 * allows an admin to), which changes what they read back but not where mongos routes.
 */
export class ShardingCatalogManager implements ShardingCatalogObserver {
  readonly #chunks = new WeakMap<ChunkEntry, ChunkMeta>();
  readonly #collections = new Map<string, CollectionMeta>();
  readonly #databases = new Map<string, DatabaseMeta>();
  #nextChunkSeq = 0;

  constructor(
    /** The config server's current incarnation (its catalog, cluster clock and parameters). */
    private readonly configServer: () => ServerNode,
    /** Seeded streams for ObjectIds and UUIDs. */
    private readonly random: { readonly objectIds: Rng; readonly uuids: Rng },
  ) {
    this.#createIndexes();
  }

  // ---- ShardingCatalogObserver -------------------------------------------------------------

  shardAdded(shard: ShardEntry): void {
    this.#collection(CONFIG_SHARDS_NAMESPACE).insertOne({
      _id: shard._id,
      host: `${shard._id}/${shard.members.map((m) => `${m}:${PORT}`).join(",")}`,
      state: SHARD_AWARE,
      topologyTime: this.#tick(),
    });
  }

  databaseCreated(db: string, primary: string): void {
    const meta: DatabaseMeta = { uuid: newUUID(this.random.uuids), timestamp: this.#tick(), lastMod: 1 };
    this.#databases.set(db, meta);
    this.#replace(CONFIG_DATABASES_NAMESPACE, databaseDocument(db, primary, meta));
  }

  primaryShardChanged(db: string, primary: string): void {
    const meta = this.#databases.get(db);
    if (meta === undefined) return this.databaseCreated(db, primary);
    meta.lastMod += 1;
    this.#tick();
    this.#replace(CONFIG_DATABASES_NAMESPACE, databaseDocument(db, primary, meta));
  }

  collectionSharded(entry: ShardedCollectionEntry): void {
    const timestamp = this.#tick();
    const meta: CollectionMeta = {
      uuid: newUUID(this.random.uuids),
      epoch: this.#objectId(),
      timestamp,
      lastmod: new Date(this.configServer().now()),
      version: { major: 1, minor: 0 },
    };
    this.#collections.set(entry.ns, meta);
    // The chunks first, then the collection entry (`CreateCollectionCoordinator`'s commit order).
    for (const chunk of entry.chunks) {
      const chunkMeta: ChunkMeta = {
        id: this.#objectId(),
        version: meta.version,
        history: [{ validAfter: timestamp, shard: chunk.shard }],
        seq: this.#nextChunkSeq++,
      };
      this.#chunks.set(chunk, chunkMeta);
      this.#replace(CONFIG_CHUNKS_NAMESPACE, chunkDocument(meta, chunk, chunkMeta));
    }
    const doc: Document = {
      _id: entry.ns,
      lastmodEpoch: meta.epoch,
      lastmod: meta.lastmod,
      timestamp: meta.timestamp,
      uuid: meta.uuid,
      key: { ...entry.key },
      unique: entry.unique,
      noBalance: false,
    };
    if (entry.ns === SESSIONS_NAMESPACE) doc.maxChunkSizeBytes = Long.fromNumber(SESSIONS_MAX_CHUNK_SIZE_BYTES);
    this.#replace(CONFIG_COLLECTIONS_NAMESPACE, doc);
  }

  chunkSplit(entry: ShardedCollectionEntry, original: ChunkEntry, left: ChunkEntry, right: ChunkEntry): void {
    const coll = this.#collections.get(entry.ns);
    const before = this.#chunks.get(original);
    if (coll === undefined || before === undefined) return;
    this.#tick();
    // Splits only bump the minor version, one per new chunk, from the collection version.
    const leftVersion = { major: coll.version.major, minor: coll.version.minor + 1 };
    const rightVersion = { major: coll.version.major, minor: coll.version.minor + 2 };
    coll.version = rightVersion;
    const leftMeta: ChunkMeta = { id: before.id, version: leftVersion, history: [...before.history], seq: before.seq };
    const rightMeta: ChunkMeta = {
      id: this.#objectId(),
      version: rightVersion,
      history: [...before.history],
      seq: this.#nextChunkSeq++,
    };
    this.#chunks.set(left, leftMeta);
    this.#chunks.set(right, rightMeta);
    this.#replace(CONFIG_CHUNKS_NAMESPACE, chunkDocument(coll, left, leftMeta));
    this.#replace(CONFIG_CHUNKS_NAMESPACE, chunkDocument(coll, right, rightMeta));
  }

  chunkMoved(entry: ShardedCollectionEntry, chunk: ChunkEntry, from: string): void {
    const coll = this.#collections.get(entry.ns);
    const meta = this.#chunks.get(chunk);
    if (coll === undefined || meta === undefined) return;
    const validAfter = this.#tick();
    const major = coll.version.major + 1;
    meta.version = { major, minor: 0 };
    coll.version = meta.version;
    const window = this.#historyWindowSecs();
    const history = [...meta.history];
    while (history.length > 1 && history[history.length - 1].validAfter.high + window < validAfter.high) history.pop();
    meta.history = [{ validAfter, shard: chunk.shard }, ...history];
    this.#replace(CONFIG_CHUNKS_NAMESPACE, chunkDocument(coll, chunk, meta));
    // The control chunk: another chunk the donor keeps, first in natural (insertion) order.
    let control: { chunk: ChunkEntry; meta: ChunkMeta } | undefined;
    for (const c of entry.chunks) {
      const m = this.#chunks.get(c);
      if (c === chunk || c.shard !== from || m === undefined) continue;
      if (control === undefined || m.seq < control.meta.seq) control = { chunk: c, meta: m };
    }
    if (control !== undefined) {
      control.meta.version = { major, minor: 1 };
      coll.version = control.meta.version;
      this.#replace(CONFIG_CHUNKS_NAMESPACE, chunkDocument(coll, control.chunk, control.meta));
    }
  }

  collectionDropped(entry: ShardedCollectionEntry): void {
    const coll = this.#collections.get(entry.ns);
    if (coll === undefined) return;
    this.#collections.delete(entry.ns);
    this.#tick();
    this.#collection(CONFIG_CHUNKS_NAMESPACE).delete({ uuid: coll.uuid }, { limit: 0 });
    this.#collection(CONFIG_COLLECTIONS_NAMESPACE).delete({ _id: entry.ns }, { limit: 1 });
  }

  // ---- helpers -------------------------------------------------------------------------------

  /**
   * The indexes the config server creates at start-up (`createIndexesForConfigChunks` and
   * `_initConfigIndexes` in `sharding_catalog_manager.cpp`).
   */
  #createIndexes(): void {
    const chunks = this.#collection(CONFIG_CHUNKS_NAMESPACE);
    chunks.createIndex({ key: { uuid: 1, min: 1 }, name: "uuid_1_min_1", unique: true });
    chunks.createIndex({ key: { uuid: 1, shard: 1, min: 1 }, name: "uuid_1_shard_1_min_1", unique: true });
    chunks.createIndex({ key: { uuid: 1, lastmod: 1 }, name: "uuid_1_lastmod_1", unique: true });
    chunks.createIndex({
      key: { uuid: 1, shard: 1, onCurrentShardSince: 1 },
      name: "uuid_1_shard_1_onCurrentShardSince_1",
    });
    this.#collection(CONFIG_SHARDS_NAMESPACE).createIndex({ key: { host: 1 }, name: "host_1", unique: true });
  }

  #collection(ns: string): Collection {
    const node = this.configServer();
    // The config server is a mongod: it always has storage.
    return node.durable!.catalog.collection(ns);
  }

  /** Upserts `doc` by its `_id` as a whole (the catalog's writes are replacements). */
  #replace(ns: string, doc: Document): void {
    this.#collection(ns).update({ _id: doc._id }, doc, {
      upsert: true,
      now: new Date(this.configServer().now()),
    });
  }

  /** One oplog slot on the config server: the cluster time of a catalog write. */
  #tick(): Timestamp {
    return this.configServer().clusterTime.tick();
  }

  #objectId(): ObjectId {
    return new ObjectId(this.random.objectIds.bytes(12));
  }

  /** `getHistoryWindowInSeconds()`: the longest of the snapshot window, the transaction lifetime, 10 s. */
  #historyWindowSecs(): number {
    return Math.max(MIN_SNAPSHOT_HISTORY_WINDOW_SECS, this.configServer().params.transactionLifetimeLimitSeconds, 10);
  }
}

function databaseDocument(db: string, primary: string, meta: DatabaseMeta): Document {
  return { _id: db, primary, version: { uuid: meta.uuid, timestamp: meta.timestamp, lastMod: meta.lastMod } };
}

function chunkDocument(coll: CollectionMeta, chunk: ChunkEntry, meta: ChunkMeta): Document {
  return {
    _id: meta.id,
    uuid: coll.uuid,
    min: { ...chunk.min },
    max: { ...chunk.max },
    shard: chunk.shard,
    lastmod: Timestamp.fromBits(meta.version.minor, meta.version.major),
    onCurrentShardSince: meta.history[0].validAfter,
    history: meta.history.map((h) => ({ validAfter: h.validAfter, shard: h.shard })),
  };
}
