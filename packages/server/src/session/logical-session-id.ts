import { Binary, Long, UUID } from "bson";
import { checkCanSetUserDigest, type AuthorizationSession, type Privilege } from "../auth/index.js";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { bsonTypeOf, isDocument } from "../idl/bson-types.js";
import { missingField, unknownField, wrongType } from "../idl/parse.js";

/**
 * A logical session id as the server holds it: the client's `id` plus the owner's `uid` digest,
 * and for internal (child) sessions `txnNumber` / `txnUUID`. Field order is the IDL's (`id`,
 * `uid`, `txnNumber`, `txnUUID`), which is also the order of `_id` in `config.system.sessions`.
 *
 * @remarks
 * IDL `LogicalSessionId` in `src/mongo/db/session/logical_session_id.idl` (strict). A session with
 * a `txnUUID` is a child of `{id, uid}` (`isChildSession`, `getParentSessionId` in
 * `logical_session_id_helpers.cpp`). A `type` (not an interface) so it is a {@link Document}.
 */
export type LogicalSessionId = {
  readonly id: UUID;
  readonly uid: Binary;
  readonly txnNumber?: Long;
  readonly txnUUID?: UUID;
};

/**
 * An lsid as a client sends it (IDL `LogicalSessionFromClient`, strict): `id` required, `uid`,
 * `txnNumber` and `txnUUID` optional.
 */
export type LogicalSessionFromClient = {
  readonly id: UUID;
  readonly uid?: Binary;
  readonly txnNumber?: Long;
  readonly txnUUID?: UUID;
};

// ---- keys ------------------------------------------------------------------------------------

/** One interned owner digest: the shared `Binary`, its key token and (once known) its user name. */
interface UidEntry {
  /** Position in the intern table. */
  readonly index: number;
  /** The three-character token that ends a session key. */
  readonly token: string;
  /** A private copy of the digest; shared by every lsid built from a key. Never mutate it. */
  readonly uid: Binary;
  /** Lower-case hex of the digest. */
  readonly hex: string;
  /** The `"user@db"` whose SHA-256 this digest is, once a record with a user was seen. */
  user: string | undefined;
}

const uidsByBytes = new Map<string, UidEntry>();
const uidTable: UidEntry[] = [];

/** A flat one-byte string of the bytes (one character per byte). */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  // String.fromCharCode on an array of small numbers builds a flat string; cheaper than
  // concatenation (cons strings) and than a Buffer view per call.
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

function binaryBytes(b: Binary): Uint8Array {
  return b.buffer.subarray(0, b.position);
}

function internUidBytes(bytes: Uint8Array, subType: number): UidEntry {
  const probe = subType === 0 ? latin1(bytes, 0, bytes.length) : `${subType}:${latin1(bytes, 0, bytes.length)}`;
  let entry = uidsByBytes.get(probe);
  if (entry === undefined) {
    const index = uidTable.length;
    if (index >= 1 << 24) throw new Error("too many distinct lsid uids (2^24)");
    entry = {
      index,
      token: String.fromCharCode(index & 0xff, (index >>> 8) & 0xff, (index >>> 16) & 0xff),
      uid: new Binary(Uint8Array.from(bytes), subType),
      hex: Buffer.from(bytes).toString("hex"),
      user: undefined,
    };
    uidTable.push(entry);
    uidsByBytes.set(probe, entry);
  }
  return entry;
}

/** Entries by `Binary` object, so lsids built from the intern table (or reused) skip the lookup. */
const entryByBinary = new WeakMap<Binary, UidEntry>();
let lastBinary: Binary | undefined;
let lastEntry: UidEntry | undefined;

/**
 * The interned entry of an owner digest: every session of one user shares one `Binary` and one
 * key token, so the cache stores no per-session copy of the 32-byte `uid`.
 */
export function internUid(uid: Binary): UidEntry {
  if (uid === lastBinary && lastEntry !== undefined) return lastEntry;
  let entry = entryByBinary.get(uid);
  if (entry === undefined) {
    entry = internUidBytes(binaryBytes(uid), uid.sub_type);
    entryByBinary.set(uid, entry);
    entryByBinary.set(entry.uid, entry);
  }
  lastBinary = uid;
  lastEntry = entry;
  return entry;
}

