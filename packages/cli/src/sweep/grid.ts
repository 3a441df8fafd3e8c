import { UsageError } from "../usage.js";

/** One cell of a sweep: a parameter value and a seed. */
export interface SweepCell {
  readonly param: string;
  readonly value: number | boolean;
  readonly seed: number;
}

/** Parses `name=v1,v2,...` (numbers or booleans) as `--param` takes it. */
export function parseParam(spec: string): { name: string; values: (number | boolean)[] } {
  const eq = spec.indexOf("=");
  if (eq <= 0) throw new UsageError(`--param must look like name=v1,v2,... (got ${spec})`);
  const name = spec.slice(0, eq);
  const values = spec
    .slice(eq + 1)
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v.length > 0)
    .map((v) => (v === "true" ? true : v === "false" ? false : Number(v)));
  if (values.length === 0 || values.some((v) => typeof v === "number" && !Number.isFinite(v)))
    throw new UsageError(`--param ${name}: values must be numbers or booleans`);
  return { name, values };
}

/** Every (value, seed) pair, values outermost, seeds 1..n (offset by `firstSeed`). */
export function grid(name: string, values: readonly (number | boolean)[], seeds: number, firstSeed = 1): SweepCell[] {
  return values.flatMap((value) =>
    Array.from({ length: seeds }, (_, i) => ({ param: name, value, seed: firstSeed + i })),
  );
}
