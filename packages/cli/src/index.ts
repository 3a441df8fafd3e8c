/**
 * @packageDocumentation
 * The sessionsim command line's programmatic surface: the parallel `explore` sweep and its
 * result merging (used by benchmarks and batch systems).
 */
export { explore, type ExploreOptions } from "./explore/explore.js";
export { runSeed } from "./explore/run-seed.js";
export {
  mergeResults,
  summarize,
  shardRange,
  withRequirements,
  parseShard,
  type ExploreResult,
  type ExploreSettings,
  type SeedResult,
} from "./explore/results.js";
export { SCENARIOS, findScenario, type Scenario } from "./scenarios/index.js";
export { runScenario, type RunOptions } from "./run-scenario.js";
export { runSweep, type SweepOptions } from "./sweep/run-sweep.js";
export { METRICS, type Metric } from "./sweep/metrics.js";
