// A violated invariant in the report (what `sessionsim replay --report` passes): a section at the
// top with the invariant, its message and links to the events that led to it; the page opens on it
// with those events highlighted in the diagram (checked in chromium where it is installed); the
// text timeline marks the same events.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import type { TraceEvent } from "sessionsim";
import { buildReport, formatTimeline, reportParts, type ReportViolation } from "../src/index.js";
import type { PageData } from "../src/page/app.js";
import { sampleRun } from "./sample-run.js";

function pageData(html: string): PageData {
  const m = /<script type="application\/json" id="data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, "the page embeds its data");
  return JSON.parse(m[1]) as PageData;
}

async function violated(): Promise<{ trace: readonly TraceEvent[]; violation: ReportViolation }> {
  const trace = await sampleRun();
  const open = trace.find((e) => e.type === "cursor.open");
  const drop = trace.find((e) => e.type === "net.drop");
  assert.ok(open !== undefined && drop !== undefined);
  return {
    trace,
    violation: {
      invariant: "no-cursor-survives-kill",
      kind: "safety",
      message: `cursor of session on ${open.node} is still open after killSessions answered ok`,
      events: [drop, open],
    },
  };
}

void describe("violations in the report", async () => {
  const { trace, violation } = await violated();
  const html = buildReport(trace, { title: "replay", violations: [violation] });

  void test("a section at the top names the invariant, its message and links to its events", () => {
    const section = /<section id="violations">([\s\S]*?)<\/section>/.exec(html)?.[1];
    assert.ok(section !== undefined, "the violations section");
    assert.ok(html.indexOf('id="violations"') < html.indexOf('id="diagram"'), "above the diagram");
    assert.match(section, /✗ no-cursor-survives-kill \(safety\) violated/);
    assert.match(section, /is still open after killSessions answered ok/);
    assert.equal((section.match(/class="ref" data-item=/g) ?? []).length, 2, "one link per event");
    assert.match(section, /cursor\.open/);
    assert.match(section, /net\.drop/);
    assert.match(html, /<a href="#violations" class="bad">Violated invariants<\/a>/);
  });

  void test("the page opens on it: the breaking event is the subject, the earlier ones its causes", () => {
    const data = pageData(html);
    assert.equal(data.open, "violation-1");
    const w = data.whys.find((x) => x.id === "violation-1");
    assert.ok(w !== undefined);
    const parts = reportParts(trace);
    const [first, last] = violation.events.map((e) => e.seq).sort((a, b) => a - b);
    assert.equal(w.subject, parts.itemOfSeq(last));
    assert.deepEqual(w.causes, [parts.itemOfSeq(first)]);
  });

  void test("without violations: no section, nothing opened", () => {
    const plain = buildReport(trace, { title: "plain" });
    assert.ok(!plain.includes('id="violations"'));
    assert.equal(pageData(plain).open, undefined);
  });

  void test("the text timeline marks the events, even those it would leave out", () => {
    const marked = new Set(violation.events.map((e) => e.seq));
    const lines = formatTimeline(trace, { internal: false, mark: marked });
    const flagged = lines.filter((l) => l.includes(" ✗ "));
    assert.equal(flagged.length, 2, flagged.join("\n"));
    assert.ok(
      flagged.some((l) => /cursor\.open/.test(l)),
      "cursor.open has no line of its own: it gets one",
    );
    assert.ok(flagged.some((l) => /lost/.test(l)));
    assert.equal(formatTimeline(trace, { internal: false }).filter((l) => l.includes(" ✗ ")).length, 0);
  });
});

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium)`;

void describe("a violation in chromium", { skip }, () => {
  let browser: Browser;
  let page: Page;
  let dir: string;
  const errors: string[] = [];

  before(async () => {
    const { chromium } = await import("playwright-core");
    const { trace, violation } = await violated();
    dir = mkdtempSync(join(tmpdir(), "sessionsim-violation-"));
    const file = join(dir, "report.html");
    writeFileSync(file, buildReport(trace, { title: "replay", violations: [violation] }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
  });

  after(async () => {
    await browser?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  void test("opens with the violation in the panel and its events highlighted", async () => {
    await page.locator("#panel-body h3.question").waitFor();
    assert.match((await page.locator("#panel-body").textContent()) ?? "", /no-cursor-survives-kill/);
    await page.waitForTimeout(300);
    assert.ok((await page.locator("#canvas .sel").count()) > 0, "the breaking event is selected");
    assert.ok((await page.locator("#canvas .cause").count()) > 0, "the events before it are highlighted");
    assert.deepEqual(errors, []);
  });
});