/** Remembers that `uid` is the digest of `user` ("user@db"): cache records then carry the name. */
export function noteUidUser(uid: Binary, user: string): void {
  internUid(uid).user = user;
}

/** Length of a parent session key: 16 id bytes plus a 3-character uid token. */
export const PARENT_KEY_LENGTH = 19;

/**
 * A fast string key for the *parent* session `{id, uid}` of `lsid` (child fields ignored): 16
 * characters for the id's bytes and 3 for the interned uid. Equal for equal `{id, uid}` in
 * content; only meaningful inside this process.
 *
 * @remarks
 * MongoDB keys `LogicalSessionIdMap` by the whole lsid and the cache by the parent
 * (`LogicalSessionCacheImpl::vivify` looks up `getParentSessionId(lsid)`).
 */
export function parentLsidKey(lsid: { readonly id: Binary; readonly uid: Binary }): string {
  const b = lsid.id.buffer;
  const t = internUid(lsid.uid).token;
  // One flat 19-character string (explicit arguments: the fastest way to build it).
  // prettier-ignore
  return String.fromCharCode(
    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15],
    t.charCodeAt(0), t.charCodeAt(1), t.charCodeAt(2),
  );
}

/** A fast string key for the full lsid, child fields included. */
export function lsidKey(lsid: LogicalSessionId): string {
  const parent = parentLsidKey(lsid);
  if (lsid.txnUUID === undefined && lsid.txnNumber === undefined) return parent;
  const txnUUID = lsid.txnUUID === undefined ? "" : latin1(binaryBytes(lsid.txnUUID), 0, 16);
  return `${parent}|${lsid.txnNumber?.toString() ?? ""}|${txnUUID}`;
}

/** The parent `{id, uid}` behind a parent key. */
export function lsidFromKey(key: string): LogicalSessionId {
  // A pooled Buffer: the UUID keeps it without copying.
  const bytes = Buffer.allocUnsafe(16);
  for (let i = 0; i < 16; i++) bytes[i] = key.charCodeAt(i);
  return { id: new UUID(bytes), uid: uidEntryOfKey(key).uid };
}

/**
 * {@link lsidFromKey}, frozen: a frozen document of bson values is immutable, so documents that
 * store it (the refresh's upserts, `config.system.sessions`) share it instead of copying it.
 */
export function frozenLsidFromKey(key: string): LogicalSessionId {
  return Object.freeze(lsidFromKey(key));
}

/** The interned uid entry of a parent key. */
export function uidEntryOfKey(key: string): UidEntry {
  const index = key.charCodeAt(16) | (key.charCodeAt(17) << 8) | (key.charCodeAt(18) << 16);
  return uidTable[index];
}

/** The uid token of a digest (the last three characters of its sessions' keys). */
export function uidToken(uid: Binary): string {
  return internUid(uid).token;
}

/** Hex of a uid, from the intern table (no per-call encoding). */
export function uidHex(uid: Binary): string {
  return internUid(uid).hex;
}

// ---- child sessions ----------------------------------------------------------------------------

/** True for an internal (child) session: it has a `txnUUID` (`isChildSession`). */
export function isChildSession(lsid: LogicalSessionId): boolean {
  return lsid.txnUUID !== undefined;
}

/** The parent `{id, uid}` of a child session, or the lsid itself (`castToParentSessionId`). */
export function castToParentSessionId(lsid: LogicalSessionId): LogicalSessionId {
  return lsid.txnUUID === undefined && lsid.txnNumber === undefined ? lsid : { id: lsid.id, uid: lsid.uid };
}

/**
 * MongoDB's string form of an lsid in messages (`operator<<` in `logical_session_id.h`):
 * `<uuid> - <base64 uid> - <txnNumber> - <txnUUID>`.
 */
export function formatLsid(lsid: LogicalSessionId): string {
  return (
    `${lsid.id.toHexString(true)} - ${Buffer.from(binaryBytes(lsid.uid)).toString("base64")} - ` +
    `${lsid.txnNumber?.toString() ?? ""} - ${lsid.txnUUID?.toHexString(true) ?? ""}`
  );
}

// ---- parsing ----------------------------------------------------------------------------------

