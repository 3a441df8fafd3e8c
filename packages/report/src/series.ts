/**
 * Time series for the per-node timelines, derived from the trace alone: session cache size,
 * `config.system.sessions` records held, open cursors, transactions by state, and coordinator
 * steps. Pure functions of the trace (no clock, no I/O), unit-tested in `test/series.test.ts`.
 */
import { analyze, type Analysis, type StepSeries } from "./analysis.js";
import { str, type EventLike } from "./events.js";

export type { StepSeries } from "./analysis.js";

/** One step of a two-phase-commit coordinator, from when it began to when the next began. */
export interface CoordinatorInterval {
  readonly lsid: string;
  readonly txnNumber: string;
  /** `writingParticipantList`, `waitingForVotes`, `writingDecision`, `waitingForDecisionAcks`, … */
  readonly step: string;
  /** The worker's current action (`sendingPrepare`, `sendingCommit`, …), if the trace gives it. */
  readonly action?: string;
  readonly start: number;
  /** When the next step began, the coordinator finished, or the node crashed (run end if never). */
  readonly end: number;
  /** The `coord.step` event. */
  readonly seq: number;
}

/** Timelines of one node. */
export interface NodeSeries {
  readonly node: string;
  /** Entries of the node's logical session cache (`$listLocalSessions` on it). */
  readonly cacheSize: StepSeries;
  /** `config.system.sessions` records stored on this node (shards holding chunks). */
  readonly sessionRecords: StepSeries;
  readonly openCursors: StepSeries;
  /** Participant transactions on this node by state (`inProgress`, `prepared`, `committed`, …). */
  readonly transactions: Readonly<Record<string, StepSeries>>;
  readonly coordinator: readonly CoordinatorInterval[];
}

/** Timelines of a whole run. */
export interface ClusterSeries {
  readonly start: number;
  readonly end: number;
  /** `config.system.sessions` records in the whole cluster (what `$listSessions` would return). */
  readonly sessionRecords: StepSeries;
  readonly nodes: readonly NodeSeries[];
}

/** Steps after which a coordinator is done. */
const FINAL_STEPS = new Set(["deletingCoordinatorDoc", "done", "finished"]);

/** Value of a step series at `time` (the last change at or before it). */
export function valueAt(s: StepSeries, time: number): number {
  let lo = 0;
  let hi = s.times.length - 1;
  if (hi < 0 || time < s.times[0]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s.times[mid] <= time) lo = mid;
    else hi = mid - 1;
  }
  return s.values[lo];
}

/** Largest value of a step series. */
export function maxOf(s: StepSeries): number {
  return s.values.reduce((m, v) => Math.max(m, v), 0);
}

/** The coordinator intervals of a node, from its `coord.step` events (crashes end them). */
export function coordinatorIntervals(a: Analysis, node: string): CoordinatorInterval[] {
  const out: CoordinatorInterval[] = [];
  const crashes = a.crashes.filter((c) => c.node === node).map((c) => c.time);
  for (const c of a.coordinators) {
    if (c.node !== node) continue;
    c.steps.forEach((e, i) => {
      const step = str(e, "step") ?? str(e, "action") ?? "?";
      const next = c.steps[i + 1];
      const crash = crashes.find((t) => t >= e.time && (next === undefined || t < next.time));
      let end = next?.time ?? c.end?.time ?? (FINAL_STEPS.has(step) ? e.time : a.end);
      if (crash !== undefined) end = crash;
      const action = str(e, "action");
      out.push({
        lsid: c.lsid,
        txnNumber: c.txnNumber,
        step,
        ...(action === undefined || action === step ? {} : { action }),
        start: e.time,
        end: Math.max(end, e.time),
        seq: e.seq,
      });
    });
  }
  // a step recorded again with its worker action is the same step
  const merged: CoordinatorInterval[] = [];
  for (const i of out) {
    const prev = merged[merged.length - 1];
    if (
      prev !== undefined &&
      prev.lsid === i.lsid &&
      prev.txnNumber === i.txnNumber &&
      prev.step === i.step &&
      prev.end === i.start
    )
      merged[merged.length - 1] = { ...prev, ...(i.action === undefined ? {} : { action: i.action }), end: i.end };
    else merged.push(i);
  }
  return merged.sort((x, y) => x.start - y.start || x.seq - y.seq);
}

/** Timelines of every node, from an analysis. */
export function seriesOf(a: Analysis): ClusterSeries {
  const nodes: NodeSeries[] = a.nodes
    .filter((n) => !n.startsWith("client"))
    .map((node) => {
      const raw = a.series.get(node);
      const empty = (): StepSeries => ({ times: [a.start], values: [0] });
      return {
        node,
        cacheSize: raw?.cacheSize ?? empty(),
        sessionRecords: raw?.sessionRecords ?? empty(),
        openCursors: raw?.openCursors ?? empty(),
        transactions: Object.fromEntries(raw?.transactions ?? []),
        coordinator: coordinatorIntervals(a, node),
      };
    });
  return { start: a.start, end: a.end, sessionRecords: a.totalRecords, nodes };
}

/**
 * Timelines of every server node of a run (clients have none).
 *
 * @example
 * const s = computeSeries(cluster.trace());
 * const mongos = s.nodes.find((n) => n.node === "mongos0");
 * valueAt(mongos.cacheSize, cluster.now().getTime()); // sessions in mongos0's cache now
 */
export function computeSeries(trace: readonly EventLike[]): ClusterSeries {
  return seriesOf(analyze(trace));
}
