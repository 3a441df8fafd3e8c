import { NetworkError, type Future } from "@sessionsim/kernel";
import type { Document } from "@sessionsim/server";
import type { Cluster } from "./cluster.js";

/** A command sent with `send`, whose reply may not have arrived yet. */
export class InFlight {
  /** @internal */
  constructor(
    /** @internal */ readonly future: Future<unknown>,
    /** The node the command went to. */
    readonly node: string,
    /** The command document as sent. */
    readonly command: Document,
  ) {}

  /** Whether the reply (or a network failure) has arrived. */
  get done(): boolean {
    return this.future.settled;
  }

  /** The reply, once `done` and successful; undefined before. */
  get reply(): Document | undefined {
    return this.future.fulfilled ? (this.future.value as Document) : undefined;
  }
}

/**
 * A client connection to one node, optionally authenticated as a user. Its messages cross the
 * simulated network like any node's.
 *
 * @example
 * const conn = cluster.connect(cluster.mongos(), { user: "alice", db: "test" });
 * const reply = await conn.runCommand("admin", { startSession: 1 });
 */
export class Connection {
  /** @internal */
  constructor(
    private readonly cluster: Cluster,
    /** The client endpoint's node name in the trace, e.g. "client1". */
    readonly clientName: string,
    /** The node this connection talks to. */
    readonly node: string,
    /** The authenticated user, if any. */
    readonly user: { readonly user: string; readonly db: string } | undefined,
  ) {}

  /**
   * Sends `command` to the node and runs the simulation until its reply arrives. Resolves with the
   * reply exactly as MongoDB returns it (`ok: 1` or `ok: 0` with `errmsg`, `code`, `codeName`).
   * Rejects only on API misuse, or with a `NetworkError` when the node is down or unreachable.
   */
  async runCommand(db: string, command: Document): Promise<Document> {
    return this.cluster.wait(this.send(db, command));
  }

  /** Sends `command` without running the simulation; `cluster.wait(inflight)` waits for it. */
  send(db: string, command: Document): InFlight {
    return this.cluster.sendFrom(this, db, command);
  }
}

export { NetworkError };
