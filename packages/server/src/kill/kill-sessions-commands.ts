import type { Task } from "@sessionsim/kernel";
import { clusterResource, privilege, userDigest } from "../auth/index.js";
import type { CommandDefinition, CommandResult } from "../commands/command.js";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import { missingField } from "../idl/parse.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import { NodeRoles } from "../node/topology.js";
import { makeLogicalSessionIds, parseLogicalSessionFromClient } from "../session/index.js";
import {
  type KillAllSessionsByPattern,
  type KillSessionsPatternSemantics,
  idlPresent,
  makeKillAllSessionsByPattern,
  makeKillAllSessionsByPatternForLsid,
  makeKillAllSessionsByPatternForUid,
  makeKillAllSessionsByPatternForUser,
  parseKillAllSessionsByPattern,
  parseKillAllSessionsUser,
  parseStructArray,
} from "./kill-pattern.js";
import { killSessionsLocal } from "./kill-sessions-local.js";
import { killSessionsRemote } from "./kill-sessions-remote.js";
import { SessionKillerMatcher } from "./session-killer-matcher.js";

const ALL_ROLES = [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr] as const;

function semanticsOf(node: ServerNode): KillSessionsPatternSemantics {
  return node.shared.killSessionsPatternSemantics;
}

/**
 * The command's array argument, parsed as IDL `array<T>` in a non-strict command struct whose
 * parser context is `ctx`: a null value counts as missing (40414).
 */
function commandArray<T>(
  op: OperationContext,
  ctx: string,
  parseElement: (doc: Document, structPath: string) => T,
): T[] {
  const value = op.command[op.commandName];
  const path = `${ctx}.${op.commandName}`;
  if (!idlPresent(value)) throw missingField(path);
  return parseStructArray(value, path, path, parseElement);
}

/**
 * Kills the sessions `patterns` select, on this node (mongod) or across the cluster (mongos), and
 * answers as the kill commands do: `{}` (ok), or HostUnreachable (6) "Failed to kill sessions on
 * some hosts" with `failedHosts` when shard hosts failed.
 *
 * @remarks
 * `killSessionsCmdHelper` (`src/mongo/db/session/kill_sessions_common.cpp`) hands the patterns to
 * the `SessionKiller` (`killSessionsLocal` on mongod, `killSessionsRemote` on mongos) and waits
 * for its result. The newest server logs `failedHosts` (log 8963000) and replies with the message
 * only; older servers ("Failed to kill on some hosts") put `failedHosts` in the reply, which
 * sessionsim keeps. sessionsim runs the killer inline instead of on a background thread, and an
 * empty pattern set (an unauthenticated caller's own sessions) kills nothing without waking it.
 */
export function killSessionsCmdHelper(
  op: OperationContext,
  node: ServerNode,
  patterns: readonly KillAllSessionsByPattern[],
): CommandResult {
  if (patterns.length === 0) return {};
  const matcher = new SessionKillerMatcher(patterns, semanticsOf(node), node.shared.users);
  if (node.role !== NodeRoles.mongos) {
    killSessionsLocal(node, op, matcher);
    return {};
  }
  return (function* (): Task<Document> {
    const { failedHosts } = yield* killSessionsRemote(node, op, matcher);
    if (failedHosts.length > 0)
      throw new ServerError(ErrorCodes.HostUnreachable, "Failed to kill sessions on some hosts", {
        failedHosts: [...failedHosts],
      });
    return {};
  })();
}

/**
 * The patterns of `killSessions: []`: with access control on, every session of the authenticated
 * user (none if nobody is authenticated); with it off, every session.
 *
 * @remarks `patternsForLoggedInUser` in `src/mongo/db/commands/kill_sessions_command.cpp`.
 */
function patternsForLoggedInUser(op: OperationContext, node: ServerNode): KillAllSessionsByPattern[] {
  const semantics = semanticsOf(node);
  if (!node.shared.auth.enabled) return [makeKillAllSessionsByPattern(op.authz, semantics)];
  const user = op.authz.user;
  if (user === undefined) return [];
  return [makeKillAllSessionsByPatternForUid(op.authz, userDigest(user.user, user.db), semantics)];
}

/**
 * `killSessions: [{id}, ...]`: kills the named sessions of the caller — `[]` kills all of the
 * caller's sessions with access control on, every session with it off. Any authenticated user may
 * run it; naming another user's `uid` needs `killAnySession` (or `impersonate`) on the cluster.
 * Killed sessions stay listed and usable.
 *
 * @remarks
 * `src/mongo/db/commands/kill_sessions_command.cpp`: `KillSessionsCmdFromClient::parse` (context
 * "KillSessionsCmd"; the lsids are strict `LogicalSessionFromClient`s), `makeLogicalSessionIds`
 * with `killAnySession` as the spoofing privilege (so `{id}` gets the caller's `uid`), one
 * `{lsid}` pattern per session (a child lsid → InvalidOptions "Cannot kill a child session");
 * `attachLogicalSessionsToOpCtx()` is false so the command cannot kill itself.
 *
 * @example
 * ```ts
 * await conn.runCommand("admin", { killSessions: [{ id: lsid.id }] }); // { ok: 1 }
 * ```
 */
