/**
 * Coverage declaration (code probes, as FoundationDB's): the standard property with every fault
 * kind must reach these combinations of node role × session state × transaction state × kill
 * pending at least once — in particular a kill arriving while a shard holds a prepared
 * transaction, the case "a kill never aborts a prepared transaction" is about.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkStandard, CoverageTracker, INTERESTING_COVERAGE, suiteSeed } from "@sessionsim/testing";

const SEED = suiteSeed(20_260_108);
console.log(`coverage.prop: SESSIONSIM_SEED=${SEED}`);

void test("the standard property reaches the declared role/session/txn/kill states", async () => {
  const coverage = new CoverageTracker().require(
    ...INTERESTING_COVERAGE,
    "shard/*/prepared/kill-pending",
    "shard/*/committed/*",
    "shard/*/retryable/*",
    "mongos/ending/*/*",
    "config/*/*/*",
  );
  const r = await checkStandard({ seed: SEED, numRuns: 20, faults: "all", commands: 100, coverage });
  assert.ok(!r.failed, `the standard property failed: ${r.reproduction ?? ""}`);
  console.log(coverage.format());
  assert.deepEqual(coverage.missing(), [], "declared states never reached");
});
