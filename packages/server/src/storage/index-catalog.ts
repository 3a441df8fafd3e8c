/**
 * A collection's indexes (`IndexCatalogImpl` in `src/mongo/db/catalog/index_catalog_impl.cpp`):
 * their specs, unique-key bookkeeping and TTL eligibility. Only `unique`, `sparse` and
 * `expireAfterSeconds` change behaviour; other options are kept in the spec for `listIndexes`.
 *
 * @packageDocumentation
 */
import { ServerError, ErrorCodes } from "../errors/index.js";
import { bsonEquals } from "./bson-order.js";
import { bsonKey } from "./bson-key.js";
import { formatBson } from "./bson-format.js";
import { isNumeric, isPlainObject, toDouble, type Doc } from "./bson-types.js";
import { deepCopy } from "./deep-copy.js";
import { keyValues } from "./field-path.js";
import type { RecordId } from "./record-store.js";

/** The name of the index every collection has on `_id`. */
export const ID_INDEX_NAME = "_id_";

/** An index specification as `listIndexes` returns it: `{v: 2, key, name, ...options}`. */
export interface IndexSpec {
  readonly v: 2;
  readonly key: Doc;
  readonly name: string;
  readonly unique?: boolean;
  readonly sparse?: boolean;
  readonly expireAfterSeconds?: number;
  readonly [option: string]: unknown;
}

/** What `createIndex` takes (one entry of the `createIndexes` command's `indexes`). */
export interface CreateIndexSpec {
  readonly key: Doc;
  /** Defaults to the generated name, e.g. `"a_1_b_-1"`. */
  readonly name?: string;
  readonly unique?: boolean;
  readonly sparse?: boolean;
  readonly expireAfterSeconds?: number;
  readonly [option: string]: unknown;
}

/** One index key of one document: its canonical string and the key values (for messages). */
export interface IndexKey {
  readonly key: string;
  readonly values: readonly unknown[];
}

/** Options compared when deciding whether two indexes are the same. */
const COMPARED_OPTIONS = ["unique", "sparse", "expireAfterSeconds", "partialFilterExpression", "collation", "hidden"];
/** Options that make an index distinct from another on the same key pattern. */
const SIGNATURE_OPTIONS = ["unique", "sparse", "partialFilterExpression", "collation"];

function optionsKey(spec: IndexSpec, names: readonly string[]): string {
  const o: Doc = {};
  for (const n of names) {
    const v = spec[n];
    if (v !== undefined && v !== false) o[n] = isNumeric(v) ? toDouble(v) : v;
  }
  return bsonKey(o);
}

/** The generated index name: `{a: 1, "b.c": -1}` → `"a_1_b.c_-1"`. */
export function defaultIndexName(key: Doc): string {
  return Object.keys(key)
    .map((k) => `${k}_${String(isNumeric(key[k]) ? toDouble(key[k]) : key[k])}`)
    .join("_");
}

/** A live index: its spec, and for unique indexes the map from key to document key. */
export class IndexEntry {
  readonly spec: IndexSpec;
  readonly fields: readonly string[];
  /** Unique (non-`_id`) indexes: index key → the committed record holding it. */
  readonly entries: Map<string, RecordId> | undefined;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.entries = spec.unique === true && spec.name !== ID_INDEX_NAME ? new Map() : undefined;
  }

  get name(): string {
    return this.spec.name;
  }

  /**
   * The index keys of `doc` (several for a multikey index; none for a sparse index when every
   * key field is missing). Missing fields index as null.
   */
  keysOf(doc: Doc): IndexKey[] {
    let combos: unknown[][] = [[]];
    let anyPresent = false;
    for (const f of this.fields) {
      const vals = keyValues(doc, f);
      if (vals.length > 0) anyPresent = true;
      const choices = vals.length > 0 ? vals : [null];
      const next: unknown[][] = [];
      for (const c of combos) for (const v of choices) next.push([...c, v]);
      combos = next;
    }
    if (this.spec.sparse === true && !anyPresent) return [];
    const seen = new Set<string>();
    const out: IndexKey[] = [];
    for (const values of combos) {
      const key = bsonKey(values);
      if (!seen.has(key)) {
        seen.add(key);
        out.push({ key, values });
      }
    }
    return out;
  }

  /** True if `doc` has index key `key`. */
  hasKey(doc: Doc, key: string): boolean {
    return this.keysOf(doc).some((k) => k.key === key);
  }

  /** The `expireAfterSeconds` of a TTL index, else undefined. */
  get ttlSeconds(): number | undefined {
    const s = this.spec.expireAfterSeconds;
    return s !== undefined && this.fields.length === 1 ? s : undefined;
  }
}

