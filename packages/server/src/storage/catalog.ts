/**
 * One node's durable databases (`CollectionCatalog` in
 * `src/mongo/db/catalog/collection_catalog.cpp`): collections by namespace, and the write sets of
 * its open transactions.
 *
 * @packageDocumentation
 */
import { ServerError, ErrorCodes } from "../errors/index.js";
import { Collection, sequentialObjectIds, type IdFactory } from "./collection.js";
import { WriteSet } from "./write-set.js";

/** Options of a {@link Catalog}. */
export interface CatalogOptions {
  /** Makes `_id`s for inserts without one (shared by all collections); default sequential. */
  readonly idFactory?: IdFactory;
}

/**
 * Splits `"db.coll"` into its database and collection names.
 *
 * @throws ServerError InvalidNamespace (73) unless both parts are non-empty.
 */
export function parseNamespace(ns: string): { db: string; coll: string } {
  const dot = ns.indexOf(".");
  if (dot <= 0 || dot === ns.length - 1) {
    throw new ServerError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${ns}'`);
  }
  return { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
}

/**
 * The durable storage of one node: its collections by namespace (`"db.coll"`) and its open
 * write sets.
 *
 * @remarks What survives a node crash: the catalog, with its collections and its *prepared*
 * write sets (MongoDB recovers prepared transactions). Open unprepared write sets do not: call
 * {@link Catalog.abortUnpreparedWriteSets} when the node restarts.
 *
 * @example
 * ```ts
 * const catalog = new Catalog();
 * const sessions = catalog.collection("config.system.sessions");
 * sessions.createIndex({ key: { lastUse: 1 }, name: "lsidTTLIndex", expireAfterSeconds: 1800 });
 * ```
 */
export class Catalog {
  readonly #collections = new Map<string, Collection>();
  readonly #writeSets = new Set<WriteSet>();
  readonly #idFactory: IdFactory;

  constructor(options: CatalogOptions = {}) {
    this.#idFactory = options.idFactory ?? sequentialObjectIds();
  }

  /** The collection `ns`, created (empty, with its `_id_` index) if absent. */
  collection(ns: string): Collection {
    let c = this.#collections.get(ns);
    if (c === undefined) {
      parseNamespace(ns);
      c = new Collection(ns, { idFactory: this.#idFactory, catalog: this });
      this.#collections.set(ns, c);
    }
    return c;
  }

  /** The collection `ns`, or undefined if it does not exist. */
  get(ns: string): Collection | undefined {
    return this.#collections.get(ns);
  }

  /** True if collection `ns` exists. */
  has(ns: string): boolean {
    return this.#collections.has(ns);
  }

  #assertDroppable(c: Collection): void {
    if (c.hasOpenWrites()) {
      // MongoDB's drop waits for the transaction's lock; storage cannot wait, the caller models it.
      throw new ServerError(
        ErrorCodes.LockTimeout,
        `Unable to acquire X lock on '${c.ns}': an open transaction has written to it`,
      );
    }
  }

  /**
   * Drops collection `ns`.
   *
   * @returns true if it existed.
   * @throws ServerError LockTimeout (24) while an open or prepared write set has written to it.
   */
  drop(ns: string): boolean {
    const c = this.#collections.get(ns);
    if (c === undefined) return false;
    this.#assertDroppable(c);
    return this.#collections.delete(ns);
  }

  /** The namespaces that exist, sorted; only those of database `db` if given. */
  listNamespaces(db?: string): string[] {
    const all = [...this.#collections.keys()];
    return (db === undefined ? all : all.filter((ns) => ns.startsWith(db + "."))).sort();
  }

  /** The databases that have at least one collection, sorted. */
  listDatabases(): string[] {
    return [...new Set([...this.#collections.keys()].map((ns) => parseNamespace(ns).db))].sort();
  }

  /**
   * Drops every collection of database `db`.
   *
   * @returns the namespaces dropped, sorted.
   * @throws ServerError LockTimeout (24) if an open write set has written to one of them (then
   * nothing is dropped).
   */
  dropDatabase(db: string): string[] {
    const victims = this.listNamespaces(db);
    for (const ns of victims) this.#assertDroppable(this.#collections.get(ns)!);
    for (const ns of victims) this.#collections.delete(ns);
    return victims;
  }

  /** Starts a write set (a multi-document transaction's private writes) on this catalog. */
  beginWriteSet(label = ""): WriteSet {
    return new WriteSet(this, label);
  }

  /** The open and prepared write sets, oldest first. */
  writeSets(): WriteSet[] {
    return [...this.#writeSets];
  }

  /**
   * Restart recovery: aborts every write set that is not prepared; prepared ones survive.
   *
   * @returns the number aborted.
   */
  abortUnpreparedWriteSets(): number {
    let n = 0;
    for (const ws of [...this.#writeSets]) {
      if (!ws.prepared) {
        ws.abort();
        n++;
      }
    }
    return n;
  }

  /** @internal Called by a new write set. */
  _register(ws: WriteSet): void {
    this.#writeSets.add(ws);
  }

  /** @internal Called by a write set when it commits or aborts. */
  _forget(ws: WriteSet): void {
    this.#writeSets.delete(ws);
  }
}
