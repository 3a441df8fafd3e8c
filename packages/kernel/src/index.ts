/**
 * @packageDocumentation
 * The discrete-event kernel of sessionsim: virtual time, a (time, seq)-ordered scheduler, seeded
 * random streams, a simulated network with faults, node lifecycle, failpoints and the trace.
 * Nothing here is MongoDB-specific.
 */
export * from "./event-queue.js";
export * from "./failpoints.js";
export * from "./faults.js";
export * from "./future.js";
export * from "./kernel.js";
export * from "./network.js";
export * from "./random.js";
export * from "./time.js";
export * from "./trace.js";
