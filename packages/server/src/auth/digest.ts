import { createHash } from "node:crypto";
import { Binary } from "bson";
import { ErrorCodes, ServerError } from "../errors/index.js";

/**
 * Longest usable `"user@db"` display name (exclusive bound), in bytes.
 *
 * @remarks
 * `kMaximumUserNameLengthForLogicalSessions` in `src/mongo/db/session/logical_session_id_helpers.h`:
 * a display name of 10000 bytes or more cannot own a logical session ("we enforce a max 10k limit
 * for usernames used with sessions", `sessions_server_parameters.idl`).
 */
export const kMaximumUserNameLengthForLogicalSessions = 10000;

function sha256Binary(text: string): Binary {
  const bytes = createHash("sha256").update(text, "utf8").digest();
  return new Binary(new Uint8Array(bytes), Binary.SUBTYPE_DEFAULT);
}

/**
 * The `uid` of a logical session owned by `user@db`: SHA-256 of the display name `"user@db"`, as a
 * 32-byte BinData subtype 0.
 *
 * @remarks
 * `User::getDigest()` / `computeDigest` in `src/mongo/db/auth/user.cpp` hashes
 * `UserName::getDisplayName()`. Does not check the length limit; see
 * {@link assertUserNameUsableForLogicalSessions}.
 *
 * @example
 * ```ts
 * digestKey(userDigest("alice", "test")); // SHA-256("alice@test") in hex
 * ```
 */
export function userDigest(user: string, db: string): Binary {
  return sha256Binary(`${user}@${db}`);
}

/**
 * The `uid` of every session created while access control is off: SHA-256 of the empty string.
 *
 * @remarks
 * `kNoAuthDigest = SHA256Block::computeHash("", 0)` in `logical_session_id_helpers.cpp`: "a safe hash
 * that will not collide with a username because all full usernames include an '@' character."
 * Shared instance: treat it as immutable (compare with {@link digestEquals} or {@link digestKey}).
 */
export const kNoAuthDigest: Binary = sha256Binary("");

/**
 * The digest `$listSessions`/`$listLocalSessions` use for a `{user, db}` entry.
 *
 * @remarks
 * `getLogicalSessionUserDigestFor(user, db)` in `logical_session_id_helpers.cpp`: `kNoAuthDigest`
 * when both are empty, else SHA-256 of `"user@db"`.
 */
export function getLogicalSessionUserDigestFor(user: string, db: string): Binary {
  return user === "" && db === "" ? kNoAuthDigest : userDigest(user, db);
}

/** The bytes of a BinData value (only the used part of its buffer). */
function binaryBytes(b: Binary): Uint8Array {
  return b.buffer.subarray(0, b.position);
}

/**
 * Lower-case hex of a digest's bytes, for use as a `Map` key.
 *
 * @remarks
 * Two `Binary` objects with the same bytes are different JS objects; MongoDB compares `sha256Block`
 * values by content, so the simulator keys maps by this string.
 */
export function digestKey(b: Binary): string {
  return Buffer.from(binaryBytes(b)).toString("hex");
}

/** Whether two digests hold the same bytes (and BinData subtype). */
export function digestEquals(a: Binary, b: Binary): boolean {
  return a.sub_type === b.sub_type && digestKey(a) === digestKey(b);
}

/**
 * Throws `BadValue` "Username too long to use with logical sessions" when the display name
 * `"user@db"` is 10000 bytes (UTF-8) or longer.
 *
 * @remarks
 * `getLogicalSessionUserDigestForLoggedInUser` in `logical_session_id_helpers.cpp` compares
 * `getDisplayName().length()` (bytes) with `kMaximumUserNameLengthForLogicalSessions`.
 */
export function assertUserNameUsableForLogicalSessions(user: string, db: string): void {
  if (Buffer.byteLength(`${user}@${db}`, "utf8") >= kMaximumUserNameLengthForLogicalSessions) {
    throw new ServerError(ErrorCodes.BadValue, "Username too long to use with logical sessions");
  }
}
