import pc from "picocolors";
import { Cluster, type ClusterOptions, type UserSpec } from "sessionsim";
import { formatTimeline } from "@sessionsim/report";
import type { Scenario } from "./scenarios/index.js";
import { UsageError } from "./usage.js";

/** Options the command line passes to a scenario run. */
export interface RunOptions {
  readonly seed?: number | string;
  /** Overrides of the scenario's cluster options (`parameters` are merged name by name). */
  readonly cluster?: ClusterOptions;
  readonly timers?: boolean;
  readonly internal?: boolean;
}

/**
 * The user a scenario's clients authenticate as when access control is turned on for a story that
 * does not manage users itself (`--auth on`).
 */
export const SCENARIO_OPERATOR: UserSpec = Object.freeze({
  user: "operator",
  db: "admin",
  roles: [{ role: "root", db: "admin" }],
});

/**
 * The cluster options a scenario runs with: its own, overridden by `overrides` (server parameters
 * merged name by name). Throws a {@link UsageError} when they break what the story needs
 * ({@link Scenario.requires}).
 *
 * @example
 * scenarioClusterOptions(killVsPrepareScenario, { shards: 1 }); // throws: needs at least 2 shards
 */
export function scenarioClusterOptions(scenario: Scenario, overrides: ClusterOptions = {}): ClusterOptions {
  const own = scenario.cluster ?? {};
  const merged: ClusterOptions = {
    ...own,
    ...overrides,
    parameters: { ...own.parameters, ...overrides.parameters },
  };
  const req = scenario.requires ?? {};
  const shards = merged.shards ?? 2;
  const mongos = merged.mongos ?? 1;
  const needShards = req.shards ?? 1;
  const needMongos = req.mongos ?? 1;
  if (!Number.isInteger(shards) || shards < needShards)
    throw new UsageError(
      `scenario ${scenario.name} needs at least ${needShards} shard${needShards === 1 ? "" : "s"} (got --shards ${shards})`,
    );
  if (!Number.isInteger(mongos) || mongos < needMongos)
    throw new UsageError(
      `scenario ${scenario.name} needs at least ${needMongos} mongos router${needMongos === 1 ? "" : "s"} (got --mongos ${mongos})`,
    );
  if (req.auth !== undefined && (merged.auth ?? false) !== req.auth)
    throw new UsageError(
      `scenario ${scenario.name} needs access control ${req.auth ? "on" : "off"} (got --auth ${merged.auth === true ? "on" : "off"})`,
    );
  // A story that does not manage users gets one root user for its clients under access control.
  if (merged.auth === true && req.auth !== true)
    return { ...merged, users: [...(merged.users ?? []), SCENARIO_OPERATOR] };
  return merged;
}

/**
 * The cluster as a story that knows nothing of access control sees it: its connections without a
 * user authenticate as {@link SCENARIO_OPERATOR}.
 */
function asOperator(cluster: Cluster): Cluster {
  const operator = { user: SCENARIO_OPERATOR.user, db: SCENARIO_OPERATOR.db };
  const connect: Cluster["connect"] = (node, user) => cluster.connect(node, user ?? operator);
  return new Proxy(cluster, {
    get(target, prop) {
      if (prop === "connect") return connect;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Runs a scenario on a fresh cluster and returns the cluster (for reports) and timeline lines.
 * Options the story cannot run with are a {@link UsageError}.
 *
 * @example
 * const { cluster, lines } = await runScenario(findScenario("session-sync")!, { seed: 7, cluster: { mongos: 3 } });
 */
export async function runScenario(
  scenario: Scenario,
  options: RunOptions = {},
): Promise<{ cluster: Cluster; lines: string[] }> {
  const clusterOptions = scenarioClusterOptions(scenario, options.cluster);
  let cluster: Cluster;
  try {
    cluster = await Cluster.start({
      ...clusterOptions,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
  } catch (e) {
    throw new UsageError(`scenario ${scenario.name}: the cluster cannot start with these options: ${message(e)}`);
  }
  const operator = clusterOptions.auth === true && scenario.requires?.auth !== true;
  try {
    await scenario.run(operator ? asOperator(cluster) : cluster);
  } catch (e) {
    await cluster.stop();
    // With the story's own options a failure is a bug; with the user's, the options are the cause.
    if (options.cluster === undefined) throw e;
    throw new UsageError(`scenario ${scenario.name} cannot run with these cluster options: ${message(e)}`);
  }
  const lines = formatTimeline(cluster.trace(), {
    timers: options.timers,
    internal: options.internal,
    paint: { time: pc.dim, fault: pc.yellow, error: pc.red, note: pc.cyan, dim: pc.dim },
  });
  return { cluster, lines };
}
