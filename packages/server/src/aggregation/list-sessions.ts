import type { Binary } from "bson";
import { getLogicalSessionUserDigestFor, listSessionsRequiredPrivileges, type UserName } from "../auth/index.js";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { bsonTypeOf, isDocument, type Document } from "../idl/bson-types.js";
import { missingField, unknownField, wrongType } from "../idl/parse.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import { internUid, recordToBSON } from "../session/index.js";

/** The parsed argument of `$listSessions` / `$listLocalSessions` (IDL `ListSessionsSpec`). */
export interface ListSessionsSpec {
  readonly allUsers: boolean;
  /** The users whose sessions to list; the caller itself when none were named. */
  readonly users: readonly UserName[];
}

const SPEC_FIELDS = ["allUsers", "users", "$_internalPredicate"];

function parseUsers(stage: string, v: unknown): UserName[] {
  if (!Array.isArray(v)) throw wrongType(`${stage}.users`, v, "array");
  return v.map((u, i) => {
    if (!isDocument(u)) throw wrongType(`${stage}.users.${i}`, u, "object");
    for (const f of Object.keys(u))
      if (f !== "user" && f !== "db" && u[f] !== undefined) throw unknownField(`${stage}.users.${f}`);
    for (const f of ["user", "db"]) {
      if (u[f] === undefined) throw missingField(`${stage}.users.${f}`);
      if (typeof u[f] !== "string") throw wrongType(`${stage}.users.${f}`, u[f], "string");
    }
    return { user: u.user as string, db: u.db as string };
  });
}

/**
 * Parses and authorizes a `$listSessions` / `$listLocalSessions` argument.
 *
 * @remarks
 * `listSessionsParseSpec` (`document_source_list_local_sessions.cpp`): a non-object →
 * TypeMismatch (14) "<stage> options must be specified in an object, but found: <type>"; IDL
 * `ListSessionsSpec` (strict: `allUsers` bool, `users: [{user, db}]`, `$_internalPredicate`);
 * `allUsers: true` with a non-empty `users` → UnsupportedFormat (12) "<stage> may not specify
 * {allUsers:true} and {users:[...]} at the same time"; neither → the caller itself (with access
 * control off, user "" and db "", whose digest is every unowned session's uid; with it on and
 * nobody authenticated → Unauthorized "There is no user authenticated"). `allUsers` or another
 * user needs `listSessions` on the cluster (`listSessionsRequiredPrivileges`) → Unauthorized.
 */
export function parseListSessionsSpec(op: OperationContext, stage: string, spec: unknown): ListSessionsSpec {
  if (!isDocument(spec))
    throw new ServerError(
      ErrorCodes.TypeMismatch,
      `${stage} options must be specified in an object, but found: ${bsonTypeOf(spec)}`,
    );
  for (const f of Object.keys(spec))
    if (!SPEC_FIELDS.includes(f) && spec[f] !== undefined) throw unknownField(`${stage}.${f}`);
  let allUsers = false;
  if (spec.allUsers !== undefined) {
    if (typeof spec.allUsers !== "boolean") throw wrongType(`${stage}.allUsers`, spec.allUsers, "bool");
    allUsers = spec.allUsers;
  }
  let users = spec.users === undefined ? [] : parseUsers(stage, spec.users);
  if (spec.$_internalPredicate !== undefined && !isDocument(spec.$_internalPredicate))
    throw wrongType(`${stage}.$_internalPredicate`, spec.$_internalPredicate, "object");
  if (allUsers && users.length > 0)
    throw new ServerError(
      ErrorCodes.UnsupportedFormat,
      `${stage} may not specify {allUsers:true} and {users:[...]} at the same time`,
    );
  const authz = op.authz;
  if (!allUsers && users.length === 0) {
    // Implicit request for self.
    if (!authz.authEnabled) users = [{ user: "", db: "" }];
    else {
      const me = authz.user;
      if (me === undefined) throw new ServerError(ErrorCodes.Unauthorized, "There is no user authenticated");
      users = [{ user: me.user, db: me.db }];
    }
  }
  if (authz.authEnabled) {
    const me = authz.user;
    if (me === undefined) throw new ServerError(ErrorCodes.Unauthorized, "There is no user authenticated");
    const required = listSessionsRequiredPrivileges({ allUsers, users }, me);
    if (!authz.isAuthorizedForPrivileges(required)) throw new ServerError(ErrorCodes.Unauthorized, "Unauthorized");
  }
  return { allUsers, users };
}

/** The digests of the listed users (`listSessionsUsersToDigests`). */
function digestsOf(spec: ListSessionsSpec): Binary[] {
  return spec.users.map((u) => internUid(getLogicalSessionUserDigestFor(u.user, u.db)).uid);
}

/**
 * `$listLocalSessions`: the records in this node's cache (on mongos, mongos's cache), as
 * `peekCached(id).toBSON()`: `{_id: {id, uid}, lastUse: Date, user?: "user@db"}` — only sessions
 * used on this node since its last successful refresh (plus those whose refresh failed).
 *
 * @remarks
 * `DocumentSourceListLocalSessions` (`document_source_list_local_sessions.cpp`): `listIds()` with
 * `allUsers`, else `listIds(digests)`. The namespace, first-stage and transaction rules (73,
 * 40602, 263) are the `aggregate` command's.
 *
 * @example
 * ```ts
 * listLocalSessions(op, node, { allUsers: true }); // [{ _id: { id, uid }, lastUse }]
 * ```
 */
export function listLocalSessions(op: OperationContext, node: ServerNode, spec: unknown): Document[] {
  const parsed = parseListSessionsSpec(op, "$listLocalSessions", spec);
  const records = node.sessionCache.listRecords(parsed.allUsers ? undefined : digestsOf(parsed));
  return records.map(recordToBSON);
}

/**
 * `$listSessions`: the `$match` it amounts to on `config.system.sessions` — `{}` with `allUsers`,
 * else `{"_id.uid": {$in: [<digests>]}}`.
 *
 * @remarks
 * `DocumentSourceListSessions` is a `DocumentSourceMatch` ("essentially an alias for
 * {$match:{"_id.uid": myid}} or {$match:{}}", `document_source_list_sessions.h`).
 */
export function listSessionsFilter(op: OperationContext, spec: unknown): Document {
  const parsed = parseListSessionsSpec(op, "$listSessions", spec);
  if (parsed.allUsers) return {};
  return { "_id.uid": { $in: digestsOf(parsed) } };
}
