import { UUID } from "bson";
import { v4 as uuidv4 } from "uuid";
import type { Rng } from "@sessionsim/kernel";
import { kNoAuthDigest, userDigest, userDisplayName, type AuthorizationSession } from "../auth/index.js";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import { internUid, noteUidUser, type LogicalSessionId } from "./logical-session-id.js";

/**
 * A session as a node's cache records it: the parent lsid, when this node last saw it used, and
 * the owner's `"user@db"` when the session was used by its owner.
 *
 * @remarks
 * IDL `LogicalSessionRecord` (`logical_session_id.idl`): `_id`, `lastUse`, `user?`. `lastUse` is
 * kept as milliseconds of the node's clock; {@link recordToBSON} gives the IDL form.
 */
export type LogicalSessionRecord = {
  readonly lsid: LogicalSessionId;
  /** Node-clock milliseconds of the last use on this node. */
  readonly lastUse: number;
  /** `"user@db"`: present only when the owning authenticated user used the session. */
  readonly user?: string;
};

const digestByName = new Map<string, { readonly name: string; readonly uid: LogicalSessionId["uid"] }>();

/**
 * The authenticated user of a connection as `{name: "user@db", uid}`, or undefined with access
 * control off.
 *
 * @remarks
 * `getAuthenticatedUser` in `logical_session_id_helpers.cpp`: none when access control is off
 * (even for an authenticated connection); Unauthorized "Logical sessions require authentication"
 * when it is on and nobody is authenticated. Digests are memoised per name and interned.
 */
export function authenticatedUser(
  authz: AuthorizationSession,
): { readonly name: string; readonly uid: LogicalSessionId["uid"] } | undefined {
  if (!authz.authEnabled) return undefined;
  const u = authz.user;
  if (u === undefined) throw new ServerError(ErrorCodes.Unauthorized, "Logical sessions require authentication");
  const name = userDisplayName(u);
  let entry = digestByName.get(name);
  if (entry === undefined) {
    entry = { name, uid: internUid(userDigest(u.user, u.db)).uid };
    digestByName.set(name, entry);
  }
  return entry;
}

/**
 * A fresh session id: a version-4 UUID built from the node's seeded `"uuid"` stream (never the
 * platform's random source), as `UUID::gen()` in the server.
 */
export function generateSessionId(random: Rng): UUID {
  const bytes = new Uint8Array(16);
  uuidv4({ random: random.bytes(16) }, bytes);
  return new UUID(bytes);
}

/**
 * The record of a brand-new session for `startSession`.
 *
 * @remarks
 * `makeLogicalSessionRecord(opCtx, lastUse)`: a new random `id`; with access control on,
 * `uid` = the user's digest and `user` = `"user@db"`; otherwise `uid` = SHA-256("") and no
 * `user`.
 */
export function makeNewSessionRecord(authz: AuthorizationSession, id: UUID, now: number): LogicalSessionRecord {
  const owner = authenticatedUser(authz);
  if (owner === undefined) return { lsid: { id, uid: internUid(kNoAuthDigest).uid }, lastUse: now };
  noteUidUser(owner.uid, owner.name);
  return { lsid: { id, uid: owner.uid }, lastUse: now, user: owner.name };
}

/**
 * The record for an lsid seen on a command: `{id, uid}` (child fields dropped) and `user` only if
 * the authenticated user's digest is the lsid's `uid`.
 *
 * @remarks
 * `makeLogicalSessionRecord(opCtx, lsid, lastUse)` in `logical_session_id_helpers.cpp`. Without
 * `authz` (sessions of running operations at refresh time) there is no user: "if a running op is
 * the cause of an upsert, we won't have a user name for the record".
 */
export function makeLogicalSessionRecord(
  lsid: LogicalSessionId,
  now: number,
  authz?: AuthorizationSession,
): LogicalSessionRecord {
  const parent = lsid.txnUUID === undefined && lsid.txnNumber === undefined ? lsid : { id: lsid.id, uid: lsid.uid };
  const user = authz === undefined ? undefined : ownerName(authz, lsid);
  return user === undefined ? { lsid: parent, lastUse: now } : { lsid: parent, lastUse: now, user };
}

/** `"user@db"` of the caller if it owns `lsid` (its digest is the lsid's `uid`), else undefined. */
export function ownerName(authz: AuthorizationSession, lsid: LogicalSessionId): string | undefined {
  const me = authenticatedUser(authz);
  if (me === undefined || internUid(lsid.uid) !== internUid(me.uid)) return undefined;
  noteUidUser(me.uid, me.name);
  return me.name;
}

/**
 * A record as `LogicalSessionRecord::toBSON()`: `{_id: {id, uid}, lastUse: Date, user?}` — what
 * `$listLocalSessions` returns.
 */
export function recordToBSON(record: LogicalSessionRecord): Document {
  const out: Document = { _id: { id: record.lsid.id, uid: record.lsid.uid }, lastUse: new Date(record.lastUse) };
  if (record.user !== undefined) out.user = record.user;
  return out;
}

/**
 * The reply of `startSession` (`makeLogicalSessionToClient`): `{id: {id}, timeoutMinutes}` — the
 * `uid` is never returned.
 */
export function makeLogicalSessionToClient(lsid: LogicalSessionId, timeoutMinutes: number): Document {
  return { id: { id: lsid.id }, timeoutMinutes };
}
