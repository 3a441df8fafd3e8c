/**
 * Retryable `insert` / `update` / `delete` on a mongod, and the oplog ticks of every write
 * (`src/mongo/db/ops/write_ops_exec.cpp`).
 *
 * @packageDocumentation
 */
import { ErrorCodes, ServerError } from "../errors/index.js";
import { expectDocument } from "../idl/parse.js";
import { isDocument, isNumeric, isTrue, toNumber, type Document } from "../idl/bson-types.js";
import type { CommandDefinition, CommandResult } from "../commands/command.js";
import { isTask } from "../commands/command.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import {
  applyDeleteStatement,
  applyUpdateStatement,
  runStatements,
  statements,
  writeReply,
  type WriteOutcome,
} from "../crud/write-commands.js";
import { catalogOf, commandNamespace } from "../crud/namespace.js";
import { noteOperationTime, tickForWrites } from "../cluster-time/gossip.js";
import { participantForOp } from "../transactions/participant/transaction-participants.js";
import type { TransactionParticipant } from "../transactions/participant/transaction-participant.js";
import { isRetryableWrite, statementIds } from "./statement-ids.js";

/** The write commands and their statement arrays. */
const STATEMENTS = { insert: "documents", update: "updates", delete: "deletes" } as const;
type WriteKind = keyof typeof STATEMENTS;

/** Documents a statement (or a whole command) wrote, from its counts. */
function documentsWritten(kind: WriteKind, n: number, nModified: number, upserts: number): number {
  return kind === "update" ? nModified + upserts : n;
}

function applyInsert(
  op: OperationContext,
  node: ServerNode,
  ns: string,
  doc: unknown,
  index: number,
  out: WriteOutcome,
): void {
  catalogOf(node)
    .collection(ns)
    .insertOne(expectDocument(doc, `insert.documents.${index}`), op.writeSet);
  out.n++;
}

const APPLY = {
  insert: applyInsert,
  update: applyUpdateStatement,
  delete: applyDeleteStatement,
} as const;

/** `update` with `multi: true` and `delete` with `limit: 0` cannot be retryable. */
function checkRetryable(kind: WriteKind, stmt: unknown): void {
  if (!isDocument(stmt)) return;
  if (kind === "update" && isTrue(stmt.multi))
    throw new ServerError(ErrorCodes.InvalidOptions, "Cannot use (or request) retryable writes with multi=true");
  if (kind === "delete" && isNumeric(stmt.limit) && toNumber(stmt.limit) === 0)
    throw new ServerError(ErrorCodes.InvalidOptions, "Cannot use (or request) retryable writes with limit=0");
}

/**
 * Runs a retryable write: each statement whose id the session already executed is answered
 * from its recorded result (and listed in `retriedStmtIds`) instead of being applied again; each
 * newly executed statement that wrote is recorded with the session.
 */
function runRetryableWrite(
  op: OperationContext,
  node: ServerNode,
  kind: WriteKind,
  p: TransactionParticipant,
): Document {
  const ns = commandNamespace(op);
  const items = statements(op, STATEMENTS[kind]);
  if (ns === "config.transactions" && op.request.internal !== true)
    throw new ServerError(
      ErrorCodes.Location40528,
      "Direct writes against config.transactions cannot be performed using a transaction or on a session.",
    );
  const ids = statementIds(op, items.length);
  const metrics = node.participants?.metrics;
  const retried: number[] = [];
  const outcome = runStatements(op, items, (item, i, out) => {
    const stmtId = ids[i];
    const prev = p.checkStatementExecuted(stmtId);
    if (prev !== undefined) {
      out.n += Number(prev.n ?? 0);
      out.nModified += Number(prev.nModified ?? 0);
      if (prev.upserted !== undefined) out.upserted.push({ index: i, _id: prev.upserted });
      retried.push(stmtId);
      if (metrics !== undefined) metrics.retriedStatementsCount++;
      return;
    }
    checkRetryable(kind, item);
    const n0 = out.n;
    const m0 = out.nModified;
    const u0 = out.upserted.length;
    APPLY[kind](op, node, ns, item, i, out);
    const upserted = out.upserted.length > u0 ? out.upserted[out.upserted.length - 1]._id : undefined;
    const written = documentsWritten(kind, out.n - n0, out.nModified - m0, out.upserted.length - u0);
    if (written === 0) return; // nothing reached the oplog: nothing to remember
    const ts = node.clusterTime.tick(written);
    noteOperationTime(op, ts);
    const result: Document = { n: out.n - n0 };
    if (kind === "update") result.nModified = out.nModified - m0;
    if (upserted !== undefined) result.upserted = upserted;
    p.onRetryableWriteCompleted(stmtId, result, ts);
  });
  if (retried.length > 0) {
    outcome.retriedStmtIds = retried;
    if (metrics !== undefined) metrics.retriedCommandsCount++;
  }
  return writeReply(kind, outcome);
}

/** Ticks for a plain (non-retryable, non-transaction) write command from its reply's counts. */
function tickFromReply(op: OperationContext, node: ServerNode, kind: WriteKind, reply: Document): Document {
  const upserts = Array.isArray(reply.upserted) ? reply.upserted.length : 0;
  tickForWrites(
    op,
    node.clusterTime,
    documentsWritten(kind, Number(reply.n ?? 0), Number(reply.nModified ?? 0), upserts),
  );
  return reply;
}

/**
 * Wraps a mongod write command: inside a transaction it runs unchanged (the transaction's commit
 * writes the oplog); as a retryable write it skips already executed statements; otherwise it
 * runs and ticks the cluster time for the documents it wrote.
 */
export function withRetryableWrites(base: CommandDefinition, kind: WriteKind): CommandDefinition {
  return {
    ...base,
    run: (op, node): CommandResult => {
      if (op.writeSet !== undefined) return base.run(op, node);
      const p = participantForOp(op);
      if (p !== undefined && isRetryableWrite(op)) return runRetryableWrite(op, node, kind, p);
      const result = base.run(op, node);
      if (!isTask(result)) return tickFromReply(op, node, kind, result);
      return (function* () {
        return tickFromReply(op, node, kind, yield* result);
      })();
    },
  };
}
