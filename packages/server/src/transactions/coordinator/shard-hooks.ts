/**
 * The two places where a shard's command path touches the coordinator service.
 *
 * @packageDocumentation
 */
import type { OperationContext } from "../../node/operation-context.js";
import type { ServerNode } from "../../node/server-node.js";
import { coordinatorServiceOf } from "./transaction-coordinator-service.js";

/**
 * Called by a shard's command dispatch for every command, after its session fields are parsed.
 *
 * @remarks
 * - A transaction's first statement (`startTransaction: true`) with `coordinator: true` creates
 *   the coordinator (`createTransactionCoordinator` in the shard-role service entry point).
 * - `abortTransaction`, and `commitTransaction` without `commitTimestamp` (an unprepared commit
 *   through the router's one-shard paths), cancel the session's coordinator for that number unless
 *   its commit started (`cancelIfCommitNotYetStarted` in `txn_cmds.cpp`).
 */
export function observeShardCommand(op: OperationContext, node: ServerNode): void {
  if (op.lsid === undefined || op.txnNumber === undefined) return;
  if (op.startTransaction === true && op.command.coordinator === true) {
    coordinatorServiceOf(node).createCoordinator(op.lsid, op.txnNumber);
    return;
  }
  if (
    op.commandName === "abortTransaction" ||
    (op.commandName === "commitTransaction" && op.command.commitTimestamp === undefined)
  )
    coordinatorServiceOf(node).cancelIfCommitNotYetStarted(op.lsid, op.txnNumber);
}
