import type { Cluster, TraceEvent } from "sessionsim";
import { TraceIndex } from "../trace-index.js";
import { QueryFailed } from "./cluster-queries.js";
import { LIVENESS_INVARIANTS } from "./liveness.js";
import { SAFETY_INVARIANTS } from "./safety.js";
import type {
  Invariant,
  InvariantContext,
  LivenessInvariant,
  SafetyChecker,
  SafetyInvariant,
  Violation,
} from "./types.js";

/**
 * Every invariant of the library: the safety ones, then the liveness ones.
 *
 * @example
 * await checkStandard({ seed: 1, invariants: [...ALL_INVARIANTS, myInvariant] });
 */
export const ALL_INVARIANTS: readonly Invariant[] = [...SAFETY_INVARIANTS, ...LIVENESS_INVARIANTS];

/**
 * Checks safety invariants over a trace as it grows: feed events in order (or `attach` it to a live
 * cluster); `violations` fills as soon as something breaks.
 *
 * @example
 * const monitor = new InvariantMonitor(invariantContext({ shards: 2 }));
 * const detach = monitor.attach(cluster);   // continuous checking
 * // ... run the workload ...
 * detach();
 * assert.deepEqual(monitor.violations, []);
 */
export class InvariantMonitor {
  readonly index: TraceIndex;
  readonly violations: Violation[] = [];
  private readonly checkers: { check: SafetyChecker; report: Parameters<SafetyChecker>[2] }[];
  private fed = 0;

  constructor(
    readonly ctx: InvariantContext,
    invariants: readonly Invariant[] = ALL_INVARIANTS,
  ) {
    this.index = new TraceIndex({ auth: ctx.auth });
    this.checkers = invariants
      .filter((i): i is SafetyInvariant => i.kind === "safety")
      .map((inv) => ({
        check: inv.start(ctx),
        // Built once per invariant, not once per event and invariant.
        report: (v) => this.violations.push({ invariant: inv.name, kind: "safety", ...v }),
      }));
  }

  /** How many events were fed. */
  get length(): number {
    return this.fed;
  }

  /** Feeds the next event. */
  add(e: TraceEvent): void {
    this.fed++;
    this.index.add(e);
    for (const { check, report } of this.checkers) check(e, this.index, report);
  }

  /** Feeds the events of `trace` not fed yet (for a trace snapshot that grows between calls). */
  catchUp(trace: readonly TraceEvent[]): void {
    for (let i = this.fed; i < trace.length; i++) this.add(trace[i]);
  }

  /** Checks continuously: every event of `cluster` from now on (and those before) is fed at once. */
  attach(cluster: Cluster): () => void {
    this.catchUp(cluster.trace());
    const listener = (e: TraceEvent): void => this.add(e);
    cluster.on("*", listener);
    return () => cluster.off("*", listener);
  }
}

/**
 * Runs the safety invariants over a complete trace.
 *
 * @example
 * const violations = checkTrace(cluster.trace(), invariantContext({ auth: false }));
 */
export function checkTrace(
  trace: readonly TraceEvent[],
  ctx: InvariantContext,
  invariants: readonly Invariant[] = ALL_INVARIANTS,
): Violation[] {
  const m = new InvariantMonitor(ctx, invariants);
  m.catchUp(trace);
  return m.violations;
}

/**
 * The failpoints `stopFaults` turns off on every node (MongoDB names).
 *
 * @example
 * await stopFaults(cluster, [...FAULT_FAILPOINTS, "myFailpoint"]);
 */
export const FAULT_FAILPOINTS: readonly string[] = [
  "failCommand",
  "hangBeforeWritingParticipantList",
  "hangWhileTargetingRemoteHost",
  "hangWhileTargetingLocalHost",
  "hangBeforeWritingDecision",
  "hangBeforeDeletingCoordinatorDoc",
  "hangBeforeSendingCommitDecision",
  "hangBeforeSendingAbortDecision",
  "failRemoteTransactionCommand",
  "hangAfterCollectionInserts",
];

/**
 * Stops every fault: heals partitions, restores a clean network, restarts crashed nodes and turns
 * failpoints off (clock offsets stay: a node's clock is not a fault that stops). Returns the
 * virtual time at which faults stopped.
 *
 * @example
 * const stoppedAt = await stopFaults(cluster);
 * await cluster.advance(300_000);
 */
