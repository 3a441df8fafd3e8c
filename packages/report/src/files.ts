/**
 * Writing a report to disk: the HTML page, and the pictures as standalone SVG (for slides) and PNG
 * (through resvg). This is what `sessionsim run --report/--svg/--png` and `replay` call.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { layoutDiagram, renderDiagramSvg, type RenderOptions } from "./diagram-core.js";
import type { EventLike } from "./events.js";
import { buildReportFromParts, reportParts, type ReportOptions, type ReportParts } from "./html.js";

/** Options of `writeReport`. */
export interface WriteReportOptions extends ReportOptions {
  /** Path of the HTML page to write. */
  readonly html?: string;
  /** Directory for standalone SVG pictures. */
  readonly svgDir?: string;
  /** Directory for PNG pictures. */
  readonly pngDir?: string;
  /** Rows per sequence-diagram picture (default 120; longer runs are split into numbered parts). */
  readonly rowsPerPicture?: number;
  /** Event groups to leave out of the pictures (default: timers). */
  readonly hide?: readonly string[];
}

/** A named standalone SVG picture. */
export interface Picture {
  /** File name without extension, e.g. `sequence` or `timeline-mongos0`. */
  readonly name: string;
  readonly svg: string;
}

const RENDER: RenderOptions = { laneW: 168, gutter: 100, rowH: 22 };

/**
 * The report's pictures as standalone SVG documents: the sequence diagram (split into parts of
 * `rowsPerPicture` rows for long runs), the cluster's `config.system.sessions` chart and one
 * timeline chart per node.
 */
export function reportPictures(parts: ReportParts, options: WriteReportOptions = {}): Picture[] {
  const { model } = parts;
  const layout = layoutDiagram(model, { rowH: RENDER.rowH, idleMs: 1000, hidden: options.hide ?? ["timer"], top: 18 });
  const per = Math.max(10, options.rowsPerPicture ?? 120);
  const pictures: Picture[] = [];
  const pages = Math.max(1, Math.ceil(layout.vis.length / per));
  const title = options.title ?? "sessionsim run";
  for (let p = 0; p < pages; p++) {
    const rows = layout.vis.slice(p * per, (p + 1) * per);
    const y0 = rows.length === 0 ? 0 : Math.max(0, layout.y[rows[0]] - RENDER.rowH);
    const y1 =
      rows.length === 0
        ? layout.height
        : p === pages - 1
          ? layout.height
          : layout.y[rows[rows.length - 1]] + RENDER.rowH * 0.6;
    const name = pages === 1 ? "sequence" : `sequence-${String(p + 1).padStart(2, "0")}`;
    const caption = pages === 1 ? title : `${title} (${p + 1}/${pages})`;
    pictures.push({ name, svg: renderDiagramSvg(model, layout, RENDER, y0, y1, caption) });
  }
  for (const c of parts.charts) pictures.push({ name: c.name, svg: c.chart.svg });
  return pictures;
}

/** Renders an SVG document to PNG with resvg (system fonts; `scale` 2 for crisp slides). */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  const r = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  return r.render().asPng();
}

/**
 * Writes the report of a trace: the HTML page (`html`), SVG pictures (`svgDir`), PNG pictures
 * (`pngDir`). Returns the paths written.
 *
 * @example
 * await writeReport(cluster.trace(), { html: "out.html", svgDir: "slides", title: "session-sync" });
 */
export async function writeReport(trace: readonly EventLike[], options: WriteReportOptions): Promise<string[]> {
  const parts = reportParts(trace, options);
  const written: string[] = [];
  if (options.html !== undefined) {
    writeFileSync(options.html, buildReportFromParts(parts, options));
    written.push(options.html);
  }
  if (options.svgDir === undefined && options.pngDir === undefined) return written;
  const pictures = reportPictures(parts, options);
  if (options.svgDir !== undefined) {
    mkdirSync(options.svgDir, { recursive: true });
    for (const p of pictures) {
      const path = join(options.svgDir, `${p.name}.svg`);
      writeFileSync(path, p.svg);
      written.push(path);
    }
  }
  if (options.pngDir !== undefined) {
    mkdirSync(options.pngDir, { recursive: true });
    for (const p of pictures) {
      const path = join(options.pngDir, `${p.name}.png`);
      writeFileSync(path, await svgToPng(p.svg, p.name.startsWith("sequence") ? 1.5 : 2));
      written.push(path);
    }
  }
  return written;
}
