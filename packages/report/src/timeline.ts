import type { TraceEvent } from "sessionsim";
import { SIMULATION_EPOCH } from "./epoch.js";

/** Options of `formatTimeline`. */
export interface TimelineOptions {
  /** Include timer firings (default true). */
  readonly timers?: boolean;
  /** Include message deliveries between cluster nodes, not only client traffic (default true). */
  readonly internal?: boolean;
  /** Colour function for emphasis (e.g. picocolors); identity by default. */
  readonly paint?: Partial<Record<"time" | "node" | "fault" | "error" | "note" | "dim", (s: string) => string>>;
  /**
   * Trace `seq`s to mark with `✗` (e.g. the events that led to a violated invariant); a marked
   * event the timeline would leave out gets a line of its own.
   */
  readonly mark?: ReadonlySet<number>;
}

/** Virtual time as `+HH:MM:SS.mmm` since the simulation epoch. */
export function formatTime(time: number): string {
  const ms = time - SIMULATION_EPOCH;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const rest = (ms % 1000).toFixed(3).padStart(7, "0");
  return `+${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}.${rest.replace(".", "").slice(0, 3)}`;
}

const id = (s: string): string => s;

/**
 * A readable, one-line-per-event timeline of a run: who sent what to whom at which virtual time,
 * replies and their errors, timers, faults and narration.
 */
