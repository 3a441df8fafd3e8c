/**
 * The session catalog: every node's runtime session entries and their checkout (reference §5.2).
 *
 * @packageDocumentation
 */
import { Future, wait, type Task } from "@sessionsim/kernel";
import { ErrorCodes, InvariantViolation, ServerError } from "../errors/index.js";
import type { OperationContext } from "../node/operation-context.js";
import { castToParentSessionId, parentLsidKey, type LogicalSessionId } from "../session/index.js";

/** What the catalog needs from its node: its clock and a deferred-callback timer. */
export interface SessionCatalogHost {
  now(): number;
  readonly ctx: { setTimer(delayMs: number, fn: () => void): unknown };
}

/**
 * A typed slot on every {@link Session} (MongoDB's `Session::declareDecoration`): the
 * transaction participant on mongods, the transaction router on mongos.
 *
 * @example
 * ```ts
 * const counter = new SessionDecoration("counter", () => ({ n: 0 }));
 * counter.get(session).n++;
 * ```
 */
export class SessionDecoration<T> {
  constructor(
    /** A name for debugging. */
    readonly name: string,
    private readonly make: (session: Session) => T,
  ) {}

  /** The decoration of `session`, created on first use. */
  get(session: Session): T {
    let v = session.decorations.get(this) as T | undefined;
    if (v === undefined) {
      v = this.make(session);
      session.decorations.set(this, v);
    }
    return v;
  }

  /** The decoration of `session` if it was ever created. */
  peek(session: Session): T | undefined {
    return session.decorations.get(this) as T | undefined;
  }
}

/** An operation (or a killer) waiting to check a session out. */
interface Waiter {
  readonly forKill: boolean;
  readonly wake: Future<void>;
}

/**
 * The runtime state of one logical session on one node (MongoDB's `SessionCatalog::SessionRuntimeInfo`
 * with its `Session`): who has it checked out, when it was last checked out, pending kills, and
 * its decorations.
 */
export class Session {
  /** The operation that has the session checked out, if any. */
  checkedOutBy: OperationContext | undefined;
  /** True while a killer holds it (checked out for kill). */
  checkedOutForKill = false;
  /** Local time of the last checkout (`lastCheckout`, read by the reaper). */
  lastCheckout: number;
  /** Kills requested and not yet released (`killsRequested`). */
  killsRequested = 0;
  /** @internal Operations waiting for the session, in arrival order. */
  readonly waiters: Waiter[] = [];
  /** @internal */
  readonly decorations = new Map<SessionDecoration<unknown>, unknown>();

  constructor(
    /** The (parent) session id `{id, uid}`. */
    readonly lsid: LogicalSessionId,
    /** `parentLsidKey(lsid)`. */
    readonly key: string,
    now: number,
  ) {
    this.lastCheckout = now;
  }

  #label: string | undefined;

  /** The session UUID as a string (trace events, write-set labels). */
  get label(): string {
    return (this.#label ??= this.lsid.id.toHexString(true));
  }

  /** A kill is pending: only a kill checkout may take the session. */
  get killed(): boolean {
    return this.killsRequested > 0;
  }

  /** Checked out by an operation or a killer. */
  get inUse(): boolean {
    return this.checkedOutBy !== undefined || this.checkedOutForKill;
  }
}

/** Returned by {@link SessionCatalog.killSession}; check the session out with it, then release it. */
export interface KillToken {
  readonly session: Session;
  readonly reason: ServerError;
}

/**
 * One node's session catalog (`SessionCatalog`, `src/mongo/db/session/session_catalog.cpp`):
 * runtime entries keyed by the parent session; an operation carrying a `txnNumber` checks its
 * session out for its whole run, and a second such operation waits — interruptibly, without any
 * error — until the session is checked back in.
 *
 * @remarks
 * - `_checkOutSessionInner` waits while the session is in use or (for normal checkouts) a kill is
 *   pending: `_isAvailableForCheckOut(forKill)` = not checked out and (`forKill` or not killed).
 *   Kill checkouts therefore go first.
 * - Waiters are woken one at a time, kill checkouts first, then in arrival order; a new arrival
 *   queues behind eligible waiters (no barging), so the order is deterministic.
 * - `killSession` marks the session killed and interrupts the checked-out operation with the
 *   reason (`ObservableSession::kill`); the kill stays pending until the killer releases it.
 * - A child session (`txnUUID`) shares its parent's entry (checking out either checks out both).
 *
 * @example
 * ```ts
 * const session = yield* node.sessionCatalog.checkOut(op, op.lsid);
 * try { ... } finally { node.sessionCatalog.checkIn(session, op); }
 * ```
 */
export class SessionCatalog {
  readonly #sessions = new Map<string, Session>();