export async function stopFaults(cluster: Cluster, failpoints: readonly string[] = FAULT_FAILPOINTS): Promise<number> {
  cluster.heal();
  cluster.configureNetwork({
    latency: { kind: "uniform", minMs: 0.2, maxMs: 2 },
    dropRate: 0,
    duplicateRate: 0,
    reorderRate: 0,
  });
  const names = new Set(failpoints);
  for (const e of cluster.trace()) if (e.type === "failpoint.set") names.add(e.name);
  for (const node of cluster.nodes()) {
    if (!cluster.simulation.isUp(node)) await cluster.restart(node);
  }
  cluster.applyFaults(
    cluster
      .nodes()
      .flatMap((node) =>
        [...names].map((name) => ({ at: 0, kind: "failpoint" as const, node, name, mode: "off" as const })),
      ),
  );
  await cluster.advance(0);
  cluster.note("faults stopped");
  return cluster.now().getTime();
}

/**
 * Runs liveness invariants on a cluster whose faults stopped at `faultsStoppedAt`: each check runs
 * at its own delay after that (the cluster is advanced as needed). A check whose queries cannot
 * complete is itself a violation: after faults stop the cluster must answer.
 *
 * @example
 * const stoppedAt = await stopFaults(cluster);
 * const violations = await checkLiveness(cluster, ctx, stoppedAt);
 */
export async function checkLiveness(
  cluster: Cluster,
  ctx: InvariantContext,
  faultsStoppedAt: number,
  invariants: readonly Invariant[] = ALL_INVARIANTS,
  /** An index kept up to date elsewhere (returned after catching up); by default one is built per check. */
  currentIndex?: () => TraceIndex,
): Promise<Violation[]> {
  const indexNow = (): TraceIndex => {
    if (currentIndex !== undefined) return currentIndex();
    const index = new TraceIndex({ auth: ctx.auth });
    for (const e of cluster.trace()) index.add(e);
    return index;
  };
  const first = indexNow();
  const live = invariants
    .filter((i): i is LivenessInvariant => i.kind === "liveness")
    .sort((a, b) => a.after(ctx, first) - b.after(ctx, first));
  const out: Violation[] = [];
  for (const inv of live) {
    // (Re-evaluated as the run goes on: what happened since faults stopped may extend the wait.)
    const at = faultsStoppedAt + inv.after(ctx, indexNow());
    const now = cluster.now().getTime();
    if (at > now) await cluster.advance(at - now);
    const trace = cluster.trace();
    let index: TraceIndex;
    if (currentIndex !== undefined) index = currentIndex();
    else {
      index = new TraceIndex({ auth: ctx.auth });
      for (const e of trace) index.add(e);
    }
    try {
      for (const v of await inv.check({ cluster, trace, index, ctx, faultsStoppedAt }))
        out.push({ invariant: inv.name, kind: "liveness", ...v });
    } catch (e) {
      if (!(e instanceof QueryFailed)) throw e;
      out.push({
        invariant: inv.name,
        kind: "liveness",
        message: `the cluster did not answer after faults stopped: ${e.message}`,
        time: cluster.now().getTime(),
        events: trace.filter((x) => x.type === "cmd.reply" && !x.ok).slice(-3),
      });
    }
  }
  return out;
}

/**
 * The whole check of a finished workload: stop faults, run the liveness checks, then the safety
 * invariants over the complete trace.
 *
 * @example
 * const { violations } = await checkRun(cluster, invariantContext({ shards: 2 }));
 */
export async function checkRun(
  cluster: Cluster,
  ctx: InvariantContext,
  invariants: readonly Invariant[] = ALL_INVARIANTS,
): Promise<{ violations: Violation[]; faultsStoppedAt: number }> {
  const faultsStoppedAt = await stopFaults(cluster);
  const liveness = await checkLiveness(cluster, ctx, faultsStoppedAt, invariants);
  const safety = checkTrace(cluster.trace(), ctx, invariants);
  return { violations: [...safety, ...liveness], faultsStoppedAt };
}
