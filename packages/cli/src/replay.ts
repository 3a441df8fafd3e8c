/**
 * `sessionsim replay <reproduction>`: reruns one case of the standard property from its
 * reproduction line, prints its scenario and timeline (the events that led to a violation marked
 * `✗`) and the violated invariants, and writes its report (the violation at the top, its events
 * highlighted in the diagram).
 */
import pc from "picocolors";
import {
  CaseFailure,
  checkStandard,
  describeFailure,
  formatReproduction,
  parseReproduction,
  reproductionOptions,
  type CaseResult,
  type Invariant,
  type Reproduction,
  type StandardCheckResult,
  type Violation,
} from "@sessionsim/testing";
import { formatTimeline, type ReportViolation } from "@sessionsim/report";
import { writeReportFiles, type ReportFlags } from "./report-output.js";
import { UsageError } from "./usage.js";

/** The flags of `sessionsim replay`. */
export interface ReplayFlags extends ReportFlags {
  /** Include messages between cluster nodes in the timeline. */
  readonly internal?: boolean;
  /** Include timer firings in the timeline. */
  readonly timers?: boolean;
}

/** What {@link replay} found. */
export interface ReplayOutcome {
  readonly reproduction: Reproduction;
  readonly failed: boolean;
  readonly violations: readonly Violation[];
  /** The report files written (with `--report`, `--svg`, `--png`). */
  readonly written: readonly string[];
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Replays a reproduction line: prints it all with `print` and writes the report files the flags
 * ask for. Lines that do not parse or do not replay are a {@link UsageError}.
 *
 * @example
 * const r = await replay("sessionsim replay 'seed=3;path=1:0;faults=network;cmds=40'", { report: "out.html" });
 * if (r.failed) process.exitCode = 1;
 */
export async function replay(
  text: string,
  flags: ReplayFlags = {},
  options: { readonly invariants?: readonly Invariant[]; readonly print?: (line: string) => void } = {},
): Promise<ReplayOutcome> {
  const print = options.print ?? ((l: string) => console.log(l));
  let repro: Reproduction;
  try {
    repro = parseReproduction(text);
  } catch (e) {
    throw new UsageError(
      `not a reproduction line (${message(e)}); explore prints them as sessionsim replay 'seed=…;path=…;…'`,
    );
  }
  const line = formatReproduction(repro).replace(/^sessionsim replay /, "");
  let last: CaseResult | undefined;
  let r: StandardCheckResult;
  try {
    r = await checkStandard({
      ...reproductionOptions(repro),
      ...(options.invariants === undefined ? {} : { invariants: options.invariants }),
      onResult: (_c, result) => (last = result),
    });
  } catch (e) {
    // fast-check refuses a path its arbitrary cannot follow (an edited line, another version).
    throw new UsageError(`cannot replay ${line}: ${message(e)}`);
  }
  if (last === undefined) {
    if (r.failed) throw new UsageError(`cannot replay ${line}: ${message(r.error)}`);
    print("no case ran");
    return { reproduction: repro, failed: false, violations: [], written: [] };
  }
  const err = r.failed ? r.error : undefined;
  const violations = err instanceof CaseFailure ? err.result.violations : [];
  print(pc.bold(`replay ${line}`));
  print(pc.bold("\nScenario"));
  for (const l of last.log) print(`  ${l}`);
  print(pc.bold("\nTimeline") + (violations.length > 0 ? pc.dim("  (✗: the events that led to the violation)") : ""));
  const timeline = formatTimeline(last.trace, {
    internal: flags.internal === true,
    timers: flags.timers === true,
    mark: new Set(violations.flatMap((v) => v.events.map((e) => e.seq))),
    paint: { time: pc.dim, fault: pc.yellow, error: pc.red, note: pc.cyan, dim: pc.dim },
  });
  for (const l of timeline) print(l);
  if (r.failed) {
    print(pc.bold(pc.red("\nViolated")));
    print(err instanceof CaseFailure ? describeFailure(err.result) || err.message : message(err));
  } else print(pc.green("\nno invariant violated"));
  // A determinism failure has no invariant of its own: the report shows the message.
  const reported: ReportViolation[] =
    violations.length > 0 || err === undefined
      ? [...violations]
      : [{ invariant: "determinism", kind: "safety", message: message(err), events: [] }];
  const written = await writeReportFiles(last.trace, flags, {
    title: `sessionsim replay (seed ${repro.seed})`,
    seed: repro.seed,
    name: line,
    ...(reported.length === 0 ? {} : { violations: reported }),
  });
  return { reproduction: repro, failed: r.failed, violations, written };
}
