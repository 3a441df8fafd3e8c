/**
 * The steps of a two-phase-commit coordinator and the actions its workers report, with the legal
 * step transitions as a typed table.
 *
 * @packageDocumentation
 */
import { InvariantViolation } from "../../errors/index.js";

/**
 * The coordinator's steps, with MongoDB's names (`TransactionCoordinator::Step` and its
 * `toString`, `src/mongo/db/s/transaction_coordinator.cpp`), plus `done` for a coordinator that
 * has finished (or was cancelled) and left the catalog.
 *
 * @remarks
 * sessionsim leaves out the newest line's `writingEndOfTransaction` step (endOfTransaction oplog
 * entries for change streams): nothing in the simulation reads them. See the fidelity page.
 */
export const CoordinatorSteps = Object.freeze({
  inactive: "inactive",
  writingParticipantList: "writingParticipantList",
  waitingForVotes: "waitingForVotes",
  writingDecision: "writingDecision",
  waitingForDecisionAcks: "waitingForDecisionAcks",
  deletingCoordinatorDoc: "deletingCoordinatorDoc",
  done: "done",
} as const);

/** One of {@link CoordinatorSteps}. */
export type CoordinatorStep = (typeof CoordinatorSteps)[keyof typeof CoordinatorSteps];

/** The steps `serverStatus.twoPhaseCommitCoordinator.currentInSteps` counts. */
export const COUNTED_STEPS = [
  CoordinatorSteps.writingParticipantList,
  CoordinatorSteps.waitingForVotes,
  CoordinatorSteps.writingDecision,
  CoordinatorSteps.waitingForDecisionAcks,
  CoordinatorSteps.deletingCoordinatorDoc,
] as const;

/**
 * What a coordinator worker is doing, as `$currentOp` reports it
 * (`TransactionCoordinatorWorkerCurOpRepository::CoordinatorAction`).
 */
export const CoordinatorActions = Object.freeze({
  writingParticipantList: "writingParticipantList",
  sendingPrepare: "sendingPrepare",
  writingDecision: "writingDecision",
  sendingCommit: "sendingCommit",
  sendingAbort: "sendingAbort",
  deletingCoordinatorDoc: "deletingCoordinatorDoc",
} as const);

/** One of {@link CoordinatorActions}. */
export type CoordinatorAction = (typeof CoordinatorActions)[keyof typeof CoordinatorActions];

/**
 * Legal step transitions.
 *
 * @remarks
 * The chain in `TransactionCoordinator::start`: the participant list is written, votes are
 * collected, the decision is written, acknowledged and the document deleted. A deadline (or an
 * abort vote) while the participant list is still being written skips the vote collection: the
 * `TransactionCoordinatorReachedAbortDecision` error jumps to writing an abort decision. Any step
 * may end the coordinator (`done`): a cancellation before commit starts, or a failure of the
 * chain.
 */
const transitions: { readonly [s in CoordinatorStep]: readonly CoordinatorStep[] } = {
  inactive: ["writingParticipantList", "done"],
  writingParticipantList: ["waitingForVotes", "writingDecision", "done"],
  waitingForVotes: ["writingDecision", "done"],
  writingDecision: ["waitingForDecisionAcks", "done"],
  waitingForDecisionAcks: ["deletingCoordinatorDoc", "done"],
  deletingCoordinatorDoc: ["done"],
  done: [],
};

/**
 * Checks a step change against the table.
 *
 * @throws InvariantViolation naming both steps if the change is not legal.
 */
export function transition(from: CoordinatorStep, to: CoordinatorStep): CoordinatorStep {
  if (!transitions[from].includes(to))
    throw new InvariantViolation(`TransactionCoordinator: illegal step transition ${from} -> ${to}`);
  return to;
}
