/**
 * The coordinator's conversations with participants: `prepareTransaction` to collect votes,
 * `commitTransaction` / `abortTransaction` to deliver the decision, each retried until a
 * conclusive answer, and the hang failpoints MongoDB's tests use to stop it at a step.
 *
 * @packageDocumentation
 */
import type { Long, Timestamp } from "bson";
import { Future, NetworkError, spawn, wait, type Task } from "@sessionsim/kernel";
import { ErrorCodes, ServerError, TwoPhaseDecisionAckErrors, VoteAbortErrors, codeNameOf } from "../../errors/index.js";
import type { Document } from "../../idl/bson-types.js";
import type { ServerNode } from "../../node/server-node.js";
import { runOnShard } from "../../sharding/router.js";
import type { AbortStatus, CoordinatorDecision } from "./coordinator-document.js";
import { CoordinatorActions, type CoordinatorAction } from "./coordinator-steps.js";
import { Backoff, sleep, type WorkScheduler } from "./work-scheduler.js";

/** What the coordinator's workers need from their coordinator. */
export interface CoordinatorWorkerContext {
  readonly node: ServerNode;
  readonly lsid: Document;
  readonly txnNumber: Long;
  /** Reports what the worker is doing (`TransactionCoordinatorWorkerCurOpRepository::set`). */
  setAction(action: CoordinatorAction): void;
  /** Notes that a hang failpoint fired ("Hit <name> failpoint" in MongoDB's log). */
  hitFailpoint(name: string): void;
}

/** How often a paused failpoint is re-checked (`FailPoint::pauseWhileSet` sleeps 100 ms). */
export const FAILPOINT_POLL_MS = 100;

/**
 * If failpoint `name` fires, waits until it is turned off (`FailPoint::pauseWhileSet`). MongoDB
 * re-checks every 100 ms; the simulation waits for the failpoint to go off and then sleeps to the
 * next 100-ms tick since the pause began, so it wakes when the polling would have, without a timer
 * per tick. With `scheduler`, the wait is interruptible: its shutdown status is thrown.
 */
export function* pauseWhileSet(c: CoordinatorWorkerContext, name: string, scheduler?: WorkScheduler): Task<void> {
  const failpoints = c.node.ctx.failpoints;
  if (failpoints.check(name) === undefined) return;
  c.hitFailpoint(name);
  const race = <T>(f: Future<T>): Future<T> => (scheduler === undefined ? f : scheduler.race(f));
  const pausedAt = c.node.now();
  while (failpoints.isOn(name)) {
    const off = new Future<void>();
    const cancel = failpoints.whenOff(name, () => off.resolve());
    try {
      yield* wait(race(off));
    } finally {
      cancel();
    }
    const now = c.node.now();
    const tick = pausedAt + Math.max(1, Math.ceil((now - pausedAt) / FAILPOINT_POLL_MS)) * FAILPOINT_POLL_MS;
    yield* wait(race(sleep(c.node, Math.min(FAILPOINT_POLL_MS, Math.max(0, tick - now)))));
  }
}

/**
 * Sends one coordinator command to a participant shard (`AsyncWorkScheduler::scheduleRemoteCommand`,
 * `transaction_coordinator_futures_util.cpp`), in MongoDB's order: the `failRemoteTransactionCommand`
 * failpoint (`{code, command}`) answers with a made-up error; the worker reports its action and
 * checks the `hangBeforeSending*` failpoint; then `hangWhileTargetingLocalHost` for this node's own
 * shard, or the shard lookup (`ShardNotFound`) and `hangWhileTargetingRemoteHost` for another.
 * The local shard is reached over the simulated network like any other (loopback).
 */
function* sendCoordinatorCommand(
  c: CoordinatorWorkerContext,
  shardId: string,
  command: Document,
  action: CoordinatorAction,
  hangBeforeSending: readonly string[],
  scheduler: WorkScheduler | undefined,
): Task<Document> {
  const node = c.node;
  const injected = node.ctx.failpoints.check(
    "failRemoteTransactionCommand",
    (d) => typeof d.command === "string" && Object.hasOwn(command, d.command),
  );
  if (injected !== undefined) {
    const code = Number(injected.code);
    return { ok: 0, code, codeName: codeNameOf(code), errmsg: "fail point" };
  }
  c.setAction(action);
  for (const fp of hangBeforeSending) yield* pauseWhileSet(c, fp, scheduler);
  if (shardId === node.identity.shardId) yield* pauseWhileSet(c, "hangWhileTargetingLocalHost", scheduler);
  else {
    if (node.shared.sharding.shard(shardId) === undefined)
      throw new ServerError(ErrorCodes.ShardNotFound, `Shard ${shardId} not found`);
    yield* pauseWhileSet(c, "hangWhileTargetingRemoteHost", scheduler);
  }
  const send = spawn(runOnShard(node, shardId, { db: "admin", command, internal: true }));
  return yield* wait(scheduler === undefined ? send : scheduler.race(send));
}

