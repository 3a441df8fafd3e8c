/**
 * Property: on one session, random sequences of operations carrying transaction numbers — retryable
 * writes (new, repeated, older numbers; retries with more statements), transaction statements,
 * prepare, commit, abort, crashes and restarts of the shard, long pauses that let transactions
 * expire — keep the session's transaction number monotone, apply every retryable statement at
 * most once (exactly once if acknowledged), and leave committed transactions' writes exactly once
 * and aborted ones' not at all (reference §5.3–5.6, checklist 61–70).
 *
 * Replay: the run prints its seed; `SESSIONSIM_SEED=<seed>` repeats it (fast-check also prints the
 * counterexample's path).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Cluster, Long, type Document, type Timestamp } from "sessionsim";
import { lsid, txnStates, type Doc } from "./fixtures/participant.js";

const SEED = Number(process.env.SESSIONSIM_SEED ?? 20_260_104);
const RUNS = Number(process.env.SESSIONSIM_RUNS ?? 30);
console.log(`transactions.prop: seed ${SEED}, ${RUNS} runs (SESSIONSIM_SEED=<n> to replay)`);

/** One step of the session's life. `delta` picks the txnNumber relative to the highest sent. */
type Step =
  | { readonly kind: "retryable"; readonly delta: number; readonly statements: number }
  | { readonly kind: "start"; readonly delta: number }
  | { readonly kind: "continue" }
  | { readonly kind: "commit" }
  | { readonly kind: "abort" }
  | { readonly kind: "prepare" }
  | { readonly kind: "restart" }
  | { readonly kind: "pause"; readonly ms: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("retryable" as const),
      delta: fc.integer({ min: -1, max: 2 }),
      statements: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("start" as const), delta: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 3, arbitrary: fc.constant({ kind: "continue" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "commit" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "abort" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "prepare" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "restart" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("pause" as const), ms: fc.constantFrom(1000, 30_000, 95_000) }),
  },
);

/** What the test knows about the session, to avoid sending a new number behind a prepared transaction. */
interface Model {
  highest: number;
  /** The transaction number of the last `startTransaction` that succeeded. */
  txn: number | undefined;
  statementsInTxn: number;
  prepared: { n: number; ts: Timestamp } | undefined;
  /** Entries acknowledged as applied (retryable statements, committed transaction statements). */
  readonly acknowledged: Set<string>;
  /** Entries of the current transaction, acknowledged as statements (pending commit). */
  pending: string[];
  /** Entries of transactions known to be aborted or superseded. */
  readonly discarded: Set<string>;
  log: string[];
}

