/**
 * The property-testing commands of the command line: `explore`, `merge`, `replay` and `fuzz`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import cliProgress from "cli-progress";
import pc from "picocolors";
import {
  CaseFailure,
  checkStandard,
  describeFailure,
  FAULT_LEVELS,
  parseReproduction,
  runFuzz,
  type CaseResult,
  type FaultLevel,
} from "@sessionsim/testing";
import { formatTimeline } from "@sessionsim/report";
import { explore } from "./explore/explore.js";
import { mergeResults, parseShard, type ExploreResult, type SeedResult } from "./explore/results.js";

function faultLevel(s: string): FaultLevel {
  if (!(FAULT_LEVELS as readonly string[]).includes(s))
    throw new Error(`--faults must be one of ${FAULT_LEVELS.join(", ")}`);
  return s as FaultLevel;
}

function int(name: string, s: string, min = 0): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min} (got ${s})`);
  return n;
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
        json?: boolean;
        out?: string;
      }) => {
        const settings = {
          faults: faultLevel(opts.faults),
          commands: int("--commands", opts.commands, 1),
          shards: int("--shards", opts.shards),
          mongos: int("--mongos", opts.mongos, 1),
          ...(opts.auth === undefined ? {} : { auth: opts.auth === "on" || opts.auth === "true" }),
          determinism: opts.determinism === true,
          ...(opts.exactCommands === true ? { exactCommands: true } : {}),
        };
        const log = opts.json === true ? (s: string) => console.error(s) : (s: string) => console.log(s);
        const result = await explore({
          settings,
          runs: int("--runs", opts.runs, 1),
          seed: int("--seed", opts.seed),
          workers: int("--workers", opts.workers),
          ...(opts.shard === undefined ? {} : { shard: parseShard(opts.shard) }),
          progress: process.stderr.isTTY,
          onSeed: (r) => {
            if (r.failed) printFailure(r, log);
          },
        });
        if (opts.out !== undefined) writeFileSync(opts.out, JSON.stringify(result, null, 2) + "\n");
        if (opts.json === true) console.log(JSON.stringify(result, null, 2));
        else printSummary(result, log);
        if (result.failed > 0) process.exitCode = 1;
      },
    );

  program
    .command("merge <files...>")
    .description("combine the JSON results of several explore runs (e.g. --shard 0/4 … 3/4) deterministically")
    .option("--out <file>", "write the merged JSON here instead of stdout")
    .action((files: string[], opts: { out?: string }) => {
      const merged = mergeResults(files.map((f) => JSON.parse(readFileSync(f, "utf8")) as ExploreResult));
      const text = JSON.stringify(merged, null, 2) + "\n";
      if (opts.out !== undefined) {
        writeFileSync(opts.out, text);
        printSummary(merged, (s) => console.error(s));
      } else process.stdout.write(text);
      if (merged.failed > 0) process.exitCode = 1;
    });

  program
    .command("replay <reproduction>")
    .description("rerun one case from its reproduction line; print its scenario, timeline and violated invariants")
    .option("--internal", "include messages between cluster nodes in the timeline")
    .option("--timers", "include timer firings in the timeline")
    .option("--report <file>", "also write the HTML report of the run")
    .action(async (text: string, opts: { internal?: boolean; timers?: boolean; report?: string }) => {
      const repro = parseReproduction(text);
      let last: CaseResult | undefined;
      const r = await checkStandard({
        seed: repro.seed,
        path: repro.path,
        numRuns: 1,
        endOnFailure: true,
        faults: repro.faults,
        commands: repro.commands,
        shards: repro.shards,
        mongos: repro.mongos,
        ...(repro.auth === undefined ? {} : { auth: repro.auth }),
        ...(repro.replayPath === undefined ? {} : { replayPath: repro.replayPath }),
        onResult: (_c, result) => (last = result),
      });
      console.log(pc.bold(`replay seed=${repro.seed} path=${repro.path} faults=${repro.faults}`));
      if (last === undefined) {
        console.log(r.failed ? pc.red(`the case failed before running: ${String(r.error)}`) : "no case ran");
        process.exitCode = r.failed ? 1 : 0;
        return;
      }
      console.log(pc.bold("\nScenario"));
      for (const l of last.log) console.log(`  ${l}`);
      console.log(pc.bold("\nTimeline"));
      const lines = formatTimeline(last.trace, {
        internal: opts.internal === true,
        timers: opts.timers === true,
        paint: { time: pc.dim, fault: pc.yellow, error: pc.red, note: pc.cyan, dim: pc.dim },
      });
      for (const l of lines) console.log(l);
      if (r.failed) {
        const err = r.error;
        console.log(pc.bold(pc.red("\nViolated")));
        console.log(err instanceof CaseFailure ? describeFailure(err.result) || err.message : String(err));
        process.exitCode = 1;
      } else console.log(pc.green("\nno invariant violated"));
      if (opts.report !== undefined) await writeHtmlReport(opts.report, last, repro.seed);
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
}

/** Writes the HTML report if the report package provides `buildReport`; says so if not. */
async function writeHtmlReport(file: string, r: CaseResult, seed: number): Promise<void> {
  const report = (await import("@sessionsim/report")) as Record<string, unknown>;
  const build = report.buildReport as ((trace: unknown, options: Record<string, unknown>) => string) | undefined;
  if (typeof build !== "function") {
    console.error(pc.yellow("--report: this build of @sessionsim/report has no buildReport; skipped"));
    return;
  }
  writeFileSync(file, build(r.trace, { title: `sessionsim replay (seed ${seed})`, seed }));
  console.log(`report written to ${file}`);
}
