import type { TraceEvent } from "sessionsim";

/** A metric computed from one run's trace. */
export interface Metric {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  compute(trace: readonly TraceEvent[], context: MetricContext): number;
}

/** What a metric needs besides the trace. */
export interface MetricContext {
  /** `localLogicalSessionTimeoutMinutes` of the run, in ms. */
  readonly timeoutMs: number;
}

type Payload = { db?: string; command?: Record<string, unknown> };

function payloadOf(e: TraceEvent): Payload | undefined {
  return e.type === "net.send" ? (e.payload as Payload | undefined) : undefined;
}

function sessionIdOf(lsid: unknown): string | undefined {
  const id = (lsid as { id?: { toHexString?: (dashes?: boolean) => string } } | undefined)?.id;
  return typeof id?.toHexString === "function" ? id.toHexString(true) : undefined;
}

/** The session ids a `config.system.sessions` upsert batch carries, or undefined if `e` is not one. */
function upsertedIds(e: TraceEvent): string[] | undefined {
  const p = payloadOf(e);
  if (p?.db !== "config" || p.command?.update !== "system.sessions") return undefined;
  const updates = (p.command.updates as { q?: { _id?: unknown } }[] | undefined) ?? [];
  return updates.map((u) => sessionIdOf(u.q?._id)).filter((id): id is string => id !== undefined);
}

/** Uses of sessions by clients: (session id, time) for every client request carrying an lsid. */
function clientUses(trace: readonly TraceEvent[]): { id: string; time: number }[] {
  const uses: { id: string; time: number }[] = [];
  for (const e of trace) {
    if (e.type !== "net.send" || !e.node.startsWith("client")) continue;
    const id = sessionIdOf(payloadOf(e)?.command?.lsid);
    if (id !== undefined) uses.push({ id, time: e.time });
  }
  return uses;
}

function durationMinutes(trace: readonly TraceEvent[]): number {
  if (trace.length === 0) return 1;
  return Math.max(1, (trace[trace.length - 1].time - trace[0].time) / 60_000);
}

/** The metrics `sessionsim sweep` can measure. */
export const METRICS: readonly Metric[] = [
  {
    name: "sessionsWritesPerMinute",
    unit: "upserts/min",
    description:
      "upsert statements written to config.system.sessions per minute of virtual time (all nodes' refreshes)",
    compute(trace) {
      let n = 0;
      for (const e of trace) n += upsertedIds(e)?.length ?? 0;
      return n / durationMinutes(trace);
    },
  },
  {
    name: "expiredWhileInUse",
    unit: "records",
    description:
      "session records the TTL monitor deleted although a client had used the session within the timeout before",
    compute(trace, { timeoutMs }) {
      const lastUse = new Map<string, number[]>();
      for (const u of clientUses(trace)) {
        const list = lastUse.get(u.id) ?? [];
        list.push(u.time);
        lastUse.set(u.id, list);
      }
      let n = 0;
      for (const e of trace) {
        if (e.type !== "ttl.expire" || e.ns !== "config.system.sessions") continue;
        for (const raw of e.ids) {
          const id =
            sessionIdOf({ id: (raw as { id?: unknown } | undefined)?.id }) ??
            (typeof raw === "string" ? raw : undefined);
          const uses = id === undefined ? undefined : lastUse.get(id);
          if (uses?.some((t) => t <= e.time && e.time - t < timeoutMs)) n++;
        }
      }
      return n;
    },
  },
  {
    name: "timeToListSessionsMs",
    unit: "ms",
    description:
      "mean virtual time from a session's first use by a client to its first upsert into config.system.sessions",
    compute(trace) {
      // A session is first used when a node starts it or a client first sends its lsid.
      const firstUse = new Map<string, number>();
      const use = (id: string, time: number): void => {
        const t = firstUse.get(id);
        if (t === undefined || time < t) firstUse.set(id, time);
      };
      for (const u of clientUses(trace)) use(u.id, u.time);
      for (const e of trace) if (e.type === "session.start") use(e.id, e.time);
      const delays: number[] = [];
      const seen = new Set<string>();
      for (const e of trace) {
        for (const id of upsertedIds(e) ?? []) {
          const t0 = firstUse.get(id);
          if (t0 === undefined || seen.has(id)) continue;
          seen.add(id);
          delays.push(e.time - t0);
        }
      }
      return delays.length === 0 ? NaN : delays.reduce((a, b) => a + b, 0) / delays.length;
    },
  },
  {
    name: "killsFoundPrepared",
    unit: "sessions",
    description: "sessions a kill command matched but left alone because their transaction was prepared",
    compute(trace) {
      let n = 0;
      for (const e of trace) if (e.type === "kill.local") n += e.skippedPrepared;
      return n;
    },
  },
];

export function findMetric(name: string): Metric | undefined {
  return METRICS.find((m) => m.name === name);
}
