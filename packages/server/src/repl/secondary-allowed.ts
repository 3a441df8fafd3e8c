/**
 * Which commands a non-primary runs (`Command::secondaryAllowed`), and which running operations
 * a stepdown interrupts.
 *
 * @packageDocumentation
 */
import type { OperationContext } from "../node/operation-context.js";

/** `Command::AllowedOnSecondary`. */
export const AllowedOnSecondary = Object.freeze({ always: "always", optIn: "optIn", never: "never" } as const);
export type AllowedOnSecondary = (typeof AllowedOnSecondary)[keyof typeof AllowedOnSecondary];

/**
 * The `secondaryAllowed()` of every command sessionsim's mongods run that is not `never` (writes,
 * DDL, user management, the transaction commands and the internal sharding commands are `never`).
 */
const ALLOWED: ReadonlyMap<string, AllowedOnSecondary> = new Map<string, AllowedOnSecondary>([
  ...[
    "hello",
    "isMaster",
    "ismaster",
    "ping",
    "buildInfo",
    "buildinfo",
    "getParameter",
    "setParameter",
    "serverStatus",
    "configureFailPoint",
    "sleep",
    "getMore",
    "killCursors",
    "killOp",
    "currentOp",
    "connectionStatus",
    "startSession",
    "refreshSessions",
    "endSessions",
    "refreshLogicalSessionCacheNow",
    "reapLogicalSessionCacheNow",
    "killSessions",
    "killAllSessions",
    "killAllSessionsByPattern",
    "replSetStepDown",
  ].map((n): [string, AllowedOnSecondary] => [n, AllowedOnSecondary.always]),
  ...[
    "find",
    "count",
    "distinct",
    "aggregate",
    "listIndexes",
    "listCollections",
    "listDatabases",
    "dbStats",
    "collStats",
    "usersInfo",
  ].map((n): [string, AllowedOnSecondary] => [n, AllowedOnSecondary.optIn]),
]);

/** `secondaryAllowed()` of a command. */
export function secondaryAllowed(commandName: string): AllowedOnSecondary {
  return ALLOWED.get(commandName) ?? AllowedOnSecondary.never;
}

/**
 * Whether a running operation holds the global lock in a mode a stepdown kills it for
 * (`wasGlobalLockTakenInModeConflictingWithWrites`, and the write intents of the newest servers):
 * commands not allowed on secondaries (writes, DDL), and `sleep` holding the global lock in S, X
 * or IX (its default and `lock: "r"` / `"w"` / `"iw"` without a `lockTarget`, or `"w"` / `"iw"`
 * with one), following `sleep_command.cpp`.
 */
export function conflictsWithWritesAtStepDown(op: OperationContext): boolean {
  if (op.commandName !== "sleep") return secondaryAllowed(op.commandName) === AllowedOnSecondary.never;
  const c = op.command;
  const lock = typeof c.lock === "string" ? c.lock : c.w === true || c.w === 1 ? "w" : "r";
  if (c.lockTarget !== undefined) return lock === "w" || lock === "iw";
  return lock === "r" || lock === "w" || lock === "iw";
}
