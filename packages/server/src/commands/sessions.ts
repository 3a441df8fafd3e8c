import { GENERIC_ARGUMENTS } from "../idl/generic-arguments.js";
import type { Task } from "@sessionsim/kernel";
import { ErrorCodes } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import { unknownField } from "../idl/parse.js";
import { NodeRoles } from "../node/topology.js";
import {
  generateSessionId,
  makeLogicalSessionIds,
  makeLogicalSessionToClient,
  makeNewSessionRecord,
  ownerName,
  parseLogicalSessionsFromClient,
} from "../session/index.js";
import type { CommandDefinition } from "./command.js";

const ALL = [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr] as const;

/** The strict session commands refuse fields other than the generic arguments with 40415. */
function checkStrict(commandName: string, cmd: Document): void {
  for (const f of Object.keys(cmd).slice(1))
    if (!GENERIC_ARGUMENTS.has(f) && cmd[f] !== undefined) throw unknownField(`${commandName}.${f}`);
}

/**
 * `startSession`: a new session in this node's cache only (on mongos too; never forwarded).
 * Replies `{id: {id: UUID}, timeoutMinutes}` — never the `uid`.
 *
 * @remarks
 * `src/mongo/db/commands/start_session_command.cpp`: `makeLogicalSessionRecord(opCtx, now)` (a new
 * v4 UUID — from the node's seeded `"uuid"` stream here — owned by the authenticated user when
 * access control is on), `LogicalSessionCache::startSession` (TooManyLogicalSessions at
 * `maxSessions`), `makeLogicalSessionToClient`. Nothing reaches `config.system.sessions` before
 * the node's next refresh.
 */
export const startSessionCommand: CommandDefinition = {
  name: "startSession",
  on: ALL,
  run: (op, node) => {
    const record = makeNewSessionRecord(op.authz, generateSessionId(node.ctx.random("uuid")), node.now());
    node.sessionCache.startSession(record);
    return makeLogicalSessionToClient(record.lsid, node.params.localLogicalSessionTimeoutMinutes);
  },
};

/**
 * `refreshSessions: [{id}, ...]`: the same as using each session on this node (vivify), local only.
 *
 * @remarks
 * `src/mongo/db/commands/refresh_sessions_command.cpp`: "It is always ok to run this command, as
 * long as you are authenticated as some user, if auth is enabled." IDL `refreshSessionsFromClient`
 * (strict, `array<LogicalSessionFromClient>`); uids resolved by `makeLogicalSessionIds`; every
 * `vivify` is checked in turn, so a full cache fails the command (TooManyLogicalSessions) after
 * the sessions before it were added. No limit on the number of ids besides the 16 MB document.
 */
export const refreshSessionsCommand: CommandDefinition = {
  name: "refreshSessions",
  on: ALL,
  run: (op, node) => {
    const list = parseLogicalSessionsFromClient("refreshSessions", op.command.refreshSessions);
    checkStrict("refreshSessions", op.command);
    for (const lsid of makeLogicalSessionIds(list, op.authz)) node.sessionCache.vivify(lsid, ownerName(op.authz, lsid));
    return {};
  },
};

/**
 * `endSessions: [{id}, ...]`: queues the sessions to be ended at this node's next refresh — it is
 * not a kill: nothing is interrupted or aborted, the session stays usable. Unknown sessions are
 * accepted. Local only (not forwarded by mongos).
 *
 * @remarks
 * `src/mongo/db/commands/end_sessions_command.cpp` → `LogicalSessionCache::endSessions`; a child
 * lsid fails InvalidOptions "Cannot specify a child session id <lsid>".
 */
export const endSessionsCommand: CommandDefinition = {
  name: "endSessions",
  on: ALL,
  run: (op, node) => {
    const list = parseLogicalSessionsFromClient("endSessions", op.command.endSessions);
    checkStrict("endSessions", op.command);
    node.sessionCache.endSessions(makeLogicalSessionIds(list, op.authz));
    return {};
  },
};

/**
 * Test command `refreshLogicalSessionCacheNow`: runs this node's refresh now (on mongos: mongos's
 * own cache; its writes go to the shards) and answers `ok: 0` with the refresh's first error.
 *
 * @remarks
 * `src/mongo/db/commands/refresh_logical_session_cache_now.cpp`: `refreshNow`; any error but
 * DuplicateKey is returned.
 */
export const refreshLogicalSessionCacheNowCommand: CommandDefinition = {
  name: "refreshLogicalSessionCacheNow",
  on: ALL,
  testOnly: true,
  run: (_op, node) =>
    (function* (): Task<Document> {
      const status = yield* node.sessionCache.refreshNow();
      if (status !== undefined && status.code !== ErrorCodes.DuplicateKey) throw status;
      return {};
    })(),
};

/**
 * Test command `reapLogicalSessionCacheNow`: runs this node's reaper now (on mongods it deletes
 * `config.transactions` entries of expired sessions; on mongos nothing is on disk).
 *
 * @remarks `src/mongo/db/commands/reap_logical_session_cache_now.cpp`: `reapNow`, errors returned.
 */
export const reapLogicalSessionCacheNowCommand: CommandDefinition = {
  name: "reapLogicalSessionCacheNow",
  on: ALL,
  testOnly: true,
  run: (_op, node) =>
    (function* (): Task<Document> {
      yield* node.sessionCache.reapNow();
      return {};
    })(),
};
