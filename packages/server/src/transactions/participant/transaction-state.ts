/**
 * The participant's transaction states and their legal transitions.
 *
 * @packageDocumentation
 */
import { InvariantViolation } from "../../errors/index.js";

/**
 * The states of a session's transaction on a mongod (`TransactionParticipant::TransactionState`).
 *
 * @remarks `src/mongo/db/transaction/transaction_participant.h`: `kNone`, `kInProgress`,
 * `kPrepared`, `kCommitted`, `kAbortedWithoutPrepare`, `kAbortedWithPrepare`,
 * `kExecutedRetryableWrite`.
 */
export const TransactionStates = Object.freeze({
  None: "None",
  InProgress: "InProgress",
  Prepared: "Prepared",
  Committed: "Committed",
  AbortedWithoutPrepare: "AbortedWithoutPrepare",
  AbortedWithPrepare: "AbortedWithPrepare",
  ExecutedRetryableWrite: "ExecutedRetryableWrite",
} as const);

/** One of {@link TransactionStates}. */
export type TransactionState = (typeof TransactionStates)[keyof typeof TransactionStates];

/**
 * The legal transitions (`TransactionState::_isLegalTransition`, `transaction_participant.cpp`).
 *
 * @remarks Reference §5.4. A prepared transaction can only end (commit or abort with prepare);
 * a new transaction number always passes through `None`.
 */
export const transitions: { readonly [s in TransactionState]: readonly TransactionState[] } = Object.freeze({
  None: ["None", "InProgress", "ExecutedRetryableWrite"],
  InProgress: ["None", "Prepared", "Committed", "AbortedWithoutPrepare"],
  Prepared: ["AbortedWithPrepare", "Committed"],
  Committed: ["None"],
  AbortedWithoutPrepare: ["None", "InProgress"],
  AbortedWithPrepare: ["None"],
  ExecutedRetryableWrite: ["None"],
});

/**
 * Checks a transition against {@link transitions} and returns the new state.
 *
 * @throws InvariantViolation naming both states when the transition is illegal (MongoDB's
 * invariant "Current state: <from>, Illegal attempted next state: <to>").
 *
 * @example
 * ```ts
 * transition("InProgress", "Prepared"); // "Prepared"
 * transition("Prepared", "InProgress"); // throws
 * ```
 */
export function transition(from: TransactionState, to: TransactionState): TransactionState {
  if (!transitions[from].includes(to))
    throw new InvariantViolation(`Current state: ${stateName(from)}, Illegal attempted next state: ${stateName(to)}`);
  return to;
}

/**
 * How the server prints a state in messages (`TransactionState::toString`).
 *
 * @remarks `kAbortedWithPrepare` prints as "TxnState::AbortedAfterPrepare".
 */
export function stateName(s: TransactionState): string {
  return s === TransactionStates.AbortedWithPrepare ? "TxnState::AbortedAfterPrepare" : `TxnState::${s}`;
}

/** In progress or prepared (`isOpen()`): the transaction still holds its write set. */
export function isOpen(s: TransactionState): boolean {
  return s === TransactionStates.InProgress || s === TransactionStates.Prepared;
}

/** Aborted, with or without prepare. */
export function isAborted(s: TransactionState): boolean {
  return s === TransactionStates.AbortedWithoutPrepare || s === TransactionStates.AbortedWithPrepare;
}

/** `isInRetryableWriteMode()`: the active number belongs to a retryable write (or to nothing yet). */
export function isInRetryableWriteMode(s: TransactionState): boolean {
  return s === TransactionStates.None || s === TransactionStates.ExecutedRetryableWrite;
}
