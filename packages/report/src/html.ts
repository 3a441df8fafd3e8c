/**
 * `buildReport`: one self-contained HTML file for a run — the sequence diagram, the side panel with
 * each event's details, the "why" explanations, the sessions table and the per-node timelines.
 * Scripts, styles, data and pictures are inline; the page loads nothing from anywhere.
 */
import { analyze, type Analysis } from "./analysis.js";
import { allCharts } from "./charts.js";
import { buildDiagram, COLORS, itemIndexOfSeq } from "./diagram.js";
import { DIAGRAM_CORE, escapeXml as esc, spanLabel, type DiagramModel } from "./diagram-core.js";
import { toPlain, shortId, type EventLike } from "./events.js";
import { startReportPage, type PageData, type PageWhy } from "./page/app.js";
import { REPORT_CSS } from "./page/style.js";
import { seriesOf } from "./series.js";
import { sessionRows } from "./sessions.js";
import { formatTime } from "./timeline.js";
import { answerParts, explainAll, type Explanation, type WhyKind } from "./why.js";
import type { LifecycleKind, MessageFact } from "./analysis.js";

/** Options of `buildReport`. */
export interface ReportOptions {
  /** Page title (e.g. the scenario's title). */
  readonly title?: string;
  /** What the run teaches, shown under the title. */
  readonly teaches?: string;
  /** Where the behaviour comes from (shown as text, never as a link: the page has no external URLs). */
  readonly source?: string;
  /** The seed, shown in the header. */
  readonly seed?: string | number;
  /** Scenario or trace name, shown in the header. */
  readonly name?: string;
  /** At most this many "why" explanations (default 400). */
  readonly maxExplanations?: number;
  /**
   * Broken invariants to show at the top of the page (e.g. a replayed property failure): each with
   * the events that led to it, highlighted in the diagram when the page opens or the violation is
   * clicked.
   */
  readonly violations?: readonly ReportViolation[];
}

/**
 * A broken invariant as the report shows it. Structurally what `@sessionsim/testing` reports
 * (`Violation`), so its violations can be passed as they are.
 *
 * @example
 * buildReport(trace, { violations: [{ invariant: "no-cursor-survives-kill", message: "…", events: [open, kill] }] });
 */
export interface ReportViolation {
  /** The invariant's name, e.g. `no-cursor-survives-kill`. */
  readonly invariant: string;
  /** `safety` or `liveness`. */
  readonly kind?: string;
  readonly message: string;
  /** The trace events that led to it (anything carrying their `seq`), in trace order. */
  readonly events: readonly { readonly seq: number }[];
}

/** Everything a report is made of, computed once (for the page and the SVG files). */
export interface ReportParts {
  readonly analysis: Analysis;
  readonly model: DiagramModel;
  /** The message each arrow of the model shows. */
  readonly facts: readonly MessageFact[];
  readonly whys: Explanation[];
  readonly charts: ReturnType<typeof allCharts>;
  readonly itemOfSeq: (seq: number) => number | undefined;
}