  constructor(private readonly host: SessionCatalogHost) {}

  /** The number of runtime entries. */
  get size(): number {
    return this.#sessions.size;
  }

  /** The entry of `lsid`'s parent session, if the node has one. */
  get(lsid: LogicalSessionId): Session | undefined {
    return this.#sessions.get(parentLsidKey(lsid));
  }

  /** The entry of `lsid`'s parent session, created if absent. */
  getOrCreate(lsid: LogicalSessionId): Session {
    const parent = castToParentSessionId(lsid);
    const key = parentLsidKey(parent);
    let s = this.#sessions.get(key);
    if (s === undefined) {
      s = new Session({ id: parent.id, uid: parent.uid }, key, this.host.now());
      this.#sessions.set(key, s);
    }
    return s;
  }

  /** Every entry, in creation order. */
  sessions(): Session[] {
    return [...this.#sessions.values()];
  }

  /** Every session's lsid, in creation order (what the kill path scans). */
  lsids(): LogicalSessionId[] {
    return this.sessions().map((s) => s.lsid);
  }

  #available(s: Session, forKill: boolean): boolean {
    if (s.inUse || (!forKill && s.killed)) return false;
    // No barging past a waiter that could take it.
    return !s.waiters.some((w) => w.forKill || (!forKill && !s.killed));
  }

  /**
   * Checks out `lsid`'s session for `op`, waiting while another operation has it or a kill is
   * pending. The wait ends with the operation's interruption error if it is killed meanwhile.
   */
  *checkOut(op: OperationContext, lsid: LogicalSessionId): Task<Session> {
    const s = this.getOrCreate(lsid);
    yield* this.#waitFor(s, false, op);
    s.checkedOutBy = op;
    s.lastCheckout = this.host.now();
    return s;
  }

  /** Checks the session back in and lets the next waiter have it. */
  checkIn(s: Session, op: OperationContext): void {
    if (s.checkedOutBy !== op)
      throw new InvariantViolation(
        `session ${s.lsid.id.toHexString(true)} checked in by op ${op.opId}, not its holder`,
      );
    s.checkedOutBy = undefined;
    this.#wakeNext(s);
  }

  *#waitFor(s: Session, forKill: boolean, op: OperationContext | undefined): Task<void> {
    while (!this.#available(s, forKill)) {
      if (op !== undefined) op.checkForInterrupt();
      const waiter: Waiter = { forKill, wake: new Future<void>() };
      s.waiters.push(waiter);
      try {
        yield* wait(op === undefined ? waiter.wake : op.interruptible(waiter.wake));
      } catch (e) {
        const i = s.waiters.indexOf(waiter);
        if (i >= 0) s.waiters.splice(i, 1);
        throw e;
      }
      if (!s.inUse && (forKill || !s.killed)) return;
    }
  }