/**
 * The DuplicateKey error MongoDB reports:
 * `E11000 duplicate key error collection: <ns> index: <name> dup key: { <field>: <value> }`.
 */
export function duplicateKeyError(ns: string, index: IndexEntry | undefined, values: readonly unknown[]): ServerError {
  const fields = index?.fields ?? ["_id"];
  const name = index?.name ?? ID_INDEX_NAME;
  const parts = fields.map((f, i) => `${f}: ${formatBson(values[i])}`);
  const keyPattern: Doc = {};
  const keyValue: Doc = {};
  fields.forEach((f, i) => {
    keyPattern[f] = 1;
    keyValue[f] = values[i];
  });
  return new ServerError(
    ErrorCodes.DuplicateKey,
    `E11000 duplicate key error collection: ${ns} index: ${name} dup key: { ${parts.join(", ")} }`,
    { keyPattern, keyValue: deepCopy(keyValue) },
  );
}

function cannotCreate(msg: string): ServerError {
  return new ServerError(ErrorCodes.CannotCreateIndex, msg);
}

function normalizeSpec(req: CreateIndexSpec): IndexSpec {
  if (!isPlainObject(req.key) || Object.keys(req.key).length === 0) {
    throw cannotCreate("Index keys cannot be empty.");
  }
  for (const f of Object.keys(req.key)) {
    const v = req.key[f];
    if (isNumeric(v)) {
      if (toDouble(v) === 0) throw cannotCreate("Values in v:2 index key pattern cannot be 0.");
    } else if (typeof v !== "string") {
      throw cannotCreate("Values in the index key pattern can only be numbers or strings.");
    }
    if (f === "" || f.split(".").some((p) => p === "")) throw cannotCreate("Index keys cannot be an empty field.");
  }
  const name = req.name ?? defaultIndexName(req.key);
  if (typeof name !== "string" || name === "") throw cannotCreate("The index name cannot be empty");
  const { key, name: _n, v: _v, ...options } = req;
  const spec: { [k: string]: unknown } = { v: 2, key: deepCopy(key), name };
  for (const k of Object.keys(options)) if (options[k] !== undefined) spec[k] = deepCopy(options[k]);
  if (spec.expireAfterSeconds !== undefined) {
    const s = spec.expireAfterSeconds;
    if (!isNumeric(s) || Number.isNaN(toDouble(s))) {
      throw cannotCreate(
        `TTL index 'expireAfterSeconds' option must be numeric, but received a type of '${typeof s}'. Index spec: ${formatBson(spec)}`,
      );
    }
    if (toDouble(s) < 0 || toDouble(s) > 2147483647) {
      throw cannotCreate(
        `TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number. Index spec: ${formatBson(spec)}`,
      );
    }
    if (Object.keys(key).length > 1) {
      throw cannotCreate(
        `TTL indexes are single-field indexes, compound indexes do not support TTL. Index spec: ${formatBson(spec)}`,
      );
    }
    spec.expireAfterSeconds = toDouble(s);
  }
  return spec as unknown as IndexSpec;
}

/**
 * The indexes of one collection, in creation order; `_id_` always first.
 *
 * @remarks Uniqueness bookkeeping is done by the collection (which knows about write sets); this
 * class owns the specs and the conflict rules of `createIndexes`.
 */
export class IndexCatalog {
  readonly ns: string;
  readonly #indexes = new Map<string, IndexEntry>();
  #unique: IndexEntry[] | undefined;
  #ttl: IndexEntry[] | undefined;

  constructor(ns: string) {
    this.ns = ns;
    this.#indexes.set(ID_INDEX_NAME, new IndexEntry({ v: 2, key: { _id: 1 }, name: ID_INDEX_NAME }));
  }

