import type { Cluster, Connection, Document } from "sessionsim";

/** The documents of a cursor reply's first batch. */
export function firstBatch(reply: Document): Document[] {
  return (reply.cursor as { firstBatch?: Document[] } | undefined)?.firstBatch ?? [];
}

/** `$listLocalSessions: {allUsers: true}` on the connection's node. */
export async function localSessions(conn: Connection): Promise<Document[]> {
  return firstBatch(
    await conn.runCommand("admin", {
      aggregate: 1,
      pipeline: [{ $listLocalSessions: { allUsers: true } }],
      cursor: {},
    }),
  );
}

/** `$listSessions: {allUsers: true}` on `config.system.sessions` through the connection's node. */
export async function listedSessions(conn: Connection): Promise<Document[]> {
  return firstBatch(
    await conn.runCommand("config", {
      aggregate: "system.sessions",
      pipeline: [{ $listSessions: { allUsers: true } }],
      cursor: {},
    }),
  );
}

/** The session UUID of a document `{_id: {id}}` or an lsid `{id}`, as a string. */
export function idOf(doc: Document): string {
  const id = ((doc._id as Document | undefined)?.id ?? doc.id) as { toHexString(dashes?: boolean): string };
  return id.toHexString(true);
}

/** Whether a list of session documents contains the session `lsid`. */
export function includesSession(docs: readonly Document[], lsid: Document): boolean {
  return docs.some((d) => idOf(d) === idOf(lsid));
}

/** Starts a session with `startSession` and returns its lsid `{id}`. */
export async function startSession(conn: Connection): Promise<Document> {
  const reply = await conn.runCommand("admin", { startSession: 1 });
  if (reply.ok !== 1) throw new Error(`startSession failed: ${String(reply.errmsg)}`);
  return reply.id as Document;
}

/** Minutes and seconds of virtual time since the start, for narration. */
export function clock(cluster: Cluster): string {
  const ms = cluster.now().getTime() - Date.UTC(2026, 0, 1);
  const m = Math.floor(ms / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, "0")}s`;
}

/** Advances in steps until `check` holds (or `maxMs` passes); returns whether it held. */
export async function advanceUntil(
  cluster: Cluster,
  check: () => Promise<boolean>,
  stepMs: number,
  maxMs: number,
): Promise<boolean> {
  for (let waited = 0; waited <= maxMs; waited += stepMs) {
    if (await check()) return true;
    await cluster.advance(stepMs);
  }
  return check();
}
