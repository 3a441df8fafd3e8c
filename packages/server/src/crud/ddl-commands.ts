import { ErrorCodes, ServerError } from "../errors/index.js";
import { FieldReader, expectDocument } from "../idl/parse.js";
import { NodeRoles } from "../node/topology.js";
import type { CommandDefinition } from "../commands/command.js";
import { catalogOf, commandNamespace, collectionName } from "./namespace.js";
import { firstBatchReply } from "./cursor-reply.js";

const MONGOD = [NodeRoles.configsvr, NodeRoles.shardsvr] as const;

/**
 * `createIndexes` on a mongod (`src/mongo/db/commands/create_indexes_cmd.cpp`); creates the
 * collection implicitly. Replies `{createdCollectionAutomatically, numIndexesBefore,
 * numIndexesAfter}` (plus `note` when nothing changed).
 */
export const createIndexesCommand: CommandDefinition = {
  name: "createIndexes",
  on: MONGOD,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const specs = new FieldReader(op.command, "createIndexes").array("indexes");
    if (specs.length === 0) throw new ServerError(ErrorCodes.BadValue, "Must specify at least one index to create");
    const catalog = catalogOf(node);
    const created = !catalog.has(ns);
    const coll = catalog.collection(ns);
    const before = coll.listIndexes().length;
    for (const [i, raw] of specs.entries()) {
      const spec = expectDocument(raw, `createIndexes.indexes.${i}`);
      const r = new FieldReader(spec, `createIndexes.indexes.${i}`);
      const key = r.document("key");
      const name = r.string("name");
      const expireAfterSeconds = r.number("expireAfterSeconds", "optional");
      const unique = r.flag("unique");
      coll.createIndex({
        key,
        name,
        ...(expireAfterSeconds === undefined ? {} : { expireAfterSeconds }),
        ...(unique === true ? { unique } : {}),
      });
    }
    const after = coll.listIndexes().length;
    return {
      createdCollectionAutomatically: created,
      numIndexesBefore: before,
      numIndexesAfter: after,
      ...(after === before ? { note: "all indexes already exist" } : {}),
    };
  },
};

/** `listIndexes` on a mongod: a cursor over the index specs; NamespaceNotFound if absent. */
export const listIndexesCommand: CommandDefinition = {
  name: "listIndexes",
  on: MONGOD,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const coll = catalogOf(node).get(ns);
    if (coll === undefined) throw new ServerError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${ns}`);
    return firstBatchReply(node, op, `${op.db}.$cmd.listIndexes.${collectionName(ns)}`, coll.listIndexes(), undefined);
  },
};

/** `dropIndexes` on a mongod. */
export const dropIndexesCommand: CommandDefinition = {
  name: "dropIndexes",
  aliases: ["deleteIndexes"],
  on: MONGOD,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const coll = catalogOf(node).get(ns);
    if (coll === undefined) throw new ServerError(ErrorCodes.NamespaceNotFound, `ns not found ${ns}`);
    const before = coll.listIndexes().length;
    const index = op.command.index;
    if (index === "*") {
      for (const spec of coll.listIndexes()) if (spec.name !== "_id_") coll.dropIndex(spec.name);
    } else if (typeof index === "string") coll.dropIndex(index);
    else
      throw new ServerError(
        ErrorCodes.TypeMismatch,
        "BSON field 'dropIndexes.index' is the wrong type, expected type 'string'",
      );
    return { nIndexesWas: before };
  },
};

/** `drop` on a mongod; dropping a missing collection succeeds (8.0 behaviour). */
export const dropCommand: CommandDefinition = {
  name: "drop",
  on: MONGOD,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const catalog = catalogOf(node);
    const coll = catalog.get(ns);
    const nIndexesWas = coll?.listIndexes().length ?? 0;
    if (coll !== undefined) catalog.drop(ns);
    return { nIndexesWas, ns };
  },
};

/** `create` on a mongod (NamespaceExists 48 if it exists). */
export const createCommand: CommandDefinition = {
  name: "create",
  on: MONGOD,
  run: (op, node) => {
    const ns = commandNamespace(op);
    const catalog = catalogOf(node);
    if (catalog.has(ns)) throw new ServerError(ErrorCodes.NamespaceExists, `Collection ${ns} already exists.`);
    catalog.collection(ns);
    return {};
  },
};

/** `listCollections` on a mongod: `{name, type: "collection", options: {}, info, idIndex}` rows. */
export const listCollectionsCommand: CommandDefinition = {
  name: "listCollections",
  on: MONGOD,
  run: (op, node) => {
    const rows = catalogOf(node)
      .listNamespaces(op.db)
      .map((ns) => ({
        name: collectionName(ns),
        type: "collection",
        options: {},
        info: { readOnly: false },
        idIndex: { v: 2, key: { _id: 1 }, name: "_id_" },
      }));
    return firstBatchReply(node, op, `${op.db}.$cmd.listCollections`, rows, undefined);
  },
};
