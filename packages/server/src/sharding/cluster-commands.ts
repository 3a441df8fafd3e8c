import { spawn, wait, Future, type Task } from "@sessionsim/kernel";
import { MaxKey, MinKey } from "bson";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { FieldReader } from "../idl/parse.js";
import type { Document } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import type { CommandDefinition } from "../commands/command.js";
import { runPipeline } from "../storage/pipeline.js";
import { formatBson } from "../storage/bson-format.js";
import { commandNamespace, collectionName, databaseName } from "../crud/namespace.js";
import { statements, writeReply } from "../crud/write-commands.js";
import { parseFind } from "../crud/query-commands.js";
import { firstBatchReply } from "../crud/cursor-reply.js";
import { clusterWrite, WRITE_FIELDS, type WriteKind } from "./cluster-write.js";
import {
  checkShardReply,
  gatherFromShards,
  readAll,
  targetShardsForQuery,
  targetShardsForRead,
} from "./cluster-query.js";
import { runOnShard, sendToShard } from "./router.js";
import { compareKeys } from "./sharding-catalog.js";

const MONGOS = [NodeRoles.mongos] as const;

function clusterWriteCommand(kind: WriteKind): CommandDefinition {
  return {
    name: kind,
    on: MONGOS,
    run: (op, node) => {
      const ns = commandNamespace(op);
      const stmts = statements(op, WRITE_FIELDS[kind]);
      return (function* (): Task<Document> {
        return writeReply(kind, yield* clusterWrite(node, op, kind, ns, stmts));
      })();
    },
  };
}

/** mongos `insert` / `update` / `delete`: targeted by shard key and merged (`cluster_write_cmd.cpp`). */
export const clusterInsertCommand = clusterWriteCommand("insert");
export const clusterUpdateCommand = clusterWriteCommand("update");
export const clusterDeleteCommand = clusterWriteCommand("delete");

/**
 * mongos `find` (`cluster_find.cpp`): the targeted shards return their matching documents; mongos
 * sorts, skips, limits and projects them and keeps its own cursor for the rest.
 */
export const clusterFindCommand: CommandDefinition = {
  name: "find",
  on: MONGOS,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const spec = parseFind(op);
    return (function* (): Task<Document> {
      let docs = yield* gatherFromShards(node, op, ns, spec.filter);
      const stages: Document[] = [];
      if (spec.sort !== undefined && Object.keys(spec.sort).length > 0) stages.push({ $sort: spec.sort });
      if (spec.skip !== undefined && spec.skip > 0) stages.push({ $skip: spec.skip });
      if (spec.limit !== undefined && spec.limit > 0) stages.push({ $limit: spec.limit });
      if (spec.projection !== undefined && Object.keys(spec.projection).length > 0)
        stages.push({ $project: spec.projection });
      if (stages.length > 0) docs = runPipeline(docs, stages, { now: new Date(node.now()) });
      return firstBatchReply(node, op, ns, docs, spec.batchSize, spec.singleBatch);
    })();
  },
};

/** mongos `count`: the sum over the targeted shards. */
export const clusterCountCommand: CommandDefinition = {
  name: "count",
  on: MONGOS,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const query = new FieldReader(op.command, "count").document("query", "optional") ?? {};
    return (function* (): Task<Document> {
      const docs = yield* gatherFromShards(node, op, ns, query);
      return { n: docs.length };
    })();
  },
};

/** Sends `command` to every shard in `shards` in parallel and checks each reply. */
function* broadcast(
  node: ServerNode,
  op: OperationContext,
  shards: readonly string[],
  db: string,
  command: Document,
): Task<Document[]> {
  const replies = yield* wait(Future.all(shards.map((s) => spawn(sendToShard(node, op, s, db, command)))));
  return replies.map(checkShardReply);
}

/**
 * The shards holding data of `ns`: chunk owners if sharded, else its database's primary shard;
 * with `create`, a database that does not exist is created first, else it has none.
 */
function dataShards(node: ServerNode, ns: string, create: boolean): string[] {
  const entry = node.shared.sharding.collection(ns);
  if (entry !== undefined) return node.shared.sharding.owningShards(entry);
  return create ? targetShardsForQuery(node, ns, {}) : targetShardsForRead(node, ns, {});
}

/**
 * A DDL command mongos sends to every shard holding the collection, answering with the first
 * reply. `create` and `createIndexes` create the database; `drop` and `dropIndexes` do not, and
 * answer for a database that does not exist with `missing`.
 */
