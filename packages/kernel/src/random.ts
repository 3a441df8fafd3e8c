import seedrandom from "seedrandom";

/** A seeded pseudo-random stream (seedrandom's Alea generator: fast, 2^116 period). */
export class Rng {
  private readonly prng: seedrandom.PRNG;

  constructor(seed: string) {
    this.prng = seedrandom.alea(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng.double();
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.prng.double() * (hi - lo + 1));
  }

  /** Uniform real in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + this.prng.double() * (hi - lo);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.prng.double() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.prng.double() * items.length)];
  }

  /** n random bytes (for UUIDs and ObjectIds). */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.prng.int32() & 0xff;
    return out;
  }
}

/**
 * One random stream per purpose, each derived from the run's seed and the purpose's name, so
 * adding a new consumer never shifts the numbers another consumer sees.
 */
export class RandomStreams {
  private readonly streams = new Map<string, Rng>();

  constructor(readonly seed: string) {}

  get(purpose: string): Rng {
    let rng = this.streams.get(purpose);
    if (rng === undefined) {
      rng = new Rng(`${this.seed}/${purpose}`);
      this.streams.set(purpose, rng);
    }
    return rng;
  }
}
