// The report page in a real browser (Debian's chromium through playwright-core): it renders, the
// sequence diagram is visible and has arrows, a click on an arrow or a mark shows its details, a
// "why" highlights its causes, and the page asks the network for nothing. Skipped (with the reason
// printed) where /usr/bin/chromium is not installed; CI installs it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { buildReport } from "../src/index.js";
import { sampleRun } from "./sample-run.js";

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
if (skip !== false) console.log(`# report.browser.test.ts skipped: ${skip}`);

void describe("the report page in chromium", { skip }, () => {
  let browser: Browser;
  let page: Page;
  let dir: string;
  const requests: string[] = [];
  const errors: string[] = [];

  before(async () => {
    const { chromium } = await import("playwright-core");
    dir = mkdtempSync(join(tmpdir(), "sessionsim-browser-"));
    const file = join(dir, "report.html");
    writeFileSync(file, buildReport(await sampleRun(), { title: "browser test", seed: 3 }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    page.on("request", (r) => requests.push(r.url()));
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(pathToFileURL(file).href);
  });

  after(async () => {
    await browser?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  void test("renders without errors and loads nothing from the network", async () => {
    assert.equal(await page.title(), "browser test — sessionsim report");
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:")),
      [],
    );
  });

  void test("the diagram is visible: lanes, arrows and marks", async () => {
    const canvas = page.locator("#canvas");
    const box = await canvas.boundingBox();
    assert.ok(box !== null && box.width > 400 && box.height > 300, `diagram box ${JSON.stringify(box)}`);
    assert.ok((await page.locator("#canvas g.msg").count()) > 5, "arrows are drawn");
    assert.ok((await page.locator("#canvas g.ev").count()) > 3, "marks are drawn");
    assert.match((await page.locator("#lanes").textContent()) ?? "", /client1.*mongos0.*shard0.*shard1.*config0/);
    const arrow = await page.locator("#canvas g.msg path:not(.hit)").first().boundingBox();
    assert.ok(arrow !== null && arrow.width > 50, "an arrow spans lanes");
  });

  void test("a click on an arrow shows the message and its command document", async () => {
    const start = page.locator("#canvas g.msg", { hasText: "startSession" }).first();
    await start.locator("text").click();
    const panel = page.locator("#panel-body");
    await panel.getByText("command document").waitFor();
    const text = (await panel.textContent()) ?? "";
    assert.match(text, /client1 → mongos0/);
    assert.match(text, /"startSession": 1/);
    assert.match(text, /delivered/);
    assert.equal(await page.locator("#canvas g.msg.sel").count(), 1, "the arrow is highlighted");
  });

  void test("a click on a mark shows its trace event", async () => {
    await page.locator("#canvas g.ev", { hasText: "new session" }).first().click();
    const text = (await page.locator("#panel-body").textContent()) ?? "";
    assert.match(text, /"type": "session\.start"/);
    assert.match(text, /mongos0/);
  });

  void test("a why question highlights the event and its causes", async () => {
    await page.locator("#why a.why").first().click();
    await page.locator("#panel-body h3.question").waitFor();
    assert.match((await page.locator("#panel-body").textContent()) ?? "", /not in \$listSessions/);
    await page.waitForTimeout(400);
    assert.ok((await page.locator("#canvas .cause, #canvas .sel").count()) > 0, "highlighted in the diagram");
  });

  void test("scrolling far down draws the rows there (only the visible window is drawn)", async () => {
    const before = await page.locator("#canvas").innerHTML();
    await page.evaluate("document.getElementById('scroller').scrollTop = 1e9");
    await page.waitForTimeout(200);
    const afterHtml = await page.locator("#canvas").innerHTML();
    assert.notEqual(afterHtml, before);
    assert.ok((await page.locator("#canvas g.ev, #canvas g.msg").count()) > 0);
    assert.deepEqual(errors, []);
  });
});
