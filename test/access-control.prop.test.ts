/**
 * Access-control property: random users with built-in and custom roles run session commands
 * against another user's session; every reply and every effect (whose cursor a kill closes, whose
 * sessions a listing shows) agrees with the reference table `expectedAclOutcome`
 * (reference §3, §4.1, §7; checklist 36–43, 53).
 */
import { test } from "node:test";
import fc from "fast-check";
import { accessControlProperty, suiteSeed } from "@sessionsim/testing";

const SEED = suiteSeed(20_260_106);
console.log(`access-control.prop: SESSIONSIM_SEED=${SEED}`);

void test("who may start, end, kill and list whose sessions follows the reference table", async () => {
  await fc.assert(accessControlProperty(), { seed: SEED, numRuns: 40 });
});
