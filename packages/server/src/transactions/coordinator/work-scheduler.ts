/**
 * Cancellable waiting for coordinator work: MongoDB's `txn::AsyncWorkScheduler` (shutdown with a
 * status interrupts everything scheduled on it and on its children) and the `Backoff` between
 * retries.
 *
 * @packageDocumentation
 */
import { Future } from "@sessionsim/kernel";
import type { ServerError } from "../../errors/index.js";
import type { ServerNode } from "../../node/server-node.js";

/**
 * A group of waits that can be interrupted together (`txn::AsyncWorkScheduler`,
 * `transaction_coordinator_futures_util.cpp`): `shutdown(status)` rejects every wait raced on it,
 * and on its children, with `status`; later waits fail at once.
 *
 * @example
 * ```ts
 * const prepare = coordinatorScheduler.makeChild();
 * const reply = yield* wait(prepare.race(spawn(runOnShard(...))));
 * prepare.shutdown(new ServerError(282, "Received abort vote from shard1"));
 * ```
 */
export class WorkScheduler {
  #status: ServerError | undefined;
  readonly #waiters = new Set<(err: ServerError) => void>();
  readonly #children = new Set<WorkScheduler>();

  /** The shutdown status, if shut down. */
  get status(): ServerError | undefined {
    return this.#status;
  }

  /** A child scheduler: shut down with this one (`makeChildScheduler`). */
  makeChild(): WorkScheduler {
    const child = new WorkScheduler();
    if (this.#status !== undefined) child.shutdown(this.#status);
    else this.#children.add(child);
    return child;
  }

  /** Interrupts every wait on this scheduler and its children with `status` (first call wins). */
  shutdown(status: ServerError): void {
    if (this.#status !== undefined) return;
    this.#status = status;
    for (const w of [...this.#waiters]) w(status);
    this.#waiters.clear();
    for (const c of this.#children) c.shutdown(status);
    this.#children.clear();
  }

  /** Throws the shutdown status if shut down. */
  check(): void {
    if (this.#status !== undefined) throw this.#status;
  }

  /** `f`'s outcome, unless the scheduler shuts down first (then its status). */
  race<T>(f: Future<T>): Future<T> {
    if (this.#status !== undefined) return Future.rejected(this.#status);
    const out = new Future<T>();
    const cancel = (err: ServerError): void => out.reject(err);
    this.#waiters.add(cancel);
    f.onSettle((r) => {
      this.#waiters.delete(cancel);
      if (r.ok) out.resolve(r.value);
      else out.reject(r.error);
    });
    return out;
  }
}

/** A future that resolves after `ms` of the node's clock (never, if the node crashes first). */
export function sleep(node: ServerNode, ms: number): Future<void> {
  const f = new Future<void>();
  node.ctx.setTimer(ms, () => f.resolve());
  return f;
}

/**
 * Exponential backoff between retries (`mongo::Backoff`, `src/mongo/util/backoff.cpp`): 1 ms, then
 * doubling, capped at `maxSleepMs`. The coordinator's `kExponentialBackoff` is
 * `Backoff(Seconds(1), Milliseconds::max())`: capped at one second, never reset.
 */
export class Backoff {
  #last = 0;
  constructor(private readonly maxSleepMs = 1000) {}

  /** The next sleep in ms. */
  next(): number {
    this.#last = this.#last === 0 ? 1 : Math.min(this.#last * 2, this.maxSleepMs);
    return this.#last;
  }
}
