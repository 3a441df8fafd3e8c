import * as vega from "vega";
import * as vl from "vega-lite";
import type { CellResult } from "./run-cell.js";
import type { Metric } from "./metrics.js";

/**
 * An SVG chart of one metric against the swept parameter: every seed as a point, the mean as a
 * line (vega-lite rendered in Node, no browser).
 */
export async function metricChart(param: string, metric: Metric, results: readonly CellResult[]): Promise<string> {
  const values = results
    .filter((r) => Number.isFinite(r.metrics[metric.name]))
    .map((r) => ({ value: Number(r.value), seed: r.seed, measure: r.metrics[metric.name] }));
  const positive = values.every((v) => v.value > 0);
  const spec: vl.TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: `${metric.name} vs ${param}`, subtitle: metric.description },
    width: 520,
    height: 300,
    data: { values },
    encoding: {
      x: { field: "value", type: "quantitative", title: param, scale: positive ? { type: "log" } : {} },
    },
    layer: [
      {
        mark: { type: "point", opacity: 0.45 },
        encoding: { y: { field: "measure", type: "quantitative", title: `${metric.name} (${metric.unit})` } },
      },
      {
        mark: { type: "line", point: true },
        encoding: { y: { aggregate: "mean", field: "measure", type: "quantitative" } },
      },
    ],
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}
