import type { NetworkConfig } from "@sessionsim/kernel";

/** A user created at start (also creatable later with `createUser`). */
export interface UserSpec {
  readonly user: string;
  readonly db: string;
  /** Role names (on `db`) or `{role, db}` documents, as `createUser` takes them. */
  readonly roles: readonly (string | { readonly role: string; readonly db: string })[];
}

/**
 * A user-defined role created at start, before the users (as `createRole` takes it): privileges
 * on resources such as `{cluster: true}` (e.g. `killAnySession`, `impersonate`, `inprog`) and
 * inherited roles.
 */
export interface RoleSpec {
  readonly role: string;
  readonly db: string;
  readonly privileges: readonly {
    readonly resource: Readonly<Record<string, unknown>>;
    readonly actions: readonly string[];
  }[];
  /** Role names (on `db`) or `{role, db}` documents. */
  readonly roles?: readonly (string | { readonly role: string; readonly db: string })[];
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
  /** User-defined roles created at start, before `users` (which may then be granted them). */
  readonly roles?: readonly RoleSpec[];
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
  /**
   * How `killAllSessionsByPattern` reads a pattern's `users` and `roles` (default `"code"`).
   * `"code"`: as the server's code does — impersonation data for auditing, not filters, so
   * `{users: [...]}` alone kills every session. `"manual"`: as the manual describes them — the
   * owners of the sessions to kill, and roles those owners must hold.
   */
  readonly killSessionsPatternSemantics?: "code" | "manual";
}
