/**
 * mongos's transaction router (reference §5.7): per-session participants, the coordinator and
 * recovery shard, the commit paths, and mongos `commitTransaction` / `abortTransaction`.
 *
 * @packageDocumentation
 */
export * from "./transaction-router.js";
export * from "./router-session.js";
export * from "./cluster-transaction-commands.js";
