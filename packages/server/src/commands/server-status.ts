import { Long } from "bson";
import type { Document } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import type { CommandDefinition } from "./command.js";
import { SERVER_VERSION } from "./basic.js";

/**
 * `serverStatus`: the common header plus every section the node's components registered
 * (`logicalSessionRecordCache`, `transactions`, `twoPhaseCommitCoordinator`, `metrics`, ...).
 * `{serverStatus: 1, <section>: 0}` leaves a section out, as in MongoDB.
 */
export const serverStatusCommand: CommandDefinition = {
  name: "serverStatus",
  on: [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr],
  run: (op, node) => {
    const now = node.now();
    const uptimeMillis = Math.max(0, Math.floor(now - node.startedAt));
    const out: Document = {
      host: `${node.name}:27017`,
      version: SERVER_VERSION,
      process: node.role === NodeRoles.mongos ? "mongos" : "mongod",
      pid: Long.fromNumber(1000 + node.ctx.incarnation),
      uptime: Math.floor(uptimeMillis / 1000),
      uptimeMillis: Long.fromNumber(uptimeMillis),
      uptimeEstimate: Long.fromNumber(Math.floor(uptimeMillis / 1000)),
      localTime: new Date(now),
    };
    for (const [section, provider] of node.serverStatusSections) {
      const flag = op.command[section];
      if (flag === 0 || flag === false) continue;
      out[section] = provider();
    }
    return out;
  },
};
