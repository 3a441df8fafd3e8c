/**
 * The report flags of the command line (`--report`, `--svg`, `--png`), shared by every command that
 * ends with a trace (`run`, `demo`, and `replay`).
 */
import type { Command } from "commander";
import pc from "picocolors";
import { writeReport, type EventLike, type ReportOptions } from "@sessionsim/report";

/** Where to write the report of a run. */
export interface ReportFlags {
  /** HTML page. */
  readonly report?: string;
  /** Directory for SVG pictures. */
  readonly svg?: string;
  /** Directory for PNG pictures. */
  readonly png?: string;
}

/** Adds `--report <file>`, `--svg <dir>` and `--png <dir>` to a command. */
export function addReportOptions(command: Command): Command {
  return command
    .option("--report <file>", "write the run's report, one self-contained HTML page, to <file>")
    .option("--svg <dir>", "write the sequence diagram and the timelines as SVG files into <dir>")
    .option("--png <dir>", "write the same pictures as PNG files into <dir>");
}

/**
 * Writes the report files the flags ask for (nothing if none) and says what it wrote.
 *
 * @example
 * await writeReportFiles(cluster.trace(), { report: "out.html" }, { title: "replay of run.json" });
 */
export async function writeReportFiles(
  trace: readonly EventLike[],
  flags: ReportFlags,
  about: ReportOptions = {},
): Promise<string[]> {
  if (flags.report === undefined && flags.svg === undefined && flags.png === undefined) return [];
  const written = await writeReport(trace, { ...about, html: flags.report, svgDir: flags.svg, pngDir: flags.png });
  const pictures = (ext: string): number => written.filter((p) => p.endsWith(ext)).length;
  if (flags.report !== undefined) console.log(pc.green(`report: ${flags.report}`));
  if (flags.svg !== undefined) console.log(pc.green(`${pictures(".svg")} SVG pictures in ${flags.svg}`));
  if (flags.png !== undefined) console.log(pc.green(`${pictures(".png")} PNG pictures in ${flags.png}`));
  return written;
}
