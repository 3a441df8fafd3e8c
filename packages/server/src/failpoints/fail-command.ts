import { ServerError } from "../errors/index.js";
import { isNumeric, toNumber, type Document } from "../idl/bson-types.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";

/** Thrown to make the node close the connection instead of replying (`closeConnection: true`). */
export class CloseConnection extends Error {
  constructor() {
    super("failCommand: closeConnection");
    this.name = "CloseConnection";
  }
}

/** What an active `failCommand` asks the node to do with a command. */
export interface FailCommandEffect {
  /** Delay before the command runs (`blockConnection` with `blockTimeMS`). */
  readonly blockMs: number;
  /** A writeConcernError to add to an otherwise successful reply. */
  readonly writeConcernError?: Document;
}

/**
 * MongoDB's `failCommand` failpoint (`CommandHelpers::evaluateFailCommandFailPoint`,
 * `src/mongo/db/commands.cpp`): for a command named in `failCommands` (internal requests only with
 * `failInternalCommands: true`; only on `namespace` if given), fail it with `errorCode`, close the
 * connection, block it, or add a `writeConcernError`. Returns undefined when it does not apply.
 */
export function evaluateFailCommand(op: OperationContext, node: ServerNode): FailCommandEffect | undefined {
  if (!node.ctx.failpoints.isOn("failCommand")) return undefined; // the common case, cheaply
  const data = node.ctx.failpoints.check("failCommand", (d) => {
    const names = d.failCommands;
    if (!Array.isArray(names) || !names.includes(op.commandName)) return false;
    if (op.request.internal === true && d.failInternalCommands !== true) return false;
    if (typeof d.namespace === "string" && d.namespace !== namespaceOf(op)) return false;
    return true;
  });
  if (data === undefined) return undefined;
  if (data.closeConnection === true) throw new CloseConnection();
  if (isNumeric(data.errorCode)) {
    const labels = Array.isArray(data.errorLabels) ? { errorLabels: data.errorLabels } : {};
    // `getIntField`: the code is read as a 32-bit integer.
    throw new ServerError(
      Math.trunc(toNumber(data.errorCode)) | 0,
      "Failing command via 'failCommand' failpoint",
      labels,
    );
  }
  const blockMs = data.blockConnection === true && isNumeric(data.blockTimeMS) ? toNumber(data.blockTimeMS) : 0;
  const wce = data.writeConcernError;
  return { blockMs, ...(wce !== null && typeof wce === "object" ? { writeConcernError: wce as Document } : {}) };
}

/** The namespace a command acts on, for `failCommand`'s `namespace` filter. */
export function namespaceOf(op: OperationContext): string | undefined {
  const target = op.command[op.commandName];
  return typeof target === "string" ? `${op.db}.${target}` : undefined;
}
