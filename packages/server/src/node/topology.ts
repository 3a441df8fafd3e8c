/** What a node is in the cluster (mongod `--configsvr` / `--shardsvr`, or mongos). */
export const NodeRoles = Object.freeze({
  mongos: "mongos",
  configsvr: "configsvr",
  shardsvr: "shardsvr",
} as const);
export type NodeRole = (typeof NodeRoles)[keyof typeof NodeRoles];

/** A node's place in the cluster. */
export interface NodeIdentity {
  /** The kernel node name, e.g. "mongos0", "config0", "shard1". */
  readonly name: string;
  readonly role: NodeRole;
  /** Replica set name for mongods ("configRepl", "shard0"); undefined for mongos. */
  readonly setName?: string;
  /** Shard id for shard members. */
  readonly shardId?: string;
}

export function isMongod(role: NodeRole): boolean {
  return role !== NodeRoles.mongos;
}
