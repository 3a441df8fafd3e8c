/**
 * `serverStatus.twoPhaseCommitCoordinator`: counters of a node's coordinators.
 *
 * @packageDocumentation
 */
import { Long } from "bson";
import type { Document } from "../../idl/bson-types.js";
import { COUNTED_STEPS, CoordinatorSteps, type CoordinatorStep } from "./coordinator-steps.js";

/**
 * The node's coordinator counters (`ServerTransactionCoordinatorsMetrics`, updated by
 * `TransactionCoordinatorMetricsObserver`). Volatile: a restarted node starts from zero, and its
 * recovered coordinators count as created and started again.
 */
export class CoordinatorMetrics {
  totalCreated = 0;
  totalStartedTwoPhaseCommit = 0;
  totalCommittedTwoPhaseCommit = 0;
  totalAbortedTwoPhaseCommit = 0;
  readonly #current = new Map<CoordinatorStep, number>(COUNTED_STEPS.map((s) => [s, 0]));

  /** A coordinator was created (`onCreate`). */
  onCreate(): void {
    this.totalCreated++;
  }

  /** A coordinator moved from `from` to `to` (`onStartStep`; entering the first step starts 2PC). */
  onStartStep(from: CoordinatorStep, to: CoordinatorStep): void {
    if (to === CoordinatorSteps.writingParticipantList) this.totalStartedTwoPhaseCommit++;
    if (this.#current.has(from)) this.#current.set(from, this.#current.get(from)! - 1);
    if (this.#current.has(to)) this.#current.set(to, this.#current.get(to)! + 1);
  }

  /** A coordinator ended in `step`, with its decision if that was made durable (`onEnd`). */
  onEnd(step: CoordinatorStep, durableDecision: "commit" | "abort" | undefined): void {
    if (this.#current.has(step)) this.#current.set(step, this.#current.get(step)! - 1);
    if (durableDecision === "commit") this.totalCommittedTwoPhaseCommit++;
    else if (durableDecision === "abort") this.totalAbortedTwoPhaseCommit++;
  }

  /** The `serverStatus` section. */
  toDocument(): Document {
    return {
      totalCreated: Long.fromNumber(this.totalCreated),
      totalStartedTwoPhaseCommit: Long.fromNumber(this.totalStartedTwoPhaseCommit),
      totalAbortedTwoPhaseCommit: Long.fromNumber(this.totalAbortedTwoPhaseCommit),
      totalCommittedTwoPhaseCommit: Long.fromNumber(this.totalCommittedTwoPhaseCommit),
      currentInSteps: Object.fromEntries(COUNTED_STEPS.map((s) => [s, Long.fromNumber(this.#current.get(s)!)])),
    };
  }
}
