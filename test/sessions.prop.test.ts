/**
 * Property tests of logical sessions with the @sessionsim/testing toolkit: model-based command
 * sequences (session commands, CRUD with and without sessions, transactions, retryable writes,
 * kills, listings, across nodes and users) with faults as commands, checked against the reference
 * model of $listLocalSessions / $listSessions and the invariant library (safety after every
 * command, liveness once faults stop).
 *
 * Replay: the seed is printed; `SESSIONSIM_SEED=<n>` repeats a run; a failure prints one
 * `sessionsim replay '…'` line that reruns the shrunk case with its timeline.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkStandard, suiteSeed, type FaultLevel } from "@sessionsim/testing";

const SEED = suiteSeed(20_260_105);
console.log(`sessions.prop: SESSIONSIM_SEED=${SEED}`);

async function check(
  faults: FaultLevel,
  numRuns: number,
  commands: number,
  extra: { determinismCheck?: boolean; auth?: boolean } = {},
): Promise<void> {
  const r = await checkStandard({ seed: SEED, numRuns, faults, commands, ...extra });
  if (r.failed)
    assert.fail(
      [
        `the standard property failed (faults=${faults}); reproduce with:`,
        `  ${r.reproduction}`,
        "shrunk scenario:",
        ...(r.scenario ?? []).map((l) => `  ${l}`),
        String(r.error instanceof Error ? r.error.message : r.error),
      ].join("\n"),
    );
  assert.equal(r.runs, numRuns);
}

void describe("sessions agree with the reference model and the invariants hold", () => {
  void test("without faults", async () => {
    await check("none", 12, 60);
  });
  void test("with access control on", async () => {
    await check("none", 6, 60, { auth: true });
  });
  void test("under network faults (partitions, drops, duplicates, delays, reordering)", async () => {
    await check("network", 10, 60);
  });
  void test("with crashes and restarts of any node", async () => {
    await check("crash", 8, 60);
  });
  void test("with every fault kind (clocks, coordinator failpoints, refresh write failures too)", async () => {
    await check("all", 10, 80);
  });
  void test("determinism self-check: each case twice, equal trace hashes", async () => {
    await check("all", 3, 40, { determinismCheck: true });
  });
});
