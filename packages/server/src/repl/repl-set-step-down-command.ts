/**
 * `replSetStepDown` (`CmdReplSetStepDown`, `src/mongo/db/repl/repl_set_commands.cpp`).
 *
 * @packageDocumentation
 */
import type { Task } from "@sessionsim/kernel";
import type { CommandDefinition } from "../commands/command.js";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { bsonTypeOf, isNumeric, isTrue, toNumber, type Document } from "../idl/bson-types.js";
import { formatBson } from "../storage/bson-format.js";
import { NodeRoles } from "../node/topology.js";
import { replicationCoordinatorOf } from "./replication-coordinator.js";

/** `BSONElement::numberLong()`: numbers truncated, anything else 0. */
function numberLong(v: unknown): number {
  return isNumeric(v) ? Math.trunc(toNumber(v)) || 0 : 0;
}

/**
 * `bsonExtractIntegerField`: absent → undefined; not a number → TypeMismatch; not an exact
 * 64-bit integer → BadValue.
 */
function extractIntegerField(cmd: Document, field: string): number | undefined {
  const v = cmd[field];
  if (v === undefined) return undefined;
  if (!isNumeric(v))
    throw new ServerError(
      ErrorCodes.TypeMismatch,
      `Expected field "${field}" to have numeric type, but found ${bsonTypeOf(v)}`,
    );
  const n = toNumber(v);
  if (!Number.isInteger(n))
    throw new ServerError(
      ErrorCodes.BadValue,
      `Expected field "${field}" to have a value exactly representable as a 64-bit integer, but found ${field}: ${formatBson(v)}`,
    );
  return n;
}

/**
 * `{replSetStepDown: <secs>, secondaryCatchUpPeriodSecs?, force?}` on a shard or config server
 * member (admin only; `replSetStateChange` on the cluster).
 *
 * @remarks
 * The period is the first field's `numberLong()`: 0 or not a number → 60 s; negative → BadValue
 * "stepdown period must be a positive integer". `secondaryCatchUpPeriodSecs` defaults to 10, or 0
 * with `force`; negative → BadValue "secondaryCatchUpPeriodSecs period must be a positive or
 * absent"; longer than the period → BadValue "stepdown period must be longer than
 * secondaryCatchUpPeriodSecs". The stepdown itself is
 * {@link ReplicationCoordinator.stepDown}: sessionsim's replica sets have one member, so only
 * `force: true` succeeds; the node is primary again when the period ends.
 *
 * @example
 * ```ts
 * await conn.runCommand("admin", { replSetStepDown: 10, force: true }); // secondary for 10 s
 * ```
 */
export const replSetStepDownCommand: CommandDefinition = {
  name: "replSetStepDown",
  on: [NodeRoles.configsvr, NodeRoles.shardsvr],
  adminOnly: true,
  run: (op, node) => {
    const c = op.command;
    const force = isTrue(c.force);
    let stepDownForSecs = numberLong(c.replSetStepDown);
    if (stepDownForSecs === 0) stepDownForSecs = 60;
    else if (stepDownForSecs < 0)
      throw new ServerError(ErrorCodes.BadValue, "stepdown period must be a positive integer");
    const catchUpSecs = extractIntegerField(c, "secondaryCatchUpPeriodSecs") ?? (force ? 0 : 10);
    if (catchUpSecs < 0)
      throw new ServerError(ErrorCodes.BadValue, "secondaryCatchUpPeriodSecs period must be a positive or absent");
    if (stepDownForSecs < catchUpSecs)
      throw new ServerError(ErrorCodes.BadValue, "stepdown period must be longer than secondaryCatchUpPeriodSecs");
    return (function* (): Task<Document> {
      yield* replicationCoordinatorOf(node).stepDown(op, {
        force,
        waitMs: catchUpSecs * 1000,
        stepDownMs: stepDownForSecs * 1000,
      });
      return {};
    })();
  },
};
