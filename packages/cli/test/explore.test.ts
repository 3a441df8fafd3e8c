// The explore sweep: seed ranges split by --shard, deterministic merging of results, and a small
// sweep run in this thread.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { explore } from "../src/explore/explore.js";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import {
  mergeResults,
  parseShard,
  shardRange,
  summarize,
  withRequirements,
  type ExploreResult,
  type ExploreSettings,
  type SeedResult,
} from "../src/explore/results.js";

const settings: ExploreSettings = { faults: "network", commands: 20, shards: 2, mongos: 2, determinism: false };

const seedResult = (seed: number, failed = false): SeedResult => ({
  seed,
  failed,
  ...(failed ? { reproduction: `sessionsim replay 'seed=${seed};path=0'`, invariants: ["x"], message: "m" } : {}),
  coverage: { [`mongos/active/none/no-kill`]: seed, [`shard/new/none/no-kill`]: 1 },
  wallMs: 10,
});

void describe("explore sharding and merging", () => {
  void test("--shard i/n splits the seed range into disjoint contiguous parts covering it", () => {
    const parts = [0, 1, 2].map((i) => shardRange(100, 10, { i, n: 3 }));
    assert.deepEqual(parts, [
      [100, 104],
      [104, 107],
      [107, 110],
    ]);
    assert.deepEqual(parseShard("2/4"), { i: 2, n: 4 });
    assert.throws(() => parseShard("4/4"), /0 <= i < n/);
    assert.throws(() => parseShard("x"), /i\/n/);
  });

  void test("merge is deterministic and independent of input order; refuses mixed settings and overlaps", () => {
    const a = summarize(settings, [0, 3], [seedResult(2, true), seedResult(0), seedResult(1)]);
    const b = summarize(settings, [3, 5], [seedResult(4), seedResult(3, true)]);
    const ab = mergeResults([a, b]);
    const ba = mergeResults([b, a]);
    assert.equal(JSON.stringify(ab), JSON.stringify(ba));
    assert.deepEqual(ab.ranges, [[0, 5]], "adjacent ranges join");
    assert.equal(ab.runs, 5);
    assert.deepEqual(
      ab.failures.map((f) => f.seed),
      [2, 3],
    );
    assert.equal(ab.coverage["mongos/active/none/no-kill"], 0 + 1 + 2 + 3 + 4);
    assert.throws(() => mergeResults([a, a]), /overlap/);
    assert.throws(() => mergeResults([a, summarize({ ...settings, faults: "all" }, [5, 6], [])]), /different settings/);
  });

  void test("a small sweep in this thread: every seed passes and coverage is summed", async () => {
    const seen: number[] = [];
    const r = await explore({ settings, runs: 3, seed: 40, workers: 0, onSeed: (s) => seen.push(s.seed) });
    assert.deepEqual(seen, [40, 41, 42]);
    assert.equal(r.runs, 3);
    assert.equal(r.failed, 0, JSON.stringify(r.failures));
    assert.ok(Object.keys(r.coverage).length > 0);
  });

  void test("merging shards gives exactly the unsharded result (wall time apart)", () => {
    const seeds = Array.from({ length: 20 }, (_, i) => seedResult(100 + i, i % 7 === 3));
    const whole = summarize(settings, [100, 120], seeds);
    const parts = [0, 1, 2].map((i) => {
      const [from, to] = shardRange(100, 20, { i, n: 3 });
      return summarize(
        settings,
        [from, to],
        seeds.filter((x) => x.seed >= from && x.seed < to),
      );
    });
    const noWall = ({ wallMs: _w, ...r }: ExploreResult): Omit<ExploreResult, "wallMs"> => r;
    const merged = mergeResults([parts[2], parts[0], parts[1]]);
    assert.deepEqual(merged.ranges, [[100, 120]]);
    assert.deepEqual(noWall(merged), noWall(whole));
    // An empty shard (fewer seeds than shards) adds nothing.
    const empty = summarize(settings, [120, 120], []);
    assert.deepEqual(noWall(mergeResults([...parts, empty])), noWall(whole));
    // Ranges with a gap stay apart.
    assert.deepEqual(mergeResults([parts[0], parts[2]]).ranges, [
      [100, 107],
      [114, 120],
    ]);
  });

  void test("coverage requirements: judged on the (merged) coverage", () => {
    const a = summarize(settings, [0, 2], [seedResult(0), seedResult(1)]);
    const r = withRequirements(a, ["shard/*/*/*", "config/*/prepared/*", "shard/*/*/*"]);
    assert.deepEqual(r.required, ["config/*/prepared/*", "shard/*/*/*"]);
    assert.deepEqual(r.missing, ["config/*/prepared/*"]);
    assert.equal(withRequirements(a, []).required, undefined);
    assert.throws(() => withRequirements(a, ["bogus/x"]), /4 parts/);
    // One shard reaches what the other misses: the merge has it.
    const b = summarize(settings, [2, 3], [{ ...seedResult(2), coverage: { "config/active/prepared/no-kill": 1 } }]);
    const merged = mergeResults([
      withRequirements(a, ["config/*/prepared/*"]),
      withRequirements(b, ["config/*/prepared/*"]),
    ]);
    assert.deepEqual(merged.required, ["config/*/prepared/*"]);
    assert.deepEqual(merged.missing, []);
  });

  void test("explore --require fails the sweep with the states never reached", () => {
    const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
    const r = spawnSync(
      process.execPath,
      [
        main,
        "explore",
        "--runs",
        "1",
        "--workers",
        "0",
        "--commands",
        "20",
        "--faults",
        "none",
        "--require",
        "mongos/*/*/*",
        "--require",
        "config/*/prepared/*",
      ],
      { cwd: tmpdir(), encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stdout,
      /✗ required coverage never reached by any seed: config\/\*\/prepared\/\* \(required: config\/\*\/prepared\/\*, mongos\/\*\/\*\/\*\)/,
    );
  });
});
