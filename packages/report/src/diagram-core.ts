/**
 * The message sequence (Lamport) diagram's layout and drawing, shared by Node (standalone SVG for
 * slides) and the report page (which draws only the rows in view as the reader scrolls).
 *
 * These functions are shipped to the browser as their own source text (`Function.toString`), so
 * they may use only each other, their arguments and JavaScript built-ins — no imports, no
 * module-level values. `DIAGRAM_CORE` lists them.
 */

/** A lane: one node or client, drawn as a vertical lifeline. */
export interface Lane {
  readonly name: string;
  readonly role: string;
}

/** What a row shows. */
export type ItemKind = "send" | "deliver" | "drop" | "mark" | "note" | "line" | "rstart" | "rend";

/** Glyphs for marks. */
export type Shape =
  | "dot"
  | "ring"
  | "square"
  | "squarex"
  | "diamond"
  | "diamondo"
  | "cross"
  | "restart"
  | "clock"
  | "flag"
  | "hourglass"
  | "slash"
  | "star";

/** One row of the diagram: a trace event drawn at its own height. */
export interface Item {
  /** Trace seq. */
  readonly s: number;
  /** Time. */
  readonly t: number;
  /** Lane index; -1 for a full-width row (notes, partitions). */
  readonly l: number;
  readonly k: ItemKind;
  /** Filter group: `client`, `internal`, `timer`, `session`, `fault`, `note`, `other`. */
  readonly g: string;
  /** Label. */
  readonly x: string;
  /** Colour. */
  readonly c: string;
  readonly sh?: Shape;
  /** Message index (send, deliver, drop rows). */
  readonly m?: number;
  /** For `rstart`: the index of its `rend` item (refresh span). */
  readonly e?: number;
}

/** A message: one arrow per delivery, or a lost arrow. */
export interface Msg {
  readonly from: number;
  readonly to: number;
  readonly x: string;
  readonly c: string;
  readonly reply: boolean;
  /** Item index of the send (undefined if the trace has no send). */
  readonly si?: number;
  readonly di: readonly number[];
  /** Item index of the drop. */
  readonly pi?: number;
  /** Error of the command's reply. */
  readonly err?: string;
  readonly g: string;
}

export interface DiagramModel {
  readonly lanes: readonly Lane[];
  readonly items: readonly Item[];
  readonly msgs: readonly Msg[];
  /** Virtual time 0 (for `+HH:MM:SS.mmm` labels). */
  readonly epoch: number;
  /** Per lane, [downFromItem, upAgainItem] pairs (crash → restart; -1 = until the end). */
  readonly down: readonly (readonly [number, number][])[];
}

export interface LayoutOptions {
  readonly rowH: number;
  /** Gaps at least this long (ms) are collapsed into a break. */
  readonly idleMs: number;
  /** Groups to hide. */
  readonly hidden: readonly string[];
  readonly top: number;
}

export interface Layout {
  /** y of each item (NaN when hidden). */
  readonly y: number[];
  /** Visible item indexes in order. */
  readonly vis: number[];
  readonly breaks: { readonly y: number; readonly dt: number }[];
  readonly height: number;
  readonly rowH: number;
  /** Message indexes by 1000-px bucket of y (`indexMessages`); without it every message is checked. */
  buckets?: number[][];
}

export interface RenderOptions {
  readonly laneW: number;
  readonly gutter: number;
  readonly rowH: number;
  readonly selected?: readonly number[];
  readonly causes?: readonly number[];
}

/** `+HH:MM:SS.mmm` since the epoch. */
export function clockLabel(t: number, epoch: number): string {
  const ms = Math.max(0, t - epoch);
  const p = (n: number, w: number): string => String(Math.floor(n)).padStart(w, "0");
  return `+${p(ms / 3600000, 2)}:${p((ms % 3600000) / 60000, 2)}:${p((ms % 60000) / 1000, 2)}.${p(ms % 1000, 3)}`;
}

