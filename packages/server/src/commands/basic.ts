import { NodeRoles } from "../node/topology.js";
import type { CommandDefinition } from "./command.js";

const ALL = [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr] as const;

/** The server version sessionsim models. */
export const SERVER_VERSION = "8.0.4";

/** `ping`: `{ok: 1}`. */
export const pingCommand: CommandDefinition = {
  name: "ping",
  on: ALL,
  requiresAuth: false,
  run: () => ({}),
};

/** `buildInfo` (`src/mongo/db/commands/generic_servers.cpp`). */
export const buildInfoCommand: CommandDefinition = {
  name: "buildInfo",
  aliases: ["buildinfo"],
  on: ALL,
  requiresAuth: false,
  run: () => ({
    version: SERVER_VERSION,
    gitVersion: "sessionsim",
    modules: [],
    allocator: "tcmalloc",
    javascriptEngine: "mozjs",
    sysInfo: "deprecated",
    versionArray: [8, 0, 4, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: 16 * 1024 * 1024,
    storageEngines: ["wiredTiger"],
  }),
};
