/**
 * `pnpm bench`: runs every benchmark and prints a table, or with `--json` one JSON object per
 * figure and line: {"name", "value", "unit"}. `--only <prefix>` runs the groups whose figures
 * start with that prefix.
 */
import type { Figure } from "./figure.js";
import { kernelBench } from "./kernel.bench.js";
import { sessionsBench } from "./sessions.bench.js";
import { txnBench } from "./txn.bench.js";
import { exploreBench, propBench, simBench } from "./prop.bench.js";

const groups: { prefix: string; run: () => Figure[] | Promise<Figure[]> }[] = [
  { prefix: "kernel", run: kernelBench },
  { prefix: "sessions", run: sessionsBench },
  { prefix: "txn", run: txnBench },
  { prefix: "prop", run: propBench },
  { prefix: "explore", run: exploreBench },
  { prefix: "sim", run: simBench },
];

const args = process.argv.slice(2);
const json = args.includes("--json");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

for (const group of groups) {
  if (only !== undefined && !group.prefix.startsWith(only) && !only.startsWith(group.prefix)) continue;
  for (const f of await group.run()) {
    if (json) console.log(JSON.stringify(f));
    else console.log(`${f.name.padEnd(36)} ${String(f.value).padStart(14)} ${f.unit}`);
  }
}
