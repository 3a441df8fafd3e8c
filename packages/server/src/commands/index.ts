import type { NodeRole } from "../node/topology.js";
import { buildInfoCommand, pingCommand } from "./basic.js";
import type { CommandDefinition } from "./command.js";
import { configureFailPointCommand } from "./fail-point.js";
import { helloCommand, isMasterCommand } from "./hello.js";
import { getParameterCommand, setParameterCommand } from "./parameters.js";
import { serverStatusCommand } from "./server-status.js";
import { sleepCommand } from "./sleep.js";
import { deleteCommand, insertCommand, updateCommand } from "../crud/write-commands.js";
import { countCommand, findCommand, getMoreCommand, killCursorsCommand } from "../crud/query-commands.js";
import {
  createCommand,
  createIndexesCommand,
  dropCommand,
  dropIndexesCommand,
  listCollectionsCommand,
  listIndexesCommand,
} from "../crud/ddl-commands.js";
import {
  clusterCountCommand,
  clusterCreateCommand,
  clusterCreateIndexesCommand,
  clusterDeleteCommand,
  clusterDropCommand,
  clusterDropIndexesCommand,
  clusterFindCommand,
  clusterInsertCommand,
  clusterListIndexesCommand,
  clusterUpdateCommand,
  enableShardingCommand,
  moveChunkCommand,
  shardCollectionCommand,
  splitCommand,
} from "../sharding/cluster-commands.js";
import { killOpCommand } from "../current-op/current-op.js";
import { aggregateCommand } from "../crud/aggregate.js";
import {
  createRoleCommand,
  createUserCommand,
  dropUserCommand,
  grantPrivilegesToRoleCommand,
  grantRolesToUserCommand,
  revokeRolesFromUserCommand,
  usersInfoCommand,
} from "../auth/user-management-commands.js";
import { KILL_SESSIONS_COMMANDS } from "../kill/kill-sessions-commands.js";
import {
  endSessionsCommand,
  reapLogicalSessionCacheNowCommand,
  refreshLogicalSessionCacheNowCommand,
  refreshSessionsCommand,
  startSessionCommand,
} from "./sessions.js";
import {
  clusterAbortTransactionCommand,
  clusterCommitTransactionCommand,
} from "../transactions/router/cluster-transaction-commands.js";
import { coordinateCommitTransactionCommand } from "../transactions/coordinator/coordinate-commit-command.js";
import {
  abortTransactionCommand,
  commitTransactionCommand,
  prepareTransactionCommand,
} from "../transactions/participant/txn-commands.js";
import { withRetryableWrites } from "../retryable-writes/write-commands.js";
import { clusterFindAndModifyCommand, findAndModifyCommand } from "../retryable-writes/find-and-modify.js";
import { replSetStepDownCommand } from "../repl/repl-set-step-down-command.js";

/** Every command sessionsim implements. Each declares the roles that register it. */
export const ALL_COMMANDS: readonly CommandDefinition[] = [
  helloCommand,
  isMasterCommand,
  pingCommand,
  buildInfoCommand,
  getParameterCommand,
  setParameterCommand,
  serverStatusCommand,
  configureFailPointCommand,
  sleepCommand,
  // CRUD on mongods (writes are retryable: retryable-writes/)
  withRetryableWrites(insertCommand, "insert"),
  withRetryableWrites(updateCommand, "update"),
  withRetryableWrites(deleteCommand, "delete"),
  findAndModifyCommand,
  findCommand,
  countCommand,
  getMoreCommand,
  killCursorsCommand,
  createIndexesCommand,
  listIndexesCommand,
  dropIndexesCommand,
  dropCommand,
  createCommand,
  listCollectionsCommand,
  aggregateCommand,
  createUserCommand,
  dropUserCommand,
  createRoleCommand,
  grantRolesToUserCommand,
  revokeRolesFromUserCommand,
  grantPrivilegesToRoleCommand,
  usersInfoCommand,
  // mongos routing
  clusterInsertCommand,
  clusterUpdateCommand,
  clusterDeleteCommand,
  clusterFindCommand,
  clusterCountCommand,
  clusterCreateIndexesCommand,
  clusterListIndexesCommand,
  clusterDropIndexesCommand,
  clusterDropCommand,
  clusterCreateCommand,
  enableShardingCommand,
  shardCollectionCommand,
  splitCommand,
  moveChunkCommand,
  killOpCommand,
  // logical sessions
  startSessionCommand,
  refreshSessionsCommand,
  endSessionsCommand,
  refreshLogicalSessionCacheNowCommand,
  reapLogicalSessionCacheNowCommand,
  // killing sessions
  ...KILL_SESSIONS_COMMANDS,
  // cross-shard transactions: mongos router, shard coordinator
  clusterCommitTransactionCommand,
  clusterAbortTransactionCommand,
  coordinateCommitTransactionCommand,
  // transaction participants on mongods
  commitTransactionCommand,
  abortTransactionCommand,
  prepareTransactionCommand,
  clusterFindAndModifyCommand,
  // replica-set state (single-member sets)
  replSetStepDownCommand,
];

const byRole = new Map<NodeRole, ReadonlyMap<string, CommandDefinition>>();

/** The command registry of a node role: name and aliases → definition. */
export function commandsFor(role: NodeRole): ReadonlyMap<string, CommandDefinition> {
  let registry = byRole.get(role);
  if (registry === undefined) {
    const map = new Map<string, CommandDefinition>();
    for (const def of ALL_COMMANDS)
      if (def.on.includes(role)) for (const name of [def.name, ...(def.aliases ?? [])]) map.set(name, def);
    byRole.set(role, map);
    registry = map;
  }
  return registry;
}

export type { CommandDefinition, CommandResult } from "./command.js";