async function runSteps(steps: readonly Step[], seed: number): Promise<void> {
  const cluster = await Cluster.start({ shards: 1, seed });
  const node = cluster.shard(0);
  let shard = cluster.connect(node);
  const s = lsid();
  const m: Model = {
    highest: 0,
    txn: undefined,
    statementsInTxn: 0,
    prepared: undefined,
    acknowledged: new Set(),
    pending: [],
    discarded: new Set(),
    log: [],
  };
  const run = async (db: string, cmd: Doc): Promise<Document> => {
    const inflight = shard.send(db, cmd);
    try {
      return await cluster.wait(inflight, { maxMs: 60_000 });
    } catch (e) {
      throw new Error(
        `${JSON.stringify(Object.keys(cmd)[0])} did not complete: ${String(e)}; steps ${JSON.stringify(steps)}`,
        { cause: e },
      );
    }
  };
  const push = (entry: string): Doc => ({ q: { _id: "log" }, u: { $push: { applied: entry } }, upsert: true });
  const txnFields = (n: number, start = false): Doc => ({
    lsid: s,
    txnNumber: Long.fromNumber(n),
    autocommit: false,
    ...(start ? { startTransaction: true } : {}),
  });
  const dropPending = (): void => {
    for (const e of m.pending) m.discarded.add(e);
    m.pending = [];
  };

  for (const raw of steps) {
    // A new number behind a prepared transaction would wait for it: decide it first.
    let step = raw;
    if (m.prepared !== undefined && (step.kind === "retryable" || step.kind === "start" || step.kind === "continue"))
      step = { kind: "commit" };
    switch (step.kind) {
      case "retryable": {
        const n = Math.max(1, m.highest + step.delta);
        m.highest = Math.max(m.highest, n);
        const entries = Array.from({ length: step.statements }, (_, i) => `r${n}.${i}`);
        const r = await run("test", {
          update: "log",
          updates: entries.map(push),
          ordered: true,
          lsid: s,
          txnNumber: Long.fromNumber(n),
        });
        if (r.ok === 1) {
          const firstError = (r.writeErrors as Doc[] | undefined)?.[0]?.index as number | undefined;
          entries.slice(0, firstError ?? entries.length).forEach((e) => m.acknowledged.add(e));
          if (m.txn !== undefined && n > m.txn) {
            dropPending();
            m.txn = undefined;
          }
        }
        break;
      }
      case "start": {
        const n = Math.max(1, m.highest + step.delta);
        const entry = `t${n}.0`;
        const r = await run("test", { update: "log", updates: [push(entry)], ...txnFields(n, true) });
        if (n > (m.txn ?? -1) || r.ok === 1) dropPending();
        if (r.ok === 1) {
          m.highest = Math.max(m.highest, n);
          m.txn = n;
          m.statementsInTxn = 1;
          m.pending = [entry];
        }
        break;
      }
      case "continue": {
        if (m.txn === undefined) break;
        const entry = `t${m.txn}.${m.statementsInTxn++}`;
        const r = await run("test", { update: "log", updates: [push(entry)], ...txnFields(m.txn) });
        if (r.ok === 1) m.pending.push(entry);
        else dropPending();
        break;
      }
      case "prepare": {
        if (m.txn === undefined) break;
        const r = await run("admin", { prepareTransaction: 1, ...txnFields(m.txn) });
        if (r.ok === 1) m.prepared = { n: m.txn, ts: r.prepareTimestamp as Timestamp };
        break;
      }
      case "commit": {
        if (m.txn === undefined) break;
        const r = await run("admin", {
          commitTransaction: 1,
          ...txnFields(m.txn),
          ...(m.prepared !== undefined ? { commitTimestamp: m.prepared.ts } : {}),
        });
        if (r.ok === 1) {
          m.pending.forEach((e) => m.acknowledged.add(e));
          m.pending = [];
          m.prepared = undefined;
        } else if (m.prepared === undefined) dropPending();
        break;
      }
      case "abort": {
        if (m.txn === undefined) break;
        const r = await run("admin", { abortTransaction: 1, ...txnFields(m.txn) });
        if (r.ok === 1 || m.prepared === undefined) dropPending();
        if (r.ok === 1) m.prepared = undefined;
        break;
      }
      case "restart": {
        cluster.crash(node);
        await cluster.restart(node);
        shard = cluster.connect(node);
        if (m.prepared === undefined) dropPending(); // unprepared transactions die with the process
        break;
      }
      case "pause": {
        await cluster.advance(step.ms);
        break;
      }
    }
  }
  // Resolve a transaction left prepared, so the final read sees its outcome.
  if (m.prepared !== undefined && m.txn !== undefined) {
    const r = await run("admin", { commitTransaction: 1, ...txnFields(m.txn), commitTimestamp: m.prepared.ts });
    assert.equal(r.ok, 1, JSON.stringify(r));
    m.pending.forEach((e) => m.acknowledged.add(e));
    m.pending = [];
  }
  const logDoc = await run("test", { find: "log", filter: { _id: "log" } });
  const applied = (
    ((logDoc.cursor as { firstBatch: Doc[] }).firstBatch[0]?.applied as string[] | undefined) ?? []
  ).slice();

  // Every entry at most once.
  const seen = new Set<string>();
  for (const e of applied) {
    assert.ok(!seen.has(e), `statement ${e} applied twice: ${JSON.stringify(applied)}; steps ${JSON.stringify(steps)}`);
    seen.add(e);
  }
  // Every acknowledged entry exactly once; discarded transaction statements never.
  for (const e of m.acknowledged)
    assert.ok(seen.has(e), `acknowledged ${e} missing from ${JSON.stringify(applied)}; steps ${JSON.stringify(steps)}`);
  for (const e of m.discarded)
    if (!m.acknowledged.has(e))
      assert.ok(!seen.has(e), `aborted transaction statement ${e} applied; steps ${JSON.stringify(steps)}`);

  // The session's active number never decreases within an incarnation of the shard.
  let incarnationMax = -1;
  let restarts = 0;
  const restartsAt = cluster
    .trace()
    .filter((e) => e.type === "node.restart" && e.node === node)
    .map((e) => e.seq);
  for (const e of txnStates(cluster, node)) {
    while (restarts < restartsAt.length && e.seq > restartsAt[restarts]) {
      restarts++;
      incarnationMax = -1;
    }
    assert.ok(
      e.txnNumber >= incarnationMax,
      `txnNumber went back from ${incarnationMax} to ${e.txnNumber} (${e.from}->${e.to}); steps ${JSON.stringify(steps)}`,
    );
    incarnationMax = e.txnNumber;
  }
  assert.equal(
    cluster.trace().filter((e) => e.type === "node.bug").length,
    0,
    `simulator bug: ${JSON.stringify(cluster.trace().filter((e) => e.type === "node.bug"))}`,
  );
}

void test("txnNumber stays monotone and each retryable statement is applied at most once", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(stepArb, { minLength: 1, maxLength: 25 }),
      fc.integer({ min: 1, max: 1_000_000 }),
      async (steps, seed) => {
        await runSteps(steps, seed);
      },
    ),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
});
