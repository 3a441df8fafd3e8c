/**
 * The logical session cache every node keeps, its periodic refresh to `config.system.sessions`,
 * and the reaper of transaction records whose session is gone.
 *
 * @packageDocumentation
 */
export * from "./logical-session-cache.js";
export * from "./logical-session-cache-stats.js";
export * from "./reap.js";
