/** Virtual time, in milliseconds since the Unix epoch. */
export type Millis = number;

/** Virtual time starts here: 2026-01-01T00:00:00Z (public-api.md). */
export const SIMULATION_EPOCH: Millis = Date.UTC(2026, 0, 1);

/** Rounds a duration to whole microseconds so traces stay readable and exact. */
export function roundMicros(ms: number): Millis {
  return Math.round(ms * 1000) / 1000;
}
