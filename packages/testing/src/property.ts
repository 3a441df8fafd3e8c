import fc from "fast-check";
import type { ClusterOptions, TraceEvent } from "sessionsim";
import { ALL_INVARIANTS } from "./invariants/monitor.js";
import type { Invariant, Violation } from "./invariants/types.js";
import {
  AdvanceCommand,
  faultCommands,
  workloadCommands,
  type ClusterShape,
  type FaultLevel,
  type SimCommand,
} from "./model/commands.js";
import { PropertyViolation, SimSystem } from "./model/system.js";
import { formatReproduction, type Reproduction } from "./replay.js";
import { clusterOptions } from "./arbitraries/cluster.js";
import { MissingCoverageError, type CoverageTracker } from "./coverage.js";

/**
 * Settings of the standard property (the one `sessionsim explore` sweeps).
 *
 * @example
 * const o: StandardPropertyOptions = { faults: "crash", commands: 50, auth: true };
 * await fc.assert(standardProperty(o), { seed: 1, numRuns: 5 });
 */
export interface StandardPropertyOptions {
  /** Which faults the command sequences may contain (default "all"). */
  readonly faults?: FaultLevel;
  /** Commands per run: at most this many (default 100), or exactly with `exactCommands`. */
  readonly commands?: number;
  /**
   * Generate exactly `commands` commands per run (benchmarks): a plain array, which shrinks by
   * dropping commands but never below that length. Default false (`fc.commands`, up to `commands`).
   */
  readonly exactCommands?: boolean;
  readonly shards?: number;
  readonly mongos?: number;
  /** Force access control on or off (default: varies). */
  readonly auth?: boolean;
  /** Vary session parameters (short refresh, small maxSessions...); default true. */
  readonly parameters?: boolean;
  /** Virtual time each run covers before faults stop (default 1 hour). */
  readonly horizonMs?: number;
  /** Run every case twice and compare trace hashes (default false). */
  readonly determinismCheck?: boolean;
  readonly invariants?: readonly Invariant[];
  /** Where to record coverage (default: none). */
  readonly coverage?: CoverageTracker;
  /**
   * With `coverage`: `checkStandard` fails (error {@link MissingCoverageError}) when the runs pass
   * but some of the tracker's required states (`coverage.require(...)`) were never reached.
   * Default false: missing states are only reported by `coverage.missing()` / `format()`.
   */
  readonly failOnMissingCoverage?: boolean;
  /** Compute each run's trace hash (always on with `determinismCheck`). */
  readonly hash?: boolean;
  /** Receives the reference model's changes, line by line (for debugging a disagreement). */
  readonly debug?: (line: string) => void;
  /** Called with every case and its result (e.g. to print a replayed case's timeline). */
  readonly onResult?: (c: StandardCase, r: CaseResult) => void;
  /** fast-check's `replayPath` hint for the commands (from a reproduction line). */
  readonly replayPath?: string;
}

/**
 * One generated case: the cluster's options and the commands (workload and faults together).
 *
 * @example
 * const [c]: StandardCase[] = fc.sample(standardCase(), { seed: 1, numRuns: 1 });
 * console.log(c.options.seed, [...c.commands].map(String));
 */
export interface StandardCase {
  readonly options: ClusterOptions;
  readonly commands: Iterable<SimCommand>;
}

/**
 * The resolved defaults of {@link StandardPropertyOptions}.
 *
 * @internal Not exported from the package.
 */
export function standardDefaults(
  o: StandardPropertyOptions = {},
): Required<Pick<StandardPropertyOptions, "faults" | "commands" | "shards" | "mongos" | "horizonMs">> {
  return {
    faults: o.faults ?? "all",
    commands: o.commands ?? 100,
    shards: o.shards ?? 2,
    mongos: o.mongos ?? 2,
    horizonMs: o.horizonMs ?? 3_600_000,
  };
}

/**
 * The arbitrary of the standard property's cases: cluster options (2 shards, 2 mongos by default,
 * auth and parameters varying) and a weighted command sequence — workload mostly, faults
 * sometimes, time advancing often enough to cover about an hour.
 *
 * @example
 * fc.sample(standardCase({ faults: "network", commands: 20 }), 1);
 */
export function standardCase(o: StandardPropertyOptions = {}): fc.Arbitrary<StandardCase> {
  const d = standardDefaults(o);
  const options = clusterOptions({
    shards: d.shards,
    mongos: d.mongos,
    ...(o.auth === undefined ? {} : { auth: o.auth }),
    parameters: o.parameters ?? true,
  });
  // The commands do not depend on the generated options (no `chain`): fast-check can then replay
  // a shrunk case from its seed, path and replay hint. Users are drawn as if auth were on (the
  // workload's users exist either way).
  const shape: ClusterShape = { shards: d.shards, mongos: d.mongos, auth: o.auth ?? true };
  const weighted = standardCommand(shape, d.faults);
  const commands: fc.Arbitrary<Iterable<SimCommand>> =
    o.exactCommands === true
      ? fc.array(weighted, { minLength: d.commands, maxLength: d.commands })
      : fc.commands([weighted], {
          maxCommands: d.commands,
          size: "max",
          ...(o.replayPath === undefined ? {} : { replayPath: o.replayPath }),
        });
  return fc.record({ options, commands });
}

