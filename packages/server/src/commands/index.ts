import type { NodeRole } from "../node/topology.js";
import { buildInfoCommand, pingCommand } from "./basic.js";
import type { CommandDefinition } from "./command.js";
import { configureFailPointCommand } from "./fail-point.js";
import { helloCommand, isMasterCommand } from "./hello.js";
import { getParameterCommand, setParameterCommand } from "./parameters.js";
import { serverStatusCommand } from "./server-status.js";
import { sleepCommand } from "./sleep.js";

/** Every command sessionsim implements. Each declares the roles that register it. */
export const ALL_COMMANDS: readonly CommandDefinition[] = [
  helloCommand,
  isMasterCommand,
  pingCommand,
  buildInfoCommand,
  getParameterCommand,
  setParameterCommand,
  serverStatusCommand,
  configureFailPointCommand,
  sleepCommand,
];

const byRole = new Map<NodeRole, ReadonlyMap<string, CommandDefinition>>();

/** The command registry of a node role: name and aliases → definition. */
export function commandsFor(role: NodeRole): ReadonlyMap<string, CommandDefinition> {
  let registry = byRole.get(role);
  if (registry === undefined) {
    const map = new Map<string, CommandDefinition>();
    for (const def of ALL_COMMANDS)
      if (def.on.includes(role)) for (const name of [def.name, ...(def.aliases ?? [])]) map.set(name, def);
    byRole.set(role, map);
    registry = map;
  }
  return registry;
}

export type { CommandDefinition, CommandResult } from "./command.js";
