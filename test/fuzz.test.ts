/**
 * The command-document fuzzer with a fixed budget: mutated and random command documents against
 * every node role, with and without auth. Nothing may escape a node (no node.bug, runCommand only
 * rejects with NetworkError), every reply is MongoDB-shaped and the invariants hold afterwards.
 * `sessionsim fuzz --count 100000` runs a big campaign.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runFuzz, suiteSeed } from "@sessionsim/testing";

const SEED = suiteSeed(20_260_107);
const COUNT = Number(process.env.SESSIONSIM_FUZZ_COUNT ?? 3000);
console.log(`fuzz: SESSIONSIM_SEED=${SEED}, ${COUNT} documents`);

void test(`${COUNT} fuzzed command documents: MongoDB-shaped replies, no node.bug, invariants hold`, async () => {
  const report = await runFuzz({ count: COUNT, seed: SEED });
  assert.equal(report.tried, COUNT);
  assert.deepEqual(
    report.problems.map((p) => `${p.kind}: ${p.message}`),
    [],
    `reproduce with: sessionsim fuzz --seed ${SEED} --count ${COUNT}`,
  );
});