/**
 * One command of the standard property: workload commands (weight 4 each), time advancing
 * (about a quarter of all commands: an hour over 100 commands) and faults (weight 1 each).
 *
 * @example
 * fc.sample(standardCommand({ shards: 2, mongos: 2, auth: false }, "all"), 5).map(String);
 */
export function standardCommand(shape: ClusterShape, faults: FaultLevel): fc.Arbitrary<SimCommand> {
  return fc.oneof(
    ...workloadCommands(shape).map((arbitrary) => ({ arbitrary, weight: 4 })),
    {
      arbitrary: fc.constantFrom(60_000, 300_000, 300_000, 600_000).map((ms): SimCommand => new AdvanceCommand(ms)),
      weight: 6,
    },
    ...faultCommands(shape, faults).map((arbitrary) => ({ arbitrary, weight: 1 })),
  );
}

/**
 * What one run of a case produced.
 *
 * @example
 * const r: CaseResult = await runCase(c);
 * console.log(r.log.join("\n"), r.violations.length);
 */
export interface CaseResult {
  readonly traceHash: string;
  readonly log: readonly string[];
  readonly trace: readonly TraceEvent[];
  readonly violations: readonly Violation[];
  /** Virtual time the run covered. */
  readonly virtualMs: number;
  /** How many listings the reference model compared (and skipped because a refresh was running). */
  readonly modelChecks: { readonly listLocal: number; readonly listSessions: number; readonly skipped: number };
}

/**
 * Runs one case: start the cluster, run the commands (checking the model and the safety
 * invariants after each), advance to the horizon, stop faults and check liveness. Resolves with
 * the result, violations included (it does not throw on them).
 *
 * @example
 * const [c] = fc.sample(standardCase(), { seed: 42, numRuns: 1 });
 * const result = await runCase(c);
 */
export async function runCase(c: StandardCase, o: StandardPropertyOptions = {}): Promise<CaseResult> {
  const d = standardDefaults(o);
  const invariants = o.invariants ?? ALL_INVARIANTS;
  const sys = await SimSystem.start(c.options, invariants, o.debug);
  const started = sys.cluster.now().getTime();
  let violations: readonly Violation[] = [];
  try {
    await fc.asyncModelRun(
      () => ({
        model: {
          shards: c.options.shards ?? d.shards,
          mongos: c.options.mongos ?? d.mongos,
          auth: c.options.auth ?? false,
        },
        real: sys,
      }),
      c.commands,
    );
    const elapsed = sys.cluster.now().getTime() - started;
    if (elapsed < d.horizonMs) await sys.advance(d.horizonMs - elapsed);
    sys.sync();
    await sys.finish(invariants);
  } catch (e) {
    if (!(e instanceof PropertyViolation)) throw e;
    violations = e.violations;
  }
  const trace = sys.cluster.trace();
  o.coverage?.addTrace(trace, c.options.auth ?? false);
  const result = {
    traceHash: o.determinismCheck === true || o.hash === true ? sys.cluster.traceHash() : "",
    log: sys.log,
    trace,
    violations,
    virtualMs: sys.cluster.now().getTime() - started,
    modelChecks: { ...sys.model.checks },
  };
  await sys.stop();
  return result;
}

/**
 * Raised by the standard property for a failing case; its message is the report.
 *
 * @example
 * const r = await checkStandard({ seed: 1 });
 * if (r.error instanceof CaseFailure) console.log(r.error.result.log.join("\n"));
 */
export class CaseFailure extends Error {
  constructor(
    readonly result: CaseResult,
    message: string,
  ) {
    super(message);
    this.name = "CaseFailure";
  }
}

/**
 * The standard property: for every generated case, no invariant breaks and the cluster agrees
 * with the reference model; with `determinismCheck`, two runs of the case give the same trace hash.
 *
 * @example
 * await fc.assert(standardProperty({ faults: "network", commands: 30 }), { seed: 42, numRuns: 5 });
 */
export function standardProperty(o: StandardPropertyOptions = {}): fc.IAsyncPropertyWithHooks<[StandardCase]> {
  return fc.asyncProperty(standardCase(o), async (c) => {
    const r = await runCase(c, o);
    o.onResult?.(c, r);
    if (r.violations.length > 0) throw new CaseFailure(r, describeFailure(r));
    if (o.determinismCheck === true) {
      const again = await runCase(c, { ...o, coverage: undefined });
      if (again.traceHash !== r.traceHash)
        throw new CaseFailure(
          r,
          `nondeterminism: the same case gave trace hashes ${r.traceHash.slice(0, 12)} and ${again.traceHash.slice(0, 12)}${firstDivergence(r.trace, again.trace)}`,
        );
    }
  });
}