export const killSessionsCommand: CommandDefinition = {
  name: "killSessions",
  on: ALL_ROLES,
  attachSessions: false,
  run: (op, node) => {
    const list = commandArray(op, "KillSessionsCmd", (doc, ctx) => parseLogicalSessionFromClient(doc, ctx, ctx));
    if (list.length === 0) return killSessionsCmdHelper(op, node, patternsForLoggedInUser(op, node));
    const lsids = makeLogicalSessionIds(list, op.authz, [privilege(clusterResource, "killAnySession")]);
    const semantics = semanticsOf(node);
    return killSessionsCmdHelper(
      op,
      node,
      lsids.map((lsid) => makeKillAllSessionsByPatternForLsid(op.authz, lsid, semantics)),
    );
  },
};

/**
 * `killAllSessions: [{user, db}, ...]`: kills every session of the listed users (`uid` =
 * SHA-256 of `"user@db"`); `[]` kills every session. Needs `killAnySession` on the cluster
 * (checked by dispatch). Sessions whose transaction is prepared keep it.
 *
 * @remarks `src/mongo/db/commands/kill_all_sessions_command.cpp`: `KillAllSessionsCmd::parse`
 * (context "KillAllSessionsCmd", users are strict `KillAllSessionsUser`s),
 * `makeKillAllSessionsByPattern(opCtx[, user])`.
 *
 * @example
 * ```ts
 * await admin.runCommand("admin", { killAllSessions: [{ user: "alice", db: "test" }] });
 * ```
 */
export const killAllSessionsCommand: CommandDefinition = {
  name: "killAllSessions",
  on: ALL_ROLES,
  attachSessions: false,
  run: (op, node) => {
    const users = commandArray(op, "KillAllSessionsCmd", parseKillAllSessionsUser);
    const semantics = semanticsOf(node);
    const patterns =
      users.length === 0
        ? [makeKillAllSessionsByPattern(op.authz, semantics)]
        : users.map((u) => makeKillAllSessionsByPatternForUser(op.authz, u, semantics));
    return killSessionsCmdHelper(op, node, patterns);
  },
};

/**
 * `killAllSessionsByPattern: [<pattern>, ...]`: kills the sessions any pattern selects — `{lsid}`
 * (a full `{id, uid}`), `{uid}`, and `{users}` / `{roles}` (impersonation data in the server's
 * code, owner filters under the manual's reading, see {@link KillSessionsPatternSemantics}); `[]`
 * and `[{}]` kill every session. Needs `killAnySession` (checked by dispatch), and `impersonate`
 * for patterns carrying `users` or `roles`. mongos sends the patterns to every shard host as they
 * are.
 *
 * @remarks `src/mongo/db/commands/kill_all_sessions_by_pattern_command.cpp`:
 * `KillAllSessionsByPatternCmd::parse` (context "KillAllSessionsByPatternCmd", strict patterns);
 * empty → `makeKillAllSessionsByPattern(opCtx)`; otherwise without `impersonate` any `users` or
 * `roles` → Unauthorized "Not authorized to impersonate in killAllSessionsByPattern".
 *
 * @example
 * ```ts
 * await admin.runCommand("admin", { killAllSessionsByPattern: [{ uid }] });
 * ```
 */
export const killAllSessionsByPatternCommand: CommandDefinition = {
  name: "killAllSessionsByPattern",
  on: ALL_ROLES,
  attachSessions: false,
  run: (op, node) => {
    let patterns = commandArray(op, "KillAllSessionsByPatternCmd", parseKillAllSessionsByPattern);
    if (patterns.length === 0) {
      patterns = [makeKillAllSessionsByPattern(op.authz, semanticsOf(node))];
    } else if (!op.authz.isAuthorized(clusterResource, "impersonate")) {
      for (const p of patterns)
        if (p.users !== undefined || p.roles !== undefined)
          throw new ServerError(ErrorCodes.Unauthorized, "Not authorized to impersonate in killAllSessionsByPattern");
    }
    return killSessionsCmdHelper(op, node, patterns);
  },
};

/** The three kill commands, registered on every node role. */
export const KILL_SESSIONS_COMMANDS: readonly CommandDefinition[] = Object.freeze([
  killSessionsCommand,
  killAllSessionsCommand,
  killAllSessionsByPatternCommand,
]);