/** MongoDB's `typeName(BinDataType)` (`src/mongo/bson/bsontypes.cpp`). */
function binDataTypeName(subType: number): string {
  switch (subType) {
    case 0:
      return "general";
    case 1:
      return "function";
    case 2:
      return "byte(deprecated)";
    case 3:
      return "UUID(deprecated)";
    case 4:
      return "UUID";
    case 5:
      return "MD5";
    case 6:
      return "encrypt";
    case 7:
      return "column";
    case 8:
      return "sensitive";
    case 9:
      return "vector";
    case 128:
      return "Custom";
    default:
      return "invalid";
  }
}

function wrongBinDataType(path: string, got: number, expected: number): ServerError {
  return new ServerError(
    ErrorCodes.TypeMismatch,
    `BSON field '${path}' is the wrong binData type '${binDataTypeName(got)}', expected type '${binDataTypeName(expected)}'`,
  );
}

/** IDL `uuid`: BinData subtype 4 of 16 bytes. */
export function parseUuidField(v: unknown, path: string): UUID {
  if (!(v instanceof Binary)) throw wrongType(path, v, "binData");
  if (v.sub_type !== Binary.SUBTYPE_UUID) throw wrongBinDataType(path, v.sub_type, Binary.SUBTYPE_UUID);
  if (v.position !== 16)
    throw new ServerError(ErrorCodes.InvalidUUID, "uuid must be a 16-byte binary field with UUID (4) subtype");
  return v instanceof UUID ? v : new UUID(binaryBytes(v));
}

/** IDL `sha256Block`: BinData subtype 0 of 32 bytes (`SHA256Block::fromBinData`). */
export function parseSha256Field(v: unknown, path: string): Binary {
  if (!(v instanceof Binary)) throw wrongType(path, v, "binData");
  if (v.sub_type !== Binary.SUBTYPE_DEFAULT) throw wrongBinDataType(path, v.sub_type, Binary.SUBTYPE_DEFAULT);
  if (v.position !== 32)
    throw new ServerError(ErrorCodes.UnsupportedFormat, `Unsupported SHA256Block hash length: ${v.position}`);
  return internUid(v).uid;
}

/** IDL `TxnNumber` (a long; integral numbers of the other numeric types are accepted too). */
export function parseTxnNumberField(v: unknown, path: string): Long {
  if (v instanceof Long) return v;
  const t = bsonTypeOf(v);
  if ((t === "int" || t === "double") && Number.isInteger(Number(v))) return Long.fromNumber(Number(v));
  throw wrongType(path, v, "long");
}

const FROM_CLIENT_FIELDS = ["id", "uid", "txnNumber", "txnUUID"] as const;

/**
 * Parses an lsid sent by a client (IDL `LogicalSessionFromClient`, strict), with the server's
 * parse errors: not an object → TypeMismatch (14) naming `elementPath`; `id` missing (or null)
 * → 40414; an unknown field → 40415; a field of the wrong type → TypeMismatch, all naming
 * `structPath.<field>`.
 *
 * @param elementPath where the lsid sits, e.g. `OperationSessionInfo.lsid` or `endSessions.endSessions.0`
 * @param structPath the parser context of its fields, e.g. `OperationSessionInfo.lsid` or
 *   `endSessions.endSessionsFromClient` (the server's own, odd, path for array elements)
 *
 * @example
 * ```ts
 * parseLogicalSessionFromClient({ id: new UUID() }, "OperationSessionInfo.lsid", "OperationSessionInfo.lsid");
 * ```
 */
export function parseLogicalSessionFromClient(
  v: unknown,
  elementPath: string,
  structPath: string = elementPath,
): LogicalSessionFromClient {
  if (!isDocument(v)) throw wrongType(elementPath, v, "object");
  for (const f of Object.keys(v)) {
    if (!(FROM_CLIENT_FIELDS as readonly string[]).includes(f) && v[f] !== undefined)
      throw unknownField(`${structPath}.${f}`);
  }
  // IDL treats a null like an absent field here (the server answers "is missing" for `id: null`).
  const present = (f: string): boolean => v[f] !== undefined && v[f] !== null;
  if (!present("id")) throw missingField(`${structPath}.id`);
  const id = parseUuidField(v.id, `${structPath}.id`);
  const uid = present("uid") ? parseSha256Field(v.uid, `${structPath}.uid`) : undefined;
  const txnNumber = present("txnNumber") ? parseTxnNumberField(v.txnNumber, `${structPath}.txnNumber`) : undefined;
  const txnUUID = present("txnUUID") ? parseUuidField(v.txnUUID, `${structPath}.txnUUID`) : undefined;
  return {
    id,
    ...(uid !== undefined ? { uid } : {}),
    ...(txnNumber !== undefined ? { txnNumber } : {}),
    ...(txnUUID !== undefined ? { txnUUID } : {}),
  };
}

