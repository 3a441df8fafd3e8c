/**
 * Usage errors of the command line: bad arguments, files that cannot be merged, scenarios that
 * cannot run with the options given. `main` prints them as one line, `sessionsim: error: …`, and
 * exits with status 2, as commander's own usage errors (unknown option, missing argument) do.
 */
import { Cluster, type ClusterOptions } from "sessionsim";

/**
 * An error in what the user asked for (not a bug): printed without a stack, exit status 2.
 *
 * @example
 * if (n < 1) throw new UsageError(`--runs must be at least 1 (got ${n})`);
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The exit status of usage errors (commander's and ours). */
export const USAGE_EXIT_CODE = 2;

/**
 * Parses an integer option: digits only (an optional minus sign), at least `min`.
 *
 * @example
 * parseIntOption("--runs", "100", 1); // 100
 * parseIntOption("--runs", "abc", 1); // throws UsageError "--runs must be an integer >= 1 (got abc)"
 */
export function parseIntOption(name: string, text: string, min = 0): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${name} must be an integer >= ${min} (got ${text})`);
  return n;
}

/**
 * Parses a choice among `choices`.
 *
 * @example
 * parseChoice("--auth", "on", ["on", "off"]); // "on"
 */
export function parseChoice<T extends string>(name: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text))
    throw new UsageError(`${name} must be one of ${choices.join(", ")} (got ${text})`);
  return text as T;
}

/**
 * Parses `--param name=value` options (MongoDB server parameters, as `--setParameter` takes them):
 * numbers or `true`/`false`. Names and ranges are checked when the cluster starts.
 *
 * @example
 * parseParameterOptions(["logicalSessionRefreshMillis=10000", "maxSessions=50"]);
 * // { logicalSessionRefreshMillis: 10000, maxSessions: 50 }
 */
export function parseParameterOptions(specs: readonly string[]): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param takes name=value, e.g. logicalSessionRefreshMillis=10000 (got ${spec})`);
    const name = spec.slice(0, eq).trim();
    const text = spec.slice(eq + 1).trim();
    const value = text === "true" ? true : text === "false" ? false : text === "" ? NaN : Number(text);
    if (typeof value === "number" && !Number.isFinite(value))
      throw new UsageError(`--param ${name}: the value must be a number or true/false (got ${text})`);
    if (Object.hasOwn(out, name)) throw new UsageError(`--param ${name} given twice`);
    out[name] = value;
  }
  return out;
}

/**
 * Checks server parameters by starting (and stopping) an empty cluster with them: the server's
 * own validation (unknown names, IDL bounds) as a usage error.
 *
 * @example
 * await checkParameters({ logicalSessionRefreshMillis: 0 }); // throws: not greater than or equal to 1
 */
export async function checkParameters(parameters: ClusterOptions["parameters"]): Promise<void> {
  let cluster: Cluster | undefined;
  try {
    cluster = await Cluster.start({ shards: 0, mongos: 1, parameters });
  } catch (e) {
    throw new UsageError(`--param: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await cluster?.stop();
  }
}
