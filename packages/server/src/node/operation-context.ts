import type { Long } from "bson";
import { Future, type TimerHandle } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { AuthorizationSession } from "../auth/index.js";
import type { Document } from "../idl/bson-types.js";
import type { WriteSet } from "../storage/write-set.js";

/** An authenticated identity on a connection. */
export interface UserRef {
  readonly user: string;
  readonly db: string;
}

/** A command as it arrives at a node: the client's or another node's request. */
export interface CommandRequest {
  readonly db: string;
  readonly command: Document;
  /** The connection's authenticated user, if any. */
  readonly user?: UserRef;
  /** True for requests between cluster nodes (authenticated as the internal `__system` user). */
  readonly internal?: boolean;
}

/** What an operation's deadline needs from its node: the node's clock and a timer. */
export interface DeadlineHost {
  now(): number;
  readonly ctx: { setTimer(delayMs: number, fn: () => void, label?: string): TimerHandle };
}

/**
 * A typed slot on every operation (MongoDB's `OperationContext::declareDecoration`), for what
 * other layers attach to it: the checked-out session, the transaction participant or router, the
 * operation time. A slot of a small per-operation array, cheaper than a WeakMap per concept.
 *
 * @example
 * ```ts
 * const startedBy = new OperationDecoration<string>("startedBy");
 * startedBy.set(op, "me");
 * startedBy.get(op); // "me"
 * ```
 */
export class OperationDecoration<T> {
  static #slots = 0;
  readonly #slot = OperationDecoration.#slots++;

  constructor(
    /** A name for debugging. */
    readonly name: string,
  ) {}

  get(op: OperationContext): T | undefined {
    return op.decorations?.[this.#slot] as T | undefined;
  }

  set(op: OperationContext, value: T | undefined): void {
    (op.decorations ??= [])[this.#slot] = value;
  }
}

/**
 * One running operation (MongoDB's `OperationContext`): the command, who sent it, its session
 * fields, and its interruption state. `killOp` and the kill-sessions machinery interrupt it, and
 * so does its deadline (`maxTimeMS`).
 */
export class OperationContext {
  /** Set once the operation is interrupted; every later interruption check throws it. */
  private killedWith: ServerError | undefined;
  private readonly onKill: ((err: ServerError) => void)[] = [];
  /** The deadline, if any: its local time, its timer and the clock it is measured on. */
  private deadline: { readonly at: number; readonly timer: TimerHandle; readonly host: DeadlineHost } | undefined;

  /** Parsed session fields (filled in by the session layer). */
  lsid: Document | undefined;
  txnNumber: Long | undefined;
  autocommit: boolean | undefined;
  startTransaction: boolean | undefined;
  /** What `$currentOp` shows as the operation's description. */
  desc = "conn";
  /** The multi-document transaction's write set this operation reads and writes through, if any. */
  writeSet: WriteSet | undefined;
  /** The connection's authorization state (set by dispatch before the command runs). */
  authz!: AuthorizationSession;
  /** @internal The values of the {@link OperationDecoration}s, by slot (made on first use). */
  decorations: unknown[] | undefined;

  constructor(
    readonly opId: number,
    readonly request: CommandRequest,
    /** The command name (the document's first field). */
    readonly commandName: string,
    /** The node (or client) that sent it. */
    readonly client: string,
    /** Local time at which it started. */
    readonly startedAt: number,
  ) {}

  get db(): string {
    return this.request.db;
  }

  get command(): Document {
    return this.request.command;
  }

  get killPending(): boolean {
    return this.killedWith !== undefined;
  }

  /** Interrupts the operation (default code `Interrupted`), waking whatever it waits on. */
  interrupt(err: ServerError = new ServerError(ErrorCodes.Interrupted, "operation was interrupted")): void {
    if (this.killedWith !== undefined) return;
    this.killedWith = err;
    for (const cb of this.onKill.splice(0)) cb(err);
  }

  /** Throws the interruption error if the operation was killed (`checkForInterrupt`). */
  checkForInterrupt(): void {
    if (this.killedWith !== undefined) throw this.killedWith;
  }

  /**
   * Sets the operation's deadline `ms` from now (`setDeadlineAfterNowBy`): when it passes, the
   * operation is interrupted with MaxTimeMSExpired (50) "operation exceeded time limit", which
   * ends whatever it waits on through {@link interruptible} (session checkout, a prepared
   * transaction, `sleep`, `failCommand`'s `blockConnection` ...).
   */
  setDeadlineAfter(ms: number, host: DeadlineHost): void {
    this.clearDeadline();
    const timer = host.ctx.setTimer(
      ms,
      () => this.interrupt(new ServerError(ErrorCodes.MaxTimeMSExpired, "operation exceeded time limit")),
      "maxTimeMS",
    );
    this.deadline = { at: host.now() + ms, timer, host };
  }

  /** Whether the operation has a deadline. */
  get hasDeadline(): boolean {
    return this.deadline !== undefined;
  }

  /** Milliseconds left before the deadline (`getRemainingMaxTimeMillis`); undefined without one. */
  remainingMaxTimeMs(): number | undefined {
    const d = this.deadline;
    return d === undefined ? undefined : Math.max(0, d.at - d.host.now());
  }

  /** Cancels the deadline's timer (the operation is done). */
  clearDeadline(): void {
    this.deadline?.timer.cancel();
    this.deadline = undefined;
  }

  /** Waits for `f`, unless the operation is interrupted first (then rejects with that error). */
  interruptible<T>(f: Future<T>): Future<T> {
    if (this.killedWith !== undefined) return Future.rejected(this.killedWith);
    const out = new Future<T>();
    f.onSettle((r) => (r.ok ? out.resolve(r.value) : out.reject(r.error)));
    this.onKill.push((err) => out.reject(err));
    return out;
  }
}
