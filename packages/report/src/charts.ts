/**
 * The per-node timelines as small SVG charts (d3 scales and shapes, no DOM): session cache size,
 * `config.system.sessions` records, open cursors, transactions by state, coordinator steps. The
 * same SVG goes into the report page and, standalone, into `--svg` files.
 */
import { scaleLinear } from "d3-scale";
import { area, curveStepAfter, line } from "d3-shape";
import { escapeXml } from "./diagram-core.js";
import { roleOf } from "./diagram.js";
import { SIMULATION_EPOCH } from "./epoch.js";
import { maxOf, type ClusterSeries, type CoordinatorInterval, type NodeSeries, type StepSeries } from "./series.js";

/** A chart and where its time axis lies (so the page can map clicks and draw a time cursor). */
export interface Chart {
  readonly svg: string;
  readonly width: number;
  readonly height: number;
  /** Plot area from x0 to x1 maps time `start` … `end`. */
  readonly x0: number;
  readonly x1: number;
  readonly start: number;
  readonly end: number;
}

export const TXN_STATE_COLORS: Readonly<Record<string, string>> = Object.freeze({
  inProgress: "#3182ce",
  prepared: "#7b4fc9",
  committed: "#2f855a",
  abortedWithoutPrepare: "#e53e3e",
  abortedWithPrepare: "#c05621",
  executedRetryableWrite: "#8a94a3",
});

export const COORD_STEP_COLORS: Readonly<Record<string, string>> = Object.freeze({
  writingParticipantList: "#63b3ed",
  waitingForVotes: "#7b4fc9",
  writingDecision: "#d69e2e",
  waitingForDecisionAcks: "#38a169",
  writingEndOfTransaction: "#68d391",
  deletingCoordinatorDoc: "#a0aec0",
});

const FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif";
const LABEL_W = 165;
const ROW_H = 34;
const ROW_GAP = 24;
const AXIS_H = 22;

