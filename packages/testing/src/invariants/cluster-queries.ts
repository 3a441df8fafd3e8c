import { NetworkError, type Cluster, type Connection, type Document } from "sessionsim";
import type { InvariantContext } from "./types.js";
import { firstBatch, keyOfRecord } from "../util.js";

/**
 * A connection for the invariants' own queries (as the observer user when auth is on).
 *
 * @internal Not exported from the package.
 */
export function observerConnection(
  cluster: Cluster,
  node: string,
  ctx: Pick<InvariantContext, "auth" | "observer">,
): Connection {
  return ctx.auth && ctx.observer !== undefined ? cluster.connect(node, ctx.observer) : cluster.connect(node);
}

/**
 * Thrown when an invariant's query cannot run (the cluster did not answer).
 *
 * @example
 * try {
 *   await listSessionRecords(conn);
 * } catch (e) {
 *   if (e instanceof QueryFailed) console.log(e.reply?.codeName);
 * }
 */
export class QueryFailed extends Error {
  constructor(
    readonly what: string,
    readonly reply: Document | undefined,
    cause?: unknown,
  ) {
    super(
      `${what} failed: ${reply !== undefined ? `${String(reply.codeName)}: ${String(reply.errmsg)}` : String(cause)}`,
    );
    this.name = "QueryFailed";
  }
}

/**
 * Runs an aggregate or find and returns every document (following getMore).
 *
 * @example
 * const docs = await readAll(conn, "test", { find: "items", filter: {}, batchSize: 2 }, "find test.items");
 */
export async function readAll(conn: Connection, db: string, command: Document, what: string): Promise<Document[]> {
  let reply: Document;
  try {
    reply = await conn.runCommand(db, command);
  } catch (e) {
    if (e instanceof NetworkError) throw new QueryFailed(what, undefined, e);
    throw e;
  }
  if (reply.ok !== 1) throw new QueryFailed(what, reply);
  const docs = [...firstBatch(reply)];
  let cursor = reply.cursor as Document;
  const coll =
    typeof command.find === "string"
      ? command.find
      : typeof command.aggregate === "string"
        ? command.aggregate
        : "$cmd.aggregate";
  for (let guard = 0; guard < 10_000; guard++) {
    const id = cursor?.id;
    if (id === undefined || id === null || Number(id) === 0 || String(id) === "0") break;
    const more = await conn.runCommand(db, { getMore: id, collection: coll, batchSize: 10_000 });
    if (more.ok !== 1) throw new QueryFailed(`${what} (getMore)`, more);
    cursor = more.cursor as Document;
    const next = cursor?.nextBatch;
    if (Array.isArray(next)) docs.push(...(next as Document[]));
  }
  return docs;
}

/**
 * `$listSessions: {allUsers: true}` through `node` (a mongos): the stored session records.
 *
 * @example
 * const stored = keysOf(await listSessionRecords(cluster.connect(cluster.mongos())));
 */
export async function listSessionRecords(conn: Connection): Promise<Document[]> {
  return readAll(
    conn,
    "config",
    { aggregate: "system.sessions", pipeline: [{ $listSessions: { allUsers: true } }], cursor: { batchSize: 10_000 } },
    "$listSessions",
  );
}

/**
 * `$listLocalSessions: {allUsers: true}` on the connection's node: its cached sessions.
 *
 * @example
 * const cached = keysOf(await listLocalSessionRecords(cluster.connect(cluster.shard(0))));
 */
export async function listLocalSessionRecords(conn: Connection): Promise<Document[]> {
  return readAll(
    conn,
    "admin",
    { aggregate: 1, pipeline: [{ $listLocalSessions: { allUsers: true } }], cursor: { batchSize: 10_000 } },
    "$listLocalSessions",
  );
}

/**
 * The session keys of a list of records.
 *
 * @example
 * keysOf(await listSessionRecords(conn)).has(sessionKey(idHex, uidHex(sessionUid(false, undefined))));
 */
export function keysOf(records: readonly Document[]): Set<string> {
  const out = new Set<string>();
  for (const r of records) {
    const k = keyOfRecord(r);
    if (k !== undefined) out.add(k);
  }
  return out;
}
