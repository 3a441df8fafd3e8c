/** Virtual time 0 of every run: 2026-01-01T00:00:00Z (public-api.md). */
export const SIMULATION_EPOCH = Date.UTC(2026, 0, 1);
