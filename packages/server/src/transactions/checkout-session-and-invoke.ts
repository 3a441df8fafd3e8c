/**
 * How command dispatch runs a command with its session checked out (`RunCommandImpl::_runCommand`
 * → `CheckoutSessionAndInvokeCommand` in `service_entry_point_shard_role.cpp`).
 *
 * @packageDocumentation
 */
import { wait, type Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import { isTask, type CommandDefinition, type CommandResult } from "../commands/command.js";
import { OperationDecoration, type OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import { isMongod } from "../node/topology.js";
import type { LogicalSessionId } from "../session/index.js";
import type { Session } from "../session-catalog/index.js";
import { checkReadConcernClusterTime, tickForWrites } from "../cluster-time/gossip.js";
import { setParticipantForOp } from "./participant/transaction-participants.js";
import { parseMaxTimeArguments, runUnderDeadline, setOperationDeadline } from "../node/operation-deadline.js";
import { checkCanRunHere, peekReplicationCoordinator } from "../repl/replication-coordinator.js";
import { validateSessionOptions, withTransactionErrorLabels } from "./validate-session-options.js";

/**
 * Commands that run with a `txnNumber` but do not check the session out
 * (`shouldCheckoutSession() == false`): the coordinator's command waits for the local
 * participant's prepare, which needs the session.
 */
const SKIP_SESSION_CHECKOUT: ReadonlySet<string> = new Set(["coordinateCommitTransaction"]);

/** Commands that write one oplog entry when they succeed outside a transaction (DDL). */
const DDL_COMMANDS: ReadonlySet<string> = new Set([
  "create",
  "drop",
  "createIndexes",
  "dropIndexes",
  "dropDatabase",
  "collMod",
]);

/** The session an operation has checked out (`OperationContextSession::get`). */
const sessionByOp = new OperationDecoration<Session>("checkedOutSession");

/** The session-catalog entry `op` has checked out, if any (mongod and mongos). */
export function checkedOutSession(op: OperationContext): Session | undefined {
  return sessionByOp.get(op);
}

function* toCompletion(result: CommandResult): Task<Document> {
  return isTask(result) ? yield* result : result;
}

/**
 * Runs `def` for `op` the way MongoDB's command dispatch does once the session fields are known:
 * parses `maxTimeMS`, validates the session fields (`validateSessionOptions`), refuses what a
 * non-primary may not run (`repl/`: NotWritablePrimary, NotPrimaryNoSecondaryOk), sets the
 * operation's deadline (`node/operation-deadline.ts`: it interrupts every wait below with
 * MaxTimeMSExpired), refuses a `readConcern.afterClusterTime` ahead of a mongod's cluster time,
 * and — for operations carrying a `txnNumber` — checks the session out for the whole command, so
 * that a second such operation on the session waits.
 *
 * @remarks On a mongod, with the session checked out (reference §5.2–5.4):
 * 1. the participant is refreshed from storage if needed and `beginOrContinue` runs; a new
 *    transaction number while the session's transaction is prepared waits — with the session
 *    checked in — until that transaction commits or aborts, then tries again ("new transactions
 *    on a session block behind an existing prepared transaction");
 * 2. the transaction's resources are unstashed (`op.writeSet`); a failure there aborts an
 *    in-progress transaction;
 * 3. `run` runs the command; on failure an in-progress transaction is aborted, a prepared one
 *    kept; on success the reply gets `readOnly` (shard and config servers).
 * On mongos the session is only checked out (the transaction router runs inside `run`).
 *
 * @param run runs the command itself (with its failpoints and router/coordinator hooks)
 */
export function invokeCommand(
  op: OperationContext,
  node: ServerNode,
  def: CommandDefinition,
  run: () => CommandResult,
): CommandResult {
  const limits = parseMaxTimeArguments(op.command);
  validateSessionOptions(op, def.name);
  checkCanRunHere(op, node, def.name);
  setOperationDeadline(op, node, limits);
  // Most commands carry no time limit: no closure for them (this is every command's path).
  if (!op.hasDeadline) return invokeWithSessionOptions(op, node, def, run);
  return runUnderDeadline(op, () => invokeWithSessionOptions(op, node, def, run));
}

function invokeWithSessionOptions(
  op: OperationContext,
  node: ServerNode,
  def: CommandDefinition,
  run: () => CommandResult,
): CommandResult {
  const mongod = isMongod(node.role);
  // A stepped-down member writes no no-op for afterClusterTime (MongoDB asks the primary, which a
  // one-member set lacks meanwhile): it reads at its last write.
  if (mongod)
    checkReadConcernClusterTime(
      op.command,
      node.clusterTime,
      peekReplicationCoordinator(node)?.canAcceptNonLocalWrites === false ? undefined : node.durable,
    );
  if (op.txnNumber === undefined || op.lsid === undefined || SKIP_SESSION_CHECKOUT.has(def.name)) {
    const result = run();
    if (!mongod || !DDL_COMMANDS.has(def.name)) return result;
    if (!isTask(result)) {
      tickForWrites(op, node.clusterTime, 1);
      return result;
    }
    return (function* () {
      const reply = yield* result;
      tickForWrites(op, node.clusterTime, 1);
      return reply;
    })();
  }
  return checkOutSessionAndInvoke(op, node, def, run);
}

function* checkOutSessionAndInvoke(
  op: OperationContext,
  node: ServerNode,
  def: CommandDefinition,
  run: () => CommandResult,
): Task<Document> {
  const catalog = node.sessionCatalog;
  const lsid = op.lsid as LogicalSessionId;
  let session: Session | undefined = yield* catalog.checkOut(op, lsid);
  sessionByOp.set(op, session);
  try {
    const participants = node.participants;
    if (participants === undefined) return yield* toCompletion(run());

    let p = participants.participantOf(session);
    p.refreshFromStorageIfNeeded();
    for (;;) {
      // `beginOrContinue` holds the RSTL and insists on a primary (the node may have stepped down
      // while this operation waited for the session or behind a prepared transaction).
      if (peekReplicationCoordinator(node)?.canAcceptWritesForDatabase("admin") === false)
        throw new ServerError(
          ErrorCodes.NotWritablePrimary,
          "Not primary so we cannot begin or continue a transaction",
        );
      try {
        p.beginOrContinue(op);
        break;
      } catch (e) {
        if (!(e instanceof ServerError) || e.code !== ErrorCodes.PreparedTransactionInProgress || !p.prepared) throw e;
        // Block behind the prepared transaction with the session checked in, then retry.
        const exited = p.onExitPrepare();
        catalog.checkIn(session, op);
        sessionByOp.set(op, undefined);
        session = undefined;
        yield* wait(op.interruptible(exited));
        session = yield* catalog.checkOut(op, lsid);
        sessionByOp.set(op, session);
        p = participants.participantOf(session);
        p.refreshFromStorageIfNeeded();
      }
    }
    try {
      p.unstash(op, def.name);
    } catch (e) {
      if (p.inProgress) p.abortActiveTransaction(op, "unstashFailed");
      throw e;
    }
    setParticipantForOp(op, p);
    let reply: Document;
    try {
      reply = yield* toCompletion(run());
    } catch (e) {
      p.cleanUpAfterError(op, e);
      throw e;
    }
    if (reply.ok === 0) {
      p.cleanUpAfterError(op, reply);
      return reply;
    }
    p.stash(op);
    return { ...reply, readOnly: p.readOnly };
  } catch (e) {
    throw withTransactionErrorLabels(op, def.name, e);
  } finally {
    setParticipantForOp(op, undefined);
    if (session !== undefined) {
      sessionByOp.set(op, undefined);
      catalog.checkIn(session, op);
    }
  }
}