/** A duration in words: `850 ms`, `12.5 s`, `4 min 58 s`, `2 h 5 min`. */
export function spanLabel(ms: number): string {
  if (ms < 10) return `${Math.round(ms * 10) / 10} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(Math.round(ms / 100) / 10).toString()} s`;
  if (ms < 3600000) {
    const s = Math.round((ms % 60000) / 1000);
    return `${Math.floor(ms / 60000)} min${s === 0 ? "" : ` ${s} s`}`;
  }
  const m = Math.round((ms % 3600000) / 60000);
  return `${Math.floor(ms / 3600000)} h${m === 0 ? "" : ` ${m} min`}`;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Whether an item is shown under the given hidden groups. */
export function itemShown(model: DiagramModel, i: number, hidden: readonly string[]): boolean {
  const it = model.items[i];
  if (hidden.length === 0) return true;
  const g = it.m === undefined ? it.g : model.msgs[it.m].g;
  return !hidden.includes(g);
}

/** Heights of the rows: one row per shown item; long idle gaps become a fixed-height break. */
export function layoutDiagram(model: DiagramModel, o: LayoutOptions): Layout {
  const y: number[] = new Array<number>(model.items.length).fill(NaN);
  const vis: number[] = [];
  const breaks: { y: number; dt: number }[] = [];
  let cur = o.top;
  let prev: number | undefined;
  let prevWide = false;
  for (let i = 0; i < model.items.length; i++) {
    if (!itemShown(model, i, o.hidden)) continue;
    const t = model.items[i].t;
    const wide = model.items[i].l < 0;
    if (prev !== undefined) {
      const dt = t - prev;
      if (dt >= o.idleMs) {
        breaks.push({ y: Math.round((cur + o.rowH * 0.9) * 10) / 10, dt });
        cur += o.rowH * 1.8;
      } else cur += o.rowH;
      // full-width rows (narration, partitions) get room above and below
      if (wide || prevWide) cur += o.rowH * 0.35;
    }
    cur = Math.round(cur * 10) / 10;
    y[i] = cur;
    vis.push(i);
    prev = t;
    prevWide = wide;
  }
  return { y, vis, breaks, height: Math.ceil(cur + o.rowH * 1.5), rowH: o.rowH };
}

/** x of a lane's lifeline. */
export function laneX(lane: number, o: RenderOptions): number {
  return o.gutter + o.laneW * lane + o.laneW / 2;
}

/** Total width of the diagram. */
export function diagramWidth(model: DiagramModel, o: RenderOptions): number {
  return o.gutter + o.laneW * Math.max(1, model.lanes.length) + 16;
}

/** First index in `vis` whose y is at least `y0` (binary search). */
export function firstVisibleAt(layout: Layout, y0: number): number {
  let lo = 0;
  let hi = layout.vis.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (layout.y[layout.vis[mid]] < y0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** y extent of a message's arrows: from its send (or first row) to its last delivery or drop. */
export function msgSpan(model: DiagramModel, layout: Layout, m: number): [number, number] {
  const msg = model.msgs[m];
  const ys: number[] = [];
  if (msg.si !== undefined) ys.push(layout.y[msg.si]);
  for (const d of msg.di) ys.push(layout.y[d]);
  if (msg.pi !== undefined) ys.push(layout.y[msg.pi]);
  const ok = ys.filter((v) => !Number.isNaN(v));
  if (ok.length === 0) return [NaN, NaN];
  let hi = Math.max(...ok);
  if (msg.di.length === 0 && msg.pi === undefined) hi = layout.height;
  return [Math.min(...ok), hi];
}

/** Buckets of message indexes by y (each bucket 1000 px), for finding the arrows in view. */
export function indexMessages(model: DiagramModel, layout: Layout): number[][] {
  const buckets: number[][] = [];
  for (let m = 0; m < model.msgs.length; m++) {
    const [a, b] = msgSpan(model, layout, m);
    if (Number.isNaN(a)) continue;
    for (let k = Math.floor(a / 1000); k <= Math.floor(b / 1000); k++) (buckets[k] ??= []).push(m);
  }
  return buckets;
}

/** The glyph of a mark at (x, y). */
export function markGlyph(shape: string, x: number, y: number, c: string): string {
  const r = 4.5;
  switch (shape) {
    case "ring":
      return `<circle cx="${x}" cy="${y}" r="${r}" fill="#fff" stroke="${c}" stroke-width="2"/>`;
    case "square":
      return `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" fill="${c}"/>`;
    case "squarex":
      return `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" fill="#fff" stroke="${c}" stroke-width="1.6"/><path d="M${x - r} ${y - r}L${x + r} ${y + r}M${x + r} ${y - r}L${x - r} ${y + r}" stroke="${c}" stroke-width="1.6"/>`;
    case "diamond":
      return `<path d="M${x} ${y - 6}L${x + 6} ${y}L${x} ${y + 6}L${x - 6} ${y}Z" fill="${c}"/>`;
    case "diamondo":
      return `<path d="M${x} ${y - 6}L${x + 6} ${y}L${x} ${y + 6}L${x - 6} ${y}Z" fill="#fff" stroke="${c}" stroke-width="1.8"/>`;
    case "cross":
      return `<path d="M${x - 6} ${y - 6}L${x + 6} ${y + 6}M${x + 6} ${y - 6}L${x - 6} ${y + 6}" stroke="${c}" stroke-width="3" stroke-linecap="round"/>`;
    case "restart":
      return `<path d="M${x + 5} ${y - 2}A5.5 5.5 0 1 0 ${x + 4} ${y + 4}" fill="none" stroke="${c}" stroke-width="2"/><path d="M${x + 2} ${y - 3}L${x + 6} ${y - 4}L${x + 6.5} ${y}" fill="none" stroke="${c}" stroke-width="1.8"/>`;
    case "clock":
      return `<circle cx="${x}" cy="${y}" r="${r}" fill="#fff" stroke="${c}" stroke-width="1.3"/><path d="M${x} ${y - 2.8}V${y}H${x + 2.4}" fill="none" stroke="${c}" stroke-width="1.2"/>`;
    case "flag":
      return `<path d="M${x - 3} ${y + 6}V${y - 6}L${x + 5} ${y - 3}L${x - 3} ${y}" fill="${c}" stroke="${c}" stroke-width="1.4"/>`;
    case "hourglass":
      return `<path d="M${x - 5} ${y - 6}H${x + 5}L${x - 5} ${y + 6}H${x + 5}Z" fill="${c}"/>`;
    case "slash":
      return `<circle cx="${x}" cy="${y}" r="5.5" fill="#fff" stroke="${c}" stroke-width="2"/><path d="M${x - 3.8} ${y + 3.8}L${x + 3.8} ${y - 3.8}" stroke="${c}" stroke-width="2"/>`;
    case "star":
      return `<path d="M${x} ${y - 7}L${x + 2} ${y - 2}L${x + 7} ${y - 2}L${x + 3} ${y + 1.5}L${x + 4.5} ${y + 6.5}L${x} ${y + 3.5}L${x - 4.5} ${y + 6.5}L${x - 3} ${y + 1.5}L${x - 7} ${y - 2}L${x - 2} ${y - 2}Z" fill="${c}"/>`;
    default:
      return `<circle cx="${x}" cy="${y}" r="${r}" fill="${c}"/>`;
  }
}

/** The lane titles (a row of names and roles). */
export function renderLaneHeader(model: DiagramModel, o: RenderOptions, height: number): string {
  let s = `<rect x="0" y="0" width="${diagramWidth(model, o)}" height="${height}" fill="#f7f9fc"/>`;
  s += `<line x1="0" y1="${height - 0.5}" x2="${diagramWidth(model, o)}" y2="${height - 0.5}" stroke="#d5dce6"/>`;
  s += `<text x="10" y="${height / 2 + 4}" font-size="11" fill="#6b7787">time</text>`;
  model.lanes.forEach((lane, i) => {
    const x = laneX(i, o);
    s += `<text x="${x}" y="${height / 2 - 2}" text-anchor="middle" font-size="13" font-weight="600" fill="#1f2a37">${escapeXml(lane.name)}</text>`;
    s += `<text x="${x}" y="${height / 2 + 13}" text-anchor="middle" font-size="10.5" fill="#6b7787">${escapeXml(lane.role)}</text>`;
  });
  return s;
}

/** An arrow from (x1, y1) to (x2, y2), with a head unless `lost`. */
export function arrowPath(x1: number, y1: number, x2: number, y2: number, head: boolean): string {
  let d = `M${x1.toFixed(1)} ${y1.toFixed(1)}L${x2.toFixed(1)} ${y2.toFixed(1)}`;
  if (head) {
    const a = Math.atan2(y2 - y1, x2 - x1);
    const h = 8;
    const p = (da: number): string =>
      `${(x2 - h * Math.cos(a + da)).toFixed(1)} ${(y2 - h * Math.sin(a + da)).toFixed(1)}`;
    d += `M${p(0.4)}L${x2.toFixed(1)} ${y2.toFixed(1)}L${p(-0.4)}`;
  }
  return d;
}

/** The SVG of rows between y0 and y1 (lifelines, idle breaks, time labels, marks, arrows). */
export function renderDiagramRange(
  model: DiagramModel,
  layout: Layout,
  o: RenderOptions,
  y0: number,
  y1: number,
): string {
  const out: string[] = [];
  const width = diagramWidth(model, o);
  const sel = new Set(o.selected ?? []);
  const cause = new Set(o.causes ?? []);
  const yOf = (i: number | undefined): number => (i === undefined ? NaN : layout.y[i]);
  // lifelines, red and dashed while a node is down
  model.lanes.forEach((_, l) => {
    const x = laneX(l, o);
    out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y1}" stroke="#c8d1dc" stroke-width="1.2"/>`);
    for (const [a, b] of model.down[l] ?? []) {
      const ya = Math.max(y0, yOf(a));
      const yb = Math.min(y1, b < 0 ? layout.height : yOf(b));
      if (ya < yb)
        out.push(
          `<line x1="${x}" y1="${ya}" x2="${x}" y2="${yb}" stroke="#e53e3e" stroke-width="2" stroke-dasharray="3 4" opacity="0.8"/>`,
        );
    }
  });
  for (const b of layout.breaks) {
    if (b.y < y0 - 40 || b.y > y1 + 40) continue;
    out.push(
      `<rect x="0" y="${b.y - 8}" width="${width}" height="16" fill="#eef2f7"/>` +
        `<path d="M0 ${b.y - 8}H${width}M0 ${b.y + 8}H${width}" stroke="#d5dce6" stroke-dasharray="6 3"/>` +
        `<text x="${width / 2}" y="${b.y + 4}" text-anchor="middle" font-size="11" fill="#5a6675" font-style="italic">⋯ ${spanLabel(b.dt)} later ⋯</text>`,
    );
  }
  const first = firstVisibleAt(layout, y0 - layout.rowH);
  let lastLabelY = -Infinity;
  let lastLabelT = NaN;
  const rows: number[] = [];
  for (let v = first; v < layout.vis.length; v++) {
    const i = layout.vis[v];
    if (layout.y[i] > y1 + layout.rowH) break;
    rows.push(i);
  }
  // time labels in the gutter: at a new time, not closer than 1.5 rows unless 50 ms or more passed
  for (const i of rows) {
    const it = model.items[i];
    const y = layout.y[i];
    const far = y - lastLabelY >= layout.rowH * 1.5 || Math.abs(it.t - lastLabelT) >= 50 || Number.isNaN(lastLabelT);
    if (it.t !== lastLabelT && far && y - lastLabelY >= layout.rowH * 0.9) {
      out.push(
        `<text x="8" y="${y + 4}" font-size="10.5" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" fill="#6b7787">${clockLabel(it.t, model.epoch)}</text>`,
      );
      lastLabelY = y;
      lastLabelT = it.t;
    }
  }
  // refresh spans (under everything)
  for (let i = 0; i < model.items.length; i++) {
    const it = model.items[i];
    if (it.k !== "rstart" || Number.isNaN(layout.y[i])) continue;
    const ya = layout.y[i];
    const yb = it.e === undefined || Number.isNaN(layout.y[it.e]) ? ya : layout.y[it.e];
    if (yb < y0 - 20 || ya > y1 + 20) continue;
    const x = laneX(it.l, o);
    out.push(
      `<rect x="${x - 6}" y="${ya}" width="12" height="${Math.max(2, yb - ya)}" rx="5" fill="${it.c}" opacity="0.2"/>`,
    );
  }
  // arrows: every message whose extent meets the window
  const shown = new Set<number>();
  const buckets = layout.buckets;
  const candidates: number[] = [];
  if (buckets === undefined) for (let m = 0; m < model.msgs.length; m++) candidates.push(m);
  else
    for (let k = Math.floor(y0 / 1000); k <= Math.floor(y1 / 1000); k++)
      for (const m of buckets[k] ?? []) candidates.push(m);
  for (const m of candidates) {
    if (shown.has(m)) continue;
    shown.add(m);
    const [a, b] = msgSpan(model, layout, m);
    if (Number.isNaN(a) || b < y0 - 20 || a > y1 + 20) continue;
    out.push(renderMessage(model, layout, o, m, sel, cause));
  }
  // marks and labels
  for (const i of rows) {
    const it = model.items[i];
    const y = layout.y[i];
    const hl = sel.has(i) ? " sel" : cause.has(i) ? " cause" : "";
    if (it.k === "send" || it.k === "deliver" || it.k === "drop") continue;
    if (it.k === "note") {
      out.push(
        `<g class="ev${hl}" data-i="${i}"><rect class="hit" x="${o.gutter - 2}" y="${y - 8.5}" width="${width - o.gutter - 6}" height="17" rx="3" fill="#fff8db" stroke="#f0d97a"/>` +
          `<text x="${o.gutter + 4}" y="${y + 4}" font-size="12" fill="#5c4a00" font-style="italic">${escapeXml(it.x)}</text></g>`,
      );
      continue;
    }
    if (it.k === "line") {
      out.push(
        `<g class="ev${hl}" data-i="${i}"><line x1="${o.gutter - 2}" y1="${y}" x2="${width - 8}" y2="${y}" stroke="${it.c}" stroke-width="1.6" stroke-dasharray="7 4"/>` +
          `<rect class="hit" x="${o.gutter - 2}" y="${y - 8}" width="${width - o.gutter - 6}" height="16" fill="transparent"/>` +
          `<text x="${o.gutter + 4}" y="${y - 4}" font-size="11.5" font-weight="600" fill="${it.c}">${escapeXml(it.x)}</text></g>`,
      );
      continue;
    }
    const x = laneX(it.l, o);
    const w = it.x.length * 6.3;
    const left = x + 10 + w > width - 4 && x - 10 - w > o.gutter;
    out.push(
      `<g class="ev${hl}" data-i="${i}"><rect class="hit" x="${left ? x - 14 - w : x - 9}" y="${y - 9}" width="${w + 23}" height="18" rx="3" fill="transparent"/>` +
        markGlyph(it.sh ?? "dot", x, y, it.c) +
        `<text x="${left ? x - 10 : x + 10}" y="${y + 4}" font-size="11" fill="${it.c}"${left ? ` text-anchor="end"` : ""}>${escapeXml(it.x)}</text></g>`,
    );
  }
  return out.join("");
}

/** One message's arrows (one per delivery; a lost one ends in a cross halfway). */
export function renderMessage(
  model: DiagramModel,
  layout: Layout,
  o: RenderOptions,
  m: number,
  sel: Set<number>,
  cause: Set<number>,
): string {
  const msg = model.msgs[m];
  const x1 = laneX(msg.from, o);
  const x2 = laneX(msg.to, o);
  const ys = msg.si === undefined ? NaN : layout.y[msg.si];
  const mine = [msg.si, ...msg.di, msg.pi].filter((i): i is number => i !== undefined);
  const hl = mine.some((i) => sel.has(i)) ? " sel" : mine.some((i) => cause.has(i)) ? " cause" : "";
  const dash = msg.reply ? ` stroke-dasharray="5 3"` : "";
  let s = `<g class="msg${hl}" data-m="${m}">`;
  const dir = x2 >= x1 ? 1 : -1;
  const self = msg.from === msg.to;
  const draw = (ya: number, xb: number, yb: number, head: boolean): void => {
    const d = self
      ? `M${x1} ${ya}C${x1 + 40} ${ya} ${x1 + 40} ${yb} ${x1 + 2} ${yb}` +
        (head ? `M${x1 + 9} ${yb - 4}L${x1 + 2} ${yb}L${x1 + 9} ${yb + 4}` : "")
      : arrowPath(x1, ya, xb, yb, head);
    s += `<path class="hit" d="${d}" stroke="transparent" stroke-width="9" fill="none"/>`;
    s += `<path d="${d}" stroke="${msg.c}" stroke-width="1.5" fill="none"${dash}/>`;
  };
  const start = Number.isNaN(ys) ? NaN : ys;
  for (const d of msg.di) {
    const yd = layout.y[d];
    if (Number.isNaN(yd)) continue;
    draw(Number.isNaN(start) ? yd - layout.rowH : start, x2, yd, true);
  }
  if (msg.pi !== undefined && !Number.isNaN(layout.y[msg.pi])) {
    const yp = layout.y[msg.pi];
    const ya = Number.isNaN(start) ? yp : start;
    const xm = self ? x1 + 30 : x1 + (x2 - x1) * 0.55;
    const ym = ya + (yp - ya) * 0.55 + (yp === ya ? 6 : 0);
    draw(ya, xm, ym, false);
    s += `<path d="M${xm - 5} ${ym - 5}L${xm + 5} ${ym + 5}M${xm + 5} ${ym - 5}L${xm - 5} ${ym + 5}" stroke="#e53e3e" stroke-width="2.4"/>`;
  } else if (msg.di.length === 0 && !Number.isNaN(start)) {
    // still in flight when the run ended
    const xm = x1 + (x2 - x1) * 0.5;
    s += `<path d="M${x1} ${start}L${xm} ${start + layout.rowH * 2}" stroke="${msg.c}" stroke-width="1.5" stroke-dasharray="2 3" fill="none"/>`;
  }
  if (!Number.isNaN(start)) {
    const lx = self ? x1 + 8 : x1 + dir * 9;
    const label = msg.err === undefined ? msg.x : `${msg.x} ✗ ${msg.err}`;
    s += `<text x="${lx}" y="${start - 4}" font-size="11" text-anchor="${dir > 0 || self ? "start" : "end"}" fill="${msg.err === undefined ? msg.c : "#c53030"}"${msg.reply ? ` font-style="italic"` : ""}>${escapeXml(label)}</text>`;
  }
  return s + "</g>";
}

/** The whole diagram as a standalone SVG document (for slides). */
export function renderDiagramSvg(
  model: DiagramModel,
  layout: Layout,
  o: RenderOptions,
  y0: number,
  y1: number,
  title: string,
): string {
  const width = diagramWidth(model, o);
  const head = 46;
  const titleH = title === "" ? 0 : 30;
  const h = Math.ceil(y1 - y0 + head + titleH);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">` +
    `<rect width="${width}" height="${h}" fill="#fff"/>` +
    (title === ""
      ? ""
      : `<text x="12" y="21" font-size="15" font-weight="600" fill="#1f2a37">${escapeXml(title)}</text>`) +
    `<g transform="translate(0 ${titleH})">${renderLaneHeader(model, o, head)}</g>` +
    `<g transform="translate(0 ${head + titleH - y0})">${renderDiagramRange(model, layout, o, y0, y1)}</g></svg>`
  );
}

/** The functions above, in an order the page can paste them in. */
export const DIAGRAM_CORE = [
  clockLabel,
  spanLabel,
  escapeXml,
  itemShown,
  layoutDiagram,
  laneX,
  diagramWidth,
  firstVisibleAt,
  msgSpan,
  indexMessages,
  markGlyph,
  renderLaneHeader,
  arrowPath,
  renderDiagramRange,
  renderMessage,
] as const;
