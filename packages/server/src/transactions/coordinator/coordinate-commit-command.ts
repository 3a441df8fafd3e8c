/**
 * `coordinateCommitTransaction`: mongos hands a transaction's commit to its coordinator shard, or
 * asks a shard for the decision of a transaction it may have forgotten.
 *
 * @packageDocumentation
 */
import type { Long } from "bson";
import { wait, type Task } from "@sessionsim/kernel";
import type { CommandDefinition } from "../../commands/command.js";
import { ErrorCodes, ServerError } from "../../errors/index.js";
import { isDocument, type Document } from "../../idl/bson-types.js";
import { FieldReader } from "../../idl/parse.js";
import type { OperationContext } from "../../node/operation-context.js";
import type { ServerNode } from "../../node/server-node.js";
import { NodeRoles } from "../../node/topology.js";
import type { CoordinatorDecision } from "./coordinator-document.js";
import { recoverDecisionFromLocalParticipant } from "./local-participant.js";
import { coordinatorServiceOf } from "./transaction-coordinator-service.js";
import type { TransactionCoordinator } from "./transaction-coordinator.js";

/** Reads `participants: [{shardId}, ...]`, refusing duplicates (`validateParticipants`, 51162). */
function parseParticipants(op: OperationContext): string[] {
  const r = new FieldReader(op.command, "coordinateCommitTransaction");
  const list = r.array("participants");
  const out: string[] = [];
  list.forEach((p, i) => {
    if (!isDocument(p))
      throw new ServerError(
        ErrorCodes.TypeMismatch,
        `BSON field 'coordinateCommitTransaction.participants.${i}' is the wrong type`,
      );
    const shardId = new FieldReader(p, "CommitParticipant").string("shardId");
    if (out.includes(shardId)) throw new ServerError(51162, `Participant list contains duplicate shard ${shardId}`);
    out.push(shardId);
  });
  return out;
}

/** Waits for the coordinator's decision (or its completion) and answers with it. */
function* awaitCoordinator(
  op: OperationContext,
  node: ServerNode,
  c: TransactionCoordinator,
): Task<Document | undefined> {
  const immediately = node.params.coordinateCommitTransactionReturnImmediatelyAfterPersistingDecision;
  let decision: CoordinatorDecision;
  try {
    if (immediately) decision = yield* wait(op.interruptible(c.decisionFuture));
    else {
      yield* wait(op.interruptible(c.completion));
      decision = c.decision!;
    }
  } catch (e) {
    // Cancelled before its commit started: fall back to the local participant.
    if (e instanceof ServerError && e.code === ErrorCodes.TransactionCoordinatorCanceled) return undefined;
    throw e;
  }
  if (decision.decision === "commit") return {};
  const s = decision.abortStatus;
  throw new ServerError(s.code, `Transaction was aborted :: caused by :: ${s.errmsg}`);
}

/**
 * `coordinateCommitTransaction` (shard, `admin` only; `txn_two_phase_commit_cmds.cpp`).
 *
 * @remarks
 * - With participants: starts the coordinator's two-phase commit (a no-op if it already started)
 *   and waits for the decision to be durable (with
 *   `coordinateCommitTransactionReturnImmediatelyAfterPersistingDecision` false: for the whole
 *   commit). Commit → `{ok: 1}`; abort → the abort status, "Transaction was aborted :: caused by
 *   :: …".
 * - Without participants (commit recovery): joins the coordinator if there is one; one whose
 *   commit never started is cancelled.
 * - No coordinator (or a cancelled one): the decision is recovered from this shard's participant:
 *   committed → ok; in progress → aborted, then `NoSuchTransaction`; prepared → wait for it to be
 *   decided.
 *
 * @example
 * ```ts
 * { coordinateCommitTransaction: 1, participants: [{shardId: "shard0"}, {shardId: "shard1"}],
 *   lsid, txnNumber: Long(1), autocommit: false }   // on admin, from mongos
 * ```
 */
export const coordinateCommitTransactionCommand: CommandDefinition = {
  name: "coordinateCommitTransaction",
  on: [NodeRoles.shardsvr],
  adminOnly: true,
  run: (op, node) => {
    const participants = parseParticipants(op);
    if (op.lsid === undefined || op.txnNumber === undefined)
      throw new ServerError(ErrorCodes.InvalidOptions, "coordinateCommitTransaction must be run within a transaction");
    const lsid = op.lsid;
    const txnNumber: Long = op.txnNumber;
    const tcs = coordinatorServiceOf(node);
    const c =
      participants.length === 0
        ? tcs.recoverCommit(lsid, txnNumber)
        : tcs.coordinateCommit(lsid, txnNumber, participants);
    return (function* (): Task<Document> {
      if (c !== undefined) {
        const reply = yield* awaitCoordinator(op, node, c);
        if (reply !== undefined) return reply;
      }
      return yield* recoverDecisionFromLocalParticipant(op, node, lsid, txnNumber);
    })();
  },
};
