#!/usr/bin/env node
/**
 * The `sessionsim` command line. `pnpm sessionsim <command>` from the repository root.
 */
import { Command } from "commander";
import pc from "picocolors";
import { availableParallelism } from "node:os";
import { addReportOptions, writeReportFiles, type ReportFlags } from "./report-output.js";
import { runScenario } from "./run-scenario.js";
import { registerPropertyCommands } from "./property-commands.js";
import { runSweep } from "./sweep/run-sweep.js";
import { SCENARIOS, findScenario } from "./scenarios/index.js";

const program = new Command();
program.name("sessionsim").description("Deterministic simulation of MongoDB logical sessions in a sharded cluster");

addReportOptions(
  program
    .command("demo")
    .description("run the default simulation on a 2-shard, 1-mongos cluster and print its timeline")
    .option("--seed <seed>", "random seed", "1")
    .option("--no-timers", "hide timer firings"),
).action(async (opts: { seed: string; timers: boolean } & ReportFlags) => {
  await runAndPrint("demo", opts.seed, opts.timers, opts);
});

program
  .command("list")
  .description("list the scenarios")
  .action(() => {
    for (const s of SCENARIOS)
      console.log(`${pc.bold(s.name.padEnd(26))} ${s.title}\n${"".padEnd(27)}${pc.dim(s.teaches)}`);
  });

addReportOptions(
  program
    .command("run <scenario>")
    .description("run a named scenario and print its timeline (and write its report with --report/--svg/--png)")
    .option("--seed <seed>", "random seed", "1")
    .option("--no-timers", "hide timer firings"),
).action(async (name: string, opts: { seed: string; timers: boolean } & ReportFlags) => {
  await runAndPrint(name, opts.seed, opts.timers, opts);
});

program
  .command("sweep")
  .description("run a scenario over a grid of parameter values × seeds in parallel; write CSV, JSON and SVG charts")
  .requiredOption(
    "--param <name=v1,v2,...>",
    "the server parameter to sweep, e.g. logicalSessionRefreshMillis=1000,10000,60000,300000",
  )
  .option("--scenario <name>", "scenario to run", "research-load")
  .option("--seeds <n>", "seeds per value", "3")
  .option("--metric <names...>", "metrics (default: all)")
  .option("--workers <n>", "worker threads", String(Math.max(1, availableParallelism())))
  .option("--out <dir>", "output directory", "sweep-out")
  .action(
    async (opts: {
      param: string;
      scenario: string;
      seeds: string;
      metric?: string[];
      workers: string;
      out: string;
    }) => {
      const { results, files } = await runSweep({
        param: opts.param,
        scenario: opts.scenario,
        seeds: Number(opts.seeds),
        metrics: opts.metric ?? [],
        workers: Number(opts.workers),
        out: opts.out,
        progress: process.stderr.isTTY,
      });
      console.log(`${results.length} runs; wrote ${files.join(", ")}`);
    },
  );

registerPropertyCommands(program);

async function runAndPrint(name: string, seed: string, timers: boolean, report: ReportFlags = {}): Promise<void> {
  const scenario = findScenario(name);
  if (scenario === undefined) {
    console.error(`unknown scenario ${name}; try: ${SCENARIOS.map((s) => s.name).join(", ")}`);
    process.exitCode = 2;
    return;
  }
  console.log(pc.bold(`${scenario.title}  (seed ${seed})`));
  console.log(pc.dim(`${scenario.teaches}\nSource: ${scenario.source}\n`));
  const { cluster, lines } = await runScenario(scenario, { seed: /^\d+$/.test(seed) ? Number(seed) : seed, timers });
  for (const l of lines) console.log(l);
  console.log(pc.dim(`\n${cluster.trace().length} trace events, trace hash ${cluster.traceHash().slice(0, 16)}`));
  const { title, teaches, source } = scenario;
  await writeReportFiles(cluster.trace(), report, { title, teaches, source, seed, name: scenario.name });
  await cluster.stop();
}

await program.parseAsync();
