// A sweep worker thread: runs the cells it is sent and posts their results back.
import { parentPort } from "node:worker_threads";
import { runCell } from "./run-cell.js";
import type { SweepCell } from "./grid.js";

const port = parentPort;
if (port === null) throw new Error("sweep worker must run in a worker thread");
port.on("message", (msg: { scenario: string; cell: SweepCell } | "stop") => {
  if (msg === "stop") return port.close();
  runCell(msg.scenario, msg.cell).then(
    (result) => port.postMessage({ ok: true, result }),
    (e: unknown) =>
      port.postMessage({ ok: false, cell: msg.cell, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
