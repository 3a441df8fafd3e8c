/**
 * The property-testing commands of the command line: `explore`, `merge`, `replay` and `fuzz`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import cliProgress from "cli-progress";
import pc from "picocolors";
import { CoverageTracker, FAULT_LEVELS, runFuzz, type FaultLevel } from "@sessionsim/testing";
import { explore } from "./explore/explore.js";
import { mergeResults, parseShard, withRequirements, type ExploreResult, type SeedResult } from "./explore/results.js";
import { addReportOptions } from "./report-output.js";
import { replay, type ReplayFlags } from "./replay.js";
import { parseChoice, parseIntOption, UsageError } from "./usage.js";

const faultLevel = (s: string): FaultLevel => parseChoice("--faults", s, FAULT_LEVELS);
const int = parseIntOption;

/** Reads one `explore --json` result file; unreadable or foreign files are usage errors. */
function readResult(file: string): ExploreResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON (merge takes the files of explore --json or --out)`);
  }
  const o = r as Partial<ExploreResult> | null;
  if (o === null || typeof o !== "object" || !Array.isArray(o.ranges) || typeof o.settings !== "object")
    throw new UsageError(`${file} is not an explore result (merge takes the files of explore --json or --out)`);
  return o as ExploreResult;
}

function printFailure(r: SeedResult, out: (s: string) => void): void {
  out(pc.red(`✗ seed ${r.seed}: ${(r.invariants ?? []).join(", ")}`));
  const first = (r.message ?? "").split("\n")[0];
  if (first !== "") out(`  ${first}`);
  if (r.reproduction !== undefined) out(`  ${pc.bold(r.reproduction)}`);
}

/** Adds `explore`, `merge`, `replay` and `fuzz` to the program. */
export function registerPropertyCommands(program: Command): void {
  program
    .command("explore")
    .description(
      "run the standard property over many seeds in parallel worker threads; print every failure's reproduction line",
    )
    .option("--runs <n>", "number of seeds", "100")
    .option("--workers <k>", "worker threads (0: run in this thread)", String(Math.max(1, availableParallelism() - 1)))
    .option("--seed <s>", "first seed", "1")
    .option("--faults <level>", `faults to inject: ${FAULT_LEVELS.join(" | ")}`, "all")
    .option("--commands <n>", "commands per run (at most)", "100")
    .option("--shards <n>", "shards", "2")
    .option("--mongos <n>", "mongos routers", "2")
    .option("--auth <on|off>", "force access control on or off (default: varies per seed)")
    .option("--determinism", "run every case twice and compare trace hashes")
    .option("--exact-commands", "exactly --commands commands per run (as the benchmarks do) instead of up to that many")
    .option("--shard <i/n>", "run only shard i (0-based) of n of the seed range")
    .option(
      "--require <state>",
      "a coverage state role/session/txn/kill (* for any part) some seed must reach, else the sweep fails; repeatable (e.g. shard/*/prepared/kill-pending)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--json", "print the results as JSON on stdout")
    .option("--out <file>", "also write the JSON results to a file")
    .action(
      async (opts: {
        runs: string;
        workers: string;
        seed: string;
        faults: string;
        commands: string;
        shards: string;
        mongos: string;
        auth?: string;
        determinism?: boolean;
        exactCommands?: boolean;
        shard?: string;
        require?: string[];
        json?: boolean;
        out?: string;
      }) => {
        try {
          new CoverageTracker().require(...(opts.require ?? []));
        } catch (e) {
          throw new UsageError(`--require: ${e instanceof Error ? e.message : String(e)}`);
        }
        const settings = {
          faults: faultLevel(opts.faults),
          commands: int("--commands", opts.commands, 1),
          shards: int("--shards", opts.shards),
          mongos: int("--mongos", opts.mongos, 1),
          ...(opts.auth === undefined ? {} : { auth: parseChoice("--auth", opts.auth, ["on", "off"]) === "on" }),
          determinism: opts.determinism === true,
          ...(opts.exactCommands === true ? { exactCommands: true } : {}),
        };
        const runs = int("--runs", opts.runs, 1);
        const seed = int("--seed", opts.seed);
        const workers = int("--workers", opts.workers);
        const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
        const log = opts.json === true ? (s: string) => console.error(s) : (s: string) => console.log(s);
        const explored = await explore({
          settings,
          runs,
          seed,
          workers,
          ...(shard === undefined ? {} : { shard }),
          progress: process.stderr.isTTY,
          onSeed: (r) => {
            if (r.failed) printFailure(r, log);
          },
        });
        const result = withRequirements(explored, opts.require ?? []);
        if (opts.out !== undefined) writeFileSync(opts.out, JSON.stringify(result, null, 2) + "\n");
        if (opts.json === true) console.log(JSON.stringify(result, null, 2));
        else printSummary(result, log);
        if (result.failed > 0 || (result.missing ?? []).length > 0) process.exitCode = 1;
      },
    );

  program
    .command("merge <files...>")
    .description("combine the JSON results of several explore runs (e.g. --shard 0/4 … 3/4) deterministically")
    .option("--out <file>", "write the merged JSON here instead of stdout")
    .action((files: string[], opts: { out?: string }) => {
      const twice = files.find((f, i) => files.indexOf(f) !== i);
      if (twice !== undefined) throw new UsageError(`${twice} is given twice`);
      const results = files.map(readResult);
      let merged: ExploreResult;
      try {
        merged = mergeResults(results);
      } catch (e) {
        throw new UsageError(`cannot merge ${files.join(", ")}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const text = JSON.stringify(merged, null, 2) + "\n";
      if (opts.out !== undefined) {
        writeFileSync(opts.out, text);
        printSummary(merged, (s) => console.error(s));
      } else process.stdout.write(text);
      if (merged.failed > 0 || (merged.missing ?? []).length > 0) process.exitCode = 1;
    });

  addReportOptions(
    program
      .command("replay <reproduction>")
      .description(
        "rerun one case from its reproduction line; print its scenario, timeline and violated invariants (and write its report with --report/--svg/--png)",
      )
      .option("--internal", "include messages between cluster nodes in the timeline")
      .option("--timers", "include timer firings in the timeline"),
  ).action(async (text: string, opts: ReplayFlags) => {
    const r = await replay(text, opts);
    if (r.failed) process.exitCode = 1;
  });

  program
    .command("fuzz")
    .description("send fuzzed command documents to every node role, with and without auth; report what broke")
    .option("--count <n>", "documents to try", "10000")
    .option("--seed <s>", "seed", "1")
    .option("--json", "print the report as JSON")
    .action(async (opts: { count: string; seed: string; json?: boolean }) => {
      const count = int("--count", opts.count, 1);
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              format: "fuzz [{bar}] {value}/{total} documents | {eta_formatted} left",
              stream: process.stderr,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(count, 0);
      const report = await runFuzz({ count, seed: int("--seed", opts.seed), onProgress: (n) => bar?.update(n) });
      bar?.stop();
      if (opts.json === true) {
        console.log(
          JSON.stringify(
            { ...report, problems: report.problems.map((p) => ({ kind: p.kind, message: p.message })) },
            null,
            2,
          ),
        );
      } else {
        console.log(
          `${report.tried} documents tried: ${report.okReplies} ok, ${report.errorReplies} error replies, ${report.networkErrors} network errors`,
        );
        const top = Object.entries(report.codeNames)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8);
        console.log(pc.dim(`most common errors: ${top.map(([k, n]) => `${k} ${n}`).join(", ")}`));
        if (report.problems.length === 0)
          console.log(pc.green("nothing broke: every reply was MongoDB-shaped, no node.bug, invariants held"));
        else {
          console.log(pc.red(`${report.problems.length} distinct problem(s):`));
          for (const p of report.problems) console.log(`  ${pc.red(p.kind)} ${p.message}`);
        }
      }
      if (report.problems.length > 0) process.exitCode = 1;
    });
}

function printSummary(r: ExploreResult, out: (s: string) => void): void {
  const ranges = r.ranges.map(([a, b]) => `${a}..${b - 1}`).join(", ");
  out(
    `${r.runs} seeds (${ranges}), faults=${r.settings.faults}: ${r.passed} passed, ${r.failed} failed; ${Object.keys(r.coverage).length} coverage combinations reached`,
  );
  for (const f of r.failures) if (f.reproduction !== undefined) out(`  ${f.reproduction}`);
  if (r.missing !== undefined && r.missing.length > 0)
    out(
      pc.red(
        `✗ required coverage never reached by any seed: ${r.missing.join(", ")} (required: ${(r.required ?? []).join(", ")})`,
      ),
    );
  else if (r.required !== undefined) out(pc.green(`every required coverage state reached: ${r.required.join(", ")}`));
}
