import { ErrorCodes, ServerError } from "../errors/index.js";
import { bsonTypeOf } from "../idl/bson-types.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import type { Catalog } from "../storage/catalog.js";
import { InvariantViolation } from "../errors/index.js";

/**
 * The namespace `db.coll` named by a command's first field (`find: "coll"` ...), validated as
 * `NamespaceString` does.
 */
export function commandNamespace(op: OperationContext): string {
  const coll = op.command[op.commandName];
  if (typeof coll !== "string")
    throw new ServerError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${bsonTypeOf(coll)}`);
  return validNamespace(op.db, coll);
}

/** `db.coll` if `coll` is a valid collection name, else InvalidNamespace. */
export function validNamespace(db: string, coll: string): string {
  if (coll.length === 0 || coll.includes("\0") || coll.startsWith(".") || coll.includes("$"))
    throw new ServerError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${db}.${coll}'`);
  return `${db}.${coll}`;
}

/** A mongod's catalog (commands that store data run only on mongods). */
export function catalogOf(node: ServerNode): Catalog {
  if (node.durable === undefined) throw new InvariantViolation(`${node.name} has no storage`);
  return node.durable.catalog;
}

/** The collection part of `db.coll`. */
export function collectionName(ns: string): string {
  return ns.slice(ns.indexOf(".") + 1);
}

/** The database part of `db.coll`. */
export function databaseName(ns: string): string {
  return ns.slice(0, ns.indexOf("."));
}
