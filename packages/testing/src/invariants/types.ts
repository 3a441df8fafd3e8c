import type { Cluster, TraceEvent } from "sessionsim";
import type { TraceIndex } from "../trace-index.js";

/**
 * Safety invariants hold at every point of a run; liveness ones once faults have stopped.
 *
 * @example
 * const liveness = ALL_INVARIANTS.filter((i) => i.kind === ("liveness" satisfies InvariantKind));
 */
export type InvariantKind = "safety" | "liveness";

/**
 * A broken invariant: what went wrong, when, and the trace events that led to it (oldest first).
 *
 * @example
 * for (const v of violations) console.log(`${v.invariant}: ${v.message}`);
 */
export interface Violation {
  readonly invariant: string;
  readonly kind: InvariantKind;
  readonly message: string;
  /** Virtual time of the violation (the event that completed it, or the liveness check). */
  readonly time: number;
  readonly node?: string;
  /** The events that led to it: causes first, the violating event last. */
  readonly events: readonly TraceEvent[];
}

/**
 * Settings of the run that the invariants need (MongoDB's parameter values, auth, data namespaces).
 *
 * @example
 * const ctx: InvariantContext = invariantContext({ auth: true, shards: 2, observer: { user: "admin", db: "admin" } });
 */
export interface InvariantContext {
  /** Whether access control is on (the server computes session `uid`s from the user). */
  readonly auth: boolean;
  readonly maxSessions: number;
  readonly logicalSessionRefreshMillis: number;
  readonly localLogicalSessionTimeoutMinutes: number;
  readonly transactionLifetimeLimitSeconds: number;
  readonly TransactionRecordMinimumLifetimeMinutes: number;
  /** The number of shards (0: no sessions collection). */
  readonly shards: number;
  /** Namespaces holding workload documents tagged for the data checks (default `["test.items"]`). */
  readonly dataNamespaces: readonly string[];
  /** A user allowed to read everything (needed when auth is on). */
  readonly observer?: { readonly user: string; readonly db: string };
  /** Extra time allowed beyond exact bounds (TTL monitor period, request timeouts); default 2 min. */
  readonly slackMs: number;
  /** How the cluster reads `users`/`roles` in kill patterns (the cluster option; default "code"). */
  readonly killSessionsPatternSemantics: "code" | "manual";
}

/**
 * Builds an {@link InvariantContext} from cluster options (MongoDB's defaults fill the gaps).
 *
 * @example
 * const ctx = invariantContext({ auth: false, shards: 2, parameters: { logicalSessionRefreshMillis: 60_000 } });
 * checkTrace(cluster.trace(), ctx);
 */
export function invariantContext(options: {
  readonly auth?: boolean;
  readonly shards?: number;
  readonly parameters?: Readonly<Record<string, number | boolean>>;
  readonly observer?: { readonly user: string; readonly db: string };
  readonly dataNamespaces?: readonly string[];
  readonly slackMs?: number;
  readonly killSessionsPatternSemantics?: "code" | "manual";
}): InvariantContext {
  const p = options.parameters ?? {};
  const num = (name: string, dflt: number): number => (typeof p[name] === "number" ? p[name] : dflt);
  return {
    auth: options.auth ?? false,
    shards: options.shards ?? 2,
    maxSessions: num("maxSessions", 1_000_000),
    logicalSessionRefreshMillis: num("logicalSessionRefreshMillis", 300_000),
    localLogicalSessionTimeoutMinutes: num("localLogicalSessionTimeoutMinutes", 30),
    transactionLifetimeLimitSeconds: num("transactionLifetimeLimitSeconds", 60),
    TransactionRecordMinimumLifetimeMinutes: num("TransactionRecordMinimumLifetimeMinutes", 30),
    dataNamespaces: options.dataNamespaces ?? ["test.items"],
    slackMs: options.slackMs ?? 120_000,
    killSessionsPatternSemantics: options.killSessionsPatternSemantics ?? "code",
    ...(options.observer === undefined ? {} : { observer: options.observer }),
  };
}

/**
 * A safety checker: fed every event in order, it reports violations as they happen.
 *
 * @example
 * const checker: SafetyChecker = (e, _index, report) => {
 *   if (e.type === "node.crash") report({ message: `${e.node} crashed`, time: e.time, events: [e] });
 * };
 */
export type SafetyChecker = (
  event: TraceEvent,
  index: TraceIndex,
  report: (v: Omit<Violation, "invariant" | "kind">) => void,
) => void;

/**
 * An invariant checked continuously over the trace.
 *
 * @example
 * const noBugs: SafetyInvariant = {
 *   kind: "safety", name: "no-node-bug", description: "no node throws",
 *   start: () => (e, _index, report) => { if (e.type === "node.bug") report({ message: e.error, time: e.time, events: [e] }); },
 * };
 */
export interface SafetyInvariant {
  readonly kind: "safety";
  readonly name: string;
  readonly description: string;
  /** A fresh checker for one run. */
  start(ctx: InvariantContext): SafetyChecker;
}

/**
 * What a liveness check gets: the cluster (quiet since `faultsStoppedAt`), its trace and index.
 *
 * @example
 * const check = async (run: LivenessRun) => (run.cluster.now().getTime() - run.faultsStoppedAt > 0 ? [] : []);
 */
export interface LivenessRun {
  readonly cluster: Cluster;
  readonly trace: readonly TraceEvent[];
  readonly index: TraceIndex;
  readonly ctx: InvariantContext;
  /** True time at which faults stopped. */
  readonly faultsStoppedAt: number;
}

/**
 * An invariant checked once faults have stopped: at `faultsStoppedAt + after(ctx)` of virtual time
 * it may query the cluster.
 *
 * @example
 * const quiet: LivenessInvariant = {
 *   kind: "liveness", name: "quiet", description: "nothing", after: () => 0,
 *   check: async () => [],
 * };
 */
export interface LivenessInvariant {
  readonly kind: "liveness";
  readonly name: string;
  readonly description: string;
  /** How long after faults stop the check runs (ms of virtual time), knowing the run so far. */
  after(ctx: InvariantContext, index?: TraceIndex): number;
  check(run: LivenessRun): Promise<Omit<Violation, "invariant" | "kind">[]>;
}

/**
 * Either kind of invariant.
 *
 * @example
 * const mine: readonly Invariant[] = [...ALL_INVARIANTS, myInvariant];
 * await checkStandard({ seed: 1, invariants: mine });
 */
export type Invariant = SafetyInvariant | LivenessInvariant;
