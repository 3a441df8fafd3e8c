import type { Task } from "@sessionsim/kernel";
import type { Document } from "../idl/bson-types.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import type { NodeRole } from "../node/topology.js";

/** A command's result: a reply document now, or a task that produces one later. */
export type CommandResult = Document | Task<Document>;

/**
 * A command a node understands (MongoDB's `Command` / `TypedCommand`). `run` returns the reply's
 * fields (without `ok`) or throws a ServerError; the node adds `ok` and the gossip fields.
 */
export interface CommandDefinition {
  readonly name: string;
  /** Other names, e.g. `isMaster` / `ismaster` for `hello`. */
  readonly aliases?: readonly string[];
  /** The roles that register the command (`.forRouter()` / `.forShard()`). */
  readonly on: readonly NodeRole[];
  /** `adminOnly()`: refused on other databases. */
  readonly adminOnly?: boolean;
  /** Registered only with `enableTestCommands` (`MONGO_REGISTER_TEST_COMMAND`). */
  readonly testOnly?: boolean;
  /** `requiresAuth()`; false for hello, ping, buildInfo ... (default true). */
  readonly requiresAuth?: boolean;
  /**
   * `attachLogicalSessionsToOpCtx()`: false for commands that must ignore the lsid they carry
   * (the kill commands, so they cannot kill themselves). Default true.
   */
  readonly attachSessions?: boolean;
  /** Runs the command on `node`. */
  run(op: OperationContext, node: ServerNode): CommandResult;
}

/** True if a command result is a task (a generator) rather than a reply document. */
export function isTask(result: CommandResult): result is Task<Document> {
  // A prototype check, not `typeof result.next`: looking up a missing `next` on reply documents
  // of every shape was a measurable cost of every command.
  return Object.prototype.isPrototypeOf.call(GENERATOR_PROTOTYPE, result);
}

/** `%GeneratorPrototype%`, which every generator object inherits from. */
const GENERATOR_PROTOTYPE: object = Object.getPrototypeOf(
  Object.getPrototypeOf(
    (function* () {
      /* empty */
    })(),
  ) as object,
) as object;
