/**
 * Logical session identity: lsids and their keys, parsing what clients send, the `uid` rules,
 * cache records, and the session fields every command may carry.
 *
 * @packageDocumentation
 */
export * from "./logical-session-id.js";
export * from "./logical-session-record.js";
export * from "./initialize-operation-session-info.js";
