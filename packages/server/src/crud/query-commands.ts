import { Long } from "bson";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { FieldReader, unknownField } from "../idl/parse.js";
import { bsonTypeOf, isDocument, toNumber, type Document } from "../idl/bson-types.js";
import { GENERIC_ARGUMENTS } from "../idl/generic-arguments.js";
import { NodeRoles } from "../node/topology.js";
import type { OperationContext } from "../node/operation-context.js";
import type { CommandDefinition } from "../commands/command.js";
import { canKillCursor, namespaceResource } from "../auth/index.js";
import { lsidLabel } from "../cursors/cursor-manager.js";
import { catalogOf, commandNamespace, collectionName, databaseName, validNamespace } from "./namespace.js";
import { batchSizeOf, firstBatchReply } from "./cursor-reply.js";

const MONGOD = [NodeRoles.configsvr, NodeRoles.shardsvr] as const;
const ALL = [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr] as const;

/** The `find` fields sessionsim understands (`find_command.idl`); others are rejected (40415). */
const FIND_FIELDS = new Set([
  "filter",
  "sort",
  "projection",
  "skip",
  "limit",
  "batchSize",
  "singleBatch",
  "hint",
  "collation",
  "allowDiskUse",
  "let",
  "noCursorTimeout",
  "tailable",
  "awaitData",
  "allowPartialResults",
  "returnKey",
  "showRecordId",
  "min",
  "max",
  "readOnce",
  "allowSpeculativeMajorityRead",
  "term",
  "ntoreturn",
]);

/** A parsed `find` command. */
export interface FindSpec {
  readonly filter: Document;
  readonly sort?: Document;
  readonly projection?: Document;
  readonly skip?: number;
  readonly limit?: number;
  readonly batchSize?: number;
  readonly singleBatch: boolean;
}

/** Parses `find` as `FindCommandRequest` does. */
export function parseFind(op: OperationContext): FindSpec {
  const c = op.command;
  for (const f of Object.keys(c).slice(1))
    if (!FIND_FIELDS.has(f) && !GENERIC_ARGUMENTS.has(f)) throw unknownField(`find.${f}`);
  const r = new FieldReader(c, "find");
  const skip = r.number("skip", "optional");
  const limit = r.number("limit", "optional");
  if (skip !== undefined && (skip < 0 || !Number.isInteger(skip)))
    throw new ServerError(ErrorCodes.BadValue, `BSON field 'skip' value must be >= 0, actual value '${skip}'`);
  if (limit !== undefined && (limit < 0 || !Number.isInteger(limit)))
    throw new ServerError(ErrorCodes.BadValue, `BSON field 'limit' value must be >= 0, actual value '${limit}'`);
  return {
    filter: r.document("filter", "optional") ?? {},
    sort: r.document("sort", "optional"),
    projection: r.document("projection", "optional"),
    skip,
    limit,
    batchSize: batchSizeOf(c.batchSize),
    singleBatch: r.flag("singleBatch") ?? false,
  };
}

/** `find` on a mongod. */
export const findCommand: CommandDefinition = {
  name: "find",
  on: MONGOD,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const spec = parseFind(op);
    const coll = catalogOf(node).get(ns);
    const docs =
      coll === undefined
        ? []
        : coll.find(
            spec.filter,
            { sort: spec.sort, skip: spec.skip, limit: spec.limit, projection: spec.projection },
            op.writeSet,
          );
    return firstBatchReply(
      node,
      op,
      ns,
      docs,
      spec.batchSize,
      spec.singleBatch || (spec.limit !== undefined && spec.limit > 0 && docs.length <= (spec.batchSize ?? 101)),
    );
  },
};

/** `count` on a mongod. */
export const countCommand: CommandDefinition = {
  name: "count",
  on: MONGOD,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const r = new FieldReader(op.command, "count");
    const query = r.document("query", "optional") ?? {};
    const skip = r.number("skip", "optional") ?? 0;
    const limit = Math.abs(r.number("limit", "optional") ?? 0);
    const coll = catalogOf(node).get(ns);
    let n = coll === undefined ? 0 : coll.count(query, op.writeSet);
    n = Math.max(0, n - skip);
    if (limit > 0) n = Math.min(n, limit);
    return { n };
  },
};

/**
 * `getMore` (`src/mongo/db/commands/getmore_cmd.cpp`): the next batch of a cursor on this node,
 * with MongoDB's checks: the cursor exists (CursorNotFound 43), belongs to the namespace, was
 * opened by this user, and in this session (50736–50738) and transaction (50739–50741).
 */