  /** Wakes (on a fresh event) the first waiter that may take the session: killers first. */
  #wakeNext(s: Session): void {
    if (s.inUse || s.waiters.length === 0) return;
    this.host.ctx.setTimer(0, () => {
      if (s.inUse) return;
      let i = s.waiters.findIndex((w) => w.forKill);
      if (i < 0 && !s.killed) i = 0;
      if (i < 0 || i >= s.waiters.length) return;
      const [w] = s.waiters.splice(i, 1);
      w.wake.resolve();
    });
  }

  // ---- kill ------------------------------------------------------------------------------------

  /**
   * Marks `lsid`'s session killed with `reason`: the first kill interrupts the operation that has
   * it checked out; until the returned token is released only kill checkouts may take it.
   *
   * @throws ServerError NoSuchSession (206) "Session not found" if the node has no such session.
   */
  killSession(lsid: LogicalSessionId, reason: ServerError): KillToken {
    const s = this.get(lsid);
    if (s === undefined) throw new ServerError(ErrorCodes.NoSuchSession, "Session not found");
    return this.kill(s, reason);
  }

  /** {@link killSession} for an entry already in hand (`ObservableSession::kill`). */
  kill(s: Session, reason: ServerError): KillToken {
    s.killsRequested++;
    if (s.killsRequested === 1 && s.checkedOutBy !== undefined) s.checkedOutBy.interrupt(reason);
    return { session: s, reason };
  }

  /** Checks the killed session out for the killer (ahead of every normal checkout). */
  *checkOutForKill(token: KillToken): Task<Session> {
    const s = token.session;
    yield* this.#waitFor(s, true, undefined);
    s.checkedOutForKill = true;
    return s;
  }

  /**
   * Checks out for kill without waiting; undefined if the session is in use (the caller then
   * waits with {@link checkOutForKill}).
   */
  tryCheckOutForKill(token: KillToken): Session | undefined {
    const s = token.session;
    if (s.inUse || s.waiters.some((w) => w.forKill)) return undefined;
    s.checkedOutForKill = true;
    return s;
  }

  /** Releases a kill: checks the session back in (if checked out for kill) and drops the kill. */
  releaseKill(token: KillToken): void {
    const s = token.session;
    if (s.checkedOutForKill) s.checkedOutForKill = false;
    if (s.killsRequested > 0) s.killsRequested--;
    this.#wakeNext(s);
  }

  // ---- reaping ---------------------------------------------------------------------------------

  /**
   * The keys of the entries last checked out before `possiblyExpired` (`findExpiredParentSessions`),
   * in creation order. Child sessions share their parent's entry, so only parents are listed.
   */
  findExpiredParentSessions(possiblyExpired: number): string[] {
    const out: string[] = [];
    for (const s of this.#sessions.values()) if (s.lastCheckout < possiblyExpired) out.push(s.key);
    return out;
  }

  /**
   * Erases the entry of parent key `key` if it may be reaped now: `canBeReaped` accepts it (the
   * transaction participant or router: no open transaction) and it is not checked out, nobody is
   * waiting to check it out and no kill is pending. Returns whether it was erased (false: it is
   * still in use; an absent entry counts as erased).
   *
   * @remarks `SessionCatalog::scanSessionsForReap` with `ObservableSession::_shouldBeReaped`
   * (`src/mongo/db/session/session_catalog.cpp`): the worker function marks the session for reap
   * (`markForReap`) when `canBeReaped()`, and a marked session is erased only if
   * `!isCheckedOut && !_numWaitingToCheckOut && !_killed()`. A parent and its children are one
   * entry here, so they are reaped together, as a parent is reaped only with all its children.
   */
  reapSession(key: string, canBeReaped: (s: Session) => boolean): boolean {
    const s = this.#sessions.get(key);
    if (s === undefined) return true;
    if (!canBeReaped(s) || s.inUse || s.waiters.length > 0 || s.killed) return false;
    this.#sessions.delete(key);
    return true;
  }

  /** Drops one entry (its in-memory state is rebuilt from storage on next use). */
  remove(s: Session): void {
    if (s.inUse) throw new InvariantViolation("cannot remove a checked-out session");
    this.#sessions.delete(s.key);
  }
}
