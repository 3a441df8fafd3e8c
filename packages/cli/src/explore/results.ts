import { CoverageTracker, type FaultLevel } from "@sessionsim/testing";
import { UsageError } from "../usage.js";

/**
 * The standard property's settings a sweep ran with (must match to merge results).
 *
 * @example
 * const settings: ExploreSettings = { faults: "network", commands: 50, shards: 2, mongos: 2, determinism: true };
 */
export interface ExploreSettings {
  readonly faults: FaultLevel;
  readonly commands: number;
  readonly shards: number;
  readonly mongos: number;
  readonly auth?: boolean;
  readonly determinism: boolean;
  /** Exactly `commands` commands per run (benchmarks) instead of up to that many. */
  readonly exactCommands?: boolean;
}

/**
 * One seed's outcome.
 *
 * @example
 * const r: SeedResult = await runSeed(settings, 7);
 * console.log(r.seed, r.failed, r.invariants);
 */
export interface SeedResult {
  readonly seed: number;
  readonly failed: boolean;
  /** The reproduction line of the shrunk failure. */
  readonly reproduction?: string;
  /** Broken invariants (names), for failures. */
  readonly invariants?: readonly string[];
  readonly message?: string;
  /** The shrunk scenario as log lines. */
  readonly scenario?: readonly string[];
  readonly coverage: Readonly<Record<string, number>>;
  /** Wall time of the seed, shrinking included (not part of the deterministic result). */
  readonly wallMs: number;
}

/**
 * The machine-readable result of `sessionsim explore --json` (and of `sessionsim merge`).
 *
 * @example
 * const r: ExploreResult = JSON.parse(readFileSync("part0.json", "utf8"));
 * console.log(`${r.passed}/${r.runs} passed`);
 */
export interface ExploreResult {
  readonly version: 1;
  readonly settings: ExploreSettings;
  /** Seed ranges covered: [from, to) each, sorted. */
  readonly ranges: readonly (readonly [number, number])[];
  readonly runs: number;
  readonly passed: number;
  readonly failed: number;
  /** Failures sorted by seed. */
  readonly failures: readonly Omit<SeedResult, "coverage" | "wallMs">[];
  /** Coverage probes summed over all seeds (sorted keys). */
  readonly coverage: Readonly<Record<string, number>>;
  /** Sum of per-seed wall times. */
  readonly wallMs: number;
  /** Coverage states the sweep required (`--require`, sorted), if any. */
  readonly required?: readonly string[];
  /** The required states no seed reached (with `required`; the sweep fails if any). */
  readonly missing?: readonly string[];
}

/**
 * The result with coverage requirements: `required` (sorted, deduplicated) and the `missing` ones
 * (never reached over the result's coverage). No requirements: the result as it is.
 *
 * @example
 * const r = withRequirements(await explore(o), ["shard/*\/prepared/kill-pending"]);
 * if ((r.missing ?? []).length > 0) process.exitCode = 1;
 */
export function withRequirements(result: ExploreResult, required: readonly string[]): ExploreResult {
  const { required: _r, missing: _m, ...rest } = result;
  if (required.length === 0) return rest;
  const tracker = new CoverageTracker();
  tracker.merge({ counts: result.coverage });
  const sorted = [...new Set(required)].sort();
  tracker.require(...sorted);
  return { ...rest, required: sorted, missing: tracker.missing() };
}

/**
 * Seeds `[from, to)` of shard `i` of `n` (0-based) of the range `[base, base + runs)`.
 *
 * @example
 * shardRange(1, 10, { i: 1, n: 3 }); // [5, 8]: seeds 5, 6, 7
 */
export function shardRange(
  base: number,
  runs: number,
  shard?: { readonly i: number; readonly n: number },
): [number, number] {
  if (shard === undefined) return [base, base + runs];
  const per = Math.floor(runs / shard.n);
  const extra = runs % shard.n;
  const from = base + shard.i * per + Math.min(shard.i, extra);
  return [from, from + per + (shard.i < extra ? 1 : 0)];
}

/**
 * Parses `--shard i/n` (0-based `i`).
 *
 * @example
 * parseShard("0/4"); // { i: 0, n: 4 }
 */
