// `sessionsim replay`: a reproduction line (here from `explore --exact-commands`) reruns the case,
// prints its violation with the events that led to it marked in the timeline, and `--report`
// writes a page that shows the violated invariant and opens on it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { ALL_INVARIANTS, checkStandard } from "@sessionsim/testing";
import { plantedNoKillAll as noKillAll } from "../../../test/fixtures/planted-invariant.js";
import { replay } from "../src/replay.js";
import { UsageError } from "../src/usage.js";

const invariants = [...ALL_INVARIANTS, noKillAll];

/** The failing `--exact-commands` case both tests replay (searched for once). */
let failing: ReturnType<typeof checkStandard> | undefined;
const exactFailure = (): ReturnType<typeof checkStandard> =>
  (failing ??= checkStandard({
    seed: 3,
    numRuns: 30,
    faults: "network",
    commands: 30,
    exactCommands: true,
    invariants,
  }));

void describe("sessionsim replay", () => {
  void test("replays an --exact-commands failure and reports the violation in the page", async () => {
    const first = await exactFailure();
    assert.ok(first.failed && first.reproduction !== undefined);
    assert.match(first.reproduction, /exact=true/);
    const dir = mkdtempSync(join(tmpdir(), "sessionsim-replay-"));
    try {
      const file = join(dir, "out.html");
      // Plain text: picocolors colours the output wherever a CI variable is set.
      const printed: string[] = [];
      const print = (l: string): number => printed.push(stripVTControlCharacters(l));
      const r = await replay(first.reproduction, { report: file }, { invariants, print });
      assert.equal(r.failed, true);
      assert.ok(r.violations.some((v) => v.invariant === "planted-no-kill-all"));
      assert.deepEqual(r.written, [file]);
      const text = printed.join("\n");
      assert.match(text, /Violated/);
      assert.match(text, /planted-no-kill-all \(safety\): mongos\d answered killAllSessions/);
      // The request and the reply that broke it are marked in the timeline.
      assert.ok(printed.filter((l) => l.includes(" ✗ ")).length >= 2, text);
      const html = readFileSync(file, "utf8");
      assert.match(html, /<section id="violations">/);
      assert.match(html, /✗ planted-no-kill-all \(safety\) violated/);
      assert.match(html, /answered killAllSessions/);
      assert.match(html, /"open":"violation-1"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test("a line that is not a reproduction, or that cannot be followed, is a usage error", async () => {
    const quiet = { invariants, print: () => undefined };
    await assert.rejects(replay("garbage", {}, quiet), UsageError);
    const first = await exactFailure();
    assert.ok(first.reproduction !== undefined);
    // Without exact=true the path is followed in another arbitrary (the old, unreplayable format).
    await assert.rejects(
      replay(first.reproduction.replace(";exact=true", ""), {}, quiet),
      (e: unknown) => e instanceof UsageError && /cannot replay .*Unable to replay/.test(e.message),
    );
  });
});
