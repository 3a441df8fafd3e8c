import { ErrorCodes, ServerError } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import { lsidKey, type LogicalSessionId } from "../session/index.js";
import { describeKillPattern } from "./kill-pattern.js";
import type { SessionKillerMatcher } from "./session-killer-matcher.js";

/** The sessions of the node's session catalog (parents and children), in creation order. */
function catalogLsids(node: ServerNode): Document[] {
  return node.sessionCatalog.lsids();
}

/** What one local kill did (the `kill.local` trace event's counts). */
export interface LocalKillResult {
  readonly abortedTransactions: number;
  readonly interruptedOps: number;
  readonly closedCursors: number;
  /** Matching sessions whose transaction is prepared, left alone. */
  readonly skippedPrepared: number;
}

/**
 * Interrupts every running operation whose session matches with `Interrupted` (11601), except
 * `killer` itself.
 *
 * @remarks `killSessionsLocalKillOps` (`src/mongo/db/session/kill_sessions_common.cpp`): operations
 * without an lsid are never touched (the kill commands run without one: they do not attach their
 * sessions); `killOperation` uses the default code `Interrupted` ("operation was interrupted"),
 * logged as "Killing op as part of killing session" (20706).
 */
export function killSessionsLocalKillOps(
  node: ServerNode,
  killer: OperationContext | undefined,
  matcher: SessionKillerMatcher,
): number {
  let n = 0;
  for (const op of [...node.ops.values()]) {
    if (op === killer || op.lsid === undefined || op.killPending) continue;
    const pattern = matcher.match(op.lsid);
    if (pattern === undefined) continue;
    matcher.impersonate(pattern);
    op.interrupt(new ServerError(ErrorCodes.Interrupted, "operation was interrupted"));
    node.ctx.record({ type: "op.interrupt", opId: op.opId, command: op.commandName, codeName: "Interrupted" });
    n++;
  }
  return n;
}

/**
 * Closes the node's cursors whose session matches (`killCursorsWithMatchingSessions`).
 *
 * @remarks The adaptor in `kill_sessions_common.h` applies the matching pattern's impersonation
 * data per session, then erases each of its cursors ("killing cursor: <id> as part of killing
 * session(s)").
 */
export function killSessionsKillCursors(node: ServerNode, matcher: SessionKillerMatcher): number {
  for (const lsid of node.cursors.sessionsWithOpenCursors()) {
    const pattern = matcher.match(lsid);
    if (pattern !== undefined) matcher.impersonate(pattern);
  }
  return node.cursors.killCursorsWithMatchingSessions((lsid) => matcher.matches(lsid), "killSessions");
}

/**
 * Refuses, before anything is killed, a pattern set whose impersonation data is invalid for a
 * session it selects (see {@link SessionKillerMatcher.impersonate}).
 *
 * @remarks MongoDB raises BadValue "Too many users in impersonation data" at the first selected
 * session, operation or cursor, after killing the ones before it; sessionsim checks them all
 * first, so such a kill has no effect (see the fidelity page).
 */
function checkImpersonation(node: ServerNode, matcher: SessionKillerMatcher): void {
  const candidates: Document[] = [...catalogLsids(node), ...node.cursors.sessionsWithOpenCursors()];
  for (const op of node.ops.values()) if (op.lsid !== undefined) candidates.push(op.lsid);
  for (const lsid of candidates) {
    const pattern = matcher.match(lsid);
    if (pattern !== undefined) matcher.impersonate(pattern);
  }
}

/** The matching sessions whose transaction is prepared (what the kill leaves alone). */
function preparedMatching(node: ServerNode, matcher: SessionKillerMatcher): number {
  const participants = node.participants;
  if (participants === undefined) return 0;
  const seen = new Set<string>();
  let n = 0;
  for (const lsid of catalogLsids(node)) {
    if (!matcher.matches(lsid)) continue;
    const key = lsidKey(lsid as LogicalSessionId);
    if (seen.has(key)) continue;
    seen.add(key);
    if (participants.isPrepared(lsid)) n++;
  }
  return n;
}

/**
 * Kills the matching sessions on a mongod, in the server's order: (a) abort their in-progress
 * unprepared transactions, (b) interrupt their running operations with `Interrupted`, (c) close
 * their cursors. Prepared transactions are left alone: still prepared, the coordinator's later
 * `commitTransaction` or `abortTransaction` decides them. Records a `kill.local` trace event.
 *
 * @remarks
 * `killSessionsLocal` (`src/mongo/db/session/kill_sessions_local.cpp`):
 * `killSessionsAbortUnpreparedTransactions` (filter `transactionIsInProgress()`, reason
 * `Interrupted`, log 11101700 "Aborting unprepared transaction"), `killSessionsLocalKillOps`,
 * `CursorManager::killCursorsWithMatchingSessions`; no failed hosts. The manual: "The
 * killSessions operation ignores sessions that have transactions in prepared state." An operation
 * running in a session whose transaction is prepared (e.g. a `sleep` carrying its lsid) is still
 * interrupted in step (b): only the transaction survives.
 *
 * @example
 * ```ts
 * killSessionsLocal(node, op, new SessionKillerMatcher([{}])); // kill every session on this mongod
 * ```
 */
export function killSessionsLocal(
  node: ServerNode,
  killer: OperationContext | undefined,
  matcher: SessionKillerMatcher,
): LocalKillResult {
  checkImpersonation(node, matcher);
  const skippedPrepared = preparedMatching(node, matcher);
  const reason = new ServerError(ErrorCodes.Interrupted, "operation was interrupted");
  const abortedTransactions =
    node.participants?.abortUnpreparedTransactions((lsid) => matcher.matches(lsid), reason) ?? 0;
  const interruptedOps = killSessionsLocalKillOps(node, killer, matcher);
  const closedCursors = killSessionsKillCursors(node, matcher);
  const result = { abortedTransactions, interruptedOps, closedCursors, skippedPrepared };
  node.ctx.record({ type: "kill.local", patterns: matcher.patterns.map(describeKillPattern), ...result });
  return result;
}