export const getMoreCommand: CommandDefinition = {
  name: "getMore",
  on: ALL,
  run: (op, node) => {
    const idValue = op.command.getMore;
    if (!(idValue instanceof Long) && !(typeof idValue === "number" && Number.isInteger(idValue)))
      throw new ServerError(
        ErrorCodes.TypeMismatch,
        `BSON field 'getMore.getMore' is the wrong type '${bsonTypeOf(idValue)}', expected type 'long'`,
      );
    const id = idValue instanceof Long ? idValue : Long.fromNumber(idValue);
    const r = new FieldReader(op.command, "getMore");
    const collection = r.string("collection");
    const batchSize = batchSizeOf(op.command.batchSize);
    const ns = validNamespace(op.db, collection);
    const cursor = node.cursors.get(id);
    if (cursor === undefined) throw new ServerError(ErrorCodes.CursorNotFound, `cursor id ${id.toString()} not found`);
    if (!op.authz.isCoauthorizedWith(cursor.owner))
      throw new ServerError(
        ErrorCodes.Unauthorized,
        `cursor id ${id.toString()} was not created by the authenticated user`,
      );
    if (cursor.ns !== ns)
      throw new ServerError(
        ErrorCodes.Unauthorized,
        `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`,
      );
    validateSession(op, id, cursor.lsid, cursor.lsidKey);
    validateTxnNumber(op, id, cursor.txnNumber);
    const size = batchSize === undefined || batchSize === 0 ? cursor.docs.length : batchSize;
    const nextBatch = cursor.docs.slice(cursor.pos, cursor.pos + size);
    cursor.pos += nextBatch.length;
    cursor.nReturned += nextBatch.length;
    cursor.lastUsed = node.now();
    let outId = id;
    if (cursor.pos >= cursor.docs.length) {
      node.cursors.close(id, "exhausted");
      outId = Long.fromNumber(0);
    }
    return { cursor: { nextBatch, id: outId, ns } };
  },
};

/** MongoDB's string form of an lsid in messages: `<uuid> - <base64 uid> -  - `. */
function lsidString(lsid: Document | undefined): string {
  const uid = lsid?.uid as { toString?: (enc: string) => string } | undefined;
  return `${lsidLabel(lsid) ?? ""} - ${uid?.toString?.("base64") ?? ""} -  - `;
}

function validateSession(
  op: OperationContext,
  id: Long,
  cursorLsid: Document | undefined,
  cursorKey: string | undefined,
): void {
  const mine = op.lsid;
  if (mine !== undefined && cursorLsid === undefined)
    throw new ServerError(
      50736,
      `Cannot run getMore on cursor ${id.toString()}, which was not created in a session, in session ${lsidString(mine)}`,
    );
  if (mine === undefined && cursorLsid !== undefined)
    throw new ServerError(
      50737,
      `Cannot run getMore on cursor ${id.toString()}, which was created in session ${lsidString(cursorLsid)}, without an lsid`,
    );
  if (
    mine !== undefined &&
    cursorLsid !== undefined &&
    lsidLabel(mine) + lsidString(mine) !== lsidLabel(cursorLsid) + lsidString(cursorLsid) &&
    cursorKey !== undefined
  )
    throw new ServerError(
      50738,
      `Cannot run getMore on cursor ${id.toString()}, which was created in session ${lsidString(cursorLsid)}, in session ${lsidString(mine)}`,
    );
}

function validateTxnNumber(op: OperationContext, id: Long, cursorTxn: Long | undefined): void {
  const mine = op.txnNumber;
  if (mine !== undefined && cursorTxn === undefined)
    throw new ServerError(
      50739,
      `Cannot run getMore on cursor ${id.toString()}, which was not created in a transaction, in transaction ${mine.toString()}`,
    );
  if (mine === undefined && cursorTxn !== undefined)
    throw new ServerError(
      50740,
      `Cannot run getMore on cursor ${id.toString()}, which was created in transaction ${cursorTxn.toString()}, without a txnNumber`,
    );
  if (mine !== undefined && cursorTxn !== undefined && !mine.equals(cursorTxn))
    throw new ServerError(
      50741,
      `Cannot run getMore on cursor ${id.toString()}, which was created in transaction ${cursorTxn.toString()}, in transaction ${mine.toString()}`,
    );
}

/**
 * `killCursors` (`src/mongo/db/commands/killcursors_common.h`): replies with `cursorsKilled`,
 * `cursorsNotFound`, `cursorsAlive` and `cursorsUnknown`. A cursor the caller may not kill is an
 * Unauthorized error for the whole command, as in MongoDB.
 */
export const killCursorsCommand: CommandDefinition = {
  name: "killCursors",
  on: ALL,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const r = new FieldReader(op.command, "killCursors");
    const ids = r.array("cursors");
    const cursorsKilled: Long[] = [];
    const cursorsNotFound: Long[] = [];
    for (const [i, raw] of ids.entries()) {
      if (!(raw instanceof Long) && !(typeof raw === "number" && Number.isInteger(raw)))
        throw new ServerError(
          ErrorCodes.TypeMismatch,
          `BSON field 'killCursors.cursors.${i}' is the wrong type '${bsonTypeOf(raw)}', expected type 'long'`,
        );
      const id = raw instanceof Long ? raw : Long.fromNumber(toNumber(raw));
      const cursor = node.cursors.get(id);
      if (cursor === undefined || cursor.ns !== ns) {
        cursorsNotFound.push(id);
        continue;
      }
      if (!canKillCursor(op.authz, namespaceResource(databaseName(ns), collectionName(ns)), cursor.owner))
        throw new ServerError(ErrorCodes.Unauthorized, `not authorized to kill cursor on ${ns}`);
      node.cursors.close(id, "killCursors");
      cursorsKilled.push(id);
    }
    return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [] };
  },
};

export { isDocument };
