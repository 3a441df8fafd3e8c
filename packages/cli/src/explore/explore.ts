import { Worker } from "node:worker_threads";
import cliProgress from "cli-progress";
import { runSeed } from "./run-seed.js";
import { shardRange, summarize, type ExploreResult, type ExploreSettings, type SeedResult } from "./results.js";

/**
 * Options of {@link explore}.
 *
 * @example
 * await explore({ settings, runs: 100, seed: 1, workers: 4, shard: { i: 0, n: 4 }, progress: true });
 */
export interface ExploreOptions {
  readonly settings: ExploreSettings;
  readonly runs: number;
  readonly seed: number;
  readonly workers: number;
  readonly shard?: { readonly i: number; readonly n: number };
  /** Show a progress bar on stderr. */
  readonly progress?: boolean;
  /** Called for each seed as it finishes (completion order). */
  readonly onSeed?: (r: SeedResult) => void;
}

/**
 * Runs the standard property over a seed range on `workers` worker threads (0: in this thread),
 * one case per seed, and summarizes the results deterministically.
 *
 * @example
 * const result = await explore({ settings: { faults: "all", commands: 100, shards: 2, mongos: 2, determinism: false }, runs: 100, seed: 1, workers: 4 });
 */
export async function explore(o: ExploreOptions): Promise<ExploreResult> {
  const [from, to] = shardRange(o.seed, o.runs, o.shard);
  const seeds = Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  const bar =
    o.progress === true
      ? new cliProgress.SingleBar(
          {
            format: "explore [{bar}] {value}/{total} seeds | {failed} failed | {eta_formatted} left",
            stream: process.stderr,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  let failed = 0;
  bar?.start(seeds.length, 0, { failed });
  const results: SeedResult[] = [];
  const done = (r: SeedResult): void => {
    results.push(r);
    if (r.failed) failed++;
    bar?.increment(1, { failed });
    o.onSeed?.(r);
  };
  try {
    if (o.workers <= 0) {
      for (const s of seeds) done(await runSeed(o.settings, s));
    } else await runPool(o.settings, seeds, o.workers, done);
  } finally {
    bar?.stop();
  }
  return summarize(o.settings, [from, to], results);
}

async function runPool(
  settings: ExploreSettings,
  seeds: readonly number[],
  workers: number,
  done: (r: SeedResult) => void,
): Promise<void> {
  let next = 0;
  const n = Math.max(1, Math.min(workers, seeds.length));
  const pool = Array.from(
    { length: n },
    () => new Worker(new URL("./worker.js", import.meta.url), { workerData: settings }),
  );
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              if (next >= seeds.length) {
                worker.postMessage("stop");
                resolve();
                return;
              }
              worker.postMessage({ seed: seeds[next++] });
            };
            worker.on(
              "message",
              (msg: { ok: true; result: SeedResult } | { ok: false; seed: number; error: string }) => {
                if (!msg.ok) return reject(new Error(`seed ${msg.seed} crashed the worker: ${msg.error}`));
                done(msg.result);
                feed();
              },
            );
            worker.on("error", reject);
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
