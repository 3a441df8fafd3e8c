/**
 * The two-phase-commit coordinator on shards (reference §5.8): its steps, its durable document in
 * `config.transaction_coordinators`, the service that creates and recovers coordinators, and the
 * `coordinateCommitTransaction` command.
 *
 * @packageDocumentation
 */
export * from "./coordinator-steps.js";
export * from "./coordinator-document.js";
export * from "./coordinator-metrics.js";
export * from "./transaction-coordinator.js";
export * from "./transaction-coordinator-service.js";
export { coordinateCommitTransactionCommand } from "./coordinate-commit-command.js";
export { observeShardCommand } from "./shard-hooks.js";
