/** The report page's stylesheet (inlined into the page). */
export const REPORT_CSS = `
:root { --ink: #1f2a37; --muted: #6b7787; --line: #d5dce6; --bg: #f4f6f9; --card: #fff; --accent: #1a56db; --cause: #ed8936; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "DejaVu Sans", "Liberation Sans", system-ui, sans-serif; color: var(--ink); background: var(--bg); }
code, kbd, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
kbd { border: 1px solid var(--line); border-bottom-width: 2px; border-radius: 3px; padding: 0 4px; background: #fff; }
a { color: var(--accent); }
header.top { padding: 18px 24px 8px; background: #fff; border-bottom: 1px solid var(--line); }
header.top h1 { margin: 0 0 4px; font-size: 22px; }
.teaches { margin: 4px 0; font-size: 15px; max-width: 980px; }
.source, .meta { margin: 2px 0; color: var(--muted); font-size: 12.5px; }
.source span { user-select: all; }
nav { margin-top: 8px; display: flex; gap: 18px; }
nav a { text-decoration: none; font-weight: 600; font-size: 13px; }
section { padding: 14px 24px 18px; }
section h2 { margin: 6px 0 6px; font-size: 18px; }
section h3 { font-size: 15px; margin: 16px 0 8px; }
.intro { margin: 0 0 10px; color: #3c4757; max-width: 1000px; }
.muted { color: var(--muted); }
.count { background: #e2e8f0; border-radius: 9px; padding: 0 7px; font-size: 12px; font-weight: 500; }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 6px 0; font-size: 12.5px; }
.toolbar .group { display: inline-flex; gap: 8px; align-items: center; padding-right: 14px; border-right: 1px solid var(--line); }
.toolbar .group:last-child { border-right: 0; }
.toolbar button { width: 28px; height: 26px; font-size: 16px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
.toolbar label { white-space: nowrap; cursor: pointer; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; color: #3c4757; padding: 2px 0 8px; align-items: center; }
.legend .lg { display: inline-flex; align-items: center; gap: 5px; }
.legend i { display: inline-block; width: 24px; height: 0; }
.legend i.down { border-top: 2px dashed #e53e3e; }
.legend b.lost { color: #e53e3e; }
.legend .hint { margin-left: auto; color: var(--muted); }
.diagram-wrap { display: grid; grid-template-columns: minmax(0, 1fr) 44px 400px; gap: 10px; height: 74vh; min-height: 420px; }
#scroller { position: relative; overflow: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
#lanes { position: sticky; top: 0; z-index: 2; display: block; }
#spacer { position: relative; }
#canvas { position: absolute; left: 0; font-family: "DejaVu Sans", "Liberation Sans", system-ui, sans-serif; }
#canvas .ev, #canvas .msg { cursor: pointer; }
#canvas .ev:hover text, #canvas .msg:hover text { font-weight: 600; }
#canvas .msg:hover path:not(.hit) { stroke-width: 2.6; }
#canvas .sel text { font-weight: 700; }
#canvas .sel path:not(.hit) { stroke-width: 3; }
#canvas .sel .hit { fill: rgba(26, 86, 219, 0.12); stroke: var(--accent); stroke-width: 1.5; }
#canvas .msg.sel .hit { stroke: rgba(26, 86, 219, 0.25); fill: none; stroke-width: 10; }
#canvas .cause .hit { fill: rgba(237, 137, 54, 0.16); stroke: var(--cause); stroke-width: 1.5; }
#canvas .msg.cause .hit { stroke: rgba(237, 137, 54, 0.45); fill: none; stroke-width: 10; }
#canvas .cause text { font-weight: 700; }
.minimap-box { position: relative; border: 1px solid var(--line); border-radius: 6px; background: #fff; overflow: hidden; cursor: pointer; }
#minimap { width: 100%; height: 100%; display: block; }
#minimap-window { position: absolute; left: 0; right: 0; border: 2px solid var(--accent); background: rgba(26, 86, 219, 0.08); pointer-events: none; border-radius: 3px; }
#panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; overflow: auto; }
#panel-body { padding: 10px 14px; }
#panel h3 { margin: 4px 0 4px; font-size: 15px; word-break: break-word; }
#panel h3.question { color: #7a3e00; }
#panel h4 { margin: 12px 0 4px; font-size: 13px; }
#panel .route { margin: 0 0 6px; color: var(--muted); font-size: 12.5px; }
#panel dl { display: grid; grid-template-columns: 84px 1fr; gap: 2px 8px; margin: 6px 0; font-size: 12.5px; }
#panel dt { color: var(--muted); }
#panel dd { margin: 0; }
#panel .bad, .bad { color: #c53030; }
#panel .good { color: #2f855a; }
#panel ul.whys { margin: 4px 0; padding-left: 18px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
pre.json { background: #f7f9fc; border: 1px solid #e5e9f0; border-radius: 4px; padding: 8px; overflow: auto; max-height: 360px; margin: 6px 0; }
details summary { cursor: pointer; color: var(--muted); font-size: 12.5px; margin-top: 10px; }
.why-card { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--cause); border-radius: 6px; padding: 8px 12px; margin: 8px 0; max-width: 1100px; }
.why-card .q { font-weight: 600; text-decoration: none; display: block; margin-bottom: 2px; }
.why-card p { margin: 4px 0; }
.why-card.violation { border-left-color: #c53030; background: #fff5f5; }
.why-card.violation .q { color: #c53030; }
nav a.bad { color: #c53030; font-weight: 600; }
a.ref { text-decoration: none; border-bottom: 1px dotted var(--accent); font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; white-space: nowrap; }
.table-wrap { overflow: auto; max-height: 70vh; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
table.sessions { border-collapse: collapse; font-size: 12.5px; min-width: 100%; }
table.sessions th { position: sticky; top: 0; background: #f7f9fc; text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.sessions td { padding: 6px 8px; border-bottom: 1px solid #edf1f5; vertical-align: top; }
table.sessions td.sid code { font-size: 12.5px; font-weight: 600; }
.chip { display: inline-block; margin: 1px 3px 2px 0; padding: 1px 7px; border-radius: 10px; font-size: 11.5px; text-decoration: none; white-space: nowrap; border: 1px solid; }
.chip .t { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 10.5px; opacity: 0.8; }
.chip.good { color: #22543d; background: #f0fff4; border-color: #9ae6b4; }
.chip.teal { color: #1d4044; background: #e6fffa; border-color: #81e6d9; }
.chip.warn { color: #7b341e; background: #fffaf0; border-color: #fbd38d; }
.chip.bad { color: #742a2a; background: #fff5f5; border-color: #feb2b2; }
td.listed a.ref { font-size: 11.5px; }
td.why-links a { display: block; white-space: nowrap; font-size: 12px; }
.chart { position: relative; display: inline-block; margin: 6px 8px 6px 0; border: 1px solid var(--line); border-radius: 6px; overflow: hidden; background: #fff; cursor: crosshair; max-width: 100%; }
.chart svg { display: block; }
.chart .cursor { position: absolute; top: 22px; bottom: 18px; width: 0; border-left: 2px solid var(--accent); display: none; pointer-events: none; }
.warn-box { margin: 10px 24px; padding: 8px 12px; background: #fffaf0; border: 1px solid #fbd38d; border-radius: 6px; }
footer { padding: 16px 24px 30px; color: var(--muted); font-size: 12px; }
@media (max-width: 1100px) { .diagram-wrap { grid-template-columns: minmax(0, 1fr) 36px; } #panel { grid-column: 1 / -1; max-height: 50vh; } .diagram-wrap { height: auto; } #scroller { height: 70vh; } }
`;
