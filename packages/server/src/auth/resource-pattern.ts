import { compareStrings } from "./names.js";

/** The cluster resource, `{cluster: true}` in privilege documents. */
export interface ClusterResource {
  readonly cluster: true;
}

/** `{anyResource: true}`: every resource, including the cluster and system collections. */
export interface AnyResource {
  readonly anyResource: true;
}

/**
 * `{db, collection}` in privilege documents, where `""` means "any":
 * - `{db: "", collection: ""}`: any normal resource (every database and non-system collection,
 *   except in `local` and `config`);
 * - `{db: "d", collection: ""}`: the database `d` and its normal (non-`system.`) collections;
 * - `{db: "", collection: "c"}`: every collection named `c`, in any database;
 * - `{db: "d", collection: "c"}`: exactly `d.c`.
 *
 * As a *target* (what a command needs), `{db: "d", collection: ""}` is the database itself.
 */
export interface NamespaceResource {
  readonly db: string;
  readonly collection: string;
}

/**
 * A resource pattern of MongoDB's privilege model (`ResourcePattern`,
 * `src/mongo/db/auth/resource_pattern.h`), in the shape of privilege documents.
 *
 * @remarks
 * System-buckets patterns (time-series, `any_system_buckets`) are not modelled.
 */
export type ResourcePattern = ClusterResource | AnyResource | NamespaceResource;

/** `ResourcePattern::forClusterResource()`. */
export const clusterResource: ClusterResource = Object.freeze({ cluster: true });

/** `ResourcePattern::forAnyResource()`. */
export const anyResource: AnyResource = Object.freeze({ anyResource: true });

/** `ResourcePattern::forAnyNormalResource()`. */
export const anyNormalResource: NamespaceResource = Object.freeze({ db: "", collection: "" });

/** `ResourcePattern::forDatabaseName(db)`. */
export function databaseResource(db: string): NamespaceResource {
  return Object.freeze({ db, collection: "" });
}

/** `ResourcePattern::forExactNamespace(db.collection)`. */
export function namespaceResource(db: string, collection: string): NamespaceResource {
  return Object.freeze({ db, collection });
}

/** `ResourcePattern::forCollectionName(collection)`: that collection name in any database. */
export function collectionNameResource(collection: string): NamespaceResource {
  return Object.freeze({ db: "", collection });
}

/** Splits `"db.coll.name"` at the first dot into an exact-namespace resource. */
export function resourceForNamespaceString(ns: string): NamespaceResource {
  const dot = ns.indexOf(".");
  return dot < 0 ? databaseResource(ns) : namespaceResource(ns.slice(0, dot), ns.slice(dot + 1));
}

/**
 * The kinds of resource pattern (`MatchType` in `action_type.idl`, and the `matchType` values of
 * `builtin_roles.yml`).
 */
export const ResourceMatchTypes = Object.freeze({
  cluster: "cluster",
  any: "any",
  anyNormal: "any_normal",
  database: "database",
  collection: "collection",
  exactNamespace: "exact_namespace",
} as const);

/** One resource match type. */
export type ResourceMatchType = (typeof ResourceMatchTypes)[keyof typeof ResourceMatchTypes];

/** The match type of a pattern. */
export function matchTypeOf(r: ResourcePattern): ResourceMatchType {
  if ("cluster" in r) return ResourceMatchTypes.cluster;
  if ("anyResource" in r) return ResourceMatchTypes.any;
  if (r.db === "") {
    return r.collection === "" ? ResourceMatchTypes.anyNormal : ResourceMatchTypes.collection;
  }
  return r.collection === "" ? ResourceMatchTypes.database : ResourceMatchTypes.exactNamespace;
}

/** A canonical string for a pattern, usable as a map key; equal patterns have equal keys. */
export function resourcePatternKey(r: ResourcePattern): string {
  switch (matchTypeOf(r)) {
    case "cluster":
      return "cluster";
    case "any":
      return "any";
    case "any_normal":
      return "any_normal";
    default: {
      const ns = r as NamespaceResource;
      return `ns\u0000${ns.db}\u0000${ns.collection}`;
    }
  }
}

/**
 * Whether `db.collection` is a normal collection: not `system.*`, and not `local.replset.*`.
 *
 * @remarks
 * `NamespaceString::isNormalCollection()` (`src/mongo/db/namespace_string.h`).
 */
export function isNormalCollection(db: string, collection: string): boolean {
  if (collection.startsWith("system.")) return false;
  if (db === "local" && collection.startsWith("replset.")) return false;
  return true;
}

function isLocalOrConfig(db: string): boolean {
  return db === "local" || db === "config";
}

/**
 * The granted patterns that can cover `target`, in MongoDB's search order.
 *
 * @remarks
 * `ResourcePatternSearchList` (`src/mongo/db/auth/resource_pattern_search_list.h`):
 * - cluster: any, cluster;
 * - database `d`: any, any-normal (unless `d` is `local`/`config`), `d`;
 * - normal collection `d.c`: any, any-normal (unless `local`/`config`), database `d`, `*.c`, `d.c`;
 * - system collection `d.system.c`: any, `*.system.c`, `d.system.c` (no database or any-normal
 *   match, so e.g. `readWrite` on `config` does not cover `config.system.sessions`).
 * An authorization check unions the actions granted on every pattern in the list.
 */
export function resourceSearchList(target: ResourcePattern): ResourcePattern[] {
  const list: ResourcePattern[] = [anyResource];
  switch (matchTypeOf(target)) {
    case "any":
      return list;
    case "exact_namespace": {
      const { db, collection } = target as NamespaceResource;
      if (isNormalCollection(db, collection)) {
        if (!isLocalOrConfig(db)) list.push(anyNormalResource);
        list.push(databaseResource(db));
      }
      list.push(collectionNameResource(collection));
      break;
    }
    case "database":
      if (!isLocalOrConfig((target as NamespaceResource).db)) list.push(anyNormalResource);
      break;
    default:
      break;
  }
  list.push(target);
  return list;
}

/** Whether a granted `pattern` covers `target` (i.e. appears in its search list). */
export function resourceMatches(pattern: ResourcePattern, target: ResourcePattern): boolean {
  const key = resourcePatternKey(pattern);
  return resourceSearchList(target).some((p) => resourcePatternKey(p) === key);
}

/** Orders patterns deterministically (by their canonical key). */
export function compareResourcePatterns(a: ResourcePattern, b: ResourcePattern): number {
  return compareStrings(resourcePatternKey(a), resourcePatternKey(b));
}

/** Copies a pattern into a fresh frozen object of the documented shape. */
export function normalizeResourcePattern(r: ResourcePattern): ResourcePattern {
  switch (matchTypeOf(r)) {
    case "cluster":
      return clusterResource;
    case "any":
      return anyResource;
    default: {
      const ns = r as NamespaceResource;
      return namespaceResource(ns.db, ns.collection);
    }
  }
}

/**
 * Parses a privilege document's `resource`; returns `undefined` if it has none of the shapes
 * `{cluster: true}`, `{anyResource: true}`, `{db: string, collection: string}`.
 */
export function parseResourcePattern(value: unknown): ResourcePattern | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const doc = value as Record<string, unknown>;
  const keys = Object.keys(doc).filter((k) => doc[k] !== undefined);
  if (keys.length === 1 && doc["cluster"] === true) return clusterResource;
  if (keys.length === 1 && doc["anyResource"] === true) return anyResource;
  if (keys.length === 2 && typeof doc["db"] === "string" && typeof doc["collection"] === "string") {
    return namespaceResource(doc["db"], doc["collection"]);
  }
  return undefined;
}
