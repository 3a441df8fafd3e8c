/** A shard as `config.shards` lists it. */
export interface ShardEntry {
  /** The shard id, e.g. "shard0". */
  readonly _id: string;
  /** Replica-set members' node names; the first is the primary. */
  readonly members: readonly string[];
}

/** The shard id `config.databases` gives the config server's own databases. */
export const CONFIG_SERVER_SHARD_ID = "config";

/**
 * The cluster's routing metadata: `config.shards` and `config.databases` (each database's primary
 * shard). Sharded collections and their chunks come with the storage layer.
 */
export class ShardingCatalog {
  private readonly shardList: ShardEntry[] = [];
  private readonly databases = new Map<string, string>();
  private nextPrimary = 0;

  constructor(
    /** Node names of the config server replica set; the first is the primary. */
    readonly configMembers: readonly string[],
  ) {}

  get shards(): readonly ShardEntry[] {
    return this.shardList;
  }

  addShard(entry: ShardEntry): void {
    this.shardList.push(entry);
  }

  shard(id: string): ShardEntry | undefined {
    return this.shardList.find((s) => s._id === id);
  }

  /** The node name of a shard's primary (or of the config server primary for "config"). */
  primaryNodeOf(shardId: string): string | undefined {
    if (shardId === CONFIG_SERVER_SHARD_ID) return this.configMembers[0];
    return this.shard(shardId)?.members[0];
  }

  /**
   * The primary shard of `db`, created on first use as `enableSharding`/implicit database creation
   * does: "admin" and "config" live on the config server; a new database goes to the next shard in
   * turn (deterministic). Undefined when there are no shards.
   */
  primaryShard(db: string): string | undefined {
    if (db === "admin" || db === "config") return CONFIG_SERVER_SHARD_ID;
    const known = this.databases.get(db);
    if (known !== undefined) return known;
    if (this.shardList.length === 0) return undefined;
    const id = this.shardList[this.nextPrimary++ % this.shardList.length]._id;
    this.databases.set(db, id);
    return id;
  }

  /** Sets a database's primary shard (`movePrimary` / `enableSharding` with `primaryShard`). */
  setPrimaryShard(db: string, shardId: string): void {
    this.databases.set(db, shardId);
  }
}
