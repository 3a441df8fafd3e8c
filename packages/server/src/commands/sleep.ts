import { Future, wait, type Task } from "@sessionsim/kernel";
import { ServerError } from "../errors/index.js";
import { isNumeric, toNumber, type Document } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import type { CommandDefinition } from "./command.js";

/**
 * MongoDB's test command `sleep` (`src/mongo/db/commands/sleep_command.cpp`): an operation that
 * stays in progress for `secs` + `millis` (default 10 s) of the node's clock and can be
 * interrupted (killOp, killSessions). Locks are not modelled: every `lock` mode sleeps alike.
 */
export const sleepCommand: CommandDefinition = {
  name: "sleep",
  on: [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr],
  adminOnly: true,
  testOnly: true,
  requiresAuth: false,
  run: (op, node) => {
    const c = op.command;
    let ms = 0;
    if (c.secs !== undefined || c.seconds !== undefined || c.millis !== undefined) {
      if (c.secs !== undefined && c.seconds !== undefined)
        throw new ServerError(51153, "Only one of 'secs' and 'seconds' may be specified");
      if (c.secs !== undefined) {
        if (!isNumeric(c.secs)) throw new ServerError(34344, "'secs' must be a number.");
        ms += Math.trunc(toNumber(c.secs)) * 1000;
      } else if (c.seconds !== undefined) {
        if (!isNumeric(c.seconds)) throw new ServerError(51154, "'seconds' must be a number.");
        ms += Math.trunc(toNumber(c.seconds)) * 1000;
      }
      if (c.millis !== undefined) {
        if (!isNumeric(c.millis)) throw new ServerError(34345, "'millis' must be a number.");
        ms += Math.trunc(toNumber(c.millis));
      }
    } else ms = 10_000;
    if (c.lock !== undefined) {
      if (c.w !== undefined) throw new ServerError(34346, "Only one of 'w' and 'lock' may be set.");
      if (!["r", "ir", "w", "iw", "none"].includes(c.lock as string))
        throw new ServerError(34347, "'lock' must be one of 'r', 'ir', 'w', 'iw', 'none'.");
    }
    return (function* (): Task<Document> {
      const slept = new Future<void>();
      if (Number.isFinite(ms) && ms > 0) node.ctx.setTimer(ms, () => slept.resolve());
      else slept.resolve();
      yield* wait(op.interruptible(slept));
      op.checkForInterrupt();
      return {};
    })();
  },
};