function firstDivergence(a: readonly TraceEvent[], b: readonly TraceEvent[]): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = JSON.stringify(a[i], jsonSafe);
    const y = JSON.stringify(b[i], jsonSafe);
    if (x !== y) return `; first difference at event ${i}:\n  ${x.slice(0, 200)}\n  ${y.slice(0, 200)}`;
  }
  return a.length !== b.length ? `; traces have ${a.length} and ${b.length} events` : "";
}

function jsonSafe(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? `${v}n` : v;
}

/**
 * A failure report: the violations and the events that led to them.
 *
 * @example
 * const r = await runCase(c);
 * if (r.violations.length > 0) console.log(describeFailure(r));
 */
export function describeFailure(r: Pick<CaseResult, "violations">): string {
  const lines: string[] = [];
  for (const v of r.violations) {
    lines.push(`✗ ${v.invariant} (${v.kind}): ${v.message}`);
    for (const e of v.events.slice(-8)) lines.push(`    ${describeEvent(e)}`);
  }
  return lines.join("\n");
}

/**
 * One trace event as a short line (for violation reports).
 *
 * @example
 * for (const e of cluster.trace().slice(-5)) console.log(describeEvent(e));
 */
export function describeEvent(e: TraceEvent): string {
  const { time, seq, node, type, ...rest } = e as TraceEvent & Record<string, unknown>;
  const fields = Object.entries(rest)
    .filter(([k]) => k !== "payload")
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v, jsonSafe)?.slice(0, 80) : String(v)}`)
    .join(" ");
  const payload = (e as { payload?: { command?: Record<string, unknown> } }).payload?.command;
  const cmd =
    payload === undefined
      ? ""
      : ` ${JSON.stringify(payload, (k, v: unknown) => (k === "" || typeof v !== "object" || v === null || Array.isArray(v) ? (typeof v === "bigint" ? `${v}n` : v) : v)).slice(0, 100)}`;
  return `#${seq} ${new Date(time).toISOString().slice(11, 23)} ${node} ${type} ${fields}${cmd}`;
}

/**
 * The outcome of {@link checkStandard}.
 *
 * @example
 * const r: StandardCheckResult = await checkStandard({ seed: 7, numRuns: 10 });
 * if (r.failed) console.log(r.reproduction);
 */
export interface StandardCheckResult {
  readonly failed: boolean;
  readonly runs: number;
  readonly seed: number;
  /** The reproduction line of the (shrunk) failure. */
  readonly reproduction?: string;
  readonly counterexample?: StandardCase;
  readonly error?: unknown;
  /** The shrunk scenario's log lines. */
  readonly scenario?: readonly string[];
}

/**
 * Runs the standard property with fast-check (`fc.check`) from `seed`, shrinking failures, and
 * returns one reproduction line for a failure.
 *
 * @example
 * const r = await checkStandard({ seed: 42, numRuns: 1, faults: "all" });
 * if (r.failed) console.log(r.reproduction);
 */
export async function checkStandard(
  o: StandardPropertyOptions & {
    readonly seed: number;
    readonly numRuns?: number;
    readonly path?: string;
    readonly endOnFailure?: boolean;
  },
): Promise<StandardCheckResult> {
  const d = standardDefaults(o);
  const details = await fc.check(standardProperty(o), {
    seed: o.seed,
    numRuns: o.numRuns ?? 1,
    ...(o.path === undefined ? {} : { path: o.path }),
    ...(o.endOnFailure === true ? { endOnFailure: true } : {}),
  });
  if (!details.failed) {
    const missing = o.failOnMissingCoverage === true ? (o.coverage?.missing() ?? []) : [];
    if (missing.length > 0)
      return { failed: true, runs: details.numRuns, seed: o.seed, error: new MissingCoverageError(missing) };
    return { failed: false, runs: details.numRuns, seed: o.seed };
  }
  const [c] = details.counterexample ?? [];
  const replayPath = c === undefined ? undefined : replayPathOf(c.commands);
  const repro: Reproduction = {
    seed: o.seed,
    path: details.counterexamplePath ?? "0",
    faults: d.faults,
    commands: d.commands,
    shards: d.shards,
    mongos: d.mongos,
    ...(o.auth === undefined ? {} : { auth: o.auth }),
    ...(o.exactCommands === true ? { exactCommands: true } : {}),
    ...(o.determinismCheck === true ? { determinism: true } : {}),
    ...(replayPath === undefined ? {} : { replayPath }),
  };
  const err = details.errorInstance;
  return {
    failed: true,
    runs: details.numRuns,
    seed: o.seed,
    reproduction: formatReproduction(repro),
    ...(c === undefined ? {} : { counterexample: c }),
    error: err,
    ...(err instanceof CaseFailure ? { scenario: err.result.log } : {}),
  };
}

/**
 * fast-check's replay hint of a commands value (`/*replayPath="…"*\/` in its string form).
 *
 * @example
 * const [c] = fc.sample(standardCase(), 1);
 * replayPathOf(c.commands); // fast-check's replay hint, once the commands ran
 */
export function replayPathOf(commands: Iterable<SimCommand>): string | undefined {
  const m = /replayPath="([^"]*)"/.exec(String(commands));
  return m === null ? undefined : m[1];
}
