/**
 * Property: atomicity and termination of cross-shard transactions under faults. Random
 * transactions (each writing fresh `_id`s on two or three shards through mongos, committed
 * concurrently) run while shards crash and restart, the network partitions, and messages are
 * dropped or duplicated. Once the faults
 * stop and virtual time passes, every transaction's writes are on all of its shards or on none,
 * a client told "committed" sees them, a client told `NoSuchTransaction` does not, no transaction
 * stays prepared and no coordinator document is left.
 *
 * Replay: the run prints its seed; `SESSIONSIM_SEED=<seed>` repeats it (fast-check also prints the
 * counterexample's path).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  NetworkError,
  type Cluster,
  type Connection,
  type Document,
  type FaultAction,
  type InFlight,
} from "sessionsim";
import {
  coordinatorDocs,
  idsOnShard,
  newSession,
  preparedCount,
  startTxnCluster,
  txn,
  type Doc,
} from "./fixtures/two-phase-commit.js";

const SEED = Number(process.env.SESSIONSIM_SEED ?? 20_260_101);
const RUNS = Number(process.env.SESSIONSIM_RUNS ?? 25);
console.log(`two-phase-commit.prop: seed ${SEED}, ${RUNS} runs (SESSIONSIM_SEED=<n> to replay)`);

/** Chunk width: shard0 owns ids < 0, shard1 [0, 1000), shard2 ≥ 1000. */
const WIDTH = 1000;
const SHARDS = 3;

/** The id transaction `k` writes on shard `s` (distinct for every transaction and shard). */
function idFor(k: number, s: number): number {
  return s === 0 ? -(k + 1) : (s - 1) * WIDTH + k;
}

interface TxnSpec {
  /** Shards written, in order (the first is the coordinator). */
  readonly shards: readonly number[];
}

/** When a fault's clock starts: with the statements, or when the commits are sent. */
type Phase = "statements" | "commit";
const phaseArb = fc.constantFrom<Phase>("statements", "commit", "commit");

/**
 * A fault, timed from the start of its phase (two-phase commit takes a few ms of virtual time:
 * latency is 0.2–2 ms).
 */
type FaultSpec =
  | {
      readonly kind: "crash";
      readonly phase: Phase;
      readonly shard: number;
      readonly at: number;
      readonly downFor: number;
    }
  | {
      readonly kind: "partition";
      readonly phase: Phase;
      readonly shard: number;
      readonly peer: number;
      readonly at: number;
      readonly healAfter: number;
    }
  | {
      readonly kind: "lossy";
      readonly phase: Phase;
      readonly at: number;
      readonly drop: number;
      readonly duplicate: number;
      readonly lasts: number;
    };

const txnArb: fc.Arbitrary<TxnSpec> = fc.record({
  shards: fc.shuffledSubarray([0, 1, 2], { minLength: 2, maxLength: 3 }),
});

const faultArb: fc.Arbitrary<FaultSpec> = fc.oneof(
  fc.record({
    kind: fc.constant("crash" as const),
    phase: phaseArb,
    shard: fc.integer({ min: 0, max: SHARDS - 1 }),
    at: fc.integer({ min: 0, max: 30 }),
    downFor: fc.integer({ min: 1, max: 3000 }),
  }),
  fc.record({
    kind: fc.constant("partition" as const),
    phase: phaseArb,
    shard: fc.integer({ min: 0, max: SHARDS - 1 }),
    // -1: mongos; otherwise another shard.
    peer: fc.integer({ min: -1, max: SHARDS - 1 }),
    at: fc.integer({ min: 0, max: 30 }),
    healAfter: fc.integer({ min: 1, max: 8000 }),
  }),
  fc.record({
    kind: fc.constant("lossy" as const),
    phase: phaseArb,
    at: fc.integer({ min: 0, max: 30 }),
    drop: fc.double({ min: 0, max: 0.2, noNaN: true }),
    duplicate: fc.double({ min: 0, max: 0.2, noNaN: true }),
    lasts: fc.integer({ min: 1, max: 5000 }),
  }),
);

