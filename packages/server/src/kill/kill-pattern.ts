import type { Binary, Long, UUID } from "bson";
import { type AuthorizationSession, type RoleName, type UserName, userDigest } from "../auth/index.js";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { isDocument, type Document } from "../idl/bson-types.js";
import { missingField, unknownField, wrongType } from "../idl/parse.js";
import {
  type LogicalSessionId,
  isChildSession,
  parentLsidKey,
  parseSha256Field,
  parseTxnNumberField,
  parseUuidField,
  uidHex,
} from "../session/index.js";

/**
 * How `killAllSessionsByPattern` reads the `users` and `roles` fields of a pattern.
 *
 * - `code` (default): as the server's code does — they are audit impersonation data, never matching
 *   criteria; a pattern with neither `uid` nor `lsid` kills every session.
 * - `manual`: as the manual describes them — `users` "Specifies the owners of the sessions to kill",
 *   `roles` "Specifies the roles assigned to the owners of the sessions to kill".
 *
 * @remarks
 * `SessionKiller::Matcher` (`src/mongo/db/session/session_killer.cpp`) looks only at `uid` and
 * `lsid`; `ScopedKillAllSessionsByPatternImpersonator` (`kill_sessions_common.h`) uses
 * `users`/`roles` to set the audit attributes while killing. The manual page
 * "killAllSessionsByPattern" lists them as filters. See the fidelity page.
 */
export const KillSessionsPatternSemantics = Object.freeze({
  code: "code",
  manual: "manual",
} as const);
export type KillSessionsPatternSemantics =
  (typeof KillSessionsPatternSemantics)[keyof typeof KillSessionsPatternSemantics];

/** IDL `KillAllSessionsUser` (strict): `{user, db}`. */
export type KillAllSessionsUser = { readonly user: string; readonly db: string };

/** IDL `KillAllSessionsRole` (strict): `{role, db}`. */
export type KillAllSessionsRole = { readonly role: string; readonly db: string };

/**
 * One kill pattern (IDL `KillAllSessionsByPattern`, strict): every field optional.
 *
 * @remarks
 * `src/mongo/db/session/kill_sessions.idl`: `lsid` (a full `LogicalSessionId`, `id` and `uid`
 * both required, validated by `kill_sessions::validateLsid`: no child sessions), `uid`
 * (`sha256Block`), `users` ("logged in users for impersonate"), `roles` ("logged in roles for
 * impersonate").
 */
export type KillAllSessionsByPattern = {
  readonly lsid?: LogicalSessionId;
  readonly uid?: Binary;
  readonly users?: readonly KillAllSessionsUser[];
  readonly roles?: readonly KillAllSessionsRole[];
};

// ---- parsing -----------------------------------------------------------------------------------

/**
 * Whether a field counts as present: IDL-generated parsers ignore `null` (and `undefined`) values
 * (`IDLParserContext::checkAndAssertType` returns false for them), so a required field set to null
 * is "missing" and a null array element is skipped.
 */
