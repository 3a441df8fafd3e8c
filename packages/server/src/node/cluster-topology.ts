import { spawn, type Kernel } from "@sessionsim/kernel";
import { UserDirectory, type Privilege } from "../auth/index.js";
import { ShardingCatalog, type ShardEntry } from "../sharding/sharding-catalog.js";
import { ShardingCatalogManager } from "../sharding/sharding-catalog-manager.js";
import { logicalSessionCacheOf } from "../session-cache/logical-session-cache.js";
import type { ClusterShared } from "./cluster-shared.js";
import { KillSessionsPatternSemantics } from "../kill/kill-pattern.js";
import { DurableState } from "./durable-state.js";
import { ServerNode, type SimTraceEvent } from "./server-node.js";
import { NodeRoles, type NodeIdentity } from "./topology.js";

/** What `buildClusterTopology` needs: the cluster's shape and start-up settings. */
export interface TopologyOptions {
  readonly shards: number;
  readonly mongos: number;
  readonly auth: boolean;
  readonly users: readonly {
    readonly user: string;
    readonly db: string;
    readonly roles: readonly (string | { readonly role: string; readonly db: string })[];
  }[];
  /** User-defined roles to create before the users (`createRole` documents). */
  readonly roles?: readonly {
    readonly role: string;
    readonly db: string;
    readonly privileges: readonly {
      readonly resource: Readonly<Record<string, unknown>>;
      readonly actions: readonly string[];
    }[];
    readonly roles?: readonly (string | { readonly role: string; readonly db: string })[];
  }[];
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly setupSessionsCollection: boolean;
  /** How kill patterns read `users`/`roles` (default "code"). */
  readonly killSessionsPatternSemantics?: KillSessionsPatternSemantics;
}

/** The nodes of a started cluster. */
export interface ClusterTopology {
  readonly config: string;
  readonly shards: readonly ShardEntry[];
  readonly mongos: readonly string[];
  readonly shared: ClusterShared;
  /** Resolves once start-up work (e.g. setting up `config.system.sessions`) is done. */
  ready(kernel: Kernel<SimTraceEvent>): Promise<void>;
}

/**
 * Adds a config server, `shards` single-member shards and `mongos` routers to the kernel. Node
 * names: "config0", "shard0", "shard1", ..., "mongos0", ...; shard ids equal the shard node names.
 */
export function buildClusterTopology(kernel: Kernel<SimTraceEvent>, options: TopologyOptions): ClusterTopology {
  const config = "config0";
  const sharding = new ShardingCatalog([config]);
  const users = new UserDirectory();
  for (const r of options.roles ?? [])
    users.createRole({
      role: r.role,
      db: r.db,
      privileges: r.privileges as unknown as Privilege[],
      roles: [...(r.roles ?? [])],
    });
  for (const u of options.users) users.createUser({ user: u.user, db: u.db, roles: [...u.roles] });
  const shared: ClusterShared = {
    startupParameters: options.parameters,
    sharding,
    users,
    auth: { enabled: options.auth },
    killSessionsPatternSemantics: options.killSessionsPatternSemantics ?? KillSessionsPatternSemantics.code,
  };
  // The config server's current incarnation (a restart makes a new ServerNode on the same storage).
  let configNode: ServerNode | undefined;
  const add = (identity: NodeIdentity): void => {
    const durable =
      identity.role === NodeRoles.mongos ? undefined : new DurableState(kernel.random.get(`${identity.name}/objectid`));
    kernel.addNode(identity.name, (ctx) => {
      const node = new ServerNode(ctx, identity, shared, durable);
      if (identity.role === NodeRoles.configsvr) configNode = node;
      return node;
    });
  };

  add({ name: config, role: NodeRoles.configsvr, setName: "configRepl" });
  // From here on every routing change is also written to the config server's config.* collections.
  sharding.attach(
    new ShardingCatalogManager(() => configNode!, {
      objectIds: kernel.random.get(`${config}/sharding-catalog/objectid`),
      uuids: kernel.random.get(`${config}/sharding-catalog/uuid`),
    }),
  );
  const shards: ShardEntry[] = [];
  for (let i = 0; i < options.shards; i++) {
    const entry: ShardEntry = { _id: `shard${i}`, members: [`shard${i}`] };
    sharding.addShard(entry);
    shards.push(entry);
    add({ name: entry.members[0], role: NodeRoles.shardsvr, setName: entry._id, shardId: entry._id });
  }
  const mongos = Array.from({ length: options.mongos }, (_, i) => `mongos${i}`);
  for (const name of mongos) add({ name, role: NodeRoles.mongos });
  const ready = async (k: Kernel<SimTraceEvent>): Promise<void> => {
    if (options.setupSessionsCollection) setupSessionsCollectionAtStart(k, config);
  };
  return { config, shards, mongos, shared, ready };
}

/**
 * Runs the config server's first refresh now (it shards `config.system.sessions` on `{_id: 1}` and
 * creates `lsidTTLIndex` on the owning shards), driving the kernel until it is done: `start` then
 * returns with the collection set up, as a real cluster is after its config server's first
 * refresh. Deterministic: the refresh runs on the config server's own context and network. With
 * no shards it fails (ShardNotFound) and the collection is left to a later refresh.
 */
function setupSessionsCollectionAtStart(kernel: Kernel<SimTraceEvent>, config: string): void {
  const cache = logicalSessionCacheOf(kernel.contextOf(config));
  if (cache === undefined) return;
  const done = spawn(cache.refreshNow());
  kernel.runUntil(() => done.settled);
  // Return on a whole millisecond, as clients see time (`Cluster.now()` is a Date).
  const t = kernel.now();
  if (!Number.isInteger(t)) kernel.advance(Math.ceil(t) - t);
}
