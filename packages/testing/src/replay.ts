import type fc from "fast-check";
import { FAULT_LEVELS, type FaultLevel } from "./model/commands.js";
import type { StandardPropertyOptions } from "./property.js";

/**
 * Everything needed to rerun one case of the standard property exactly.
 *
 * @example
 * const r: Reproduction = parseReproduction(line);
 * await checkStandard({ seed: r.seed, path: r.path, replayPath: r.replayPath, faults: r.faults, endOnFailure: true });
 */
export interface Reproduction {
  /** fast-check's seed. */
  readonly seed: number;
  /** fast-check's path to the (shrunk) counterexample, e.g. `3:1:0`. */
  readonly path: string;
  readonly faults: FaultLevel;
  readonly commands: number;
  readonly shards: number;
  readonly mongos: number;
  readonly auth?: boolean;
  /** The case had exactly `commands` commands (`exactCommands`): another arbitrary, another path. */
  readonly exactCommands?: boolean;
  /** The case was run twice and its trace hashes compared (`determinismCheck`). */
  readonly determinism?: boolean;
  /** fast-check's `replayPath` hint of the commands arbitrary. */
  readonly replayPath?: string;
}

/**
 * The one-line reproduction of a case, as `sessionsim replay` takes it.
 *
 * @example
 * formatReproduction({ seed: 42, path: "3:1:0", faults: "all", commands: 100, shards: 2, mongos: 2 });
 * // "sessionsim replay 'seed=42;path=3:1:0;faults=all;cmds=100;shards=2;mongos=2'"
 */
export function formatReproduction(r: Reproduction): string {
  const parts = [
    `seed=${r.seed}`,
    `path=${r.path}`,
    `faults=${r.faults}`,
    `cmds=${r.commands}`,
    `shards=${r.shards}`,
    `mongos=${r.mongos}`,
  ];
  if (r.auth !== undefined) parts.push(`auth=${r.auth}`);
  if (r.exactCommands === true) parts.push("exact=true");
  if (r.determinism === true) parts.push("determinism=true");
  if (r.replayPath !== undefined && r.replayPath !== "") parts.push(`replay=${r.replayPath}`);
  return `sessionsim replay '${parts.join(";")}'`;
}

/**
 * Parses a reproduction (the quoted part of the line, or the whole line).
 *
 * @example
 * parseReproduction("seed=42;path=3:1:0;faults=all").seed; // 42
 */
export function parseReproduction(text: string): Reproduction {
  const m = /'([^']*)'/.exec(text);
  const body = (m === null ? text : m[1]).trim();
  const fields = new Map<string, string>();
  for (const part of body.split(";")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const seedText = fields.get("seed") ?? "";
  const seed = Number(seedText);
  if (!/^-?\d+$/.test(seedText) || !Number.isSafeInteger(seed))
    throw new Error(`reproduction without a valid seed: ${text}`);
  const faults = (fields.get("faults") ?? "all") as FaultLevel;
  if (!FAULT_LEVELS.includes(faults))
    throw new Error(`unknown fault level ${faults}; use one of ${FAULT_LEVELS.join(", ")}`);
  const num = (k: string, d: number): number => {
    const v = fields.get(k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`bad ${k}=${v} in reproduction`);
    return n;
  };
  const flag = (k: string): boolean | undefined => {
    const v = fields.get(k);
    if (v === undefined) return undefined;
    if (v !== "true" && v !== "false") throw new Error(`bad ${k}=${v} in reproduction (true or false)`);
    return v === "true";
  };
  const auth = flag("auth");
  const exactCommands = flag("exact");
  const determinism = flag("determinism");
  const replayPath = fields.get("replay");
  const path = fields.get("path") ?? "0";
  if (!/^\d+(:\d+)*$/.test(path)) throw new Error(`bad path=${path} in reproduction (numbers separated by colons)`);
  return {
    seed,
    path,
    faults,
    commands: num("cmds", 100),
    shards: num("shards", 2),
    mongos: num("mongos", 2),
    ...(auth === undefined ? {} : { auth }),
    ...(exactCommands === true ? { exactCommands } : {}),
    ...(determinism === true ? { determinism } : {}),
    ...(replayPath === undefined ? {} : { replayPath }),
  };
}

/**
 * The `checkStandard` options that rerun a reproduction's case exactly (one run, from its seed and
 * path, with the arbitrary it was generated with).
 *
 * @example
 * const r = await checkStandard({ ...reproductionOptions(parseReproduction(line)), onResult: (_c, x) => print(x) });
 */
export function reproductionOptions(r: Reproduction): StandardPropertyOptions & {
  readonly seed: number;
  readonly path: string;
  readonly numRuns: 1;
  readonly endOnFailure: true;
} {
  return {
    seed: r.seed,
    path: r.path,
    numRuns: 1,
    endOnFailure: true,
    faults: r.faults,
    commands: r.commands,
    shards: r.shards,
    mongos: r.mongos,
    ...(r.auth === undefined ? {} : { auth: r.auth }),
    ...(r.exactCommands === true ? { exactCommands: true } : {}),
    ...(r.determinism === true ? { determinismCheck: true } : {}),
    ...(r.replayPath === undefined ? {} : { replayPath: r.replayPath }),
  };
}

/**
 * The global seed of a property suite: `SESSIONSIM_SEED` from the environment, or `fallback`.
 * Print it so a failing CI run can be replayed.
 *
 * @example
 * const seed = suiteSeed(42);
 * console.log(`SESSIONSIM_SEED=${seed}`);
 * fc.assert(prop, { seed });
 */
export function suiteSeed(fallback = 42): number {
  const raw = process.env.SESSIONSIM_SEED;
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (Number.isInteger(n)) return n;
  // A non-numeric seed: hash it to a 31-bit integer (fast-check seeds are integers).
  let h = 0;
  for (const ch of raw) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h & 0x7fffffff;
}

/**
 * fast-check parameters for a replayable suite: the seed, and on failure a line that says how to
 * rerun it (`SESSIONSIM_SEED=… node --test …`) besides fast-check's own seed/path report.
 *
 * @example
 * await fc.assert(prop, replayableParameters({ numRuns: 20 }));
 */
export function replayableParameters<T>(p: fc.Parameters<T> = {}, fallbackSeed = 42): fc.Parameters<T> {
  const seed = p.seed ?? suiteSeed(fallbackSeed);
  return { ...p, seed };
}
