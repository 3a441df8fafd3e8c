/**
 * The sessions table: each session's lifecycle on every node (started or vivified into the cache,
 * refreshed into `config.system.sessions`, ended, removed, expired, lost in a crash, killed, its
 * cursors killed) and the stretches of time it was visible to `$listSessions`.
 */
import type { Analysis, LifecycleEntry, RecordChange } from "./analysis.js";

/** When a session's record existed: from an upsert that created it to the change that removed it. */
export interface ListedInterval {
  readonly from: RecordChange;
  readonly to?: RecordChange;
}

export interface SessionRow {
  readonly id: string;
  readonly uid?: string;
  readonly user?: string;
  /** Lifecycle entries per node, in trace order. */
  readonly perNode: ReadonlyMap<string, readonly LifecycleEntry[]>;
  readonly listed: readonly ListedInterval[];
  /** Seq of the first event about the session. */
  readonly firstSeq: number;
}

/** One row per session, in order of first appearance. */
export function sessionRows(a: Analysis): SessionRow[] {
  const rows: SessionRow[] = [];
  for (const s of a.sessions.values()) {
    const perNode = new Map<string, LifecycleEntry[]>();
    for (const l of s.lifecycle) {
      let list = perNode.get(l.node);
      if (list === undefined) perNode.set(l.node, (list = []));
      list.push(l);
    }
    const listed: ListedInterval[] = [];
    let open: RecordChange | undefined;
    for (const c of a.records.get(s.id) ?? []) {
      if (c.kind === "upsert" && !c.existed) open = c;
      else if (c.kind !== "upsert" && c.existed && open !== undefined) {
        listed.push({ from: open, to: c });
        open = undefined;
      }
    }
    if (open !== undefined) listed.push({ from: open });
    const firstSeq = Math.min(
      ...s.lifecycle.map((l) => l.seq),
      ...s.uses.map((e) => e.seq),
      ...[...(a.records.get(s.id) ?? [])].map((c) => c.seq),
    );
    rows.push({
      id: s.id,
      ...(s.uid === undefined ? {} : { uid: s.uid }),
      ...(s.user === undefined ? {} : { user: s.user }),
      perNode,
      listed,
      firstSeq,
    });
  }
  return rows.filter((r) => Number.isFinite(r.firstSeq)).sort((p, q) => p.firstSeq - q.firstSeq);
}