  /**
   * Validates a requested index against the existing ones.
   *
   * @returns the spec to create, or `undefined` if an identical index exists (a no-op).
   * @throws ServerError IndexOptionsConflict (85) for the same name or key pattern with other
   * options or another name, IndexKeySpecsConflict (86) for the same name with another key,
   * CannotCreateIndex (67) for an invalid spec.
   */
  prepare(req: CreateIndexSpec): IndexSpec | undefined {
    const spec = normalizeSpec(req);
    const same = this.#indexes.get(spec.name);
    if (same !== undefined) {
      if (!bsonEquals(same.spec.key, spec.key)) {
        throw new ServerError(
          86,
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${formatBson(spec)}, existing index: ${formatBson(same.spec)}`,
        );
      }
      if (optionsKey(same.spec, COMPARED_OPTIONS) !== optionsKey(spec, COMPARED_OPTIONS)) {
        throw new ServerError(
          ErrorCodes.IndexOptionsConflict,
          `An equivalent index already exists with the same name but different options. Requested index: ${formatBson(spec)}, existing index: ${formatBson(same.spec)}`,
        );
      }
      return undefined;
    }
    for (const other of this.#indexes.values()) {
      if (!bsonEquals(other.spec.key, spec.key)) continue;
      if (optionsKey(other.spec, SIGNATURE_OPTIONS) !== optionsKey(spec, SIGNATURE_OPTIONS)) continue;
      if (optionsKey(other.spec, COMPARED_OPTIONS) === optionsKey(spec, COMPARED_OPTIONS)) {
        throw new ServerError(
          ErrorCodes.IndexOptionsConflict,
          `Index already exists with a different name: ${other.name}`,
        );
      }
      throw new ServerError(
        ErrorCodes.IndexOptionsConflict,
        `An equivalent index already exists with a different name and options. Requested index: ${formatBson(spec)}, existing index: ${formatBson(other.spec)}`,
      );
    }
    return spec;
  }

  /** Adds an index prepared by {@link IndexCatalog.prepare}. */
  add(spec: IndexSpec): IndexEntry {
    const entry = new IndexEntry(spec);
    this.#indexes.set(spec.name, entry);
    this.#unique = this.#ttl = undefined;
    return entry;
  }

  /**
   * Removes an index.
   *
   * @throws ServerError IndexNotFound (27), InvalidOptions (72) for `_id_`.
   */
  drop(name: string): void {
    if (name === ID_INDEX_NAME) throw new ServerError(ErrorCodes.InvalidOptions, "cannot drop _id index");
    if (!this.#indexes.delete(name)) {
      throw new ServerError(ErrorCodes.IndexNotFound, `index not found with name [${name}]`);
    }
    this.#unique = this.#ttl = undefined;
  }

  /** The index named `name`, if any. */
  get(name: string): IndexEntry | undefined {
    return this.#indexes.get(name);
  }

  /** Replaces the spec of an index (collMod), keeping its position. */
  replace(name: string, spec: IndexSpec): IndexEntry {
    const old = this.#indexes.get(name);
    if (old === undefined)
      throw new ServerError(ErrorCodes.IndexNotFound, `cannot find index ${name} for ns ${this.ns}`);
    const entry = new IndexEntry(spec);
    if (old.entries && entry.entries) for (const [k, v] of old.entries) entry.entries.set(k, v);
    this.#indexes.set(name, entry);
    this.#unique = this.#ttl = undefined;
    return entry;
  }

  /** All indexes, in creation order. */
  all(): IndexEntry[] {
    return [...this.#indexes.values()];
  }

  /** Unique secondary indexes (the `_id` index is the collection's own map). */
  unique(): readonly IndexEntry[] {
    return (this.#unique ??= this.all().filter((e) => e.entries !== undefined));
  }

  /** TTL indexes. */
  ttl(): readonly IndexEntry[] {
    return (this.#ttl ??= this.all().filter((e) => e.ttlSeconds !== undefined));
  }

  /** `listIndexes`: copies of the specs. */
  list(): IndexSpec[] {
    return this.all().map((e) => deepCopy(e.spec));
  }
}
