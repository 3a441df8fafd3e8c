/**
 * An operation's time limit (`maxTimeMS`) as command dispatch sets it, and how it travels from
 * mongos to shards (`maxTimeMSOpOnly`).
 *
 * @packageDocumentation
 */
import type { Task } from "@sessionsim/kernel";
import { isTask, type CommandResult } from "../commands/command.js";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import { parseMaxTimeMS } from "../idl/max-time-ms.js";
import type { DeadlineHost, OperationContext } from "./operation-context.js";

/** A command's parsed time limits (0: none). */
export interface MaxTimeArguments {
  readonly maxTimeMS: number;
  readonly maxTimeMSOpOnly: number;
}

/** No time limit (shared: most commands carry none). */
const NO_LIMITS: MaxTimeArguments = Object.freeze({ maxTimeMS: 0, maxTimeMSOpOnly: 0 });

/**
 * Parses `maxTimeMS` and `maxTimeMSOpOnly` (the generic arguments' `parseMaxTimeMSForIDL`):
 * BadValue for a non-number, a value outside [0, 2147483647] or a fractional double.
 */
export function parseMaxTimeArguments(command: Document): MaxTimeArguments {
  if (command.maxTimeMS === undefined && command.maxTimeMSOpOnly === undefined) return NO_LIMITS;
  return {
    maxTimeMS: parseMaxTimeMS(command.maxTimeMS),
    maxTimeMSOpOnly: parseMaxTimeMS(command.maxTimeMSOpOnly, "maxTimeMSOpOnly"),
  };
}

/**
 * Sets `op`'s deadline from its time limits, as `ExecCommandDatabase::_initiateCommand`
 * (`service_entry_point_shard_role.cpp`, and mongos' `strategy.cpp`) does.
 *
 * @remarks
 * - `maxTimeMSOpOnly` is for cluster-internal requests only: from anyone else it fails
 *   InvalidOptions (72) "Can not specify maxTimeMSOpOnly for non internal clients".
 * - The deadline is `maxTimeMSOpOnly` if set and smaller than `maxTimeMS` (or `maxTimeMS` is 0),
 *   else `maxTimeMS`; 0 means no limit. `hello` ignores `maxTimeMSOpOnly`.
 * - `getMore` gets none: its `maxTimeMS` is the await time of tailable cursors.
 * - It runs from the command's start; when it passes, the operation is interrupted with
 *   MaxTimeMSExpired (50) "operation exceeded time limit" (see {@link OperationContext.setDeadlineAfter}).
 */
export function setOperationDeadline(op: OperationContext, host: DeadlineHost, limits: MaxTimeArguments): void {
  const { maxTimeMS, maxTimeMSOpOnly } = limits;
  if (maxTimeMSOpOnly > 0 && op.request.internal !== true)
    throw new ServerError(ErrorCodes.InvalidOptions, "Can not specify maxTimeMSOpOnly for non internal clients");
  if ((maxTimeMS === 0 && maxTimeMSOpOnly === 0) || op.commandName === "getMore") return;
  const opOnly = op.commandName === "hello" ? 0 : maxTimeMSOpOnly;
  const ms = opOnly > 0 && (maxTimeMS === 0 || opOnly < maxTimeMS) ? opOnly : maxTimeMS;
  if (ms > 0) op.setDeadlineAfter(Math.max(0, op.startedAt + ms - host.now()), host);
}

/**
 * The `maxTimeMSOpOnly` a node attaches to a request it sends for `op` (the remaining time,
 * `RemoteCommandRequest`'s timeout from `getRemainingMaxTimeMillis()`), or undefined if `op` has
 * no deadline. At least 1: 0 would mean "no limit" to the receiver.
 */
export function maxTimeMSOpOnlyFor(op: OperationContext): number | undefined {
  const remaining = op.remainingMaxTimeMs();
  return remaining === undefined ? undefined : Math.max(1, remaining);
}

function* clearingDeadline(op: OperationContext, task: Task<Document>): Task<Document> {
  try {
    return yield* task;
  } finally {
    op.clearDeadline();
  }
}

/**
 * Runs a command with `op`'s deadline armed and cancels the deadline's timer once the command
 * is done (synchronously or as a task).
 */
export function runUnderDeadline(op: OperationContext, run: () => CommandResult): CommandResult {
  if (!op.hasDeadline) return run();
  let result: CommandResult;
  try {
    result = run();
  } catch (e) {
    op.clearDeadline();
    throw e;
  }
  if (!isTask(result)) {
    op.clearDeadline();
    return result;
  }
  return clearingDeadline(op, result);
}
