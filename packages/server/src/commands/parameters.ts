import { ErrorCodes, ServerError } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import {
  PARAMETER_SPECS,
  coerceParameter,
  isParameterName,
  type ParameterSpec,
} from "../parameters/server-parameters.js";
import type { CommandDefinition } from "./command.js";

const ALL = [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr] as const;

/** Fields of getParameter/setParameter that are not parameter names. */
const GENERIC = new Set([
  "comment",
  "$db",
  "lsid",
  "$clusterTime",
  "$readPreference",
  "apiVersion",
  "apiStrict",
  "apiDeprecationErrors",
]);

/**
 * `getParameter` (`src/mongo/db/commands/parameters.cpp`): `{getParameter: 1, <name>: 1}` or
 * `{getParameter: "*"}`; unknown names → InvalidOptions "no option found to get".
 */
export const getParameterCommand: CommandDefinition = {
  name: "getParameter",
  on: ALL,
  adminOnly: true,
  run: (op, node) => {
    const all = op.command.getParameter === "*";
    const out: Document = {};
    if (all) {
      for (const name of Object.keys(PARAMETER_SPECS)) out[name] = node.params[name as keyof typeof PARAMETER_SPECS];
      return out;
    }
    for (const name of Object.keys(op.command).slice(1)) {
      if (GENERIC.has(name)) continue;
      if (isParameterName(name)) out[name] = node.params[name];
    }
    if (Object.keys(out).length === 0) throw new ServerError(ErrorCodes.InvalidOptions, "no option found to get");
    return out;
  },
};

/**
 * `setParameter`: `{setParameter: 1, <name>: <value>}`; replies `{was: <old value>}`. Startup-only
 * parameters are refused at runtime, as the server's `ServerParameter::setAtRuntime` does.
 */
export const setParameterCommand: CommandDefinition = {
  name: "setParameter",
  on: ALL,
  adminOnly: true,
  run: (op, node) => {
    const names = Object.keys(op.command)
      .slice(1)
      .filter((n) => !GENERIC.has(n));
    if (names.length === 0)
      throw new ServerError(ErrorCodes.InvalidOptions, "no option found to set, use help:true to see options ");
    if (names.length > 1) throw new ServerError(ErrorCodes.InvalidOptions, "Only one parameter may be set at a time");
    const name = names[0];
    if (!isParameterName(name))
      throw new ServerError(
        ErrorCodes.InvalidOptions,
        `attempted to set unrecognized parameter [${name}], use help:true to see options `,
      );
    const spec: ParameterSpec = PARAMETER_SPECS[name];
    if (spec.settable === "startup")
      throw new ServerError(ErrorCodes.IllegalOperation, `not allowed to change [${name}] at runtime`);
    const was = node.params[name];
    const value = coerceParameter(name, op.command[name]);
    (node.params as Record<string, unknown>)[name] = value;
    node.ctx.record({ type: "param.set", name, value });
    return { was };
  },
};
