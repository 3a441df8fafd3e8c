/**
 * A mongod's replica-set member state and its stepdown / step-up (`ReplicationCoordinatorImpl`,
 * `src/mongo/db/repl/replication_coordinator_impl*.cpp`), for sessionsim's single-member replica
 * sets.
 *
 * @packageDocumentation
 */
import { Future, wait, type Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import { isMongod, NodeRoles } from "../node/topology.js";
import { isDocument } from "../idl/bson-types.js";
import { coordinatorServiceOf } from "../transactions/coordinator/transaction-coordinator-service.js";
import { AllowedOnSecondary, conflictsWithWritesAtStepDown, secondaryAllowed } from "./secondary-allowed.js";

/** The member states a sessionsim mongod goes through (`MemberState`). */
export const MemberStates = Object.freeze({ PRIMARY: "PRIMARY", SECONDARY: "SECONDARY" } as const);
export type MemberState = (typeof MemberStates)[keyof typeof MemberStates];

/** What one `replSetStepDown` asks for (parsed by the command). */
export interface StepDownRequest {
  /** `force`: step down after `waitMs` even though no secondary is caught up. */
  readonly force: boolean;
  /** `secondaryCatchUpPeriodSecs`, in ms. */
  readonly waitMs: number;
  /** The stepdown period (`replSetStepDown: <secs>`), in ms: no re-election before it ends. */
  readonly stepDownMs: number;
}

/** `dateToISOStringLocal` (the node's zone is UTC): `2026-01-01T00:00:10.000+00:00`. */
function isoLocal(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+00:00");
}

/**
 * The replication state of one mongod incarnation (a restart starts as primary again: the
 * single member elects itself at startup).
 *
 * @remarks
 * - `stepDown` (`ReplicationCoordinatorImpl::stepDown`, `TopologyCoordinator::tryToStartStepDown`):
 *   refuses a non-primary (NotWritablePrimary "not primary so can't step down") and a second
 *   concurrent attempt (ConflictingOperationInProgress "This node is already in the process of
 *   stepping down"); acquiring the RSTL kills the conflicting operations and aborts every
 *   unprepared transaction with InterruptedDueToReplStateChange (11602), and from then on the node
 *   refuses writes. A single member has no electable secondary, so without `force` the attempt
 *   fails after `secondaryCatchUpPeriodSecs` with ExceededTimeLimit (262) "No electable
 *   secondaries caught up as of <date>. Please use the replSetStepDown command with the argument
 *   {force: true} to force node to step down." and the node accepts writes again; with `force` it
 *   steps down once that period (default 0) is over.
 * - Stepping down keeps prepared transactions (still prepared, their write sets still blocking
 *   conflicting writes: locks are not modelled, so there is nothing to yield) and stops the
 *   node's transaction coordinators (`TransactionCoordinatorService::onStepDown`); the node is
 *   SECONDARY: writes fail NotWritablePrimary (10107), reads without `secondaryOk` fail
 *   NotPrimaryNoSecondaryOk (13435).
 * - When the stepdown period ends, the single member elects itself (`_handleTimePassing` →
 *   `becomeCandidateIfStepdownPeriodOverAndSingleNodeSet`): it writes the new term's no-op, its
 *   prepared transactions are already in place (step-up would re-acquire their locks), and the
 *   coordinator service resumes every `config.transaction_coordinators` document, as after a
 *   restart.
 * - Every change of state or writability bumps `hello`'s `topologyVersion.counter`.
 *
 * @example
 * ```ts
 * yield* replicationCoordinatorOf(node).stepDown(op, { force: true, waitMs: 0, stepDownMs: 60_000 });
 * ```
 */
export class ReplicationCoordinator {
  #state: MemberState = MemberStates.PRIMARY;
  /** A stepdown attempt holds the node's writability (`kAttemptingStepDown`). */
  #attemptingStepDown = false;
  #topologyVersion = 0;

  constructor(private readonly node: ServerNode) {}

  /** The member state. */
  get memberState(): MemberState {
    return this.#state;
  }

  /** `_canAcceptNonLocalWrites`: primary, and no stepdown attempt under way. */
  get canAcceptNonLocalWrites(): boolean {
    return this.#state === MemberStates.PRIMARY && !this.#attemptingStepDown;
  }

  /** `canAcceptWritesForDatabase`: writes to `local` are always allowed. */
  canAcceptWritesForDatabase(db: string): boolean {
    return this.canAcceptNonLocalWrites || db === "local";
  }

  /** `hello`'s `topologyVersion.counter`. */
  get topologyVersion(): number {
    return this.#topologyVersion;
  }

  /** Runs a `replSetStepDown` for `op` (which waits, interruptibly, while the attempt lasts). */
  *stepDown(op: OperationContext, request: StepDownRequest): Task<void> {
    const node = this.node;
    const start = node.now();
    const stepDownUntil = start + request.stepDownMs;
    const waitUntil = start + request.waitMs;
    if (this.#state !== MemberStates.PRIMARY)
      throw new ServerError(ErrorCodes.NotWritablePrimary, "not primary so can't step down");
    killConflictingOperations(node, op);
    if (this.#attemptingStepDown)
      throw new ServerError(
        ErrorCodes.ConflictingOperationInProgress,
        "This node is already in the process of stepping down",
      );
    this.#attemptingStepDown = true;
    this.#bumpTopologyVersion();
    try {
      for (;;) {
        const now = node.now();
        if (now >= stepDownUntil)
          throw new ServerError(
            ErrorCodes.ExceededTimeLimit,
            "By the time we were ready to step down, we were already past the time we were supposed to step down until",
          );
        // `_canCompleteStepDownAttempt`: forced once the catch-up period is over; otherwise it
        // needs a caught-up electable secondary, which a single-member set never has.
        if (request.force && now >= waitUntil) break;
        if (now >= waitUntil)
          throw new ServerError(
            ErrorCodes.ExceededTimeLimit,
            `No electable secondaries caught up as of ${isoLocal(now)}. Please use the replSetStepDown command with the argument {force: true} to force node to step down.`,
          );
        const slept = new Future<void>();
        node.ctx.setTimer(Math.min(stepDownUntil, waitUntil) - now, () => slept.resolve(), "stepDownWait");
        yield* wait(op.interruptible(slept));
        // Re-acquiring the RSTL kills what sneaked in meanwhile.
        killConflictingOperations(node, op);
      }
    } catch (e) {
      this.#attemptingStepDown = false;
      this.#bumpTopologyVersion();
      throw e;
    }
    this.#attemptingStepDown = false;
    // Prepared transactions keep their state (`yieldLocksForPreparedTransactions`); coordinators
    // stop and will be resumed from their documents at step-up.
    if (node.role === NodeRoles.shardsvr) coordinatorServiceOf(node).onStepDown();
    this.#setState(MemberStates.SECONDARY, "replSetStepDown");
    node.ctx.setTimer(stepDownUntil - node.now(), () => this.#stepUpIfStepDownPeriodOver(), "stepDownPeriod");
  }

  /** The single member runs for election when its stepdown period is over, and wins. */
  #stepUpIfStepDownPeriodOver(): void {
    if (this.#state !== MemberStates.SECONDARY) return;
    const node = this.node;
    // The new term's first oplog entry ("new primary" no-op), then writes are accepted.
    node.clusterTime.tick();
    this.#setState(MemberStates.PRIMARY, "stepUp");
    // `TransactionCoordinatorService::onStepUp`: resume every coordinator document.
    if (node.role === NodeRoles.shardsvr) {
      const n = coordinatorServiceOf(node).recover();
      if (n > 0) node.ctx.record({ type: "node.recover", detail: { transactionCoordinators: n } });
    }
  }

  #setState(to: MemberState, reason: string): void {
    const from = this.#state;
    this.#state = to;
    this.#bumpTopologyVersion();
    this.node.ctx.record({ type: "repl.state", from, to, reason });
  }

  #bumpTopologyVersion(): void {
    this.#topologyVersion++;
  }
}

/**
 * Interrupts, with InterruptedDueToReplStateChange (11602), the operations a state transition
 * conflicts with, and aborts every unprepared transaction (`AutoGetRstlForStepUpStepDown`'s
 * kill-op thread: `_killConflictingOperations` + `killSessionsAbortUnpreparedTransactions`).
 * Returns how many operations were interrupted.
 *
 * @remarks Interrupted: operations in multi-document transactions
 * (`setAlwaysInterruptAtStepDownOrUp`) and those holding the global lock in a mode that conflicts
 * with the transition — writes, and `sleep` in S, X or IX (see {@link conflictsWithWritesAtStepDown}).
 * Prepared transactions are not aborted.
 */
export function killConflictingOperations(node: ServerNode, self: OperationContext | undefined): number {
  const reason = new ServerError(ErrorCodes.InterruptedDueToReplStateChange, "operation was interrupted");
  let n = 0;
  for (const op of [...node.ops.values()]) {
    if (op === self || op.killPending) continue;
    if (op.autocommit !== false && !conflictsWithWritesAtStepDown(op)) continue;
    op.interrupt(reason);
    node.ctx.record({ type: "op.interrupt", opId: op.opId, command: op.commandName, codeName: reason.codeName });
    n++;
  }
  node.participants?.abortUnpreparedTransactions(() => true, reason);
  return n;
}

const coordinators = new WeakMap<ServerNode, ReplicationCoordinator>();

/** The replication coordinator of a mongod incarnation (created on first use). */
export function replicationCoordinatorOf(node: ServerNode): ReplicationCoordinator {
  let c = coordinators.get(node);
  if (c === undefined) coordinators.set(node, (c = new ReplicationCoordinator(node)));
  return c;
}

/** The node's replication coordinator if it ever had one (none: a primary that never stepped down). */
export function peekReplicationCoordinator(node: ServerNode): ReplicationCoordinator | undefined {
  return coordinators.get(node);
}

/** `ReadPreferenceSetting::canRunOnSecondary()`: a `$readPreference` whose mode is not `primary`. */
function secondaryOk(op: OperationContext): boolean {
  const rp = op.command.$readPreference;
  return isDocument(rp) && typeof rp.mode === "string" && rp.mode !== "primary";
}

/**
 * The checks of command dispatch on a node that cannot accept writes (`ExecCommandDatabase::
 * _initiateCommand` with `commandCanRunHere`, `service_entry_point_shard_role.cpp`): a command
 * runs if the node accepts writes for its database, or — outside a multi-document transaction — if
 * it is allowed on secondaries always, or by opt-in with a non-primary `$readPreference`.
 *
 * @throws ServerError NotPrimaryNoSecondaryOk (13435) "not primary and secondaryOk=false" for an
 * opt-in command without `secondaryOk`; NotWritablePrimary (10107) "not primary" otherwise.
 */
export function checkCanRunHere(op: OperationContext, node: ServerNode, commandName: string): void {
  if (!isMongod(node.role)) return;
  const repl = peekReplicationCoordinator(node);
  if (repl === undefined || repl.canAcceptWritesForDatabase(op.db)) return;
  const inMultiDocumentTransaction = op.autocommit === false;
  const allowed = secondaryAllowed(commandName);
  const couldHaveOptedIn = allowed === AllowedOnSecondary.optIn && !inMultiDocumentTransaction;
  const canRunHere =
    !inMultiDocumentTransaction && (allowed === AllowedOnSecondary.always || (couldHaveOptedIn && secondaryOk(op)));
  if (canRunHere) return;
  if (couldHaveOptedIn) throw new ServerError(ErrorCodes.NotPrimaryNoSecondaryOk, "not primary and secondaryOk=false");
  throw new ServerError(ErrorCodes.NotWritablePrimary, "not primary");
}
