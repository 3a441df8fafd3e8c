import { findScenario } from "../scenarios/index.js";
import { METRICS } from "./metrics.js";
import type { SweepCell } from "./grid.js";
import { Cluster } from "sessionsim";

/** One cell's measured metrics. */
export interface CellResult extends SweepCell {
  readonly metrics: Readonly<Record<string, number>>;
  readonly traceHash: string;
}

/** Runs `scenario` with the cell's parameter override and seed, and computes every metric. */
export async function runCell(scenarioName: string, cell: SweepCell): Promise<CellResult> {
  const scenario = findScenario(scenarioName);
  if (scenario === undefined) throw new Error(`unknown scenario ${scenarioName}`);
  const parameters = { ...scenario.cluster?.parameters, [cell.param]: cell.value };
  const cluster = await Cluster.start({ ...scenario.cluster, seed: cell.seed, parameters });
  await scenario.run(cluster);
  const trace = cluster.trace();
  const timeoutMinutes =
    typeof parameters.localLogicalSessionTimeoutMinutes === "number"
      ? parameters.localLogicalSessionTimeoutMinutes
      : 30;
  const metrics = Object.fromEntries(
    METRICS.map((m) => [m.name, m.compute(trace, { timeoutMs: timeoutMinutes * 60_000 })]),
  );
  const result = { ...cell, metrics, traceHash: cluster.traceHash() };
  await cluster.stop();
  return result;
}