function clusterDdlCommand(
  name: string,
  missing: "create" | ((ns: string) => Document),
  after?: (op: OperationContext, node: ServerNode, ns: string) => void,
): CommandDefinition {
  return {
    name,
    on: MONGOS,
    run: (op, node) => {
      const ns = commandNamespace(op);
      const { [name]: _cmd, ...rest } = op.command;
      const shards = dataShards(node, ns, missing === "create");
      if (shards.length === 0 && missing !== "create") return missing(ns);
      return (function* (): Task<Document> {
        const replies = yield* broadcast(node, op, shards, op.db, {
          [name]: collectionName(ns),
          ...rest,
        });
        after?.(op, node, ns);
        const { ok: _ok, ...first } = replies[0];
        return first;
      })();
    },
  };
}

export const clusterCreateIndexesCommand = clusterDdlCommand("createIndexes", "create");
export const clusterDropIndexesCommand = clusterDdlCommand("dropIndexes", (ns) => {
  throw new ServerError(ErrorCodes.NamespaceNotFound, `ns not found ${ns}`);
});
export const clusterCreateCommand = clusterDdlCommand("create", "create");
/**
 * `drop` also forgets the routing entry (`config.collections`, `config.chunks`). Dropping from a
 * database that does not exist succeeds with `info` (`cluster_drop_collection_cmd.cpp`).
 */
export const clusterDropCommand = clusterDdlCommand(
  "drop",
  () => ({ info: "database does not exist" }),
  (_op, node, ns) => node.shared.sharding.dropCollection(ns),
);

