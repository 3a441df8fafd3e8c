// Reproductions, replay and determinism of the standard property; coverage declarations.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ALL_INVARIANTS,
  CaseFailure,
  checkCoveragePattern,
  checkStandard,
  COVERAGE_DIMENSIONS,
  CoverageTracker,
  formatReproduction,
  INTERESTING_COVERAGE,
  MissingCoverageError,
  parseReproduction,
  reproductionOptions,
  type CaseResult,
} from "@sessionsim/testing";
import { plantedNoKillAll as noKillAll } from "../../../test/fixtures/planted-invariant.js";

void describe("reproduction lines", () => {
  void test("format and parse round-trip", () => {
    const r = {
      seed: 42,
      path: "3:1:0",
      faults: "all" as const,
      commands: 100,
      shards: 2,
      mongos: 2,
      auth: true,
      replayPath: "AB:C",
    };
    const line = formatReproduction(r);
    assert.equal(
      line,
      "sessionsim replay 'seed=42;path=3:1:0;faults=all;cmds=100;shards=2;mongos=2;auth=true;replay=AB:C'",
    );
    assert.deepEqual(parseReproduction(line), r);
    assert.deepEqual(parseReproduction("seed=7;path=0;faults=none"), {
      seed: 7,
      path: "0",
      faults: "none",
      commands: 100,
      shards: 2,
      mongos: 2,
    });
    assert.throws(() => parseReproduction("path=1"), /seed/);
    assert.throws(() => parseReproduction("seed=1;faults=lots"), /fault level/);
    assert.throws(() => parseReproduction("seed=1;path=a:b"), /bad path/);
    assert.throws(() => parseReproduction("seed=1;exact=yes"), /bad exact/);
    // The arbitrary and the check a case ran with are part of the line.
    const exact = { ...r, exactCommands: true, determinism: true };
    const exactLine = formatReproduction(exact);
    assert.match(exactLine, /;exact=true;determinism=true;/);
    assert.deepEqual(parseReproduction(exactLine), exact);
    assert.deepEqual(reproductionOptions(exact), {
      seed: 42,
      path: "3:1:0",
      numRuns: 1,
      endOnFailure: true,
      faults: "all",
      commands: 100,
      shards: 2,
      mongos: 2,
      auth: true,
      exactCommands: true,
      determinismCheck: true,
      replayPath: "AB:C",
    });
  });

  void test("a failure of explore --exact-commands replays from its line (exact=true)", async () => {
    const invariants = [...ALL_INVARIANTS, noKillAll];
    const first = await checkStandard({
      seed: 3,
      numRuns: 30,
      faults: "network",
      commands: 30,
      exactCommands: true,
      invariants,
    });
    assert.ok(first.failed && first.reproduction !== undefined, "the planted invariant should fail");
    assert.match(first.reproduction, /;exact=true/);
    const repro = parseReproduction(first.reproduction);
    assert.equal(repro.exactCommands, true);
    let replayed: CaseResult | undefined;
    const again = await checkStandard({
      ...reproductionOptions(repro),
      invariants,
      onResult: (_c, r) => (replayed = r),
    });
    assert.ok(again.failed);
    assert.deepEqual(replayed?.log, first.scenario);
    // Without the flag fast-check follows the path in another arbitrary: it cannot.
    await assert.rejects(
      checkStandard({ ...reproductionOptions({ ...repro, exactCommands: false }), invariants }),
      /Unable to replay/,
    );
  });

  void test("a failure shrinks to one line that replays the same scenario and violation", async () => {
    const invariants = [...ALL_INVARIANTS, noKillAll];
    const first = await checkStandard({ seed: 3, numRuns: 30, faults: "network", commands: 40, invariants });
    assert.ok(first.failed, "the planted invariant should fail");
    assert.ok(first.reproduction !== undefined);
    assert.ok(first.error instanceof CaseFailure);
    assert.ok(first.error.result.violations.some((v) => v.invariant === "planted-no-kill-all"));
    const scenario = first.scenario ?? [];
    assert.ok(
      scenario.some((l) => l.includes("killAllSessions")),
      scenario.join("\n"),
    );
    // Shrunk: the scenario is short.
    assert.ok(scenario.filter((l) => !l.includes("advance(")).length <= 3, scenario.join("\n"));
    const repro = parseReproduction(first.reproduction);
    let replayed: CaseResult | undefined;
    const again = await checkStandard({
      seed: repro.seed,
      path: repro.path,
      endOnFailure: true,
      faults: repro.faults,
      commands: repro.commands,
      ...(repro.replayPath === undefined ? {} : { replayPath: repro.replayPath }),
      invariants,
      hash: true,
      onResult: (_c, r) => (replayed = r),
    });
    assert.ok(again.failed);
    assert.deepEqual(replayed?.log, scenario);
  });

  void test("determinism self-check passes on the simulator; equal seeds give equal traces", async () => {
    const hashes: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await checkStandard({
        seed: 11,
        numRuns: 2,
        faults: "all",
        commands: 30,
        hash: true,
        onResult: (_c, x) => hashes.push(x.traceHash),
      });
      assert.ok(!r.failed, r.reproduction);
    }
    assert.equal(hashes.length, 4);
    assert.deepEqual(hashes.slice(0, 2), hashes.slice(2));
    const d = await checkStandard({ seed: 12, numRuns: 2, faults: "all", commands: 30, determinismCheck: true });
    assert.ok(!d.failed, d.reproduction);
  });
});

