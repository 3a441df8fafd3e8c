/// <reference lib="dom" />
/**
 * The report page's script: draws the rows of the sequence diagram that are in view, and shows an
 * event's details and the "why" explanations in the side panel.
 *
 * `startReportPage` is shipped to the browser as its source text (`Function.toString`) after the
 * functions of `DIAGRAM_CORE`; it may use only those, its argument and browser built-ins.
 */
import {
  clockLabel,
  diagramWidth,
  escapeXml,
  indexMessages,
  layoutDiagram,
  renderDiagramRange,
  renderLaneHeader,
  spanLabel,
  type DiagramModel,
  type Layout,
  type RenderOptions,
} from "../diagram-core.js";

/** An explanation as the page gets it: answer sentences split into text and item references. */
export interface PageWhy {
  readonly id: string;
  readonly kind: string;
  readonly q: string;
  readonly a: readonly (readonly ({ readonly text: string } | { readonly item: number; readonly label: string })[])[];
  readonly subject: number;
  readonly causes: readonly number[];
}

/** What the page needs, embedded as JSON. */
export interface PageData {
  readonly model: DiagramModel;
  /** The trace event of each item, JSON-safe. */
  readonly ev: readonly unknown[];
  /** Per message: the server's `cmd.reply` for it and its request/reply message. */
  readonly mi: readonly { readonly outcome?: unknown; readonly peer?: number }[];
  readonly whys: readonly PageWhy[];
  /** The explanation (e.g. a violated invariant) to show when the page opens. */
  readonly open?: string;
}

