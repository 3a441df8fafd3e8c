/**
 * The session catalog: runtime session entries, checkout serialisation and session kills.
 *
 * @packageDocumentation
 */
export * from "./session-catalog.js";
