import { ErrorCodes, ServerError } from "../errors/index.js";
import { FieldReader, expectDocument, unknownField, wrongType } from "../idl/parse.js";
import { isDocument, type Document } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import type { CommandDefinition } from "../commands/command.js";
import { catalogOf, commandNamespace } from "./namespace.js";

const MONGOD = [NodeRoles.configsvr, NodeRoles.shardsvr] as const;

/** The most statements one write command may carry (`write_ops::kMaxWriteBatchSize`). */
export const MAX_WRITE_BATCH_SIZE = 100_000;

/** One statement's failure, as `writeErrors` reports it. */
export interface WriteError {
  index: number;
  code: number;
  errmsg: string;
}

/** What a write command accumulates over its statements. */
export interface WriteOutcome {
  n: number;
  nModified: number;
  upserted: { index: number; _id: unknown }[];
  writeErrors: WriteError[];
  /** Statement ids a retryable write did not execute again (`retriedStmtIds`). */
  retriedStmtIds?: number[];
}

/** The reply fields of a write command (`n`, `nModified`, `upserted`, `writeErrors`). */
export function writeReply(kind: "insert" | "update" | "delete", out: WriteOutcome): Document {
  const reply: Document = { n: out.n };
  if (kind === "update") {
    reply.nModified = out.nModified;
    if (out.upserted.length > 0) reply.upserted = out.upserted;
  }
  if (out.writeErrors.length > 0) reply.writeErrors = out.writeErrors;
  if (out.retriedStmtIds !== undefined && out.retriedStmtIds.length > 0) reply.retriedStmtIds = out.retriedStmtIds;
  return reply;
}

/** Reads and checks a write command's statement array (`documents`, `updates`, `deletes`). */
export function statements(op: OperationContext, field: "documents" | "updates" | "deletes"): unknown[] {
  const r = new FieldReader(op.command, op.commandName);
  const list = r.array(field);
  if (list.length === 0)
    throw new ServerError(
      ErrorCodes.InvalidLength,
      "Write batch sizes must be between 1 and 100000. Got 0 operations.",
    );
  if (list.length > MAX_WRITE_BATCH_SIZE)
    throw new ServerError(
      ErrorCodes.InvalidLength,
      `Write batch sizes must be between 1 and 100000. Got ${list.length} operations.`,
    );
  r.flag("ordered");
  return list;
}

/** Direct writes to config.transactions under a session are refused (`disallowDirectWritesUnderSession`). */
function checkConfigTransactionsWrite(op: OperationContext, ns: string): void {
  if (ns === "config.transactions" && op.lsid !== undefined && op.request.internal !== true)
    throw new ServerError(
      ErrorCodes.Location40528,
      "Direct writes against config.transactions cannot be performed using a transaction or on a session.",
    );
}

/**
 * Runs each statement of a write command, collecting `writeErrors`; `ordered` (default true)
 * stops at the first error, as MongoDB's write path does.
 */
export function runStatements(
  op: OperationContext,
  items: readonly unknown[],
  apply: (item: unknown, index: number, out: WriteOutcome) => void,
): WriteOutcome {
  const ordered = op.command.ordered !== false;
  const out: WriteOutcome = { n: 0, nModified: 0, upserted: [], writeErrors: [] };
  for (let i = 0; i < items.length; i++) {
    try {
      op.checkForInterrupt();
      apply(items[i], i, out);
    } catch (e) {
      if (!(e instanceof ServerError)) throw e;
      // An interrupted or transaction-level failure fails the whole command.
      if (e.code === ErrorCodes.Interrupted || op.writeSet !== undefined) throw e;
      out.writeErrors.push({ index: i, code: e.code, errmsg: e.message });
      if (ordered) break;
    }
  }
  return out;
}

/** `insert` on a mongod (`src/mongo/db/commands/write_commands.cpp`). */
export const insertCommand: CommandDefinition = {
  name: "insert",
  on: MONGOD,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const docs = statements(op, "documents");
    checkConfigTransactionsWrite(op, ns);
    const coll = catalogOf(node).collection(ns);
    const outcome = runStatements(op, docs, (doc, i, out) => {
      coll.insertOne(expectDocument(doc, `insert.documents.${i}`), op.writeSet);
      out.n++;
    });
    return writeReply("insert", outcome);
  },
};