/** Starts the page (see the module comment). */
export function startReportPage(data: PageData): void {
  const model = data.model;
  const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
  const scroller = $("scroller");
  const spacer = $("spacer");
  const canvas = $("canvas") as unknown as SVGSVGElement;
  const header = $("lanes") as unknown as SVGSVGElement;
  const panel = $("panel-body");
  const minimap = $("minimap") as HTMLCanvasElement;
  const HEADER_H = 46;
  const state = {
    rowH: 22,
    laneW: 168,
    zoom: 1,
    idleMs: 1000,
    hidden: Array.from(document.querySelectorAll<HTMLInputElement>("input[data-group]"))
      .filter((box) => !box.checked)
      .map((box) => box.dataset.group ?? ""),
    selected: [] as number[],
    causes: [] as number[],
  };
  let layout: Layout = layoutDiagram(model, { rowH: state.rowH, idleMs: state.idleMs, hidden: state.hidden, top: 18 });
  let frame = 0;

  const opts = (): RenderOptions => ({
    laneW: state.laneW,
    gutter: 100,
    rowH: state.rowH,
    selected: state.selected,
    causes: state.causes,
  });

  function relayout(): void {
    const fit = (scroller.clientWidth - 100 - 20) / Math.max(1, model.lanes.length);
    state.laneW = Math.min(240 * state.zoom, Math.max(110, fit * state.zoom));
    layout = layoutDiagram(model, { rowH: state.rowH, idleMs: state.idleMs, hidden: state.hidden, top: 18 });
    layout.buckets = indexMessages(model, layout);
    const width = diagramWidth(model, opts());
    spacer.style.height = `${layout.height}px`;
    spacer.style.width = `${width}px`;
    header.setAttribute("width", String(width));
    header.setAttribute("height", String(HEADER_H));
    header.innerHTML = renderLaneHeader(model, opts(), HEADER_H);
    canvas.setAttribute("width", String(width));
    draw();
    drawMinimap();
  }

  function draw(): void {
    frame = 0;
    const top = Math.max(0, scroller.scrollTop - HEADER_H - 300);
    const bottom = scroller.scrollTop + scroller.clientHeight + 300;
    canvas.style.top = `${top}px`;
    canvas.setAttribute("height", String(bottom - top));
    canvas.innerHTML = `<g transform="translate(0 ${-top})">${renderDiagramRange(model, layout, opts(), top, bottom)}</g>`;
    drawMinimapWindow();
  }

  const schedule = (): void => {
    if (frame === 0) frame = requestAnimationFrame(draw);
  };

  // ---- minimap: the whole run at a glance, click to jump ----------------------------------------
  function drawMinimap(): void {
    const h = minimap.clientHeight || 400;
    minimap.width = 44;
    minimap.height = h;
    const g = minimap.getContext("2d");
    if (g === null) return;
    g.clearRect(0, 0, 44, h);
    const scale = h / Math.max(1, layout.height);
    for (const i of layout.vis) {
      const it = model.items[i];
      const y = layout.y[i] * scale;
      if (it.k === "send") {
        g.fillStyle = it.c;
        g.globalAlpha = 0.35;
        g.fillRect(4 + (model.msgs[it.m ?? 0].from / Math.max(1, model.lanes.length)) * 28, y, 8, 1);
      } else if (it.k === "note" || it.g === "fault" || it.x.includes("kill")) {
        g.globalAlpha = 0.9;
        g.fillStyle = it.k === "note" ? "#d4a72c" : it.c;
        g.fillRect(0, y, 44, 2);
      }
    }
    g.globalAlpha = 1;
    for (const i of state.causes.concat(state.selected)) {
      if (Number.isNaN(layout.y[i])) continue;
      g.fillStyle = state.selected.includes(i) ? "#1a56db" : "#ed8936";
      g.fillRect(30, layout.y[i] * scale - 2, 14, 4);
    }
    for (const b of layout.breaks) {
      g.fillStyle = "#c6ceda";
      g.fillRect(0, b.y * scale, 44, 1);
    }
  }

  function drawMinimapWindow(): void {
    const box = $("minimap-window");
    const scale = (minimap.clientHeight || 400) / Math.max(1, layout.height);
    box.style.top = `${Math.max(0, scroller.scrollTop - HEADER_H) * scale}px`;
    box.style.height = `${Math.max(6, scroller.clientHeight * scale)}px`;
  }

  function jumpFromMinimap(ev: MouseEvent): void {
    const r = minimap.getBoundingClientRect();
    const y = ((ev.clientY - r.top) / r.height) * layout.height;
    scroller.scrollTop = Math.max(0, y - scroller.clientHeight / 2);
  }

  // ---- selection and the side panel -------------------------------------------------------------
  function reveal(i: number): void {
    const y = layout.y[i];
    if (Number.isNaN(y)) return;
    const top = scroller.scrollTop;
    if (y + HEADER_H < top + 40 || y + HEADER_H > top + scroller.clientHeight - 40)
      scroller.scrollTop = Math.max(0, y + HEADER_H - scroller.clientHeight / 3);
  }

  function itemsOfMessage(m: number): number[] {
    const msg = model.msgs[m];
    return [msg.si, ...msg.di, msg.pi].filter((i): i is number => i !== undefined);
  }

  function json(v: unknown): string {
    return `<pre class="json">${escapeXml(JSON.stringify(v, null, 2))}</pre>`;
  }

  function timeOf(i: number): string {
    return clockLabel(model.items[i].t, model.epoch);
  }

  function itemLink(i: number, label: string): string {
    return `<a href="#" class="ref" data-item="${i}">${escapeXml(label)}</a>`;
  }

  function whyList(i: number): string {
    const related = data.whys.filter((w) => w.subject === i || w.causes.includes(i));
    if (related.length === 0) return "";
    return (
      `<h4>Why?</h4><ul class="whys">` +
      related
        .map((w) => `<li><a href="#" class="why" data-why="${escapeXml(w.id)}">${escapeXml(w.q)}</a></li>`)
        .join("") +
      `</ul>`
    );
  }

  function messageDetails(m: number): string {
    const msg = model.msgs[m];
    const info = data.mi[m] ?? {};
    const send = msg.si === undefined ? undefined : (data.ev[msg.si] as Record<string, unknown>);
    const from = model.lanes[msg.from].name;
    const to = model.lanes[msg.to].name;
    let h = `<h3><span class="swatch" style="background:${msg.c}"></span>${escapeXml(msg.x)}</h3>`;
    h += `<p class="route">${escapeXml(from)} → ${escapeXml(to)}${msg.reply ? " (reply)" : ""}</p><dl>`;
    if (msg.si !== undefined) h += `<dt>sent</dt><dd>${itemLink(msg.si, timeOf(msg.si))}</dd>`;
    for (const d of msg.di) {
      const lat = msg.si === undefined ? "" : ` (after ${spanLabel(model.items[d].t - model.items[msg.si].t)})`;
      h += `<dt>delivered</dt><dd>${itemLink(d, timeOf(d))}${lat}</dd>`;
    }
    if (msg.pi !== undefined) {
      const drop = data.ev[msg.pi] as Record<string, unknown>;
      h += `<dt>lost</dt><dd class="bad">${itemLink(msg.pi, timeOf(msg.pi))} — ${escapeXml(String(drop.reason))}</dd>`;
    }
    if (msg.di.length === 0 && msg.pi === undefined) h += `<dt>delivered</dt><dd>not by the end of the run</dd>`;
    const outcome = (info.outcome ?? (info.peer === undefined ? undefined : data.mi[info.peer]?.outcome)) as
      Record<string, unknown> | undefined;
    if (outcome !== undefined)
      h +=
        outcome.ok === false
          ? `<dt>reply</dt><dd class="bad">✗ ${escapeXml(String(outcome.codeName))}: ${escapeXml(String(outcome.errmsg))}</dd>`
          : `<dt>reply</dt><dd class="good">ok</dd>`;
    if (info.peer !== undefined) {
      const peer = model.msgs[info.peer];
      const at = peer.si ?? peer.di[0];
      if (at !== undefined)
        h += `<dt>${msg.reply ? "request" : "reply msg"}</dt><dd>${itemLink(at, `${peer.x} at ${timeOf(at)}`)}</dd>`;
    }
    h += `</dl>`;
    const payload = send?.payload as Record<string, unknown> | undefined;
    if (payload !== undefined && payload !== null) {
      h += `<h4>command document <span class="muted">(db: ${escapeXml(String(payload.db))}${payload.user === undefined || payload.user === "undefined" ? "" : `, user: ${escapeXml(JSON.stringify(payload.user))}`}${payload.internal === true ? ", internal" : ""})</span></h4>`;
      h += json(payload.command);
    } else if (msg.reply) h += `<p class="muted">The trace keeps a reply's outcome (above), not its document.</p>`;
    h += whyList(msg.si ?? msg.di[0] ?? -1);
    h += `<details><summary>trace events</summary>${itemsOfMessage(m)
      .map((i) => json(data.ev[i]))
      .join("")}${outcome === undefined ? "" : json(outcome)}</details>`;
    return h;
  }

  function itemDetails(i: number): string {
    const it = model.items[i];
    if (it.m !== undefined) return messageDetails(it.m);
    const ev = data.ev[i] as Record<string, unknown>;
    const where = it.l >= 0 ? model.lanes[it.l].name : "whole cluster";
    let h = `<h3><span class="swatch" style="background:${it.c}"></span>${escapeXml(it.x)}</h3>`;
    h += `<p class="route">${escapeXml(where)} · ${timeOf(i)} · <code>${escapeXml(String(ev.type))}</code> #${it.s}</p>`;
    h += whyList(i);
    h += json(ev);
    return h;
  }

  function select(items: number[], causes: number[], html: string): void {
    state.selected = items;
    state.causes = causes;
    panel.innerHTML = html;
    panel.scrollTop = 0;
    if (items.length > 0) reveal(items[0]);
    draw();
    drawMinimap();
    moveChartCursors(items.length > 0 ? model.items[items[0]].t : undefined);
  }

  function selectItem(i: number, keepCauses = false): void {
    const it = model.items[i];
    if (it === undefined) return;
    const items = it.m === undefined ? [i] : itemsOfMessage(it.m);
    if (!itemShownNow(i)) showGroup(it.m === undefined ? it.g : model.msgs[it.m].g);
    select(items, keepCauses ? state.causes : [], itemDetails(i));
  }

  function showWhy(id: string): void {
    const w = data.whys.find((x) => x.id === id);
    if (w === undefined) return;
    for (const i of [w.subject, ...w.causes]) if (!itemShownNow(i)) showGroup(model.items[i].g);
    let h = `<h3 class="question">${escapeXml(w.q)}</h3>`;
    for (const sentence of w.a)
      h += `<p>${sentence.map((p) => ("text" in p ? escapeXml(p.text) : itemLink(p.item, p.label))).join("")}</p>`;
    h += `<p class="muted">Highlighted in the diagram: the event asked about (blue) and its causes (orange). Click a time above to go to it.</p>`;
    select([w.subject], [...w.causes], h);
  }

  function itemShownNow(i: number): boolean {
    return !Number.isNaN(layout.y[i]);
  }

  function showGroup(g: string): void {
    state.hidden = state.hidden.filter((x) => x !== g);
    const box = document.querySelector<HTMLInputElement>(`input[data-group="${g}"]`);
    if (box !== null) box.checked = true;
    relayout();
  }

  // ---- the time cursor on the timelines ---------------------------------------------------------
  function moveChartCursors(t: number | undefined): void {
    document.querySelectorAll<HTMLElement>(".chart").forEach((box) => {
      const svg = box.querySelector("svg");
      const cursor = box.querySelector<HTMLElement>(".cursor");
      if (svg === null || cursor === null) return;
      const [x0, x1, t0, t1] = ["x0", "x1", "t0", "t1"].map((k) => Number(svg.dataset[k]));
      if (t === undefined) {
        cursor.style.display = "none";
        return;
      }
      cursor.style.display = "block";
      cursor.style.left = `${x0 + ((t - t0) / Math.max(1, t1 - t0)) * (x1 - x0)}px`;
    });
  }

  function jumpToTime(t: number): void {
    const v = layout.vis.find((i) => model.items[i].t >= t) ?? layout.vis[layout.vis.length - 1];
    if (v === undefined) return;
    selectItem(v);
    document.getElementById("diagram")?.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function parseTime(s: string): number | undefined {
    const parts = s.trim().replace(/^\+/, "").split(":").map(Number);
    if (parts.length === 0 || parts.some((p) => Number.isNaN(p))) return undefined;
    const secs = parts.reduce((acc, p) => acc * 60 + p, 0);
    return model.epoch + secs * (parts.length === 1 ? 60000 : 1000);
  }

  // ---- wiring -----------------------------------------------------------------------------------
  scroller.addEventListener("scroll", schedule);
  window.addEventListener("resize", () => relayout());
  canvas.addEventListener("click", (ev) => {
    const target = (ev.target as Element).closest("[data-i],[data-m]");
    if (target === null) return;
    const i = target.getAttribute("data-i");
    const m = target.getAttribute("data-m");
    if (i !== null) selectItem(Number(i));
    else if (m !== null) {
      const msg = model.msgs[Number(m)];
      const first = msg.si ?? msg.di[0] ?? msg.pi;
      if (first !== undefined) selectItem(first);
    }
  });
  document.addEventListener("click", (ev) => {
    const a = (ev.target as Element).closest("a.ref,a.why,[data-item],[data-why]");
    if (a === null || a.closest("#canvas") !== null) return;
    ev.preventDefault();
    const why = a.getAttribute("data-why");
    const item = a.getAttribute("data-item");
    if (why !== null) {
      showWhy(why);
      document.getElementById("diagram")?.scrollIntoView({ behavior: "smooth", block: "start" });
    } else if (item !== null) {
      selectItem(Number(item), a.closest("#panel") !== null);
      if (a.closest("#panel") === null)
        document.getElementById("diagram")?.scrollIntoView({ behavior: "smooth", block: "start" });
    }
  });
  let dragging = false;
  minimap.addEventListener("mousedown", (ev) => {
    dragging = true;
    jumpFromMinimap(ev);
  });
  window.addEventListener("mousemove", (ev) => {
    if (dragging) jumpFromMinimap(ev);
  });
  window.addEventListener("mouseup", () => {
    dragging = false;
  });
  document.querySelectorAll<HTMLInputElement>("input[data-group]").forEach((box) =>
    box.addEventListener("change", () => {
      const g = box.dataset.group ?? "";
      state.hidden = box.checked ? state.hidden.filter((x) => x !== g) : state.hidden.concat(g);
      relayout();
    }),
  );
  $("idle").addEventListener("change", (ev) => {
    state.idleMs = Number((ev.target as HTMLSelectElement).value);
    relayout();
  });
  const zoom = (f: number): void => {
    const anchor = scroller.scrollTop / Math.max(1, layout.height);
    state.rowH = Math.min(48, Math.max(12, state.rowH * f));
    state.zoom = Math.min(2, Math.max(0.6, state.zoom * Math.sqrt(f)));
    relayout();
    scroller.scrollTop = anchor * layout.height;
  };
  $("zoom-in").addEventListener("click", () => zoom(1.25));
  $("zoom-out").addEventListener("click", () => zoom(0.8));
  $("jump").addEventListener("change", (ev) => {
    const t = parseTime((ev.target as HTMLInputElement).value);
    if (t !== undefined) jumpToTime(t);
  });
  document.querySelectorAll<HTMLElement>(".chart").forEach((box) =>
    box.addEventListener("click", (ev) => {
      const svg = box.querySelector("svg");
      if (svg === null) return;
      const [x0, x1, t0, t1] = ["x0", "x1", "t0", "t1"].map((k) => Number(svg.dataset[k]));
      const x = ev.clientX - svg.getBoundingClientRect().left;
      if (x < x0 || x > x1) return;
      jumpToTime(t0 + ((x - x0) / (x1 - x0)) * (t1 - t0));
    }),
  );
  document.addEventListener("keydown", (ev) => {
    if ((ev.target as Element).closest("input,select,textarea") !== null) return;
    if (ev.key !== "n" && ev.key !== "p") return;
    const cur = state.selected[0];
    const v = cur === undefined ? -1 : layout.vis.indexOf(cur);
    const next = layout.vis[Math.max(0, Math.min(layout.vis.length - 1, v + (ev.key === "n" ? 1 : -1)))];
    if (next !== undefined) selectItem(next);
  });
  relayout();
  const start = new URLSearchParams(location.hash.slice(1)).get("why") ?? data.open ?? null;
  if (start !== null) showWhy(start);
}
