// Bad command-line input: one `sessionsim: error: …` line on stderr, exit status 2 (as commander's
// own usage errors), never a Node stack trace. Runs the built command line (`pnpm -s build`).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { summarize, type ExploreSettings } from "../src/explore/results.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

function sessionsim(args: readonly string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const settings: ExploreSettings = { faults: "network", commands: 20, shards: 2, mongos: 2, determinism: false };

void describe("usage errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "sessionsim-usage-"));
  const part = (file: string, s: ExploreSettings, from: number, to: number): void =>
    writeFileSync(join(dir, file), JSON.stringify(summarize(s, [from, to], [])));
  part("a.json", settings, 0, 10);
  part("b.json", { ...settings, faults: "all" }, 10, 20);
  part("c.json", settings, 5, 15);
  writeFileSync(join(dir, "garbage.json"), "not json");

  const cases: [string[], RegExp][] = [
    [["merge", "a.json", "a.json"], /a\.json is given twice/],
    [["merge", "a.json", "b.json"], /cannot merge .*different settings/],
    [["merge", "a.json", "c.json"], /seed ranges overlap/],
    [["merge", "missing.json"], /cannot read missing\.json/],
    [["merge", "garbage.json"], /garbage\.json is not JSON/],
    [["explore", "--shard", "2/2"], /--shard 2\/2: need 0 <= i < n/],
    [["explore", "--shard", "1/0"], /--shard 1\/0: need 0 <= i < n/],
    [["explore", "--shard", "x"], /--shard takes i\/n/],
    [["explore", "--runs", "abc"], /--runs must be an integer >= 1 \(got abc\)/],
    [["explore", "--faults", "bogus"], /--faults must be one of none, network, crash, all \(got bogus\)/],
    [["explore", "--workers", "-1"], /--workers must be an integer >= 0 \(got -1\)/],
    [["explore", "--seed", "xyz"], /--seed must be an integer >= 0 \(got xyz\)/],
    [["explore", "--auth", "maybe"], /--auth must be one of on, off/],
    [["explore", "--require", "bogus/x"], /--require: coverage state "bogus\/x" must have 4 parts/],
    [["replay", "garbage"], /not a reproduction line/],
    [["replay", "seed=1;path=x"], /bad path=x/],
    [["sweep", "--param", "logicalSessionRefreshMillis=1000", "--metric", "bogus"], /unknown metric bogus/],
    [["sweep", "--param", "nosuchParameter=1,2"], /Unknown server parameter: nosuchParameter/],
    [["sweep", "--param", "logicalSessionRefreshMillis=1000", "--scenario", "nope"], /unknown scenario nope/],
    [["run", "nope"], /unknown scenario nope; try: demo, /],
    // kill-vs-prepare: a cross-shard transaction (jstests/sharding/txn_two_phase_commit_*.js style).
    [
      ["run", "kill-vs-prepare", "--shards", "1"],
      /scenario kill-vs-prepare needs at least 2 shards \(got --shards 1\)/,
    ],
    [["run", "session-sync", "--mongos", "1"], /scenario session-sync needs at least 2 mongos routers/],
    [["run", "auth-ownership", "--auth", "off"], /scenario auth-ownership needs access control on/],
    [["run", "session-sync", "--param", "maxSessions=0"], /maxSessions: 0 is not greater than or equal to 1/],
    [["run", "session-sync", "--param", "nosuch=1"], /Unknown server parameter: nosuch/],
    [["run", "session-sync", "--param", "maxSessions"], /--param takes name=value/],
    [["demo", "--shards", "-1"], /--shards must be an integer >= 0/],
    [["explore", "--no-such-option"], /unknown option '--no-such-option'/],
  ];
  for (const [args, expected] of cases)
    void test(`sessionsim ${args.join(" ")}`, () => {
      const r = sessionsim(args, dir);
      assert.equal(r.status, 2, `exit status (stderr: ${r.stderr})`);
      const lines = r.stderr.trimEnd().split("\n");
      assert.match(lines[0], /^sessionsim: error: /);
      assert.match(lines[0], expected);
      // Commander may add a "Did you mean" hint to its own errors; ours are one line.
      if (args[0] !== "explore" || !args[1].startsWith("--no-such")) assert.equal(lines.length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
      assert.equal(r.stdout, "");
    });

  void test("cleanup", () => rmSync(dir, { recursive: true, force: true }));
});

void describe("scenario cluster options", () => {
  void test("--help of run lists them", () => {
    const r = sessionsim(["run", "--help"], tmpdir());
    assert.equal(r.status, 0);
    for (const o of ["--shards <n>", "--mongos <n>", "--auth <on|off>", "--param <name=value>"])
      assert.ok(r.stdout.includes(o), `${o} in:\n${r.stdout}`);
  });

  void test("session-sync with a 10 s refresh interval, 3 mongos and access control on (logical_session_cache.idl)", () => {
    const r = sessionsim(
      ["run", "session-sync", "--mongos", "3", "--auth", "on", "--param", "logicalSessionRefreshMillis=10000"],
      tmpdir(),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(seed 1, 3 mongos, auth on, logicalSessionRefreshMillis=10000\)/);
    // The scenario's clients log in as the operator user; its sessions belong to it.
    assert.match(r.stdout, /session \w+ \(operator@admin\) in its cache/);
    // mongos0's refresh timer fires after 10 s, not 5 minutes.
    assert.match(r.stdout, /at 0m1\ds mongos0's refresh timer fired/);
  });
});