/** mongos `listIndexes`: from a shard holding the collection. */
export const clusterListIndexesCommand: CommandDefinition = {
  name: "listIndexes",
  on: MONGOS,
  run: (op, node) => {
    const ns = commandNamespace(op);
    return (function* (): Task<Document> {
      // A read: a database that does not exist is not created (and has no such collection).
      const [shard] = targetShardsForRead(node, ns, {});
      if (shard === undefined) throw new ServerError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${ns}`);
      const reply = checkShardReply(yield* sendToShard(node, op, shard, op.db, { listIndexes: collectionName(ns) }));
      const cursor = reply.cursor as { firstBatch: Document[] };
      return firstBatchReply(node, op, `${op.db}.$cmd.listIndexes.${collectionName(ns)}`, cursor.firstBatch, undefined);
    })();
  },
};

/** `enableSharding` (mongos): creates the database entry on its primary shard. */
export const enableShardingCommand: CommandDefinition = {
  name: "enableSharding",
  on: MONGOS,
  adminOnly: true,
  run: (op, node) => {
    const db = op.command.enableSharding;
    if (typeof db !== "string" || db.length === 0)
      throw new ServerError(ErrorCodes.InvalidNamespace, "invalid db name specified");
    const primary = op.command.primaryShard;
    if (typeof primary === "string") {
      if (node.shared.sharding.shard(primary) === undefined)
        throw new ServerError(ErrorCodes.ShardNotFound, `Shard ${primary} not found`);
      node.shared.sharding.setPrimaryShard(db, primary);
    } else if (node.shared.sharding.primaryShard(db) === undefined)
      throw new ServerError(ErrorCodes.ShardNotFound, "No shards found");
    return {};
  },
};

function namespaceArgument(op: OperationContext, field: string): string {
  const ns = op.command[field];
  if (typeof ns !== "string" || !ns.includes(".") || ns.startsWith(".") || ns.endsWith("."))
    throw new ServerError(
      ErrorCodes.InvalidNamespace,
      `Invalid namespace specified '${typeof ns === "string" ? ns : formatBson(ns)}'`,
    );
  return ns;
}

/**
 * `shardCollection` (mongos, admin): range-shards a collection on `key` with one chunk on the
 * database's primary shard, creating the shard-key index there.
 */
export const shardCollectionCommand: CommandDefinition = {
  name: "shardCollection",
  aliases: ["shardcollection"],
  on: MONGOS,
  adminOnly: true,
  run: (op, node) => {
    const ns = namespaceArgument(op, "shardCollection");
    const r = new FieldReader(op.command, "shardCollection");
    const key = r.document("key");
    for (const [f, v] of Object.entries(key))
      if (v !== 1 && v !== "hashed")
        throw new ServerError(
          ErrorCodes.BadValue,
          `Unsupported shard key pattern. Pattern must either be a single hashed field, or a list of ascending fields: { ${f}: ${formatBson(v)} }`,
        );
    if (Object.values(key).includes("hashed"))
      throw new ServerError(ErrorCodes.BadValue, "hashed shard keys are not modelled by sessionsim");
    if (ns === "config.system.sessions" && op.request.internal !== true)
      throw new ServerError(
        ErrorCodes.IllegalOperation,
        "can't shard config.system.sessions: only the config server creates it",
      );
    const primary = node.shared.sharding.primaryShard(databaseName(ns));
    if (primary === undefined) throw new ServerError(ErrorCodes.ShardNotFound, "No shards found");
    return (function* (): Task<Document> {
      const index = {
        key,
        name: Object.entries(key)
          .map(([f, v]) => `${f}_${String(v)}`)
          .join("_"),
      };
      if (!(Object.keys(key).length === 1 && "_id" in key))
        checkShardReply(
          yield* sendToShard(node, op, primary, databaseName(ns), {
            createIndexes: collectionName(ns),
            indexes: [index],
          }),
        );
      node.shared.sharding.shardCollection(ns, key, primary, r.flag("unique") ?? false);
      return { collectionsharded: ns };
    })();
  },
};

/** `split` (mongos, admin) with `middle`. */
export const splitCommand: CommandDefinition = {
  name: "split",
  on: MONGOS,
  adminOnly: true,
  run: (op, node) => {
    const ns = namespaceArgument(op, "split");
    const entry = node.shared.sharding.collection(ns);
    if (entry === undefined) throw new ServerError(ErrorCodes.NamespaceNotSharded, `ns: ${ns} is not sharded`);
    const middle = new FieldReader(op.command, "split").document("middle");
    node.shared.sharding.split(entry, middle);
    return {};
  },
};

/**
 * `moveChunk` (mongos, admin) with `find` or `bounds` and `to`: the documents in the chunk's
 * range move from the donor to the recipient shard (read, insert, delete), then the chunk's owner
 * changes.
 */
export const moveChunkCommand: CommandDefinition = {
  name: "moveChunk",
  aliases: ["movechunk"],
  on: MONGOS,
  adminOnly: true,
  run: (op, node) => {
    const ns = namespaceArgument(op, "moveChunk");
    const sharding = node.shared.sharding;
    const entry = sharding.collection(ns);
    if (entry === undefined) throw new ServerError(ErrorCodes.NamespaceNotSharded, `ns: ${ns} is not sharded`);
    const r = new FieldReader(op.command, "moveChunk");
    const to = r.string("to");
    if (sharding.shard(to) === undefined) throw new ServerError(ErrorCodes.ShardNotFound, `Could not find shard ${to}`);
    const find = r.document("find", "optional");
    const bounds = r.array("bounds", "optional");
    const chunk =
      find !== undefined
        ? sharding.chunkFor(entry, sharding.shardKeyOf(entry, find))
        : bounds !== undefined && bounds.length === 2
          ? sharding.chunkWithBounds(entry, bounds[0] as Document, bounds[1] as Document)
          : undefined;
    if (chunk === undefined) throw new ServerError(ErrorCodes.InvalidOptions, "need to specify either find or bounds");
    const from = chunk.shard;
    if (from === to) return {};
    return (function* (): Task<Document> {
      const db = databaseName(ns);
      const coll = collectionName(ns);
      const fields = Object.keys(entry.key);
      const rangeFilter = (bound: Document, op2: "$gte" | "$lt"): Document =>
        Object.fromEntries(
          fields
            .filter((f) => !(bound[f] instanceof MinKey) && !(bound[f] instanceof MaxKey))
            .map((f) => [f, { [op2]: bound[f] }]),
        );
      const filter = { $and: [rangeFilter(chunk.min, "$gte"), rangeFilter(chunk.max, "$lt")] };
      const inRange = yield* readAll(
        (command) => runOnShard(node, from, { db, command, internal: true }),
        coll,
        filter,
      );
      const docs = inRange.filter(
        (d) =>
          compareKeys(sharding.shardKeyOf(entry, d), chunk.min) >= 0 &&
          compareKeys(sharding.shardKeyOf(entry, d), chunk.max) < 0,
      );
      if (docs.length > 0) {
        checkShardReply(
          yield* runOnShard(node, to, { db, command: { insert: coll, documents: docs }, internal: true }),
        );
        checkShardReply(
          yield* runOnShard(node, from, {
            db,
            command: { delete: coll, deletes: docs.map((d) => ({ q: { _id: d._id }, limit: 1 })) },
            internal: true,
          }),
        );
      }
      sharding.setChunkShard(entry, chunk, to);
      return { millis: 0 };
    })();
  },
};
