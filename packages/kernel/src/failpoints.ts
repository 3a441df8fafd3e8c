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
  /** Who waits for each failpoint to go off (see `whenOff`). */
  private readonly offListeners = new Map<string, Set<() => void>>();

  constructor(private readonly random: () => number) {}

  /**
   * Sets a failpoint's mode and data; returns how many times it had fired before, under any mode
   * (the `count` field of MongoDB's `configureFailPoint` reply; `FailPoint::Impl::setMode`
   * returns `_hitCount`, `src/mongo/util/fail_point.cpp`).
   */
  configure(name: string, mode: FailPointMode, data: Record<string, unknown> = {}): number {
    const before = this.timesEntered.get(name) ?? 0;
    if (mode === "off") {
      this.turnOff(name);
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
        if (--fp.counter === 0) this.turnOff(name);
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

  /**
   * Calls `listener` once, the next time failpoint `name` goes off (`configure(name, "off")`, or
   * its last `times` activation); returns a function that cancels the call. Lets a pause wait for
   * the change instead of polling through an hour of virtual time.
   */
  whenOff(name: string, listener: () => void): () => void {
    let set = this.offListeners.get(name);
    if (set === undefined) this.offListeners.set(name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private turnOff(name: string): void {
    if (!this.points.delete(name)) return;
    const listeners = this.offListeners.get(name);
    if (listeners === undefined) return;
    this.offListeners.delete(name);
    for (const l of listeners) l();
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
