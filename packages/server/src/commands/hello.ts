import { Long, ObjectId } from "bson";
import type { Document } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import type { ServerNode } from "../node/server-node.js";
import type { CommandDefinition } from "./command.js";
import { MemberStates, peekReplicationCoordinator } from "../repl/replication-coordinator.js";

/** MongoDB 8.0's wire version. */
export const MAX_WIRE_VERSION = 25;

/**
 * `hello` / `isMaster` (`src/mongo/db/repl/replication_info.cpp`, `src/mongo/s/commands/
 * cluster_hello_cmd.cpp`): mongos answers `msg: "isdbgrid"`; every node reports
 * `logicalSessionTimeoutMinutes` (reference §6, checklist 88); a stepped-down mongod reports
 * `isWritablePrimary: false, secondary: true` (`fillIsMasterForReplSet`), and its
 * `topologyVersion.counter` grows at every state change.
 */
function helloReply(node: ServerNode, legacy: boolean): Document {
  // A mongod that stepped down (repl/): not writable while a stepdown is attempted or while it
  // is SECONDARY, and no primary known then (its set has one member).
  const repl = node.role === NodeRoles.mongos ? undefined : peekReplicationCoordinator(node);
  const writable = repl?.canAcceptNonLocalWrites ?? true;
  const isSecondary = repl?.memberState === MemberStates.SECONDARY;
  const primary = { [legacy ? "ismaster" : "isWritablePrimary"]: writable };
  const topologyVersion = {
    processId: ObjectId.createFromTime(Math.floor(node.startedAt / 1000)),
    counter: Long.fromNumber(repl?.topologyVersion ?? 0),
  };
  const common = {
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(node.now()),
    logicalSessionTimeoutMinutes: node.params.localLogicalSessionTimeoutMinutes,
    connectionId: 1,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
  };
  if (node.role === NodeRoles.mongos) return { ...primary, msg: "isdbgrid", topologyVersion, ...common };
  const setName = node.identity.setName ?? node.name;
  return {
    topologyVersion,
    hosts: [`${node.name}:27017`],
    setName,
    setVersion: 1,
    ...primary,
    secondary: isSecondary,
    ...(isSecondary ? {} : { primary: `${node.name}:27017` }),
    me: `${node.name}:27017`,
    ...(node.role === NodeRoles.configsvr ? { configsvr: 2 } : {}),
    ...common,
  };
}

export const helloCommand: CommandDefinition = {
  name: "hello",
  on: [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr],
  requiresAuth: false,
  run: (_op, node) => helloReply(node, false),
};

export const isMasterCommand: CommandDefinition = {
  name: "isMaster",
  aliases: ["ismaster"],
  on: [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr],
  requiresAuth: false,
  run: (_op, node) => helloReply(node, true),
};
