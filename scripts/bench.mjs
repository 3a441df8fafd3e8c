// Runs the benchmarks (TypeScript, through tsx) with an exposed GC for the memory figures.
import { spawnSync } from "node:child_process";
const r = spawnSync(
  process.execPath,
  ["--expose-gc", "--import", "tsx", "scripts/bench/main.ts", ...process.argv.slice(2)],
  { stdio: "inherit" },
);
process.exit(r.status ?? 1);
