// The HTML report (html.ts) and its pictures (files.ts): a self-contained page without external
// URLs, built from a real run and from a synthetic trace with unknown event types; SVG and PNG.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildReport, reportParts, reportPictures, svgToPng, writeReport } from "../src/index.js";
import type { PageData } from "../src/page/app.js";
import { sampleRun } from "./sample-run.js";
import { S1, TraceBuilder } from "./trace-builder.js";

/** Every attribute that makes a browser fetch something. */
const FETCHING_ATTRIBUTE =
  /\s(src|href|xlink:href|srcset|action|poster|background|data)\s*=\s*["']?\s*(https?:)?\/\//gi;

function pageData(html: string): PageData {
  const m = /<script type="application\/json" id="data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, "the page embeds its data");
  return JSON.parse(m[1]) as PageData;
}

void describe("buildReport", async () => {
  const trace = await sampleRun();
  const html = buildReport(trace, { title: "sample", teaches: "how it looks", seed: 3, name: "sample" });

  void test("is one self-contained page: no external URL anywhere, nothing fetched", () => {
    assert.match(html, /^<!doctype html>/);
    assert.equal(html.match(FETCHING_ATTRIBUTE), null, "no src/href to another host");
    assert.ok(!/https?:\/\//.test(html), "no http:// or https:// at all");
    assert.ok(!/<link\b/i.test(html) && !/<script[^>]+src=/i.test(html) && !/@import|url\(/i.test(html));
    assert.equal((html.match(/<script/g) ?? []).length, 2, "the data and the script, both inline");
  });

  void test("a source URL is shown as text, never as a link", () => {
    const withSource = buildReport(trace, {
      source: "https://www.mongodb.com/docs/manual/reference/command/endSessions/",
    });
    assert.equal(withSource.match(FETCHING_ATTRIBUTE), null);
    assert.match(withSource, /Source: <span>https:\/\/www\.mongodb\.com/);
  });

  void test("embeds the diagram: one lane per node and client, one arrow per message", () => {
    const data = pageData(html);
    const lanes = data.model.lanes.map((l) => l.name);
    assert.deepEqual(lanes, ["client1", "mongos0", "shard0", "shard1", "config0"]);
    const sends = trace.filter((e) => e.type === "net.send").length;
    assert.equal(data.model.msgs.filter((m) => m.si !== undefined).length, sends);
    assert.ok(
      data.model.msgs.some((m) => m.pi !== undefined),
      "the partitioned ping is drawn as lost",
    );
    assert.ok(data.model.down[lanes.indexOf("shard1")].length === 1, "shard1 is drawn down between crash and restart");
    assert.equal(data.ev.length, data.model.items.length, "every row has its event for the side panel");
    const start = data.model.msgs.find((m) => m.x === "startSession");
    assert.ok(start?.si !== undefined);
    const sent = data.ev[start.si] as { payload: { command: unknown } };
    assert.deepEqual(sent.payload.command, { startSession: 1 }, "the command document goes to the panel");
  });

  void test("shows the session's life: started, cached on the shards, refreshed; with a why", () => {
    assert.match(html, /class="chip good"[^>]*>started/);
    assert.match(html, /class="chip teal"[^>]*>refreshed/);
    assert.match(html, /Why is session [0-9a-f]{8} not in \$listSessions at \+00:00:00\.\d{3}\?/);
    assert.match(html, /<div class="chart"[^>]*><div class="cursor"><\/div><svg /);
  });

  void test("ships the diagram code with the page", () => {
    for (const fn of ["layoutDiagram", "renderDiagramRange", "startReportPage"])
      assert.match(html, new RegExp(`function ${fn}\\(`));
  });
});

void test("unknown event types and a trace without payloads still make a report", () => {
  const b = new TraceBuilder();
  b.add("scenario", "note", { text: "</script><script>alert(1)</script>" });
  b.add("shard0", "future.event", { detail: { a: 1n } });
  b.add("mongos0", "session.start", { id: S1, uid: "e3b0" });
  b.send("client1", "mongos0", "ping");
  const html = buildReport(b.events);
  assert.ok(!html.includes("</script><script>alert"), "text cannot close the script");
  const data = pageData(html);
  assert.ok(
    data.model.items.some((i) => i.x === "future.event"),
    "drawn as a grey dot with its type",
  );
  assert.ok(data.model.msgs[0].di.length === 0, "a message never delivered is drawn in flight");
});

void test("a stepdown and the step-up after it are marked on the member's lane", () => {
  const b = new TraceBuilder();
  b.add("shard0", "repl.state", { from: "PRIMARY", to: "SECONDARY", reason: "replSetStepDown" });
  b.at(60_000).add("shard0", "repl.state", { from: "SECONDARY", to: "PRIMARY", reason: "stepUp" });
  const data = pageData(buildReport(b.events));
  const marks = data.model.items.filter((i) => i.k === "mark" && i.g === "fault").map((i) => i.x);
  assert.deepEqual(marks, ["PRIMARY → SECONDARY (replSetStepDown)", "SECONDARY → PRIMARY (stepUp)"]);
});

void describe("pictures", async () => {
  const trace = await sampleRun();

  void test("standalone SVGs: the diagram and one timeline per node", () => {
    const pictures = reportPictures(reportParts(trace), { title: "sample", rowsPerPicture: 1000 });
    const names = pictures.map((p) => p.name);
    assert.deepEqual(names, [
      "sequence",
      "sessions-collection",
      "timeline-mongos0",
      "timeline-shard0",
      "timeline-shard1",
      "timeline-config0",
    ]);
    for (const p of pictures) {
      assert.match(p.svg.slice(0, 120), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
      assert.ok(p.svg.includes("<path"), `${p.name} draws something`);
    }
    const split = reportPictures(reportParts(trace), { rowsPerPicture: 20 });
    assert.ok(split.filter((p) => p.name.startsWith("sequence-")).length > 1, "a long diagram is split into parts");
  });

  void test("PNG through resvg", async () => {
    const [first] = reportPictures(reportParts(trace));
    const png = await svgToPng(first.svg, 1);
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  });

  void test("writeReport writes the page, the SVGs and the PNGs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sessionsim-report-"));
    try {
      const written = await writeReport(trace, {
        html: join(dir, "r.html"),
        svgDir: join(dir, "svg"),
        pngDir: join(dir, "png"),
      });
      assert.ok(written.includes(join(dir, "r.html")));
      assert.match(readFileSync(join(dir, "r.html"), "utf8"), /<!doctype html>/);
      assert.deepEqual(
        readdirSync(join(dir, "svg"))
          .map((f) => f.replace(/\.svg$/, ""))
          .sort(),
        readdirSync(join(dir, "png"))
          .map((f) => f.replace(/\.png$/, ""))
          .sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
