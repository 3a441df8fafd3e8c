// Runs every test file with node's test runner through tsx. Node 20's --test does not expand
// globs, so the files are listed here: packages/*/test/**/*.test.ts and test/**/*.test.ts.
// `--only <substring>` limits the run to matching paths.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(walk(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const roots = ["test", ...readdirSync("packages").map((p) => join("packages", p, "test"))];
const args = process.argv.slice(2);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const files = roots
  .filter((r) => {
    try {
      return statSync(r).isDirectory();
    } catch {
      return false;
    }
  })
  .flatMap(walk)
  .filter((f) => only === undefined || f.includes(only))
  .sort();
console.log(`sessionsim tests: ${files.length} files; SESSIONSIM_SEED=${process.env.SESSIONSIM_SEED ?? "(default)"}`);
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
