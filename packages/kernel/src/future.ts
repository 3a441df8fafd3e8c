/**
 * Synchronous futures and generator tasks: the simulation's way to write sequential protocol code
 * ("send prepare to every participant, then wait for the votes") without JavaScript promises.
 * Promises resume in microtasks, outside the scheduler's (time, seq) order; a Future runs its
 * callbacks synchronously when it settles, so everything happens inside the event that settled it.
 */
export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

export class Future<T> {
  private result: Settled<T> | undefined;
  // Most futures get one callback: it is kept in a field, and only further ones in an array.
  private first: ((result: Settled<T>) => void) | undefined;
  private more: ((result: Settled<T>) => void)[] | undefined;

  static resolved<T>(value: T): Future<T> {
    const f = new Future<T>();
    f.resolve(value);
    return f;
  }

  static rejected<T = never>(error: unknown): Future<T> {
    const f = new Future<T>();
    f.reject(error);
    return f;
  }

  /** Settles when every future has fulfilled (in order), or rejects with the first rejection. */
  static all<T>(futures: readonly Future<T>[]): Future<T[]> {
    const all = new Future<T[]>();
    const values = new Array<T>(futures.length);
    let pending = futures.length;
    if (pending === 0) all.resolve(values);
    futures.forEach((f, i) =>
      f.onSettle((r) => {
        if (!r.ok) return all.reject(r.error);
        values[i] = r.value;
        if (--pending === 0) all.resolve(values);
      }),
    );
    return all;
  }

  get settled(): boolean {
    return this.result !== undefined;
  }

  get fulfilled(): boolean {
    return this.result?.ok === true;
  }

  /** The value; throws the error if rejected, and an Error if still pending. */
  get value(): T {
    const r = this.result;
    if (r === undefined) throw new Error("Future is still pending");
    if (!r.ok) throw r.error;
    return r.value;
  }

  get error(): unknown {
    return this.result?.ok === false ? this.result.error : undefined;
  }

  /** Fulfils the future; later resolve/reject calls are ignored (first settlement wins). */
  resolve(value: T): void {
    this.settle({ ok: true, value });
  }

  reject(error: unknown): void {
    this.settle({ ok: false, error });
  }

  /** Runs `callback` when settled (immediately, if it already is). */
  onSettle(callback: (result: Settled<T>) => void): void {
    if (this.result !== undefined) callback(this.result);
    else if (this.first === undefined) this.first = callback;
    else (this.more ??= []).push(callback);
  }

  map<U>(fn: (value: T) => U): Future<U> {
    const out = new Future<U>();
    this.onSettle((r) => {
      if (!r.ok) return out.reject(r.error);
      try {
        out.resolve(fn(r.value));
      } catch (e) {
        out.reject(e);
      }
    });
    return out;
  }

  private settle(result: Settled<T>): void {
    if (this.result !== undefined) return;
    this.result = result;
    const first = this.first;
    const more = this.more;
    this.first = undefined;
    this.more = undefined;
    if (first !== undefined) first(result);
    if (more !== undefined) for (const cb of more) cb(result);
  }
}

/** Anything a task can wait on (a Future). */
export interface Awaitable<T> {
  onSettle(callback: (result: Settled<T>) => void): void;
}

/** A simulated process: a generator that yields futures and resumes with their values. */
export type Task<T> = Generator<Awaitable<unknown>, T, unknown>;

/** Waits for `future` inside a task: `const reply = yield* wait(request(...))`. */
export function* wait<T>(future: Awaitable<T>): Generator<Awaitable<unknown>, T, unknown> {
  return (yield future) as T;
}

/**
 * Runs a task until it finishes. It resumes synchronously whenever the future it waits on settles
 * (a rejected future is thrown into it). Returns a future of the task's result.
 */
export function spawn<T>(task: Task<T>): Future<T> {
  const done = new Future<T>();
  // One resume callback for the task's whole life (a task waits on one future at a time): it
  // either hands a result settled during registration back to the loop, or resumes the task.
  let registering = false;
  let sync: Settled<unknown> | undefined;
  const resume = (r: Settled<unknown>): void => {
    if (registering) sync = r;
    else step(r);
  };
  const step = (input: Settled<unknown> | undefined): void => {
    // Loop while yielded futures are already settled, so long chains don't grow the stack.
    for (;;) {
      let next: IteratorResult<Awaitable<unknown>, T>;
      try {
        next =
          input === undefined || input.ok
            ? task.next(input?.ok === true ? input.value : undefined)
            : task.throw(input.error);
      } catch (e) {
        done.reject(e);
        return;
      }
      if (next.done === true) {
        done.resolve(next.value);
        return;
      }
      sync = undefined;
      registering = true;
      next.value.onSettle(resume);
      registering = false;
      if (sync === undefined) return;
      input = sync;
    }
  };
  step(undefined);
  return done;
}