export function idlPresent(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function parseStringField(doc: Document, field: string, ctx: string): string | undefined {
  const v = doc[field];
  if (!idlPresent(v)) return undefined;
  if (typeof v !== "string") throw wrongType(`${ctx}.${field}`, v, "string");
  return v;
}

/** Rejects unknown fields of a strict struct. */
function checkStrict(doc: Document, known: readonly string[], ctx: string): void {
  for (const f of Object.keys(doc)) if (!known.includes(f) && doc[f] !== undefined) throw unknownField(`${ctx}.${f}`);
}

/**
 * Parses `array<T>` the way IDL-generated code does: not an array → TypeMismatch naming
 * `arrayPath`; an element that is not an object → TypeMismatch naming `arrayPath.<i>` (null
 * elements are skipped); element fields are reported under `structPath` (the array's field name,
 * without the index).
 */
export function parseStructArray<T>(
  v: unknown,
  arrayPath: string,
  structPath: string,
  parseElement: (doc: Document, ctx: string) => T,
): T[] {
  if (!Array.isArray(v)) throw wrongType(arrayPath, v, "array");
  const out: T[] = [];
  v.forEach((element: unknown, i) => {
    if (!idlPresent(element)) return;
    if (!isDocument(element)) throw wrongType(`${arrayPath}.${i}`, element, "object");
    out.push(parseElement(element, structPath));
  });
  return out;
}

/**
 * IDL `KillAllSessionsUser` (strict): `user` and `db` strings, both required.
 *
 * @example
 * ```ts
 * parseKillAllSessionsUser({ user: "alice", db: "test" }, "KillAllSessionsCmd.killAllSessions");
 * ```
 */
export function parseKillAllSessionsUser(doc: Document, ctx: string): KillAllSessionsUser {
  checkStrict(doc, ["user", "db"], ctx);
  const user = parseStringField(doc, "user", ctx);
  const db = parseStringField(doc, "db", ctx);
  if (user === undefined) throw missingField(`${ctx}.user`);
  if (db === undefined) throw missingField(`${ctx}.db`);
  return { user, db };
}

/** IDL `KillAllSessionsRole` (strict): `role` and `db` strings, both required. */
export function parseKillAllSessionsRole(doc: Document, ctx: string): KillAllSessionsRole {
  checkStrict(doc, ["role", "db"], ctx);
  const role = parseStringField(doc, "role", ctx);
  const db = parseStringField(doc, "db", ctx);
  if (role === undefined) throw missingField(`${ctx}.role`);
  if (db === undefined) throw missingField(`${ctx}.db`);
  return { role, db };
}

/**
 * The validator of a pattern's `lsid`: a child (internal) session cannot be named.
 *
 * @remarks `kill_sessions::validateLsid` (`src/mongo/db/session/kill_sessions_util.h`):
 * InvalidOptions "Cannot kill a child session". IDL runs it when parsing and in the setter.
 */
export function validateKillLsid(lsid: LogicalSessionId): void {
  if (isChildSession(lsid)) throw new ServerError(ErrorCodes.InvalidOptions, "Cannot kill a child session");
}

/** IDL `LogicalSessionId` (strict): `id` and `uid` required, `txnNumber`, `txnUUID` optional. */
function parseLogicalSessionIdStruct(doc: Document, ctx: string): LogicalSessionId {
  checkStrict(doc, ["id", "uid", "txnNumber", "txnUUID"], ctx);
  if (!idlPresent(doc.id)) throw missingField(`${ctx}.id`);
  const id: UUID = parseUuidField(doc.id, `${ctx}.id`);
  if (!idlPresent(doc.uid)) throw missingField(`${ctx}.uid`);
  const uid = parseSha256Field(doc.uid, `${ctx}.uid`);
  const txnNumber: Long | undefined = idlPresent(doc.txnNumber)
    ? parseTxnNumberField(doc.txnNumber, `${ctx}.txnNumber`)
    : undefined;
  const txnUUID: UUID | undefined = idlPresent(doc.txnUUID) ? parseUuidField(doc.txnUUID, `${ctx}.txnUUID`) : undefined;
  return {
    id,
    uid,
    ...(txnNumber !== undefined ? { txnNumber } : {}),
    ...(txnUUID !== undefined ? { txnUUID } : {}),
  };
}

/**
 * Parses one `killAllSessionsByPattern` pattern (IDL `KillAllSessionsByPattern`, strict) with the
 * server's messages; `ctx` is the parser context, e.g.
 * `KillAllSessionsByPatternCmd.killAllSessionsByPattern`.
 *
 * @remarks
 * Unknown field → 40415; `lsid` not an object, `uid` not BinData, `users`/`roles` not arrays →
 * TypeMismatch; `lsid` without `uid` → 40414 (the manual's `{lsid: {id}}` form is refused by the
 * code: `LogicalSessionId` requires `uid`); a child `lsid` → InvalidOptions "Cannot kill a child
 * session"; a `uid` of the wrong length → UnsupportedFormat.
 *
 * @example
 * ```ts
 * parseKillAllSessionsByPattern({ uid }, "KillAllSessionsByPatternCmd.killAllSessionsByPattern"); // { uid }
 * ```
 */
export function parseKillAllSessionsByPattern(doc: Document, ctx: string): KillAllSessionsByPattern {
  checkStrict(doc, ["lsid", "uid", "users", "roles"], ctx);
  let lsid: LogicalSessionId | undefined;
  if (idlPresent(doc.lsid)) {
    if (!isDocument(doc.lsid)) throw wrongType(`${ctx}.lsid`, doc.lsid, "object");
    lsid = parseLogicalSessionIdStruct(doc.lsid, `${ctx}.lsid`);
    validateKillLsid(lsid);
  }
  const uid = idlPresent(doc.uid) ? parseSha256Field(doc.uid, `${ctx}.uid`) : undefined;
  const users = idlPresent(doc.users)
    ? parseStructArray(doc.users, `${ctx}.users`, `${ctx}.users`, parseKillAllSessionsUser)
    : undefined;
  const roles = idlPresent(doc.roles)
    ? parseStructArray(doc.roles, `${ctx}.roles`, `${ctx}.roles`, parseKillAllSessionsRole)
    : undefined;
  return {
    ...(lsid !== undefined ? { lsid } : {}),
    ...(uid !== undefined ? { uid } : {}),
    ...(users !== undefined ? { users } : {}),
    ...(roles !== undefined ? { roles } : {}),
  };
}

/** A pattern as the BSON document the server sends (`KillAllSessionsByPattern::toBSON`). */
export function killPatternToBSON(p: KillAllSessionsByPattern): Document {
  return {
    ...(p.lsid !== undefined ? { lsid: { ...p.lsid } } : {}),
    ...(p.uid !== undefined ? { uid: p.uid } : {}),
    ...(p.users !== undefined ? { users: p.users.map((u) => ({ user: u.user, db: u.db })) } : {}),
    ...(p.roles !== undefined ? { roles: p.roles.map((r) => ({ role: r.role, db: r.db })) } : {}),
  };
}

/** A short label for a pattern in trace events: `all`, `lsid:<uuid>`, `uid:<hex12>`, plus `users=` / `roles=`. */
export function describeKillPattern(p: KillAllSessionsByPattern): string {
  const parts: string[] = [];
  if (p.uid !== undefined) parts.push(`uid:${uidHex(p.uid).slice(0, 12)}`);
  if (p.lsid !== undefined) parts.push(`lsid:${p.lsid.id.toHexString(true)}`);
  if (parts.length === 0) parts.push("all");
  if (p.users !== undefined) parts.push(`users=[${p.users.map((u) => `${u.user}@${u.db}`).join(",")}]`);
  if (p.roles !== undefined) parts.push(`roles=[${p.roles.map((r) => `${r.role}@${r.db}`).join(",")}]`);
  return parts.join(" ");
}

// ---- construction (kill_sessions.cpp) ---------------------------------------------------------

/**
 * The impersonation data a server attaches to the patterns it builds: the caller's user (at most
 * one) and roles. Under the manual's reading `users`/`roles` are filters, so nothing is attached.
 */
function impersonationData(
  authz: AuthorizationSession,
  semantics: KillSessionsPatternSemantics,
): KillAllSessionsByPattern {
  if (semantics === KillSessionsPatternSemantics.manual) return {};
  const user: UserName | undefined = authz.user;
  const roles: RoleName[] = authz.roles();
  return {
    users: user === undefined ? [] : [{ user: user.user, db: user.db }],
    roles: roles.map((r) => ({ role: r.role, db: r.db })),
  };
}

/**
 * A kill-everything pattern carrying the caller's impersonation data.
 *
 * @remarks `makeKillAllSessionsByPattern(opCtx)` in `src/mongo/db/session/kill_sessions.cpp`:
 * `users` = the authenticated user (empty if none), `roles` = the authenticated roles.
 */
export function makeKillAllSessionsByPattern(
  authz: AuthorizationSession,
  semantics: KillSessionsPatternSemantics = KillSessionsPatternSemantics.code,
): KillAllSessionsByPattern {
  return impersonationData(authz, semantics);
}

/**
 * A pattern for every session of `user` (`uid` = SHA-256 of `"user@db"`) with the caller's
 * impersonation data (`makeKillAllSessionsByPattern(opCtx, KillAllSessionsUser)`).
 */
export function makeKillAllSessionsByPatternForUser(
  authz: AuthorizationSession,
  user: KillAllSessionsUser,
  semantics: KillSessionsPatternSemantics = KillSessionsPatternSemantics.code,
): KillAllSessionsByPattern {
  return { ...impersonationData(authz, semantics), uid: userDigest(user.user, user.db) };
}

/**
 * A pattern for one session with the caller's impersonation data
 * (`makeKillAllSessionsByPattern(opCtx, LogicalSessionId)`); the IDL setter validates the lsid.
 */
export function makeKillAllSessionsByPatternForLsid(
  authz: AuthorizationSession,
  lsid: LogicalSessionId,
  semantics: KillSessionsPatternSemantics = KillSessionsPatternSemantics.code,
): KillAllSessionsByPattern {
  validateKillLsid(lsid);
  return { ...impersonationData(authz, semantics), lsid };
}

/**
 * A pattern for every session owned by `uid` (`patternsForLoggedInUser`, the caller's own
 * sessions), with the caller's impersonation data.
 */
export function makeKillAllSessionsByPatternForUid(
  authz: AuthorizationSession,
  uid: Binary,
  semantics: KillSessionsPatternSemantics = KillSessionsPatternSemantics.code,
): KillAllSessionsByPattern {
  return { ...impersonationData(authz, semantics), uid };
}

/**
 * The identity of a pattern inside a `KillAllSessionsByPatternSet`.
 *
 * @remarks `operator==` on `KillAllSessionsByPatternItem` (`kill_sessions.h`) compares `lsid`,
 * `uid` and the API parameters only, so patterns differing only in `users`/`roles` collapse into
 * one. Under the manual's reading those fields are filters and take part in the identity.
 */
export function killPatternKey(p: KillAllSessionsByPattern, semantics: KillSessionsPatternSemantics): string {
  const lsid = p.lsid === undefined ? "" : lsidIdentity(p.lsid);
  const uid = p.uid === undefined ? "" : uidHex(p.uid);
  if (semantics === KillSessionsPatternSemantics.code) return `${lsid}|${uid}`;
  const users = p.users === undefined ? "-" : p.users.map((u) => `${u.user}@${u.db}`).join(",");
  const roles = p.roles === undefined ? "-" : p.roles.map((r) => `${r.role}@${r.db}`).join(",");
  return `${lsid}|${uid}|${users}|${roles}`;
}

function lsidIdentity(lsid: LogicalSessionId): string {
  return `${parentLsidKey(lsid)}|${lsid.txnNumber?.toString() ?? ""}|${lsid.txnUUID?.toHexString() ?? ""}`;
}

/**
 * A `KillAllSessionsByPatternSet`: patterns without duplicates (first occurrence kept, so the
 * result does not depend on hashing).
 */
export function killPatternSet(
  patterns: readonly KillAllSessionsByPattern[],
  semantics: KillSessionsPatternSemantics,
): KillAllSessionsByPattern[] {
  const seen = new Set<string>();
  const out: KillAllSessionsByPattern[] = [];
  for (const p of patterns) {
    const key = killPatternKey(p, semantics);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}
