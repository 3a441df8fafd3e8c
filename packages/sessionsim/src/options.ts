import type { NetworkConfig } from "@sessionsim/kernel";

/** A user created at start (also creatable later with `createUser`). */
export interface UserSpec {
  readonly user: string;
  readonly db: string;
  /** Role names (on `db`) or `{role, db}` documents, as `createUser` takes them. */
  readonly roles: readonly (string | { readonly role: string; readonly db: string })[];
}

/**
 * Options of `Cluster.start`. Defaults are MongoDB's own defaults.
 *
 * @remarks `parameters` uses MongoDB's server parameter names and is applied to every node at
 * start, like `--setParameter` on every process.
 */
export interface ClusterOptions {
  /** Same seed + same calls ⇒ identical trace. Default 1. */
  readonly seed?: number | string;
  /** Number of shards (default 2; 0 = config server and mongos only). */
  readonly shards?: number;
  /** Number of mongos routers (default 1). */
  readonly mongos?: number;
  /** Replica-set members per shard (default 1; more is refused until secondaries are modelled). */
  readonly membersPerShard?: number;
  /** Enforce access control on every node (default false). */
  readonly auth?: boolean;
  readonly users?: readonly UserSpec[];
  readonly parameters?: Readonly<Record<string, number | boolean>>;
  /**
   * Default true: `start` returns with `config.system.sessions` sharded and indexed, as after the
   * config server's first refresh. false leaves that to the config server's periodic refresh.
   */
  readonly setupSessionsCollection?: boolean;
  /** Network model (latency distribution, drop/duplicate/reorder rates). */
  readonly network?: Partial<NetworkConfig>;
  /** How long a client waits for a reply before `runCommand` rejects with NetworkError (default 10 min). */
  readonly clientTimeoutMS?: number;
}
