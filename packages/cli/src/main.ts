#!/usr/bin/env node
/**
 * The `sessionsim` command line. `pnpm sessionsim <command>` from the repository root.
 */
import { Command, CommanderError } from "commander";
import pc from "picocolors";
import { availableParallelism } from "node:os";
import type { ClusterOptions } from "sessionsim";
import { addReportOptions, writeReportFiles, type ReportFlags } from "./report-output.js";
import { runScenario } from "./run-scenario.js";
import { registerPropertyCommands } from "./property-commands.js";
import { runSweep } from "./sweep/run-sweep.js";
import { SCENARIOS, findScenario, type Scenario } from "./scenarios/index.js";
import { parseChoice, parseIntOption, parseParameterOptions, USAGE_EXIT_CODE, UsageError } from "./usage.js";

const program = new Command();
program
  .name("sessionsim")
  .description("Deterministic simulation of MongoDB logical sessions in a sharded cluster")
  // Every usage error reads `sessionsim: error: …` and exits with status 2 (inherited by the
  // subcommands defined below).
  .configureOutput({ outputError: (text, write) => write(`sessionsim: ${text}`) })
  .exitOverride((err) => {
    throw err;
  });

/** The cluster flags of `run` and `demo`. */
interface ClusterFlags {
  readonly shards?: string;
  readonly mongos?: string;
  readonly auth?: string;
  readonly param?: string[];
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds `--shards`, `--mongos`, `--auth` and `--param` (repeatable) to a scenario command. */
function addClusterOptions(command: Command): Command {
  return command
    .option("--shards <n>", "shards (default: the scenario's, usually 2)")
    .option("--mongos <n>", "mongos routers (default: the scenario's, usually 1)")
    .option("--auth <on|off>", "access control on every node (with on, the scenario's clients log in as a root user)")
    .option(
      "--param <name=value>",
      "a server parameter on every node, repeatable (e.g. logicalSessionRefreshMillis=10000, localLogicalSessionTimeoutMinutes=5, maxSessions=100)",
      collect,
    );
}

/** The cluster options the flags override (undefined: none given, the scenario's own). */
function clusterOverrides(flags: ClusterFlags): ClusterOptions | undefined {
  const o: { -readonly [K in keyof ClusterOptions]: ClusterOptions[K] } = {};
  if (flags.shards !== undefined) o.shards = parseIntOption("--shards", flags.shards, 0);
  if (flags.mongos !== undefined) o.mongos = parseIntOption("--mongos", flags.mongos, 1);
  if (flags.auth !== undefined) o.auth = parseChoice("--auth", flags.auth, ["on", "off"]) === "on";
  if (flags.param !== undefined) o.parameters = parseParameterOptions(flags.param);
  return Object.keys(o).length === 0 ? undefined : o;
}

/** The options `demo` and `run` share: the seed, timer lines, the cluster's and the report's. */
function addRunOptions(command: Command): Command {
  return addReportOptions(
    addClusterOptions(command.option("--seed <seed>", "random seed", "1").option("--no-timers", "hide timer firings")),
  );
}
type RunFlags = { seed: string; timers: boolean } & ClusterFlags & ReportFlags;

addRunOptions(
  program
    .command("demo")
    .description("run the default simulation on a 2-shard, 1-mongos cluster and print its timeline"),
).action(async (opts: RunFlags) => {
  await runAndPrint("demo", opts.seed, opts.timers, clusterOverrides(opts), opts);
});

program
  .command("list")
  .description("list the scenarios")
  .action(() => {
    for (const s of SCENARIOS) {
      const needs = describeRequirements(s.requires);
      console.log(
        `${pc.bold(s.name.padEnd(26))} ${s.title}\n${"".padEnd(27)}${pc.dim(s.teaches)}${needs === "" ? "" : `\n${"".padEnd(27)}${pc.dim(`needs ${needs}`)}`}`,
      );
    }
  });

addRunOptions(
  program
    .command("run <scenario>")
    .description("run a named scenario and print its timeline (and write its report with --report/--svg/--png)"),
).action(async (name: string, opts: RunFlags) => {
  await runAndPrint(name, opts.seed, opts.timers, clusterOverrides(opts), opts);
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
        seeds: parseIntOption("--seeds", opts.seeds, 1),
        metrics: opts.metric ?? [],
        workers: parseIntOption("--workers", opts.workers, 1),
        out: opts.out,
        progress: process.stderr.isTTY,
      });
      console.log(`${results.length} runs; wrote ${files.join(", ")}`);
    },
  );

registerPropertyCommands(program);

async function runAndPrint(
  name: string,
  seed: string,
  timers: boolean,
  overrides: ClusterOptions | undefined,
  report: ReportFlags = {},
): Promise<void> {
  const scenario = findScenario(name);
  if (scenario === undefined)
    throw new UsageError(`unknown scenario ${name}; try: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  const { cluster, lines } = await runScenario(scenario, {
    seed: /^\d+$/.test(seed) ? Number(seed) : seed,
    timers,
    ...(overrides === undefined ? {} : { cluster: overrides }),
  });
  console.log(pc.bold(`${scenario.title}  (seed ${seed}${describeOverrides(overrides)})`));
  console.log(pc.dim(`${scenario.teaches}\nSource: ${scenario.source}\n`));
  for (const l of lines) console.log(l);
  console.log(pc.dim(`\n${cluster.trace().length} trace events, trace hash ${cluster.traceHash().slice(0, 16)}`));
  const { title, teaches, source } = scenario;
  await writeReportFiles(cluster.trace(), report, { title, teaches, source, seed, name: scenario.name });
  await cluster.stop();
}

/** `at least 2 shards, access control on` for `list`. */
function describeRequirements(r: Scenario["requires"]): string {
  const parts: string[] = [];
  if ((r?.shards ?? 1) > 1) parts.push(`at least ${r?.shards} shards`);
  if ((r?.mongos ?? 1) > 1) parts.push(`at least ${r?.mongos} mongos`);
  if (r?.auth !== undefined) parts.push(`access control ${r.auth ? "on" : "off"}`);
  return parts.join(", ");
}

/** `, 3 shards, auth on, maxSessions=10` for the title line. */
function describeOverrides(o: ClusterOptions | undefined): string {
  if (o === undefined) return "";
  const parts: string[] = [];
  if (o.shards !== undefined) parts.push(`${o.shards} shard${o.shards === 1 ? "" : "s"}`);
  if (o.mongos !== undefined) parts.push(`${o.mongos} mongos`);
  if (o.auth !== undefined) parts.push(`auth ${o.auth ? "on" : "off"}`);
  for (const [k, v] of Object.entries(o.parameters ?? {})) parts.push(`${k}=${String(v)}`);
  return `, ${parts.join(", ")}`;
}

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; commander has already printed its usage errors.
    process.exitCode = e.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
  } else if (e instanceof UsageError) {
    console.error(`sessionsim: error: ${e.message}`);
    process.exitCode = USAGE_EXIT_CODE;
  } else throw e;
}
