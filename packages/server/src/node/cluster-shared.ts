import type { UserDirectory } from "../auth/index.js";
import type { KillSessionsPatternSemantics } from "../kill/kill-pattern.js";
import type { ShardingCatalog } from "../sharding/sharding-catalog.js";

/**
 * What the nodes of one cluster share outside the simulated network. MongoDB keeps these on the
 * config server and every node caches them; sessionsim lets nodes read them directly (no stale
 * routing tables, no user-cache invalidation) — see the fidelity page.
 */
export interface ClusterShared {
  /** Server parameters given at start (applied to every node; runtime changes stay per node). */
  readonly startupParameters: Readonly<Record<string, unknown>>;
  /** `config.shards`, `config.databases`, `config.collections`, `config.chunks`. */
  readonly sharding: ShardingCatalog;
  /** `admin.system.users` and `admin.system.roles`. */
  readonly users: UserDirectory;
  /** Whether access control is enforced (`--auth` on every node); may be turned on while running. */
  readonly auth: { enabled: boolean };
  /**
   * How kill patterns read `users`/`roles`: `"code"` (the server's code: impersonation data) or
   * `"manual"` (the manual: owner filters). A sessionsim cluster setting, not a server parameter.
   */
  readonly killSessionsPatternSemantics: KillSessionsPatternSemantics;
}
