import { codeNameOf } from "./codes.js";

/** The `{ok: 0, errmsg, code, codeName}` reply MongoDB sends for a failed command. */
export interface ErrorReply {
  ok: 0;
  errmsg: string;
  code: number;
  codeName: string;
  [extra: string]: unknown;
}

/**
 * A MongoDB error: what `uassert` raises in the server. Thrown inside a node and turned into an
 * error reply at the command boundary; never escapes a node.
 */
export class ServerError extends Error {
  readonly code: number;
  readonly codeName: string;
  /** Extra reply fields (e.g. `failedHosts`, `errorLabels`). */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(code: number, errmsg: string, extra: Record<string, unknown> = {}) {
    // A ServerError is a reply, not a bug: capturing a stack trace would cost more than most
    // commands (expiry jobs and kills build them by the thousand).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(errmsg);
    Error.stackTraceLimit = limit;
    this.name = "ServerError";
    this.code = code;
    this.codeName = codeNameOf(code);
    this.extra = extra;
  }

  get errmsg(): string {
    return this.message;
  }

  /** The reply document MongoDB sends for this error. */
  toReply(): ErrorReply {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }

  /** A `writeErrors` entry for statement `index`. */
  toWriteError(index: number): { index: number; code: number; codeName: string; errmsg: string } {
    return { index, code: this.code, codeName: this.codeName, errmsg: this.message };
  }
}

/** Throws a ServerError unless `cond` holds (MongoDB's `uassert`). */
export function uassert(cond: unknown, code: number, errmsg: string): asserts cond {
  if (!cond) throw new ServerError(code, errmsg);
}

/**
 * A broken internal invariant of the simulator itself (MongoDB's `invariant`/`fassert`). Unlike a
 * ServerError this is a bug, and the run that hits it is reported as failed.
 */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvariantViolation";
  }
}

export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantViolation(message);
}