function describeRun(seed: number, txns: readonly TxnSpec[], faults: readonly FaultSpec[]): string {
  const t = txns.map((x, k) => `txn${k}[${x.shards.map((s) => `shard${s}`).join(",")}]`).join(" ");
  const f = faults
    .map((x) =>
      x.kind === "lossy"
        ? `lossy(drop ${x.drop.toFixed(3)},dup ${x.duplicate.toFixed(3)})@${x.phase}+${x.at}ms,for ${x.lasts}ms`
        : x.kind === "crash"
          ? `crash(shard${x.shard})@${x.phase}+${x.at}ms,down ${x.downFor}ms`
          : `partition(shard${x.shard}|${x.peer < 0 ? "mongos0" : `shard${x.peer}`})@${x.phase}+${x.at}ms,for ${x.healAfter}ms`,
    )
    .join(" ");
  return `clusterSeed=${seed} ${t} ${f}`;
}

/** The timed kernel faults of a fault list (crash→restart, partition→heal). */
function schedule(cluster: Cluster, faults: readonly FaultSpec[]): FaultAction[] {
  const out: FaultAction[] = [];
  for (const f of faults) {
    const node = cluster.shard(f.kind === "lossy" ? 0 : f.shard);
    if (f.kind === "lossy") {
      out.push(
        { at: f.at, kind: "network", config: { dropRate: f.drop, duplicateRate: f.duplicate } },
        { at: f.at + f.lasts, kind: "network", config: { dropRate: 0, duplicateRate: 0 } },
      );
    } else if (f.kind === "crash") {
      out.push({ at: f.at, kind: "crash", node }, { at: f.at + f.downFor, kind: "restart", node });
    } else {
      const peer = f.peer < 0 ? cluster.mongos() : cluster.shard(f.peer);
      if (peer === node) continue;
      out.push({ at: f.at, kind: "partition", a: [node], b: [peer] }, { at: f.at + f.healAfter, kind: "heal" });
    }
  }
  return out;
}

type Outcome = "committed" | "aborted" | "unknown";

/** Waits for a reply; a network failure or no reply in `maxMs` is an unknown outcome. */
async function settle(cluster: Cluster, inflight: InFlight, maxMs: number): Promise<Document | undefined> {
  try {
    return await cluster.wait(inflight, { maxMs });
  } catch (e) {
    if (e instanceof NetworkError || e instanceof Error) return undefined;
    throw e;
  }
}

function outcomeOf(reply: Document | undefined): Outcome {
  if (reply === undefined) return "unknown";
  if (reply.ok === 1) return "committed";
  if (reply.codeName === "NoSuchTransaction") return "aborted";
  return "unknown";
}

