import { Worker } from "node:worker_threads";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import cliProgress from "cli-progress";
import { grid, parseParam, type SweepCell } from "./grid.js";
import { METRICS, findMetric, type Metric } from "./metrics.js";
import { metricChart } from "./chart.js";
import type { CellResult } from "./run-cell.js";
import { findScenario, SCENARIOS } from "../scenarios/index.js";
import { checkParameters, UsageError } from "../usage.js";

/** Options of `sessionsim sweep`. */
export interface SweepOptions {
  readonly param: string;
  readonly scenario: string;
  readonly seeds: number;
  readonly metrics: readonly string[];
  readonly workers: number;
  readonly out: string;
  readonly progress: boolean;
}

/** Runs cells on a pool of worker threads; results come back in cell order. */
async function runPool(
  scenario: string,
  cells: readonly SweepCell[],
  workers: number,
  onDone: () => void,
): Promise<CellResult[]> {
  const results = new Array<CellResult>(cells.length);
  let next = 0;
  const pool = Array.from(
    { length: Math.max(1, Math.min(workers, cells.length)) },
    () => new Worker(new URL("./worker.js", import.meta.url)),
  );
  await Promise.all(
    pool.map(
      (worker) =>
        new Promise<void>((resolve, reject) => {
          let current = -1;
          const feed = (): void => {
            if (next >= cells.length) {
              worker.postMessage("stop");
              resolve();
              return;
            }
            current = next++;
            worker.postMessage({ scenario, cell: cells[current] });
          };
          worker.on("message", (msg: { ok: true; result: CellResult } | { ok: false; error: string }) => {
            if (!msg.ok) return reject(new Error(`cell ${JSON.stringify(cells[current])} failed: ${msg.error}`));
            results[current] = msg.result;
            onDone();
            feed();
          });
          worker.on("error", reject);
          feed();
        }),
    ),
  );
  await Promise.all(pool.map((w) => w.terminate()));
  return results;
}

function csv(param: string, metrics: readonly Metric[], results: readonly CellResult[]): string {
  const header = [param, "seed", ...metrics.map((m) => m.name), "traceHash"].join(",");
  const rows = results.map((r) =>
    [String(r.value), String(r.seed), ...metrics.map((m) => csvNumber(r.metrics[m.name])), r.traceHash].join(","),
  );
  return [header, ...rows].join("\n") + "\n";
}

/** A metric in a CSV cell: empty where it is undefined (NaN; `null` in the JSON), as spreadsheets expect. */
function csvNumber(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? "" : String(x);
}

/**
 * `sessionsim sweep`: runs the grid (parameter values × seeds) of a scenario in parallel worker
 * threads, writes `sweep.csv`, `sweep.json` and one SVG chart per metric into `out`.
 */
export async function runSweep(options: SweepOptions): Promise<{ results: CellResult[]; files: string[] }> {
  const { name, values } = parseParam(options.param);
  const metrics =
    options.metrics.length === 0
      ? [...METRICS]
      : options.metrics.map(
          (m) => findMetric(m) ?? fail(`unknown metric ${m}; metrics: ${METRICS.map((x) => x.name).join(", ")}`),
        );
  const scenario = findScenario(options.scenario);
  if (scenario === undefined)
    throw new UsageError(`unknown scenario ${options.scenario}; try: ${SCENARIOS.map((x) => x.name).join(", ")}`);
  for (const value of values) await checkParameters({ ...scenario.cluster?.parameters, [name]: value });
  const cells = grid(name, values, options.seeds);
  const bar = options.progress
    ? new cliProgress.SingleBar(
        { format: "sweep [{bar}] {value}/{total} runs", hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(cells.length, 0);
  const results = await runPool(options.scenario, cells, options.workers, () => bar?.increment());
  bar?.stop();
  mkdirSync(options.out, { recursive: true });
  const files: string[] = [];
  const write = (file: string, content: string): void => {
    const path = join(options.out, file);
    writeFileSync(path, content);
    files.push(path);
  };
  write("sweep.csv", csv(name, metrics, results));
  const summary = values.map((value) => {
    const cellsFor = results.filter((r) => r.value === value);
    return {
      [name]: value,
      ...Object.fromEntries(metrics.map((m) => [m.name, mean(cellsFor.map((r) => r.metrics[m.name]))])),
    };
  });
  write(
    "sweep.json",
    JSON.stringify(
      { scenario: options.scenario, param: name, values, seeds: options.seeds, summary, runs: results },
      null,
      2,
    ) + "\n",
  );
  for (const m of metrics) write(`${m.name}.svg`, await metricChart(name, m, results));
  return { results, files };
}

function mean(xs: readonly number[]): number | null {
  const finite = xs.filter(Number.isFinite);
  return finite.length === 0 ? null : finite.reduce((a, b) => a + b, 0) / finite.length;
}

function fail(message: string): never {
  throw new UsageError(message);
}
