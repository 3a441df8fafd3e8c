import { Timestamp } from "bson";

/** Where a node keeps the cluster time of its last write across restarts (a mongod's oplog). */
export interface ClusterTimeStore {
  lastWrite: Timestamp;
}

/**
 * A node's logical clock (`VectorClock` / `LogicalClock`): the highest cluster time it has seen.
 * Writes tick it (oplog slots: the seconds part is raised to the node's wall clock, then the
 * increment grows by one per slot), and gossip advances it to larger received values
 * (reference §6). A mongod's last written time survives restarts with its data.
 */
export class ClusterClock {
  private time: Timestamp;

  constructor(
    private readonly wallClock: () => number,
    private readonly store?: ClusterTimeStore,
  ) {
    this.time = store?.lastWrite ?? Timestamp.fromBits(0, 0);
  }

  /** The current cluster time. */
  current(): Timestamp {
    return this.time;
  }

  /** Reserves `n` oplog slots and returns the last (the time of the write). */
  tick(n = 1): Timestamp {
    const wallSecs = Math.floor(this.wallClock() / 1000);
    const secs = this.time.high;
    const next = wallSecs > secs ? Timestamp.fromBits(n, wallSecs) : Timestamp.fromBits(this.time.low + n, secs);
    this.time = next;
    if (this.store !== undefined) this.store.lastWrite = next;
    return next;
  }

  /** Adopts a larger cluster time received from a peer or client. */
  advanceTo(t: Timestamp): void {
    if (t.greaterThan(this.time)) this.time = t;
  }
}