/** The fields of an update statement (`UpdateOpEntry` in `write_ops.idl`). */
const UPDATE_OP_ENTRY_FIELDS: ReadonlySet<string> = new Set([
  "q",
  "u",
  "upsert",
  "multi",
  "arrayFilters",
  "hint",
  "collation",
  "c",
  "upsertSupplied",
  "sampleId",
  "sort",
]);

/** `upsert` / `multi`: absent (false), a boolean, or else the reader's safeBool rules and errors. */
function stmtFlag(s: Document, f: "upsert" | "multi"): boolean {
  const v = s[f];
  if (v === undefined) return false;
  return typeof v === "boolean" ? v : (new FieldReader(s, "UpdateOpEntry").flag(f) ?? false);
}

/** Applies one `update` statement `{q, u, upsert, multi, ...}` on a mongod. */
export function applyUpdateStatement(
  op: OperationContext,
  node: ServerNode,
  ns: string,
  stmt: unknown,
  index: number,
  out: WriteOutcome,
  /** `$$NOW` (the node's clock); one per command, so statements need not each build one. */
  now: Date = new Date(node.now()),
): void {
  if (!isDocument(stmt)) throw wrongType(`update.updates.${index}`, stmt, "object");
  const s = stmt;
  // Checked inline (a refresh sends a million statements); the reader words the errors.
  const q = isDocument(s.q) ? s.q : new FieldReader(s, "UpdateOpEntry").document("q");
  if (s.u === undefined) throw new ServerError(40414, "BSON field 'UpdateOpEntry.u' is missing but a required field");
  if (!isDocument(s.u) && !Array.isArray(s.u))
    throw new ServerError(ErrorCodes.TypeMismatch, "Update argument must be either an object or an array");
  const upsert = stmtFlag(s, "upsert");
  const multi = stmtFlag(s, "multi");
  for (const f in s) if (!UPDATE_OP_ENTRY_FIELDS.has(f) && s[f] !== undefined) throw unknownField(`UpdateOpEntry.${f}`);
  const coll = catalogOf(node).collection(ns);
  const res = coll.update(q, s.u, { upsert, multi, now }, op.writeSet);
  const upsertedId = res.upsertedId; // a copy per read
  if (upsertedId !== undefined) {
    out.n += 1;
    out.upserted.push({ index, _id: upsertedId });
  } else {
    out.n += res.matched;
    out.nModified += res.modified;
  }
}

/** `update` on a mongod. */
export const updateCommand: CommandDefinition = {
  name: "update",
  on: MONGOD,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const updates = statements(op, "updates");
    checkConfigTransactionsWrite(op, ns);
    // No virtual time passes during a command: every statement sees the same $$NOW.
    const now = new Date(node.now());
    return writeReply(
      "update",
      runStatements(op, updates, (stmt, i, out) => applyUpdateStatement(op, node, ns, stmt, i, out, now)),
    );
  },
};

/** Applies one `delete` statement `{q, limit}` on a mongod. */
export function applyDeleteStatement(
  op: OperationContext,
  node: ServerNode,
  ns: string,
  stmt: unknown,
  index: number,
  out: WriteOutcome,
): void {
  const s = expectDocument(stmt, `delete.deletes.${index}`);
  const r = new FieldReader(s, "DeleteOpEntry");
  const q = r.document("q");
  const limit = r.number("limit");
  if (limit !== 0 && limit !== 1)
    throw new ServerError(ErrorCodes.FailedToParse, `The limit field in delete objects must be 0 or 1. Got ${limit}`);
  r.strict(["q", "limit", "hint", "collation", "sampleId"]);
  const coll = catalogOf(node).get(ns);
  if (coll === undefined) return;
  out.n += coll.delete(q, { limit }, op.writeSet);
}

/** `delete` on a mongod. */
export const deleteCommand: CommandDefinition = {
  name: "delete",
  on: MONGOD,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const deletes = statements(op, "deletes");
    checkConfigTransactionsWrite(op, ns);
    return writeReply(
      "delete",
      runStatements(op, deletes, (stmt, i, out) => applyDeleteStatement(op, node, ns, stmt, i, out)),
    );
  },
};
