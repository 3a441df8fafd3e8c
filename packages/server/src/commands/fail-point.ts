import type { FailPointMode } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { bsonTypeOf, isDocument, isNumeric, toNumber } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import type { CommandDefinition } from "./command.js";

/**
 * The failpoints sessionsim's server checks, with MongoDB's names. `configureFailPoint` on any
 * other name fails as MongoDB's does for an unknown failpoint.
 */
export const KNOWN_FAILPOINTS: ReadonlySet<string> = new Set([
  "failCommand",
  "hangBeforeWritingParticipantList",
  "hangWhileTargetingRemoteHost",
  "hangWhileTargetingLocalHost",
  "hangBeforeWritingDecision",
  "hangBeforeDeletingCoordinatorDoc",
  "hangBeforeSendingPrepare",
  "hangBeforeSendingCommit",
  "hangBeforeSendingAbort",
  "hangBeforeSendingCommitDecision",
  "hangBeforeSendingAbortDecision",
  "failRemoteTransactionCommand",
  "hangAfterCollectionInserts",
]);

/** Parses a `mode` as `FailPoint::parseBSON` does (`src/mongo/util/fail_point.cpp`). */
export function parseFailPointMode(mode: unknown): FailPointMode {
  if (mode === "alwaysOn" || mode === "off") return mode;
  if (typeof mode === "string") throw new ServerError(ErrorCodes.BadValue, `unknown mode: ${mode}`);
  if (!isDocument(mode))
    throw new ServerError(
      ErrorCodes.TypeMismatch,
      `'mode' must be a string or JSON object, found: ${bsonTypeOf(mode)}`,
    );
  const [key, value] = Object.entries(mode)[0] ?? [];
  if (key === "times" || key === "skip") {
    if (!isNumeric(value) || !Number.isInteger(toNumber(value)))
      throw new ServerError(ErrorCodes.TypeMismatch, `The value for FailPoint mode '${key}' must be a number`);
    const n = toNumber(value);
    if (n < 0) throw new ServerError(ErrorCodes.BadValue, `The value for FailPoint mode '${key}' must be positive`);
    return key === "times" ? { times: n } : { skip: n };
  }
  if (key === "activationProbability") {
    const p = isNumeric(value) ? toNumber(value) : NaN;
    if (!(p >= 0 && p <= 1))
      throw new ServerError(ErrorCodes.BadValue, "activationProbability must be between 0.0 and 1.0");
    return { activationProbability: p };
  }
  throw new ServerError(
    ErrorCodes.BadValue,
    "'mode' must be one of 'off', 'alwaysOn', 'times', and 'activationProbability'",
  );
}

/** `configureFailPoint` (test command, admin only); replies `{count: <times it fired before>}`. */
export const configureFailPointCommand: CommandDefinition = {
  name: "configureFailPoint",
  on: [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr],
  adminOnly: true,
  testOnly: true,
  run: (op, node) => {
    const name = op.command.configureFailPoint;
    if (typeof name !== "string")
      throw new ServerError(ErrorCodes.TypeMismatch, `FailPoint name must be a string, found: ${bsonTypeOf(name)}`);
    // `setGlobalFailPoint` (src/mongo/util/fail_point.cpp): uasserted(FailPointSetFailed, "<name> not found").
    if (!KNOWN_FAILPOINTS.has(name)) throw new ServerError(ErrorCodes.FailPointSetFailed, `${name} not found`);
    if (op.command.mode === undefined)
      throw new ServerError(ErrorCodes.IllegalOperation, "When setting a failpoint, you must supply a 'mode'");
    const mode = parseFailPointMode(op.command.mode);
    const data = op.command.data ?? {};
    if (!isDocument(data))
      throw new ServerError(ErrorCodes.TypeMismatch, `the 'data' field must be an object, found: ${bsonTypeOf(data)}`);
    const count = node.ctx.failpoints.configure(name, mode, data);
    node.ctx.record({ type: "failpoint.set", name, mode, data });
    return { count };
  },
};