/**
 * Parses the array argument of `refreshSessions` / `endSessions` (IDL
 * `array<LogicalSessionFromClient>`, strict command).
 *
 * @remarks
 * Paths as the server reports them: not an array → "BSON field 'endSessions.endSessions' is the
 * wrong type ..."; a bad element field → "BSON field 'endSessions.endSessionsFromClient.id' ...".
 */
export function parseLogicalSessionsFromClient(commandName: string, v: unknown): LogicalSessionFromClient[] {
  const path = `${commandName}.${commandName}`;
  if (!Array.isArray(v)) throw wrongType(path, v, "array");
  const out = new Array<LogicalSessionFromClient>(v.length);
  for (let i = 0; i < v.length; i++)
    out[i] = parseLogicalSessionFromClient(v[i], `${path}.${i}`, `${commandName}.${commandName}FromClient`);
  return out;
}

// ---- resolving the uid ----------------------------------------------------------------------

/**
 * The server's lsid for a client's: `id` (and child fields) as sent, `uid` computed from the
 * authenticated user, or the client's own `uid` if it may set one.
 *
 * @remarks
 * `makeLogicalSessionId(fromClient, opCtx, allowSpoof)` in `logical_session_id_helpers.cpp`:
 * `txnNumber` without `txnUUID` → InvalidOptions "Cannot specify txnNumber in lsid without
 * specifying txnUUID"; a client `uid` needs one of `allowSpoof` (killSessions passes
 * `killAnySession`), `impersonate` on the cluster, or to equal the caller's own digest, else
 * Unauthorized "Unauthorized to set user digest in LogicalSessionId" (always allowed with access
 * control off); no `uid` → `getLogicalSessionUserDigestForLoggedInUser` (SHA-256 of "" with
 * access control off; Unauthorized "Logical sessions require authentication" when nobody is
 * authenticated; BadValue for display names of 10000 bytes or more).
 *
 * @example
 * ```ts
 * const lsid = makeLogicalSessionId({ id }, op.authz); // { id, uid: SHA-256("alice@test") }
 * ```
 */
export function makeLogicalSessionId(
  fromClient: LogicalSessionFromClient,
  authz: AuthorizationSession,
  allowSpoof: readonly Privilege[] = [],
): LogicalSessionId {
  if (fromClient.txnNumber !== undefined && fromClient.txnUUID === undefined)
    throw new ServerError(ErrorCodes.InvalidOptions, "Cannot specify txnNumber in lsid without specifying txnUUID");
  let uid: Binary;
  if (fromClient.uid !== undefined) {
    checkCanSetUserDigest(authz, fromClient.uid, allowSpoof);
    uid = internUid(fromClient.uid).uid;
  } else {
    uid = internUid(authz.digest()).uid;
  }
  return {
    id: fromClient.id,
    uid,
    ...(fromClient.txnNumber !== undefined ? { txnNumber: fromClient.txnNumber } : {}),
    ...(fromClient.txnUUID !== undefined ? { txnUUID: fromClient.txnUUID } : {}),
  };
}

/** {@link makeLogicalSessionId} for every element (`makeLogicalSessionIds`), duplicates removed. */
export function makeLogicalSessionIds(
  list: readonly LogicalSessionFromClient[],
  authz: AuthorizationSession,
  allowSpoof: readonly Privilege[] = [],
): LogicalSessionId[] {
  const seen = new Set<string>();
  const out: LogicalSessionId[] = [];
  for (const fromClient of list) {
    const lsid = makeLogicalSessionId(fromClient, authz, allowSpoof);
    const key = lsidKey(lsid);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(lsid);
  }
  return out;
}