export function parseShard(text: string): { i: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (m === null) throw new UsageError(`--shard takes i/n, e.g. 0/4 (got ${text})`);
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || i >= n) throw new UsageError(`--shard ${text}: need 0 <= i < n (shards are numbered from 0)`);
  return { i, n };
}

function sortedCounts(c: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...c].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Builds the result of one sweep from its seeds' results (order-independent).
 *
 * @example
 * const result = summarize(settings, [1, 11], seedResults);
 */
export function summarize(
  settings: ExploreSettings,
  range: readonly [number, number],
  seeds: readonly SeedResult[],
): ExploreResult {
  const coverage = new Map<string, number>();
  for (const s of seeds) for (const [k, n] of Object.entries(s.coverage)) coverage.set(k, (coverage.get(k) ?? 0) + n);
  const failures = seeds
    .filter((s) => s.failed)
    .sort((a, b) => a.seed - b.seed)
    .map(({ coverage: _c, wallMs: _w, ...f }) => f);
  return {
    version: 1,
    settings,
    ranges: [range],
    runs: seeds.length,
    passed: seeds.length - failures.length,
    failed: failures.length,
    failures,
    coverage: sortedCounts(coverage),
    wallMs: seeds.reduce((a, s) => a + s.wallMs, 0),
  };
}

/**
 * Merges sweep results deterministically: the same set of inputs in any order gives the same
 * output (ranges sorted and adjacent ones joined, failures sorted by seed, coverage summed with
 * sorted keys, coverage requirements judged on the sum) — exactly the result of one unsharded
 * sweep over the same seeds, wall time apart. Refuses inputs run with different settings or with
 * overlapping seed ranges.
 *
 * @example
 * const all = mergeResults(files.map((f) => JSON.parse(readFileSync(f, "utf8")) as ExploreResult));
 */
export function mergeResults(results: readonly ExploreResult[]): ExploreResult {
  if (results.length === 0) throw new Error("nothing to merge");
  const key = (s: ExploreSettings): string =>
    JSON.stringify([s.faults, s.commands, s.shards, s.mongos, s.auth ?? null, s.determinism, s.exactCommands ?? false]);
  const settings = results[0].settings;
  for (const r of results) {
    if (r.version !== 1) throw new Error(`unsupported result version ${String(r.version)}`);
    if (key(r.settings) !== key(settings))
      throw new Error(`cannot merge results of different settings: ${key(settings)} vs ${key(r.settings)}`);
  }
  const sorted = results
    .flatMap((r) => r.ranges)
    .map((r) => [r[0], r[1]] as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i][0] < sorted[i - 1][1])
      throw new Error(`seed ranges overlap: [${sorted[i - 1].join(", ")}) and [${sorted[i].join(", ")})`);
  // Adjacent ranges join ([100, 110) and [110, 120) are [100, 120)), as the unsharded sweep has them.
  // Empty parts (a shard of fewer seeds than shards) add nothing.
  const nonEmpty = sorted.some(([a, b]) => a < b);
  const ranges: [number, number][] = [];
  for (const r of sorted) {
    if (nonEmpty && r[0] === r[1]) continue;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && r[0] === last[1]) last[1] = r[1];
    else ranges.push(r);
  }
  const coverage = new Map<string, number>();
  for (const r of results) for (const [k, n] of Object.entries(r.coverage)) coverage.set(k, (coverage.get(k) ?? 0) + n);
  const failures = results.flatMap((r) => r.failures).sort((a, b) => a.seed - b.seed);
  const runs = results.reduce((a, r) => a + r.runs, 0);
  const merged: ExploreResult = {
    version: 1,
    settings,
    ranges,
    runs,
    passed: runs - failures.length,
    failed: failures.length,
    failures,
    coverage: sortedCounts(coverage),
    wallMs: results.reduce((a, r) => a + r.wallMs, 0),
  };
  // Requirements are judged on the merged coverage: a state one shard missed another may reach.
  return withRequirements(
    merged,
    results.flatMap((r) => r.required ?? []),
  );
}
