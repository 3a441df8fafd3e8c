/**
 * `config.system.sessions`: where every node's logical session cache persists its records, and
 * who creates it (the config server's refresh).
 *
 * @packageDocumentation
 */
export * from "./sessions-collection.js";
