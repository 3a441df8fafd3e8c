/**
 * Failpoints: named hooks the server checks at interesting places, driven by the
 * `configureFailPoint` command as in MongoDB (`src/mongo/util/fail_point.cpp`).
 */
export type FailPointMode =
  | "alwaysOn"
  | "off"
  | { readonly times: number }
  | { readonly skip: number }
  | { readonly activationProbability: number };

interface FailPointState {
  mode: FailPointMode;
  data: Record<string, unknown>;
  /** Remaining activations for `times`, remaining skips for `skip`. */
  counter: number;
}

export class FailPointRegistry {
  private readonly points = new Map<string, FailPointState>();
  /**
   * How many times each failpoint fired (MongoDB's `timesEntered`). Kept apart from the mode:
   * like the server's `_hitCount`, no mode change (`off`, an exhausted `times`) resets it.
   */
  private readonly timesEntered = new Map<string, number>();

  constructor(private readonly random: () => number) {}

  /**
   * Sets a failpoint's mode and data; returns how many times it had fired before, under any mode
   * (the `count` field of MongoDB's `configureFailPoint` reply; `FailPoint::Impl::setMode`
   * returns `_hitCount`, `src/mongo/util/fail_point.cpp`).
   */
  configure(name: string, mode: FailPointMode, data: Record<string, unknown> = {}): number {
    const before = this.timesEntered.get(name) ?? 0;
    if (mode === "off") {
      this.points.delete(name);
      return before;
    }
    const counter =
      typeof mode === "object" && "times" in mode
        ? mode.times
        : typeof mode === "object" && "skip" in mode
          ? mode.skip
          : 0;
    this.points.set(name, { mode, data, counter });
    return before;
  }

  /**
   * Checks a failpoint: returns its data if it fires now (consuming one activation), else
   * undefined. `when` filters on the data before an activation is consumed, as MongoDB's
   * `executeIf` / `shouldFail(pred)` do.
   */
  check(name: string, when?: (data: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    const fp = this.points.get(name);
    if (fp === undefined) return undefined;
    if (when !== undefined && !when(fp.data)) return undefined;
    const mode = fp.mode;
    if (typeof mode === "object") {
      if ("times" in mode) {
        if (fp.counter <= 0) return undefined;
        if (--fp.counter === 0) this.points.delete(name);
      } else if ("skip" in mode) {
        if (fp.counter > 0) {
          fp.counter--;
          return undefined;
        }
      } else if (this.random() >= mode.activationProbability) {
        return undefined;
      }
    }
    this.timesEntered.set(name, (this.timesEntered.get(name) ?? 0) + 1);
    return fp.data;
  }

  isOn(name: string): boolean {
    return this.points.has(name);
  }

  /** Names and modes of the active failpoints, in configuration order. */
  list(): { name: string; mode: FailPointMode; data: Record<string, unknown>; timesEntered: number }[] {
    return [...this.points].map(([name, fp]) => ({
      name,
      mode: fp.mode,
      data: fp.data,
      timesEntered: this.timesEntered.get(name) ?? 0,
    }));
  }
}
