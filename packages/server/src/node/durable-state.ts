import { ObjectId, Timestamp } from "bson";
import type { ClusterTimeStore } from "../cluster-time/cluster-clock.js";
import type { Rng } from "@sessionsim/kernel";
import { Catalog } from "../storage/catalog.js";
import { DurableTransactions } from "../transactions/participant/durable-transactions.js";

/**
 * What a mongod keeps across a crash: its collections (including `config.transactions`,
 * `config.transaction_coordinators` and, on shards owning its chunks, `config.system.sessions`).
 * Later layers add their durable parts (prepared transactions, retryable-write history) here.
 */
export class DurableState implements ClusterTimeStore {
  readonly catalog: Catalog;
  /** The cluster time of the last write (the top of the oplog). */
  lastWrite: Timestamp = Timestamp.fromBits(0, 0);
  /** Prepared transactions and retryable-write history (besides `config.transactions`). */
  readonly transactions = new DurableTransactions();

  constructor(random: Rng) {
    // ObjectIds the server generates come from the node's seeded stream, not the wall clock.
    this.catalog = new Catalog({ idFactory: () => new ObjectId(random.bytes(12)) });
  }
}
