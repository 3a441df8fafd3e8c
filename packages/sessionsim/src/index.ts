/**
 * @packageDocumentation
 * sessionsim: a deterministic, in-process simulation of a MongoDB sharded cluster focused on
 * logical sessions. Start a `Cluster`, `connect` to a node, `runCommand` with MongoDB's own command
 * documents, move virtual time with `advance`, inject faults, and read the `trace`.
 */
export { Cluster, type TraceEvent } from "./cluster.js";
export { Connection, InFlight } from "./connection.js";
export type { ClusterOptions, RoleSpec, UserSpec } from "./options.js";
export {
  NetworkError,
  type FaultAction,
  type FaultSchedule,
  type NetworkConfig,
  type LatencyDistribution,
} from "@sessionsim/kernel";
export type { Document } from "@sessionsim/server";
export { UUID, Binary, Long, Timestamp, ObjectId } from "bson";