const NICE_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** Tick times (ms since `start`'s epoch) about every `span / target`, on round durations. */
export function timeTicks(start: number, end: number, target = 8): { step: number; ticks: number[] } {
  const span = Math.max(1, end - start);
  const step = NICE_STEPS.find((s) => span / s <= target) ?? NICE_STEPS[NICE_STEPS.length - 1];
  const from = Math.ceil((start - SIMULATION_EPOCH) / step) * step + SIMULATION_EPOCH;
  const ticks: number[] = [];
  for (let t = from; t <= end; t += step) ticks.push(t);
  return { step, ticks };
}

/** A tick's label: `m:ss` (or `h:mm:ss`), with milliseconds when ticks are closer than a second. */
export function tickLabel(t: number, step: number): string {
  const ms = Math.max(0, t - SIMULATION_EPOCH);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const base =
    h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
  return step < 1000 ? `${base}.${String(ms % 1000).padStart(3, "0")}` : base;
}

interface Row {
  readonly title: string;
  /** Plot height (default ROW_H). */
  readonly h?: number;
  readonly draw: (y: number, x: (t: number) => number, h: number) => string;
  readonly legend?: readonly [string, string][];
}

function stepPoints(s: StepSeries, end: number): [number, number][] {
  const pts: [number, number][] = s.times.map((t, i) => [t, s.values[i]]);
  if (pts.length > 0 && pts[pts.length - 1][0] < end) pts.push([end, pts[pts.length - 1][1]]);
  return pts;
}

function stepRow(title: string, series: readonly [StepSeries, string][], end: number, filled: boolean): Row {
  const max = Math.max(1, ...series.map(([s]) => maxOf(s)));
  return {
    title: `${title} (max ${Math.max(...series.map(([s]) => maxOf(s)))})`,
    draw(y, x, h) {
      const yv = scaleLinear()
        .domain([0, max])
        .range([y + h, y + 2]);
      let out = `<text x="${LABEL_W - 5}" y="${yv(max) + 4}" text-anchor="end" font-size="9.5" fill="#8a94a3">${max}</text>`;
      out += `<text x="${LABEL_W - 5}" y="${y + h}" text-anchor="end" font-size="9.5" fill="#8a94a3">0</text>`;
      for (const [s, color] of series) {
        const pts = stepPoints(s, end);
        if (filled) {
          const a = area<[number, number]>()
            .x((p) => x(p[0]))
            .y0(y + h)
            .y1((p) => yv(p[1]))
            .curve(curveStepAfter)(pts);
          out += `<path d="${a ?? ""}" fill="${color}" opacity="0.22"/>`;
        }
        const l = line<[number, number]>()
          .x((p) => x(p[0]))
          .y((p) => yv(p[1]))
          .curve(curveStepAfter)(pts);
        out += `<path d="${l ?? ""}" fill="none" stroke="${color}" stroke-width="1.6"/>`;
      }
      return out;
    },
  };
}

function coordinatorRow(intervals: readonly CoordinatorInterval[]): Row {
  const steps = [...new Set(intervals.map((i) => i.step))];
  return {
    title: "coordinator step",
    legend: steps.map((s) => [s, COORD_STEP_COLORS[s] ?? "#a0aec0"]),
    draw(y, x, rowH) {
      let out = "";
      const keys = [...new Set(intervals.map((i) => `${i.lsid}:${i.txnNumber}`))];
      const h = Math.max(6, Math.min(14, (rowH - 4) / Math.max(1, keys.length)));
      for (const i of intervals) {
        const k = keys.indexOf(`${i.lsid}:${i.txnNumber}`);
        const x0 = x(i.start);
        const w = Math.max(2, x(i.end) - x0);
        const yy = y + 2 + k * (h + 2);
        out += `<rect x="${x0.toFixed(1)}" y="${yy.toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${COORD_STEP_COLORS[i.step] ?? "#a0aec0"}"><title>${escapeXml(`${i.step}${i.action === undefined ? "" : ` (${i.action})`} — session ${i.lsid.slice(0, 8)} txn ${i.txnNumber}`)}</title></rect>`;
      }
      return out;
    },
  };
}

function renderRows(title: string, rows: readonly Row[], start: number, end0: number, width: number): Chart {
  const end = Math.max(end0, start + 1);
  const x0 = LABEL_W;
  const x1 = width - 28;
  const x = scaleLinear().domain([start, end]).range([x0, x1]);
  const top = 24;
  const heights = rows.map((r) => Math.max(r.h ?? ROW_H, (r.legend?.length ?? 0) * 12));
  const ys = heights.map((_, i) => top + ROW_GAP + heights.slice(0, i).reduce((acc, h) => acc + h + ROW_GAP, 0));
  const axisY = ys.length === 0 ? top + ROW_GAP : ys[ys.length - 1] + heights[heights.length - 1] + 4;
  const height = axisY + AXIS_H;
  const { step, ticks } = timeTicks(start, end);
  let body = `<rect width="${width}" height="${height}" fill="#fff"/>`;
  body += `<text x="10" y="18" font-size="13" font-weight="600" fill="#1f2a37">${escapeXml(title)}</text>`;
  for (const t of ticks) {
    const xt = x(t).toFixed(1);
    body += `<line x1="${xt}" y1="${top + ROW_GAP - 4}" x2="${xt}" y2="${axisY}" stroke="#edf1f5"/>`;
    body += `<text x="${xt}" y="${axisY + 13}" text-anchor="middle" font-size="10" fill="#6b7787">${tickLabel(t, step)}</text>`;
  }
  body += `<line x1="${x0}" y1="${axisY}" x2="${x1}" y2="${axisY}" stroke="#b8c2cf"/>`;
  rows.forEach((row, r) => {
    const y = ys[r];
    const h = heights[r];
    body += `<text x="${x0}" y="${y - 5}" font-size="11" font-weight="600" fill="#3c4757">${escapeXml(row.title)}</text>`;
    (row.legend ?? []).forEach(([name, color], j) => {
      const ly = y + 9 + j * 12;
      body += `<rect x="10" y="${ly - 7}" width="8" height="8" rx="1" fill="${color}"/><text x="22" y="${ly}" font-size="9.5" fill="#5a6675">${escapeXml(name)}</text>`;
    });
    body += `<line x1="${x0}" y1="${y + h + 0.5}" x2="${x1}" y2="${y + h + 0.5}" stroke="#d5dce6"/>`;
    body += row.draw(y, (t) => x(t), h);
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" data-x0="${x0}" data-x1="${x1}" data-t0="${start}" data-t1="${end}">${body}</svg>`;
  return { svg, width, height, x0, x1, start, end };
}

/** The timelines of one node. */
export function nodeChart(n: NodeSeries, start: number, end: number, width = 960): Chart {
  const rows: Row[] = [stepRow("session cache size", [[n.cacheSize, "#23827e"]], end, true)];
  if (maxOf(n.sessionRecords) > 0)
    rows.push(stepRow("system.sessions records here", [[n.sessionRecords, "#b7791f"]], end, true));
  if (maxOf(n.openCursors) > 0) rows.push(stepRow("open cursors", [[n.openCursors, "#2b6cb0"]], end, true));
  const states = Object.entries(n.transactions).filter(([, s]) => maxOf(s) > 0);
  if (states.length > 0) {
    const row = stepRow(
      "transactions",
      states.map(([k, s]) => [s, TXN_STATE_COLORS[k] ?? "#a0aec0"]),
      end,
      false,
    );
    rows.push({ ...row, legend: states.map(([k]) => [k, TXN_STATE_COLORS[k] ?? "#a0aec0"]) });
  }
  if (n.coordinator.length > 0) rows.push(coordinatorRow(n.coordinator));
  const role = roleOf(n.node);
  return renderRows(`${n.node}${role === "" ? "" : ` — ${role}`}`, rows, start, end, width);
}

/** Records of `config.system.sessions` in the whole cluster: what `$listSessions` returns. */
export function recordsChart(s: ClusterSeries, width = 960): Chart {
  const perShard = s.nodes.filter((n) => maxOf(n.sessionRecords) > 0);
  const rows: Row[] = [stepRow("records in config.system.sessions", [[s.sessionRecords, "#b7791f"]], s.end, true)];
  const palette = ["#2b6cb0", "#23827e", "#7b4fc9", "#c05621", "#2f855a"];
  if (perShard.length > 1) {
    const row = stepRow(
      "by shard",
      perShard.map((n, i) => [n.sessionRecords, palette[i % palette.length]]),
      s.end,
      false,
    );
    rows.push({ ...row, legend: perShard.map((n, i) => [n.node, palette[i % palette.length]]) });
  }
  return renderRows("cluster — what $listSessions sees", rows, s.start, s.end, width);
}

/** Every chart of a run: the cluster's records, then one per server node. */
export function allCharts(s: ClusterSeries, width = 960): { name: string; chart: Chart }[] {
  return [
    { name: "sessions-collection", chart: recordsChart(s, width) },
    ...s.nodes.map((n) => ({ name: `timeline-${n.node}`, chart: nodeChart(n, s.start, s.end, width) })),
  ];
}
