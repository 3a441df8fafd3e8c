/**
 * A shard's catalog of transaction coordinators: creation on the first statement, commit
 * hand-off, recovery after a restart, and `serverStatus.twoPhaseCommitCoordinator`.
 *
 * @packageDocumentation
 */
import type { Long } from "bson";
import { ErrorCodes, ServerError } from "../../errors/index.js";
import type { Document } from "../../idl/bson-types.js";
import type { ServerNode } from "../../node/server-node.js";
import { bsonKey } from "../../storage/bson-key.js";
import { readAllCoordinatorDocs } from "./coordinator-document.js";
import { CoordinatorMetrics } from "./coordinator-metrics.js";
import { TransactionCoordinator, type CoordinatorOwner } from "./transaction-coordinator.js";

/** The parent session `{id, uid}` of an lsid (coordinators are kept per parent session). */
function sessionKey(lsid: Document): string {
  return bsonKey({ id: lsid.id, uid: lsid.uid });
}

/**
 * The coordinators of one shard node (`TransactionCoordinatorService` and its
 * `TransactionCoordinatorCatalog`, `src/mongo/db/s/transaction_coordinator_service.cpp`).
 * Volatile: it lives as long as the node's incarnation; {@link recover} rebuilds it from
 * `config.transaction_coordinators` at start.
 *
 * @example
 * ```ts
 * const tcs = coordinatorServiceOf(node);
 * tcs.createCoordinator(lsid, txnNumber);          // first statement with coordinator: true
 * const c = tcs.coordinateCommit(lsid, txnNumber, ["shard0", "shard1"]);
 * ```
 */
export class TransactionCoordinatorService implements CoordinatorOwner {
  readonly metrics = new CoordinatorMetrics();
  /** Per parent session: txnNumber (decimal string) → coordinator. */
  readonly #catalog = new Map<string, Map<string, TransactionCoordinator>>();

  constructor(readonly node: ServerNode) {}

  /**
   * Creates the coordinator of `(lsid, txnNumber)` (`createCoordinator`): a no-op if the session's
   * latest coordinator has this number; otherwise that one is cancelled unless its commit started.
   *
   * @remarks MongoDB creates it only after the participant accepted the statement
   * (`beginOrContinue`); sessionsim skips a `txnNumber` older than the session's latest
   * coordinator instead, which is what that check would refuse (`TransactionTooOld`).
   */
  createCoordinator(lsid: Document, txnNumber: Long): void {
    const latest = this.#latestOnSession(lsid);
    if (latest !== undefined) {
      if (latest.txnNumber.equals(txnNumber)) return;
      if (latest.txnNumber.greaterThan(txnNumber)) return;
      latest.cancelIfCommitNotYetStarted();
    }
    const deadline = this.node.now() + this.node.params.transactionLifetimeLimitSeconds * 1000;
    this.#insert(new TransactionCoordinator(this, lsid, txnNumber, deadline, false));
  }

  /**
   * Starts the commit of `(lsid, txnNumber)` with `participants` (`coordinateCommit`) and returns
   * the coordinator, or undefined if there is none.
   */
  coordinateCommit(
    lsid: Document,
    txnNumber: Long,
    participants: readonly string[],
  ): TransactionCoordinator | undefined {
    const c = this.get(lsid, txnNumber);
    c?.runCommit(participants);
    return c;
  }

  /**
   * Joins the commit of `(lsid, txnNumber)` without a participant list (`recoverCommit`): a
   * coordinator whose commit never started is cancelled, so the answer comes at once.
   */
  recoverCommit(lsid: Document, txnNumber: Long): TransactionCoordinator | undefined {
    const c = this.get(lsid, txnNumber);
    c?.cancelIfCommitNotYetStarted();
    return c;
  }

  /** Cancels the session's coordinator for `txnNumber` unless its commit started. */
  cancelIfCommitNotYetStarted(lsid: Document, txnNumber: Long): void {
    const latest = this.#latestOnSession(lsid);
    if (latest !== undefined && latest.txnNumber.equals(txnNumber)) latest.cancelIfCommitNotYetStarted();
  }

  /** The coordinator of `(lsid, txnNumber)`, if any. */
  get(lsid: Document, txnNumber: Long): TransactionCoordinator | undefined {
    return this.#catalog.get(sessionKey(lsid))?.get(txnNumber.toString());
  }

  /** Every live coordinator, in creation order. */
  all(): TransactionCoordinator[] {
    return [...this.#catalog.values()].flatMap((m) => [...m.values()]);
  }

  /**
   * Restart and step-up recovery (`onStepUp`): one coordinator per `config.transaction_coordinators`
   * document, with a new deadline, resumed with `continueCommit` — re-sending the decision if the
   * document has one, else re-sending prepare.
   */
  recover(): number {
    const docs = readAllCoordinatorDocs(this.node.durable!.catalog);
    const deadline = this.node.now() + this.node.params.transactionLifetimeLimitSeconds * 1000;
    for (const doc of docs) {
      const c = new TransactionCoordinator(this, doc.lsid, doc.txnNumber, deadline, true);
      this.#insert(c);
      c.continueCommit(doc);
    }
    return docs.length;
  }

  /**
   * Stepdown (`onStepDown`): interrupts every coordinator with TransactionCoordinatorSteppingDown;
   * their documents stay in `config.transaction_coordinators` for {@link recover} at step-up.
   */
  onStepDown(): void {
    const status = new ServerError(ErrorCodes.TransactionCoordinatorSteppingDown, "Coordinator stepping down");
    for (const c of this.all()) c.interrupt(status);
  }

  onCoordinatorFinished(c: TransactionCoordinator): void {
    const key = sessionKey(c.lsid);
    const bySession = this.#catalog.get(key);
    if (bySession?.get(c.txnNumber.toString()) !== c) return;
    bySession.delete(c.txnNumber.toString());
    if (bySession.size === 0) this.#catalog.delete(key);
  }

  #insert(c: TransactionCoordinator): void {
    const key = sessionKey(c.lsid);
    let bySession = this.#catalog.get(key);
    if (bySession === undefined) this.#catalog.set(key, (bySession = new Map<string, TransactionCoordinator>()));
    bySession.set(c.txnNumber.toString(), c);
    c.start();
  }

  #latestOnSession(lsid: Document): TransactionCoordinator | undefined {
    const bySession = this.#catalog.get(sessionKey(lsid));
    if (bySession === undefined) return undefined;
    let latest: TransactionCoordinator | undefined;
    for (const c of bySession.values())
      if (latest === undefined || c.txnNumber.greaterThan(latest.txnNumber)) latest = c;
    return latest;
  }
}

const services = new WeakMap<ServerNode, TransactionCoordinatorService>();

/** The coordinator service of a shard node's current incarnation (created on first use). */
export function coordinatorServiceOf(node: ServerNode): TransactionCoordinatorService {
  let s = services.get(node);
  if (s === undefined) {
    s = new TransactionCoordinatorService(node);
    services.set(node, s);
  }
  return s;
}

/**
 * Starts a shard node's coordinator service: registers `serverStatus.twoPhaseCommitCoordinator`
 * and resumes the coordinators of `config.transaction_coordinators`. Called when the node starts
 * (and at every restart).
 */
export function startTransactionCoordinatorService(node: ServerNode): TransactionCoordinatorService {
  const service = coordinatorServiceOf(node);
  node.serverStatusSections.set("twoPhaseCommitCoordinator", () => service.metrics.toDocument());
  const n = service.recover();
  if (n > 0) node.ctx.record({ type: "node.recover", detail: { transactionCoordinators: n } });
  return service;
}