/** The status of a reply: its error, else its writeConcernError, else undefined (OK). */
function replyStatus(reply: Document): ServerError | undefined {
  if (reply.ok !== 1) {
    const code = Number(reply.code ?? ErrorCodes.UnknownError);
    return new ServerError(code, String(reply.errmsg ?? ""));
  }
  const wce = reply.writeConcernError as Document | undefined;
  if (wce !== undefined && wce !== null)
    return new ServerError(Number(wce.code ?? ErrorCodes.WriteConcernFailed), String(wce.errmsg ?? ""));
  return undefined;
}

function toAbortStatus(err: ServerError, context?: string): AbortStatus {
  return {
    code: err.code,
    codeName: err.codeName,
    errmsg: context === undefined ? err.message : `${context} :: caused by :: ${err.message}`,
  };
}

/** One participant's answer to `prepareTransaction` (`txn::PrepareResponse`). */
export interface PrepareResponse {
  readonly shardId: string;
  /** `undefined`: no vote (prepare was stopped before a conclusive answer). */
  readonly vote: "commit" | "abort" | undefined;
  readonly prepareTimestamp?: Timestamp;
  readonly abortReason?: AbortStatus;
}

/**
 * Sends `prepareTransaction` to one participant until it answers conclusively
 * (`sendPrepareToShard`, `transaction_coordinator_util.cpp`).
 *
 * @remarks
 * - OK with `prepareTimestamp` → vote commit; OK without → vote abort (50993).
 * - An error in category `VoteAbortError` → vote abort, reason "from shard <s> :: caused by :: …".
 * - `ShardNotFound` → vote abort.
 * - Anything else (network errors, writeConcern errors, other codes) → retry after the
 *   exponential backoff.
 * - The scheduler's shutdown (an abort vote elsewhere, the deadline) stops the retries: no vote,
 *   reason `NoSuchTransaction` with the shutdown's message; a stepdown's shutdown is thrown (the
 *   coordinator stops without a decision).
 */
export function* sendPrepareToShard(
  c: CoordinatorWorkerContext,
  scheduler: WorkScheduler,
  shardId: string,
  command: Document,
): Task<PrepareResponse> {
  const backoff = new Backoff();
  for (;;) {
    try {
      const reply = yield* sendCoordinatorCommand(
        c,
        shardId,
        command,
        CoordinatorActions.sendingPrepare,
        ["hangBeforeSendingPrepare"],
        scheduler,
      );
      const status = replyStatus(reply);
      if (status === undefined) {
        const ts = reply.prepareTimestamp as Timestamp | undefined;
        if (ts === undefined || ts === null || typeof ts !== "object" || ts.isZero())
          return {
            shardId,
            vote: "abort",
            abortReason: toAbortStatus(
              new ServerError(
                50993,
                `Coordinator shard received an OK response to prepareTransaction without a prepareTimestamp from shard ${shardId}, which is not an expected behavior. Interpreting the response as vote to abort`,
              ),
            ),
          };
        return { shardId, vote: "commit", prepareTimestamp: ts };
      }
      if (VoteAbortErrors.has(status.code))
        return { shardId, vote: "abort", abortReason: toAbortStatus(status, `from shard ${shardId}`) };
      // Other errors: retry.
    } catch (e) {
      if (e instanceof ServerError && e === scheduler.status) {
        // A stepdown stops the whole coordinator; only the abort decision ends the votes.
        if (e.code !== ErrorCodes.TransactionCoordinatorReachedAbortDecision) throw e;
        return {
          shardId,
          vote: undefined,
          abortReason: toAbortStatus(new ServerError(ErrorCodes.NoSuchTransaction, e.message)),
        };
      }
      if (e instanceof ServerError && e.code === ErrorCodes.ShardNotFound)
        return { shardId, vote: "abort", abortReason: toAbortStatus(e) };
      if (!(e instanceof NetworkError) && !(e instanceof ServerError)) throw e;
    }
    try {
      yield* wait(scheduler.race(sleep(c.node, backoff.next())));
    } catch (e) {
      if (e instanceof ServerError && e === scheduler.status) {
        // A stepdown stops the whole coordinator; only the abort decision ends the votes.
        if (e.code !== ErrorCodes.TransactionCoordinatorReachedAbortDecision) throw e;
        return {
          shardId,
          vote: undefined,
          abortReason: toAbortStatus(new ServerError(ErrorCodes.NoSuchTransaction, e.message)),
        };
      }
      throw e;
    }
  }
}

