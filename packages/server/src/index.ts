/**
 * @packageDocumentation
 * The MongoDB model: nodes (mongod as config server or shard member, mongos), command dispatch,
 * MongoDB's error codes and replies. Each node is a state machine on the kernel.
 */
export * from "./errors/index.js";
export * from "./idl/bson-types.js";
export * from "./parameters/server-parameters.js";
export * from "./node/topology.js";
export * from "./node/server-node.js";
export * from "./node/cluster-topology.js";
export type { ServerTraceEvent, SessionTraceEvent } from "./node/trace-events.js";
export type { CommandRequest, UserRef } from "./node/operation-context.js";
export { ALL_COMMANDS } from "./commands/index.js";
export * from "./session/index.js";
export * from "./session-cache/index.js";
export * from "./sessions-collection/index.js";
export { TTLMonitor } from "./ttl/ttl-monitor.js";
export {
  listLocalSessions,
  listSessionsFilter,
  parseListSessionsSpec,
  type ListSessionsSpec,
} from "./aggregation/list-sessions.js";
