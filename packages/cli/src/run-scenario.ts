import pc from "picocolors";
import { Cluster, type ClusterOptions } from "sessionsim";
import { formatTimeline } from "@sessionsim/report";
import type { Scenario } from "./scenarios/index.js";

/** Options the command line passes to a scenario run. */
export interface RunOptions {
  readonly seed?: number | string;
  readonly cluster?: ClusterOptions;
  readonly timers?: boolean;
  readonly internal?: boolean;
}

/** Runs a scenario on a fresh cluster and returns the cluster (for reports) and timeline lines. */
export async function runScenario(
  scenario: Scenario,
  options: RunOptions = {},
): Promise<{ cluster: Cluster; lines: string[] }> {
  const cluster = await Cluster.start({
    ...scenario.cluster,
    ...options.cluster,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  await scenario.run(cluster);
  const lines = formatTimeline(cluster.trace(), {
    timers: options.timers,
    internal: options.internal,
    paint: { time: pc.dim, fault: pc.yellow, error: pc.red, note: pc.cyan, dim: pc.dim },
  });
  return { cluster, lines };
}