/**
 * Sends `prepareTransaction` to every participant in parallel and combines the votes
 * (`txn::sendPrepare` and `PrepareVoteConsensus`).
 *
 * @remarks
 * The command is `{prepareTransaction: 1, lsid, txnNumber, autocommit: false, writeConcern:
 * {w: "majority"}}` on `admin`. The first abort vote shuts down the remaining sends
 * (`TransactionCoordinatorReachedAbortDecision` "Received abort vote from <shard>"). The decision
 * is commit iff every participant voted commit, at the largest `prepareTimestamp`; otherwise abort
 * with the first non-commit reason received.
 */
export function* sendPrepare(
  c: CoordinatorWorkerContext,
  parent: WorkScheduler,
  participants: readonly string[],
): Task<CoordinatorDecision> {
  const command: Document = {
    prepareTransaction: 1,
    lsid: c.lsid,
    txnNumber: c.txnNumber,
    autocommit: false,
    writeConcern: { w: "majority" },
  };
  const scheduler = parent.makeChild();
  const votes: PrepareResponse[] = [];
  const responses = participants.map((shardId) =>
    spawn(sendPrepareToShard(c, scheduler, shardId, command)).map((r) => {
      votes.push(r);
      if (r.vote === "abort")
        scheduler.shutdown(
          new ServerError(
            ErrorCodes.TransactionCoordinatorReachedAbortDecision,
            `Received abort vote from ${r.shardId}`,
          ),
        );
      return r;
    }),
  );
  for (const r of responses) yield* wait(r);
  let max: Timestamp | undefined;
  for (const v of votes) {
    if (v.vote !== "commit") return { decision: "abort", abortStatus: v.abortReason! };
    if (max === undefined || v.prepareTimestamp!.greaterThan(max)) max = v.prepareTimestamp;
  }
  return { decision: "commit", commitTimestamp: max! };
}

/**
 * Sends the decision to one participant until it is acknowledged (`sendDecisionToShard`).
 * Replies in category `TwoPhaseDecisionAckError` (`TransactionTooOld`, `NoSuchTransaction`,
 * `TxnRetryCounterTooOld`: the participant saw the decision before and forgot the transaction)
 * count as acknowledgements, as in the newest server (older ones used `VoteAbortError`);
 * everything else is retried with backoff. With `scheduler`, its shutdown (a stepdown) stops the
 * retries and is thrown.
 *
 * @throws ServerError 51068 for `ShardNotFound` (MongoDB: `fassert(51068)`).
 */
export function* sendDecisionToShard(
  c: CoordinatorWorkerContext,
  shardId: string,
  command: Document,
  action: CoordinatorAction,
  scheduler?: WorkScheduler,
): Task<void> {
  const backoff = new Backoff();
  const hangs =
    action === CoordinatorActions.sendingCommit
      ? ["hangBeforeSendingCommit", "hangBeforeSendingCommitDecision"]
      : ["hangBeforeSendingAbort", "hangBeforeSendingAbortDecision"];
  for (;;) {
    try {
      const reply = yield* sendCoordinatorCommand(c, shardId, command, action, hangs, scheduler);
      const status = replyStatus(reply);
      if (status === undefined || TwoPhaseDecisionAckErrors.has(status.code)) return;
    } catch (e) {
      if (scheduler !== undefined && e === scheduler.status) throw e;
      if (e instanceof ServerError && e.code === ErrorCodes.ShardNotFound)
        throw new ServerError(51068, `fassert 51068: shard ${shardId} not found while sending the decision`);
      if (!(e instanceof NetworkError) && !(e instanceof ServerError)) throw e;
    }
    const nap = sleep(c.node, backoff.next());
    yield* wait(scheduler === undefined ? nap : scheduler.race(nap));
  }
}

/**
 * Sends the decision to every participant in parallel and waits for all acknowledgements
 * (`txn::sendCommit` / `txn::sendAbort`): `{commitTransaction: 1, commitTimestamp, lsid,
 * txnNumber, autocommit: false, writeConcern: {w: "majority"}}` or the same with
 * `abortTransaction`.
 */
export function* sendDecision(
  c: CoordinatorWorkerContext,
  participants: readonly string[],
  decision: CoordinatorDecision,
  scheduler?: WorkScheduler,
): Task<void> {
  const session = { lsid: c.lsid, txnNumber: c.txnNumber, autocommit: false, writeConcern: { w: "majority" } };
  const command: Document =
    decision.decision === "commit"
      ? { commitTransaction: 1, commitTimestamp: decision.commitTimestamp, ...session }
      : { abortTransaction: 1, ...session };
  const action = decision.decision === "commit" ? CoordinatorActions.sendingCommit : CoordinatorActions.sendingAbort;
  const acks = participants.map((shardId) => spawn(sendDecisionToShard(c, shardId, command, action, scheduler)));
  for (const a of acks) yield* wait(a);
}