void describe("coverage", () => {
  void test("patterns with wildcards; required states reported when never reached", async () => {
    // The config server is never a transaction participant in the workload.
    const unreachable = "config/*/prepared/*";
    const cov = new CoverageTracker().require("mongos/*/none/*", "shard/*/prepared/kill-pending", unreachable);
    const r = await checkStandard({ seed: 5, numRuns: 2, faults: "none", commands: 30, coverage: cov });
    assert.ok(!r.failed, r.reproduction);
    assert.ok(cov.runs >= 2);
    assert.ok(cov.reached("mongos/*/none/*"));
    assert.ok(cov.missing().includes(unreachable));
    assert.match(cov.format(), /never reached \(required\): .*config\/\*\/prepared\/\*/);
    const other = new CoverageTracker();
    other.merge({ counts: cov.toJSON(), runs: cov.runs });
    assert.deepEqual(other.toJSON(), cov.toJSON());
  });

  void test("require() refuses patterns that name no state", () => {
    const cov = new CoverageTracker();
    assert.throws(() => cov.require("bogus/x"), /must have 4 parts role\/session\/txn\/kill/);
    assert.throws(() => cov.require("bogus/*/*/*"), /unknown role "bogus"; role is one of mongos, shard, config or \*/);
    assert.throws(() => cov.require("shard/active/preparing/*"), /unknown txn "preparing"/);
    assert.throws(() => cov.require("shard/*/*/killed"), /unknown kill "killed"/);
    assert.deepEqual(cov.requirements(), []);
    for (const p of INTERESTING_COVERAGE) checkCoveragePattern(p);
    assert.deepEqual(
      COVERAGE_DIMENSIONS.map((d) => d.name),
      ["role", "session", "txn", "kill"],
    );
  });

  void test("failOnMissingCoverage: checkStandard fails when a required state is never reached", async () => {
    const options = { seed: 5, numRuns: 2, faults: "none" as const, commands: 30 };
    const lax = await checkStandard({ ...options, coverage: new CoverageTracker().require("config/*/prepared/*") });
    assert.equal(lax.failed, false, "by default missing states are only reported");
    const strict = await checkStandard({
      ...options,
      coverage: new CoverageTracker().require("config/*/prepared/*", "mongos/*/*/*"),
      failOnMissingCoverage: true,
    });
    assert.equal(strict.failed, true);
    assert.ok(strict.error instanceof MissingCoverageError);
    assert.deepEqual(strict.error.missing, ["config/*/prepared/*"]);
    assert.match(strict.error.message, /required coverage states never reached: config\/\*\/prepared\/\*/);
    const met = await checkStandard({
      ...options,
      coverage: new CoverageTracker().require("mongos/*/*/*"),
      failOnMissingCoverage: true,
    });
    assert.equal(met.failed, false);
  });
});
