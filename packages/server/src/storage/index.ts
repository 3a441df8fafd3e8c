/**
 * The in-memory storage layer of one node: BSON ordering and keys, collections with MongoDB's
 * query/update/aggregation semantics, indexes (unique, TTL), and transactions' write sets.
 *
 * @packageDocumentation
 */
export {
  CanonicalType,
  bsonTypeName,
  canonicalType,
  isPlainObject,
  type CanonicalTypeRank,
  type Doc,
} from "./bson-types.js";
export { bsonEquals, compareBson } from "./bson-order.js";
export { bsonHash, bsonKey } from "./bson-key.js";
export { formatBson } from "./bson-format.js";
export { deepCopy } from "./deep-copy.js";
export { compileFilter, type Matcher } from "./matcher.js";
export { runPipeline, type PipelineOptions, type Stage } from "./pipeline.js";
export { parseSort, sortDocs, type SortSpec } from "./sort.js";
export { applyUpdate, freezePipeline, parseUpdate, upsertSeed, type ParsedUpdate } from "./update.js";
export { ModifierNames, UpdateErrorCodes, type ModifierName, type UpdateEnv } from "./update-operators.js";
export { ID_INDEX_NAME, defaultIndexName, type CreateIndexSpec, type IndexSpec } from "./index-catalog.js";
export {
  Collection,
  sequentialObjectIds,
  type CollectionOptions,
  type DeleteOptions,
  type FindOptions,
  type IdFactory,
  type UpdateOptions,
  type UpdateResult,
} from "./collection.js";
export {
  WRITE_CONFLICT_MESSAGE,
  WriteSet,
  WriteSetStates,
  writeConflict,
  type PendingWrite,
  type WriteSetState,
} from "./write-set.js";
export { Catalog, parseNamespace, type CatalogOptions } from "./catalog.js";
