/**
 * An explore worker thread: runs the standard property for the seeds the main thread sends and
 * answers with each seed's result.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runSeed } from "./run-seed.js";
import type { ExploreSettings } from "./results.js";

const settings = workerData as ExploreSettings;
parentPort?.on("message", (msg: { seed: number } | "stop") => {
  if (msg === "stop") {
    parentPort?.close();
    return;
  }
  runSeed(settings, msg.seed).then(
    (result) => parentPort?.postMessage({ ok: true, result }),
    (e: unknown) =>
      parentPort?.postMessage({
        ok: false,
        seed: msg.seed,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      }),
  );
});
