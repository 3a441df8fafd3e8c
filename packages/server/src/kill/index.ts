/**
 * Killing logical sessions: kill patterns and MongoDB's `SessionKiller::Matcher`, the local kill
 * on mongods (abort unprepared transactions, interrupt operations, close cursors — prepared
 * transactions are left alone), the mongos broadcast to every shard host, and the commands
 * `killSessions`, `killAllSessions` and `killAllSessionsByPattern`.
 *
 * @packageDocumentation
 */
export * from "./kill-pattern.js";
export * from "./session-killer-matcher.js";
export * from "./kill-sessions-local.js";
export * from "./kill-sessions-remote.js";
export * from "./kill-sessions-commands.js";
