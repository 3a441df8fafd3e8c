import type { Long } from "bson";
import { spawn, wait, Future, type Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import { sendToShard } from "./router.js";

/**
 * The shards a read of `ns` must visit: chunk owners for sharded collections, else the primary
 * shard of its database, or none if the database does not exist: the read finds nothing and does
 * not create it (mongos answers the catalog cache's NamespaceNotFound with an empty result,
 * `cluster_find.cpp`).
 */
export function targetShardsForRead(node: ServerNode, ns: string, filter: Document): string[] {
  const sharding = node.shared.sharding;
  const entry = sharding.collection(ns);
  if (entry !== undefined) return sharding.shardsForQuery(entry, filter);
  const primary = sharding.existingPrimaryShard(databaseOf(ns));
  return primary === undefined ? [] : [primary];
}

/**
 * The shards a write (or DDL command) on `ns` must visit: {@link targetShardsForRead}, after
 * creating its database if it does not exist (implicit database creation).
 */
export function targetShardsForQuery(node: ServerNode, ns: string, filter: Document): string[] {
  const sharding = node.shared.sharding;
  if (sharding.collection(ns) === undefined && sharding.primaryShard(databaseOf(ns)) === undefined)
    throw new ServerError(ErrorCodes.ShardNotFound, "No shards found");
  return targetShardsForRead(node, ns, filter);
}

const databaseOf = (ns: string): string => ns.slice(0, ns.indexOf("."));

/** Throws a shard's error reply as a ServerError (mongos reports a shard's failure as its own). */
export function checkShardReply(reply: Document): Document {
  if (reply.ok !== 1) {
    const { ok: _ok, errmsg, code, codeName: _codeName, ...extra } = reply;
    throw new ServerError(Number(code ?? ErrorCodes.UnknownError), String(errmsg ?? "shard error"), extra);
  }
  return reply;
}

/** Reads a whole query result from one shard: `find`, then `getMore` until the cursor is exhausted. */
export function* readAll(
  send: (command: Document) => Task<Document>,
  coll: string,
  filter: Document,
): Task<Document[]> {
  let reply = checkShardReply(yield* send({ find: coll, filter, batchSize: 1000 }));
  let cursor = reply.cursor as { firstBatch?: Document[]; nextBatch?: Document[]; id: Long };
  const docs = [...(cursor.firstBatch ?? [])];
  while (!cursor.id.isZero()) {
    reply = checkShardReply(yield* send({ getMore: cursor.id, collection: coll, batchSize: 1000 }));
    cursor = reply.cursor as typeof cursor;
    docs.push(...(cursor.nextBatch ?? []));
  }
  return docs;
}

/**
 * Reads every document of `ns` matching `filter` from the targeted shards, in parallel, on behalf
 * of `op` (its session fields are forwarded). mongos then works on the whole result.
 */
export function* gatherFromShards(
  node: ServerNode,
  op: OperationContext,
  ns: string,
  filter: Document,
): Task<Document[]> {
  const db = ns.slice(0, ns.indexOf("."));
  const coll = ns.slice(ns.indexOf(".") + 1);
  const shards = targetShardsForRead(node, ns, filter);
  // One targeted shard (the common case) needs no fan-out.
  if (shards.length === 1)
    return yield* readAll((command) => sendToShard(node, op, shards[0], db, command), coll, filter);
  const perShard = yield* wait(
    Future.all(
      shards.map((shard) => spawn(readAll((command) => sendToShard(node, op, shard, db, command), coll, filter))),
    ),
  );
  return perShard.flat();
}
