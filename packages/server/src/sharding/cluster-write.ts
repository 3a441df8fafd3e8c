import { spawn, wait, Future, NetworkError, type Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { expectDocument } from "../idl/parse.js";
import type { Document } from "../idl/bson-types.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import { collectionName, databaseName } from "../crud/namespace.js";
import type { WriteOutcome } from "../crud/write-commands.js";
import { sendToShard } from "./router.js";
import { targetShardsForQuery } from "./cluster-query.js";
import { isRetryableWrite, statementIdAt } from "../retryable-writes/statement-ids.js";

/** The kinds of write command and the field holding their statements. */
export const WRITE_FIELDS = { insert: "documents", update: "updates", delete: "deletes" } as const;
export type WriteKind = keyof typeof WRITE_FIELDS;

/** Where one statement goes: a single shard, or (multi-statement broadcast) several. */
interface Targeted {
  readonly index: number;
  readonly stmt: unknown;
  readonly shards: readonly string[];
  /** Single-document update/delete that may have to try several shards in turn. */
  readonly firstMatch: boolean;
}

function target(node: ServerNode, kind: WriteKind, ns: string, stmt: unknown, index: number): Targeted {
  const sharding = node.shared.sharding;
  const entry = sharding.collection(ns);
  if (kind === "insert") {
    const doc = expectDocument(stmt, `insert.documents.${index}`);
    if (entry === undefined) return { index, stmt, shards: targetShardsForQuery(node, ns, {}), firstMatch: false };
    return { index, stmt, shards: [sharding.shardForDocument(entry, doc)], firstMatch: false };
  }
  const s = expectDocument(stmt, `${kind}.${WRITE_FIELDS[kind]}.${index}`);
  const q = s.q === undefined ? {} : expectDocument(s.q, `${kind}.${WRITE_FIELDS[kind]}.${index}.q`);
  const shards = targetShardsForQuery(node, ns, q);
  const multi = kind === "update" ? s.multi === true : s.limit === 0;
  if (shards.length > 1 && kind === "update" && s.upsert === true)
    throw new ServerError(
      ErrorCodes.ShardKeyNotFound,
      `Failed to target upsert by query :: could not extract exact shard key from query ${JSON.stringify(q)}`,
    );
  return { index, stmt, shards, firstMatch: !multi && shards.length > 1 };
}

/** Groups consecutive single-shard statements with the same target into one batch. */
function batches(targets: readonly Targeted[], ordered: boolean): Targeted[][] {
  const out: Targeted[][] = [];
  if (!ordered) {
    const byShard = new Map<string, Targeted[]>();
    for (const t of targets) {
      if (t.shards.length !== 1) out.push([t]);
      else {
        const list = byShard.get(t.shards[0]) ?? [];
        list.push(t);
        byShard.set(t.shards[0], list);
      }
    }
    return [...byShard.values(), ...out];
  }
  for (const t of targets) {
    const last = out[out.length - 1];
    if (t.shards.length === 1 && last !== undefined && last[0].shards.length === 1 && last[0].shards[0] === t.shards[0])
      last.push(t);
    else out.push([t]);
  }
  return out;
}

/** Merges a shard's write reply into the outcome, mapping its statement indexes back. */
function merge(out: WriteOutcome, batch: readonly Targeted[], reply: Document): void {
  if (reply.ok !== 1) {
    for (const t of batch)
      out.writeErrors.push({ index: t.index, code: Number(reply.code), errmsg: String(reply.errmsg) });
    return;
  }
  out.n += Number(reply.n ?? 0);
  out.nModified += Number(reply.nModified ?? 0);
  for (const u of (reply.upserted as { index: number; _id: unknown }[] | undefined) ?? [])
    out.upserted.push({ index: batch[u.index].index, _id: u._id });
  for (const e of (reply.writeErrors as { index: number; code: number; errmsg: string }[] | undefined) ?? [])
    out.writeErrors.push({ index: batch[e.index].index, code: e.code, errmsg: e.errmsg });
  // Shards report retried statements by the ids mongos gave them (`retriedStmtIds`, SERVER-64874).
  if (Array.isArray(reply.retriedStmtIds) && reply.retriedStmtIds.length > 0)
    (out.retriedStmtIds ??= []).push(...(reply.retriedStmtIds as number[]));
}

/** Sends one batch to one shard; a network failure becomes a write error for each statement. */
function* sendBatch(
  node: ServerNode,
  op: OperationContext,
  kind: WriteKind,
  ns: string,
  shard: string,
  batch: readonly Targeted[],
): Task<Document> {
  const command: Document = {
    [kind]: collectionName(ns),
    [WRITE_FIELDS[kind]]: batch.map((t) => t.stmt),
    ordered: op.command.ordered !== false,
  };
  // A retryable write's statements keep the ids of their position in the client's command.
  if (isRetryableWrite(op)) command.stmtIds = batch.map((t) => statementIdAt(op, t.index));
  try {
    return yield* sendToShard(node, op, shard, databaseName(ns), command);
  } catch (e) {
    if (e instanceof NetworkError)
      return {
        ok: 0,
        code: e.kind === "HostUnreachable" ? ErrorCodes.HostUnreachable : ErrorCodes.NetworkTimeout,
        errmsg: e.message,
      };
    throw e;
  }
}

/**
 * mongos's write path (`src/mongo/s/write_ops/`): targets every statement by shard key (the
 * primary shard for unsharded collections), sends batches to the shards — in order when `ordered`,
 * in parallel otherwise — and merges their replies. A single-document write whose query does not
 * fix the shard key tries the owning shards one at a time until one matches (8.0 writes without
 * shard key find the document first; the observable result is the same).
 */
export function* clusterWrite(
  node: ServerNode,
  op: OperationContext,
  kind: WriteKind,
  ns: string,
  statements: readonly unknown[],
): Task<WriteOutcome> {
  const ordered = op.command.ordered !== false;
  const out: WriteOutcome = { n: 0, nModified: 0, upserted: [], writeErrors: [] };
  const targets: Targeted[] = [];
  for (const [i, stmt] of statements.entries()) {
    try {
      targets.push(target(node, kind, ns, stmt, i));
    } catch (e) {
      if (!(e instanceof ServerError)) throw e;
      out.writeErrors.push({ index: i, code: e.code, errmsg: e.message });
      if (ordered) break;
    }
  }
  const runBatch = function* (batch: Targeted[]): Task<void> {
    const t = batch[0];
    if (batch.length === 1 && t.firstMatch) {
      for (const shard of t.shards) {
        const reply = yield* sendBatch(node, op, kind, ns, shard, [t]);
        merge(out, [t], reply);
        if (reply.ok !== 1 || Number(reply.n ?? 0) > 0 || reply.writeErrors !== undefined) return;
      }
      return;
    }
    if (t.shards.length > 1) {
      // A multi-document write goes to every targeted shard.
      const replies = yield* wait(
        Future.all(t.shards.map((shard) => spawn(sendBatch(node, op, kind, ns, shard, [t])))),
      );
      for (const reply of replies) merge(out, [t], reply);
      return;
    }
    merge(out, batch, yield* sendBatch(node, op, kind, ns, t.shards[0], batch));
  };
  const groups = batches(targets, ordered);
  if (ordered) {
    for (const batch of groups) {
      yield* runBatch(batch);
      if (out.writeErrors.length > 0) break;
    }
  } else yield* wait(Future.all(groups.map((b) => spawn(runBatch(b)))));
  out.writeErrors.sort((a, b) => a.index - b.index);
  if (out.retriedStmtIds !== undefined) out.retriedStmtIds = [...new Set(out.retriedStmtIds)].sort((a, b) => a - b);
  out.upserted.sort((a, b) => a.index - b.index);
  return out;
}
