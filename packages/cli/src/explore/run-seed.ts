import { CaseFailure, checkStandard, CoverageTracker } from "@sessionsim/testing";
import type { ExploreSettings, SeedResult } from "./results.js";

/**
 * Runs the standard property for one seed (one case, shrunk if it fails).
 *
 * @example
 * const r = await runSeed({ faults: "all", commands: 100, shards: 2, mongos: 2, determinism: false }, 42);
 * if (r.failed) console.log(r.reproduction);
 */
export async function runSeed(settings: ExploreSettings, seed: number): Promise<SeedResult> {
  const started = performance.now();
  const coverage = new CoverageTracker();
  const r = await checkStandard({
    seed,
    numRuns: 1,
    faults: settings.faults,
    commands: settings.commands,
    shards: settings.shards,
    mongos: settings.mongos,
    ...(settings.auth === undefined ? {} : { auth: settings.auth }),
    determinismCheck: settings.determinism,
    ...(settings.exactCommands === true ? { exactCommands: true } : {}),
    coverage,
  });
  const wallMs = performance.now() - started;
  if (!r.failed) return { seed, failed: false, coverage: coverage.toJSON(), wallMs };
  const err = r.error;
  const invariants =
    err instanceof CaseFailure ? [...new Set(err.result.violations.map((v) => v.invariant))] : ["exception"];
  const message = err instanceof Error ? err.message : String(err);
  return {
    seed,
    failed: true,
    ...(r.reproduction === undefined ? {} : { reproduction: r.reproduction }),
    invariants: invariants.length > 0 ? invariants : ["determinism"],
    message,
    ...(r.scenario === undefined ? {} : { scenario: r.scenario }),
    coverage: coverage.toJSON(),
    wallMs,
  };
}
