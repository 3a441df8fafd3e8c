import type { Rng } from "./random.js";
import { roundMicros } from "./time.js";

/** How long a message takes on the wire. */
export type LatencyDistribution =
  | { readonly kind: "fixed"; readonly ms: number }
  | { readonly kind: "uniform"; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: "exponential"; readonly minMs: number; readonly meanMs: number };

/** The simulated network's behaviour; every rate is a probability per message. */
export interface NetworkConfig {
  readonly latency: LatencyDistribution;
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** Probability that a message skips the per-link FIFO order and is delayed by `reorderDelayMs`. */
  readonly reorderRate: number;
  readonly reorderDelayMs: number;
}

/**
 * Default: 0.2–2 ms per message, nothing lost. Random latency means different seeds give different
 * interleavings; per-link FIFO (like a TCP connection) holds unless `reorderRate` > 0.
 */
export const DEFAULT_NETWORK: NetworkConfig = Object.freeze({
  latency: Object.freeze({ kind: "uniform", minMs: 0.2, maxMs: 2 }),
  dropRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMs: 10,
});

export function sampleLatency(d: LatencyDistribution, rng: Rng): number {
  switch (d.kind) {
    case "uniform": // the default, first
      return roundMicros(rng.between(d.minMs, d.maxMs));
    case "fixed":
      return d.ms;
    case "exponential":
      return roundMicros(d.minMs - Math.log(1 - rng.next()) * (d.meanMs - d.minMs));
  }
}

/**
 * Which directed links are cut. `partition(a, b)` cuts both directions between the groups;
 * a one-way partition cuts only a → b.
 */
export class Partitions {
  private readonly cut = new Set<string>();

  get active(): boolean {
    return this.cut.size > 0;
  }

  add(a: readonly string[], b: readonly string[], oneWay: boolean): void {
    for (const x of a)
      for (const y of b) {
        if (x === y) continue;
        this.cut.add(`${x}\u0000${y}`);
        if (!oneWay) this.cut.add(`${y}\u0000${x}`);
      }
  }

  blocked(from: string, to: string): boolean {
    return this.cut.size > 0 && this.cut.has(`${from}\u0000${to}`);
  }

  clear(): void {
    this.cut.clear();
  }
}

/** A message could not reach its destination, or its reply never came. */
export class NetworkError extends Error {
  constructor(
    readonly kind: "HostUnreachable" | "NetworkTimeout",
    readonly host: string,
    message: string,
  ) {
    // An expected outcome of a faulty network, not a bug: no stack trace (it is costly).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = "NetworkError";
  }
}
