import { Long } from "bson";
import type { UserName } from "../auth/index.js";
import type { Document } from "../idl/bson-types.js";
import { bsonKey } from "../storage/bson-key.js";
import type { ServerNode } from "../node/server-node.js";

/** Why a cursor closed, for the trace. */
export type CursorCloseReason =
  "exhausted" | "killCursors" | "killSessions" | "sessionExpired" | "sessionEnded" | "transaction";

/**
 * An open cursor (MongoDB's `ClientCursor` on mongod, `ClusterClientCursor` on mongos): the rest
 * of a query's results, the session and transaction it was opened in, and its owner.
 *
 * @remarks The results are computed when the cursor opens (a snapshot); MongoDB reads lazily.
 */
export interface ClientCursor {
  readonly id: Long;
  readonly ns: string;
  readonly docs: readonly Document[];
  /** Index of the next document to return. */
  pos: number;
  /** The session the cursor belongs to (`{id, uid}`), if it was opened in one. */
  readonly lsid?: Document;
  readonly lsidKey?: string;
  readonly txnNumber?: Long;
  /** The user who opened it (only they may getMore it). */
  readonly owner?: UserName;
  readonly originatingCommand: Document;
  readonly createdAt: number;
  lastUsed: number;
  nReturned: number;
}

/** What `register` needs to open a cursor. */
export type CursorInit = Pick<ClientCursor, "ns" | "docs" | "lsid" | "txnNumber" | "owner" | "originatingCommand"> & {
  /** How many documents the first batch already returned. */
  readonly returned: number;
};

/**
 * One node's open cursors (`CursorManager` / `ClusterCursorManager`). Volatile: a crash closes
 * them all.
 */
export class CursorManager {
  private readonly cursors = new Map<string, ClientCursor>();
  private totalOpened = 0;

  constructor(private readonly node: ServerNode) {
    node.serverStatusSections.set("metrics", () => ({
      cursor: {
        timedOut: Long.fromNumber(0),
        open: { noTimeout: Long.fromNumber(0), pinned: Long.fromNumber(0), total: Long.fromNumber(this.cursors.size) },
        totalOpened: Long.fromNumber(this.totalOpened),
      },
    }));
  }

  get size(): number {
    return this.cursors.size;
  }

  /** Opens a cursor over `init.docs` (starting after the first batch) and returns it. */
  register(init: CursorInit): ClientCursor {
    const rng = this.node.ctx.random("cursorid");
    let id: Long;
    do {
      const bytes = rng.bytes(8);
      bytes[7] &= 0x7f; // positive
      id = Long.fromBytesLE(Array.from(bytes));
    } while (id.isZero() || this.cursors.has(id.toString()));
    const now = this.node.now();
    const cursor: ClientCursor = {
      ...init,
      id,
      pos: init.returned,
      lsidKey: init.lsid === undefined ? undefined : bsonKey(init.lsid),
      createdAt: now,
      lastUsed: now,
      nReturned: init.returned,
    };
    this.cursors.set(id.toString(), cursor);
    this.totalOpened++;
    this.node.ctx.record({ type: "cursor.open", cursorId: id.toString(), ns: init.ns, lsid: lsidLabel(init.lsid) });
    return cursor;
  }

  get(id: Long): ClientCursor | undefined {
    return this.cursors.get(id.toString());
  }

  /** Every open cursor, in opening order. */
  all(): ClientCursor[] {
    return [...this.cursors.values()];
  }

  /** Closes a cursor; false if there was none with that id. */
  close(id: Long, reason: CursorCloseReason): boolean {
    const cursor = this.cursors.get(id.toString());
    if (cursor === undefined) return false;
    this.cursors.delete(id.toString());
    this.node.ctx.record({
      type: "cursor.close",
      cursorId: id.toString(),
      ns: cursor.ns,
      lsid: lsidLabel(cursor.lsid),
      reason,
    });
    return true;
  }

  /** The distinct sessions owning open cursors (`getOpenCursorSessions`). */
  sessionsWithOpenCursors(): Document[] {
    const seen = new Map<string, Document>();
    for (const c of this.cursors.values())
      if (c.lsid !== undefined && c.lsidKey !== undefined) seen.set(c.lsidKey, c.lsid);
    return [...seen.values()];
  }

  /** Closes every cursor whose session matches (`killCursorsWithMatchingSessions`); returns how many. */
  killCursorsWithMatchingSessions(
    matches: (lsid: Document) => boolean,
    reason: CursorCloseReason = "killSessions",
  ): number {
    let n = 0;
    for (const c of this.all()) if (c.lsid !== undefined && matches(c.lsid) && this.close(c.id, reason)) n++;
    return n;
  }
}

/** A short, stable label for an lsid in trace events: the session UUID as a string. */
export function lsidLabel(lsid: Document | undefined): string | undefined {
  const id = lsid?.id as { toHexString?: (dashes?: boolean) => string } | undefined;
  return typeof id?.toHexString === "function" ? id.toHexString(true) : undefined;
}