async function runOne(clusterSeed: number, txns: readonly TxnSpec[], faults: readonly FaultSpec[]): Promise<void> {
  const { cluster, router } = await startTxnCluster({ seed: clusterSeed }, WIDTH);
  const sessions: Doc[] = [];
  for (let k = 0; k < txns.length; k++) sessions.push(await newSession(router));
  cluster.applyFaults(
    schedule(
      cluster,
      faults.filter((f) => f.phase === "statements"),
    ),
  );

  // Statements, then a commit sent without waiting: the commits overlap one another and the faults.
  const commits: (InFlight | undefined)[] = [];
  for (const [k, spec] of txns.entries()) {
    let ok = true;
    for (const [j, s] of spec.shards.entries()) {
      const reply = await settle(
        cluster,
        router.send("test", {
          insert: "foo",
          documents: [{ _id: idFor(k, s), txn: k }],
          ...txn(sessions[k], 1, j === 0),
        }),
        120_000,
      );
      if (reply?.ok !== 1) {
        ok = false;
        break;
      }
    }
    commits.push(ok ? router.send("admin", { commitTransaction: 1, ...txn(sessions[k], 1) }) : undefined);
  }
  cluster.applyFaults(
    schedule(
      cluster,
      faults.filter((f) => f.phase === "commit"),
    ),
  );
  const outcomes: Outcome[] = [];
  for (const c of commits) outcomes.push(c === undefined ? "unknown" : outcomeOf(await settle(cluster, c, 200_000)));

  // Faults stop (the schedule restarts and heals everything); time passes.
  await cluster.advance(20_000);
  cluster.heal();
  cluster.configureNetwork({ dropRate: 0, duplicateRate: 0 });
  for (let i = 0; i < SHARDS; i++) await cluster.restart(cluster.shard(i));
  // Unknown outcomes: the client retries commitTransaction (with its recoveryToken-less router).
  for (const [k, o] of outcomes.entries()) {
    if (o !== "unknown" || commits[k] === undefined) continue;
    outcomes[k] = outcomeOf(
      await settle(cluster, router.send("admin", { commitTransaction: 1, ...txn(sessions[k], 1) }), 200_000),
    );
  }
  await cluster.advance(200_000);
  if (process.env.SESSIONSIM_PROP_STATS !== undefined) {
    const tr = cluster.trace();
    console.log(
      JSON.stringify({
        outcomes,
        crashes: tr.filter((e) => e.type === "node.crash").length,
        recovered: tr.filter((e) => e.type === "coord.create" && e.recovered).length,
        decisions: tr.filter((e) => e.type === "coord.decision").map((e) => e.decision),
      }),
    );
  }

  const present: number[][] = [];
  for (let i = 0; i < SHARDS; i++) present.push(await idsOnShard(cluster, i));
  for (const [k, spec] of txns.entries()) {
    const on = spec.shards.map((s) => present[s].includes(idFor(k, s)));
    const all = on.every(Boolean);
    const none = on.every((x) => !x);
    assert.ok(
      all || none,
      `txn${k} is partly committed: ${JSON.stringify(spec.shards.map((s, j) => [`shard${s}`, on[j]]))}`,
    );
    if (outcomes[k] === "committed")
      assert.ok(all, `txn${k}: the client was told it committed, but its writes are missing`);
    if (outcomes[k] === "aborted")
      assert.ok(none, `txn${k}: the client was told NoSuchTransaction, but its writes are visible`);
  }
  assert.equal(await preparedCount(cluster, SHARDS), 0, "a transaction stayed prepared");
  for (let i = 0; i < SHARDS; i++)
    assert.deepEqual(await coordinatorDocs(cluster, i), [], `shard${i} kept a coordinator document`);
  const bugs = cluster.trace().filter((e) => e.type === "node.bug");
  assert.deepEqual(bugs, [], "simulator bugs");
  await cluster.stop();
}

void test("cross-shard transactions are atomic and never stay prepared under crashes and partitions", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.array(txnArb, { minLength: 1, maxLength: 4 }),
      fc.array(faultArb, { maxLength: 3 }),
      async (clusterSeed, txns, faults) => {
        try {
          await runOne(clusterSeed, txns, faults);
        } catch (e) {
          console.log(`failing run: ${describeRun(clusterSeed, txns, faults)}`);
          throw e;
        }
      },
    ),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
});

void test("the same seed gives the same trace (two-phase commit with a coordinator crash)", async () => {
  const run = async (): Promise<string> => {
    const { cluster, router } = await startTxnCluster({ seed: 7 });
    const lsid = await newSession(router);
    await router.runCommand("test", {
      insert: "foo",
      documents: [{ _id: -5 }, { _id: 5 }, { _id: 15 }],
      ...txn(lsid, 1, true),
    });
    cluster.applyFaults([
      { at: 3, kind: "crash", node: cluster.shard(0) },
      { at: 500, kind: "restart", node: cluster.shard(0) },
    ]);
    const c: Connection = router;
    await settle(cluster, c.send("admin", { commitTransaction: 1, ...txn(lsid, 1) }), 100_000);
    await cluster.advance(100_000);
    const hash = cluster.traceHash();
    await cluster.stop();
    return hash;
  };
  assert.equal(await run(), await run());
});