export function formatTimeline(events: readonly TraceEvent[], options: TimelineOptions = {}): string[] {
  const p = { time: id, node: id, fault: id, error: id, note: id, dim: id, ...options.paint };
  const lines: string[] = [];
  let marked = false;
  const line = (time: number, text: string): void => {
    lines.push(`${p.time(formatTime(time))}${marked ? ` ${p.error("✗")} ` : "  "}${text}`);
  };
  const isClient = (n: string): boolean => n.startsWith("client");
  for (const e of events) {
    marked = options.mark?.has(e.seq) === true;
    const before = lines.length;
    if (marked) {
      // Shown whatever the filters say: it is what the reader is looking for.
      const shown = { ...options, internal: true, timers: true, mark: undefined };
      lines.push(...formatTimeline([e], shown).map((l) => l.replace(/^(\S+) {2}/, `$1 ${p.error("✗")} `)));
      if (lines.length === before) line(e.time, p.error(`${e.node.padEnd(9)} ${describeOther(e)}`));
      continue;
    }
    switch (e.type) {
      case "net.deliver": {
        if (options.internal === false && !isClient(e.from) && !isClient(e.node)) break;
        const reply = e.label.endsWith(":reply");
        const arrow = reply ? "◀──" : "──▶";
        const [a, b] = reply ? [e.node, e.from] : [e.from, e.node];
        line(e.time, `${p.node(a.padEnd(9))} ${arrow} ${p.node(b.padEnd(9))} ${reply ? p.dim(e.label) : e.label}`);
        break;
      }
      case "net.drop":
        line(e.time, p.fault(`${e.node.padEnd(9)} ──✗ ${e.to.padEnd(9)} ${e.label} lost (${e.reason})`));
        break;
      case "cmd.reply":
        if (!e.ok) line(e.time, p.error(`${e.node.padEnd(9)} ${e.command} failed: ${e.codeName}: ${e.errmsg}`));
        break;
      case "node.bug":
        line(e.time, p.error(`${e.node.padEnd(9)} INTERNAL ERROR in ${e.command}: ${e.error}`));
        break;
      case "timer.fire":
        if (options.timers !== false) line(e.time, p.dim(`${e.node.padEnd(9)} ⏰ ${e.label}`));
        break;
      case "node.crash":
        line(e.time, p.fault(`${e.node.padEnd(9)} 💥 crashed`));
        break;
      case "node.restart":
        line(e.time, p.fault(`${e.node.padEnd(9)} ↻ restarted`));
        break;
      case "net.partition":
        line(e.time, p.fault(`network   ✂ partition [${e.a.join(", ")}] ${e.oneWay ? "→" : "↔"} [${e.b.join(", ")}]`));
        break;
      case "net.heal":
        line(e.time, p.fault("network   ✚ healed"));
        break;
      case "net.configure":
        line(e.time, p.fault(`network   configured ${JSON.stringify(e.config)}`));
        break;
      case "clock.set":
        line(e.time, p.fault(`${e.node.padEnd(9)} clock offset ${e.offsetMs} ms, drift ${e.driftPpm} ppm`));
        break;
      case "failpoint.set":
        line(e.time, p.fault(`${e.node.padEnd(9)} failpoint ${e.name} → ${JSON.stringify(e.mode)}`));
        break;
      case "session.start":
        line(
          e.time,
          `${e.node.padEnd(9)} + session ${e.id.slice(0, 8)}${e.user === undefined ? "" : ` (${e.user})`} in its cache`,
        );
        break;
      case "refresh.end":
        line(
          e.time,
          (e.ok ? (s: string) => s : p.error)(
            `${e.node.padEnd(9)} ⟳ refresh → config.system.sessions: ${e.refreshed} upserted, ${e.ended} removed${e.failed > 0 ? `, ${e.failed} failed` : ""}${e.cursorsClosed > 0 ? `, ${e.cursorsClosed} cursors closed` : ""}${e.ok ? "" : ` (${e.codeName ?? "error"})`}`,
          ),
        );
        break;
      case "ttl.expire":
        if (e.ns === "config.system.sessions")
          line(e.time, p.fault(`${e.node.padEnd(9)} ⌛ TTL deleted ${e.ids.length} session record(s)`));
        break;
      case "cursor.close":
        if (e.reason !== "exhausted") line(e.time, `${e.node.padEnd(9)} ✕ cursor ${e.cursorId} closed (${e.reason})`);
        break;
      case "kill.local":
        line(
          e.time,
          p.fault(
            `${e.node.padEnd(9)} ✂ kill: ${e.abortedTransactions} unprepared txn aborted, ${e.interruptedOps} ops interrupted, ${e.closedCursors} cursors closed${e.skippedPrepared > 0 ? `, ${e.skippedPrepared} PREPARED left alone` : ""}`,
          ),
        );
        break;
      case "txn.state":
        if (e.to === "Prepared" || e.to === "Committed" || e.to.startsWith("Aborted"))
          line(
            e.time,
            `${e.node.padEnd(9)} txn ${e.lsid.slice(0, 8)}#${e.txnNumber}: ${e.from} → ${e.to}${e.reason === undefined ? "" : ` (${e.reason})`}`,
          );
        break;
      case "coord.step":
        // Each step is traced on entry and again with the worker's action; show the action.
        if (e.action === undefined) break;
        line(
          e.time,
          p.dim(
            `${e.node.padEnd(9)} coordinator ${e.lsid.slice(0, 8)}#${e.txnNumber}: ${e.step}${e.action === e.step ? "" : ` (${e.action})`}`,
          ),
        );
        break;
      case "coord.decision":
        line(
          e.time,
          `${e.node.padEnd(9)} coordinator ${e.lsid.slice(0, 8)}#${e.txnNumber} decided ${e.decision.toUpperCase()}`,
        );
        break;
      case "note":
        line(e.time, p.note(`── ${e.text}`));
        break;
      default:
        break;
    }
  }
  return lines;
}

/** A line for an event the timeline has no wording for: its type and its identifying fields. */
function describeOther(e: TraceEvent): string {
  const r = e as unknown as Record<string, unknown>;
  const fields = ["label", "command", "cursorId", "lsid", "to", "reason"]
    .filter((k) => r[k] !== undefined && (typeof r[k] !== "object" || typeof r[k] === "bigint"))
    .map((k) => `${k}=${String(r[k]).slice(0, 40)}`);
  return [e.type, ...fields].join(" ");
}