/** Analyses a trace into the parts of a report. */
export function reportParts(trace: readonly EventLike[], options: ReportOptions = {}): ReportParts {
  const analysis = analyze(trace);
  const { model, facts } = buildDiagram(analysis);
  const exact = itemIndexOfSeq(analysis, model);
  const seqs = model.items.map((it) => it.s);
  const itemOfSeq = (seq: number): number | undefined => {
    const hit = exact.get(seq);
    if (hit !== undefined) return hit;
    // an event without a row: the last row before it
    let lo = 0;
    let hi = seqs.length - 1;
    if (hi < 0 || seqs[0] > seq) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (seqs[mid] <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    analysis,
    model,
    facts,
    whys: explainAll(analysis, { limit: options.maxExplanations ?? 400 }),
    charts: allCharts(seriesOf(analysis)),
    itemOfSeq,
  };
}

const WHY_HEADINGS: Record<WhyKind, string> = {
  notListed: "Why is this session not in $listSessions (yet)?",
  listed: "Why is this session in $listSessions?",
  survivedKill: "Why did this transaction survive a kill?",
  cursorKilled: "Why was this cursor killed?",
  recordExpired: "Why did this record expire?",
};

const CHIP: Record<LifecycleKind, [string, string]> = {
  started: ["started", "good"],
  vivified: ["cached", "good"],
  refreshed: ["refreshed", "teal"],
  ended: ["endSessions", "warn"],
  removed: ["record deleted", "warn"],
  expired: ["expired (TTL)", "warn"],
  lost: ["lost in crash", "bad"],
  killed: ["killed", "bad"],
  cursorClosed: ["cursor killed", "bad"],
};

function pageWhy(x: Explanation, itemOf: (seq: number) => number | undefined): PageWhy {
  const item = (seq: number): number => itemOf(seq) ?? 0;
  return {
    id: x.id,
    kind: x.kind,
    q: x.question,
    a: x.answer.map((s) => answerParts(s).map((p) => ("text" in p ? p : { item: item(p.ref), label: p.label }))),
    subject: item(x.subject),
    causes: [...new Set(x.causes.map(item))],
  };
}

/**
 * A violation as the page's explanations are: the event that broke the invariant (the last of its
 * events) is the subject, the events before it are the causes.
 */
function pageViolation(v: ReportViolation, i: number, parts: ReportParts): PageWhy {
  const seqs = [...new Set(v.events.map((e) => e.seq))].sort((x, y) => x - y);
  const items = seqs.map((seq) => parts.itemOfSeq(seq)).filter((x): x is number => x !== undefined);
  const links: ({ text: string } | { item: number; label: string })[] = [{ text: "The events that led to it: " }];
  seqs.forEach((seq, k) => {
    const item = parts.itemOfSeq(seq);
    const e = parts.analysis.event(seq) as { time?: number; node?: string; type?: string } | undefined;
    const label = `${e?.time === undefined ? `#${seq}` : formatTime(e.time)} ${e?.node ?? ""} ${e?.type ?? ""}`.trim();
    if (k > 0) links.push({ text: ", " });
    links.push(item === undefined ? { text: label } : { item, label });
  });
  links.push({ text: "." });
  return {
    id: `violation-${i + 1}`,
    kind: "violation",
    q: `✗ ${v.invariant}${v.kind === undefined ? "" : ` (${v.kind})`} violated`,
    a: [[{ text: v.message }], ...(seqs.length === 0 ? [] : [links])],
    subject: items.length === 0 ? 0 : items[items.length - 1],
    causes: items.slice(0, -1),
  };
}

/** One question with its answer: the question links to its events, the answer's parts to theirs. */
function whyCard(w: PageWhy, cardClass: string): string {
  const answer = w.a
    .map(
      (s) =>
        `<p>${s.map((p) => ("text" in p ? esc(p.text) : `<a href="#" class="ref" data-item="${p.item}">${esc(p.label)}</a>`)).join("")}</p>`,
    )
    .join("");
  return `<div class="${cardClass}"><a href="#" class="why q" data-why="${esc(w.id)}">${esc(w.q)}</a>${answer}</div>`;
}

function violationsHtml(violations: readonly PageWhy[]): string {
  if (violations.length === 0) return "";
  const cards = violations.map((w) => whyCard(w, "why-card violation")).join("");
  return `<section id="violations"><h2>Violated invariants <span class="count">${violations.length}</span></h2><p class="intro">The run broke ${violations.length === 1 ? "this invariant" : "these invariants"}. The diagram opens on the first one: the event that broke it in blue, the events that led to it in orange. Click a violation to highlight its events again, or a time to go to that event.</p>${cards}</section>`;
}

function whysHtml(whys: readonly PageWhy[]): string {
  if (whys.length === 0)
    return `<p class="muted">Nothing in this run calls for an explanation: no session waited for a refresh, no kill met a prepared transaction, no cursor was killed for its session, no record expired.</p>`;
  const kinds = [...new Set(whys.map((w) => w.kind))];
  return kinds
    .map((k) => {
      const list = whys.filter((w) => w.kind === k);
      const cards = list.map((w) => whyCard(w, "why-card")).join("");
      return `<h3>${esc(WHY_HEADINGS[k as WhyKind] ?? k)} <span class="count">${list.length}</span></h3>${cards}`;
    })
    .join("");
}

function sessionsHtml(parts: ReportParts, whys: readonly PageWhy[], explanations: readonly Explanation[]): string {
  const a = parts.analysis;
  const rows = sessionRows(a);
  if (rows.length === 0) return `<p class="muted">No logical session appears in this run.</p>`;
  const nodes = a.nodes.filter((n) => !n.startsWith("client") && rows.some((r) => r.perNode.has(n)));
  const link = (seq: number, label: string, cls = "ref"): string =>
    `<a href="#" class="${cls}" data-item="${parts.itemOfSeq(seq) ?? 0}">${esc(label)}</a>`;
  let h = `<div class="table-wrap"><table class="sessions"><thead><tr><th>session</th>`;
  for (const n of nodes) h += `<th>${esc(n)}</th>`;
  h += `<th>in $listSessions</th><th>why?</th></tr></thead><tbody>`;
  for (const r of rows) {
    h += `<tr><td class="sid"><code title="${esc(r.id)}">${esc(shortId(r.id))}</code>`;
    if (r.user !== undefined) h += `<div class="muted">${esc(r.user)}</div>`;
    h += `</td>`;
    for (const n of nodes) {
      const list = r.perNode.get(n) ?? [];
      h += `<td>${list
        .map((l) => {
          const [label, cls] = CHIP[l.kind];
          return `<a href="#" class="chip ${cls}" data-item="${parts.itemOfSeq(l.seq) ?? 0}" title="${esc(l.detail ?? label)}">${esc(label)} <span class="t">${esc(formatTime(l.time))}</span></a>`;
        })
        .join("")}</td>`;
    }
    const listed =
      r.listed.length === 0
        ? `<span class="muted">never</span>`
        : r.listed
            .map(
              (iv) =>
                `${link(iv.from.seq, formatTime(iv.from.time))} → ${iv.to === undefined ? "end of run" : `${link(iv.to.seq, formatTime(iv.to.time))} <span class="muted">(${iv.to.kind === "expire" ? "expired" : "deleted"})</span>`}`,
            )
            .join("<br>");
    h += `<td class="listed">${listed}</td>`;
    const mine = explanations.map((x, i) => [x, whys[i]] as const).filter(([x]) => x.session === r.id);
    h += `<td class="why-links">${mine.map(([x, w]) => `<a href="#" class="why" data-why="${esc(w.id)}" title="${esc(w.q)}">${esc(shortWhy(x, a))}</a>`).join("")}</td></tr>`;
  }
  return h + `</tbody></table></div>`;
}

function shortWhy(x: Explanation, a: Analysis): string {
  switch (x.kind) {
    case "notListed":
      return `not listed at ${formatTime(a.event(x.subject)?.time ?? a.end)}?`;
    case "listed":
      return "listed?";
    case "survivedKill":
      return "survived the kill?";
    case "cursorKilled":
      return "cursor killed?";
    case "recordExpired":
      return "expired?";
    default:
      return "why?";
  }
}

function legendHtml(): string {
  const items: [string, string, string][] = [
    ["client command", COLORS.client, "solid"],
    ["reply", COLORS.client, "dashed"],
    ["cluster-internal", COLORS.internal, "solid"],
    ["config.system.sessions", COLORS.sessions, "solid"],
    ["session command", COLORS.session, "solid"],
    ["transaction", COLORS.txn, "solid"],
    ["kill", COLORS.kill, "solid"],
  ];
  return (
    items
      .map(
        ([label, color, style]) =>
          `<span class="lg"><i style="border-top:2px ${style} ${color}"></i>${esc(label)}</span>`,
      )
      .join("") +
    `<span class="lg"><b class="lost">✕</b>lost message</span><span class="lg"><i class="down"></i>node down</span>`
  );
}

const GROUPS: [string, string][] = [
  ["client", "client traffic"],
  ["internal", "internal traffic"],
  ["session", "sessions, cursors, txns"],
  ["timer", "timers"],
  ["fault", "faults"],
  ["note", "narration"],
  ["other", "other"],
];

/** The inline script: the diagram core, the page script, and the call that starts it. */
function pageScript(): string {
  const fns = [...DIAGRAM_CORE, startReportPage].map((f) => f.toString()).join("\n\n");
  return `"use strict";\nvar __name = function (f) { return f; };\n${fns}\n\nstartReportPage(JSON.parse(document.getElementById("data").textContent));\n`;
}

function embedJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** An inline SVG for the page: no namespace URL needed inside HTML. */
function inlineSvg(svg: string): string {
  return svg.replace(' xmlns="http://www.w3.org/2000/svg"', "");
}

/**
 * One self-contained HTML page for a run's trace: a message sequence diagram (click any arrow or
 * mark for its details), "why" explanations that highlight their causes, a table of sessions with
 * their lifecycle on every node, and per-node timelines. No network access, no external URLs.
 *
 * @remarks Works for any trace (a scenario run, a replay): unknown event types are drawn as grey
 * dots with their type.
 *
 * @example
 * const cluster = await Cluster.start({ seed: 1 });
 * // … run commands …
 * writeFileSync("out.html", buildReport(cluster.trace(), { title: "My run" }));
 */
export function buildReport(trace: readonly EventLike[], options: ReportOptions = {}): string {
  return buildReportFromParts(reportParts(trace, options), options);
}

/** `buildReport` from precomputed parts. */
export function buildReportFromParts(parts: ReportParts, options: ReportOptions = {}): string {
  const { analysis: a, model } = parts;
  const whys = parts.whys.map((x) => pageWhy(x, parts.itemOfSeq));
  const violations = (options.violations ?? []).map((v, i) => pageViolation(v, i, parts));
  const data: PageData = {
    model,
    ev: model.items.map((it) => toPlain(a.event(it.s))),
    mi: parts.facts.map((fact) => {
      const peerSeq = fact.peer === undefined ? undefined : (fact.peer.send ?? fact.peer.delivers[0])?.seq;
      const peerItem = peerSeq === undefined ? undefined : parts.itemOfSeq(peerSeq);
      const peerMsg = peerItem === undefined ? undefined : model.items[peerItem].m;
      // a reply's outcome is its request's: the page finds it through `peer`
      const own = fact.isReply && peerMsg !== undefined ? undefined : fact.outcome;
      return {
        ...(own === undefined ? {} : { outcome: toPlain(own) }),
        ...(peerMsg === undefined ? {} : { peer: peerMsg }),
      };
    }),
    whys: [...violations, ...whys],
    ...(violations.length === 0 ? {} : { open: violations[0].id }),
  };
  const title = options.title ?? "sessionsim run";
  const duration = a.end - a.start;
  const meta = [
    options.name === undefined ? undefined : `<code>${esc(options.name)}</code>`,
    options.seed === undefined ? undefined : `seed ${esc(String(options.seed))}`,
    `${a.events.length} events`,
    `${a.messages.filter((m) => !m.isReply).length} requests`,
    `${a.sessions.size} sessions`,
    `${spanLabel(duration)} of virtual time (${formatTime(a.start)} – ${formatTime(a.end)})`,
  ].filter((x): x is string => x !== undefined);
  const charts = parts.charts
    .map(
      (c) =>
        `<div class="chart" title="click to see this moment in the diagram"><div class="cursor"></div>${inlineSvg(c.chart.svg)}</div>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — sessionsim report</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header class="top">
  <h1>${esc(title)}</h1>
  ${options.teaches === undefined ? "" : `<p class="teaches">${esc(options.teaches)}</p>`}
  ${options.source === undefined ? "" : `<p class="source">Source: <span>${esc(options.source)}</span></p>`}
  <p class="meta">${meta.join(" · ")}</p>
  <nav>${violations.length === 0 ? "" : `<a href="#violations" class="bad">Violated invariants</a>`}<a href="#diagram">Message diagram</a><a href="#why">Why?</a><a href="#sessions">Sessions</a><a href="#timelines">Timelines</a></nav>
</header>
<noscript><p class="warn-box">The diagram needs JavaScript; the explanations, the sessions table and the timelines below work without it.</p></noscript>
${violationsHtml(violations)}
<section id="diagram">
  <div class="toolbar">
    <span class="group"><button id="zoom-out" title="zoom out">−</button><button id="zoom-in" title="zoom in">+</button></span>
    <span class="group">${GROUPS.map(([g, label]) => `<label><input type="checkbox" data-group="${g}"${g === "timer" ? "" : " checked"}> ${esc(label)}</label>`).join("")}</span>
    <span class="group"><label>collapse idle gaps ≥ <select id="idle"><option value="100">0.1 s</option><option value="1000" selected>1 s</option><option value="10000">10 s</option><option value="60000">1 min</option><option value="1e15">never</option></select></label></span>
    <span class="group"><label>go to time <input id="jump" placeholder="+00:05:00" size="10"></label></span>
  </div>
  <div class="legend">${legendHtml()}<span class="hint">click an arrow or a mark for its details · <kbd>n</kbd>/<kbd>p</kbd> next/previous event</span></div>
  <div class="diagram-wrap">
    <div id="scroller"><svg id="lanes"></svg><div id="spacer"><svg id="canvas"></svg></div></div>
    <div class="minimap-box"><canvas id="minimap"></canvas><div id="minimap-window"></div></div>
    <aside id="panel"><div id="panel-body"><p class="muted">Click an arrow (a message) or a mark (an event) in the diagram to see its details here — the full trace event and, for a message, the command document it carried.</p><p class="muted">Or pick a question under <a href="#why">Why?</a>: the answer appears here and its causes light up in the diagram.</p></div></aside>
  </div>
</section>
<section id="why"><h2>Why?</h2><p class="intro">Questions a learner asks about this run, answered from the trace. Click a question to highlight the event and its causes in the diagram; click a time to go to that event.</p>${whysHtml(whys)}</section>
<section id="sessions"><h2>Sessions</h2><p class="intro">Each logical session's life on every node: put into the node's in-memory cache (started, or cached when a command carried it), written to <code>config.system.sessions</code> by the node's refresh, ended, deleted, expired, lost in a crash, killed. Click an entry to see it in the diagram.</p>${sessionsHtml(parts, whys, parts.whys)}</section>
<section id="timelines"><h2>Timelines</h2><p class="intro">Derived from the trace. The session cache empties at each successful refresh of its node; <code>config.system.sessions</code> grows when a refresh writes and shrinks when a record is deleted or expires. Click a chart to jump to that moment.</p>${charts}</section>
<footer>Made by sessionsim's report package from the run's trace. Self-contained: nothing is loaded from the network.</footer>
<script type="application/json" id="data">${embedJson(data)}</script>
<script>${pageScript()}</script>
</body>
</html>
`;
}
