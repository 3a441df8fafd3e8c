// `sessionsim sweep` output: a metric without a value (kill-vs-prepare never lists its sessions
// within the run at a 5-minute refresh interval, logical_session_cache.idl) is `null` in the JSON
// and an empty cell in the CSV, never `NaN`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

void test("undefined metrics: null in sweep.json, an empty cell in sweep.csv", () => {
  const out = mkdtempSync(join(tmpdir(), "sessionsim-sweep-"));
  try {
    const r = spawnSync(
      process.execPath,
      [
        MAIN,
        "sweep",
        "--param",
        "logicalSessionRefreshMillis=1000,300000",
        "--scenario",
        "kill-vs-prepare",
        "--seeds",
        "1",
        "--workers",
        "1",
        "--metric",
        "timeToListSessionsMs",
        "killsFoundPrepared",
        "--out",
        out,
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(readFileSync(join(out, "sweep.json"), "utf8")) as {
      runs: { value: number; metrics: Record<string, number | null> }[];
    };
    const slow = json.runs.find((x) => x.value === 300_000);
    assert.equal(slow?.metrics.timeToListSessionsMs, null);
    const csv = readFileSync(join(out, "sweep.csv"), "utf8").trimEnd().split("\n");
    assert.deepEqual(csv[0].split(","), [
      "logicalSessionRefreshMillis",
      "seed",
      "timeToListSessionsMs",
      "killsFoundPrepared",
      "traceHash",
    ]);
    const row = csv.find((l) => l.startsWith("300000,"))?.split(",");
    assert.equal(row?.[2], "", "an empty cell");
    assert.match(row?.[3] ?? "", /^\d+$/);
    assert.ok(!csv.join("\n").includes("NaN"));
    const fast = csv.find((l) => l.startsWith("1000,"))?.split(",");
    assert.match(fast?.[2] ?? "", /^\d+(\.\d+)?$/, "a value where there is one");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
