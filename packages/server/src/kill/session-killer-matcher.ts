import { Binary } from "bson";
import { type RoleName, type UserDirectory, type UserDocument, roleKey, userDigest } from "../auth/index.js";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { Document } from "../idl/bson-types.js";
import { parentLsidKey, uidHex } from "../session/index.js";
import { type KillAllSessionsByPattern, KillSessionsPatternSemantics, killPatternSet } from "./kill-pattern.js";

/** An lsid as operations, cursors and sessions carry it: `{id, uid, ...}` with BinData values. */
function lsidParts(lsid: Document): { id: Binary; uid: Binary } | undefined {
  const { id, uid } = lsid;
  return id instanceof Binary && uid instanceof Binary ? { id, uid } : undefined;
}

/**
 * Decides which sessions a set of kill patterns selects: MongoDB's `SessionKiller::Matcher`.
 *
 * @remarks
 * `src/mongo/db/session/session_killer.cpp`: patterns are indexed by `uid` if they have one (an
 * `lsid` in the same pattern is then ignored), else by `lsid`; the first pattern with neither is a
 * kill-all, and the matcher keeps only that one (`getPatterns()` returns just it, which is what
 * mongos forwards to the shards). `match` converts a child lsid to its parent
 * (`castToParentSessionId`), then looks the lsid up, then the uid; any matching pattern selects the
 * session.
 *
 * With {@link KillSessionsPatternSemantics} `manual`, a pattern with neither `uid` nor `lsid` but
 * a non-empty `users` list selects sessions owned by one of those users, and a non-empty `roles`
 * list selects sessions whose owner (resolved through the cluster's users) holds one of those roles
 * (both lists given: both must hold). A pattern with no criterion at all is still a kill-all.
 *
 * @example
 * ```ts
 * const m = new SessionKillerMatcher([{ uid: userDigest("alice", "test") }]);
 * m.matches(op.lsid); // true for every session of alice@test, children included
 * ```
 */
export class SessionKillerMatcher {
  /** The patterns the matcher acts on (just the kill-all one, if there is one). */
  readonly patterns: readonly KillAllSessionsByPattern[];
  private readonly killAll: KillAllSessionsByPattern | undefined;
  private readonly byLsid = new Map<string, KillAllSessionsByPattern>();
  private readonly byUid = new Map<string, KillAllSessionsByPattern>();
  /** Manual reading only: patterns filtering by owner. */
  private readonly byOwner: KillAllSessionsByPattern[] = [];
  private ownersByUid: Map<string, UserDocument> | undefined;

  /**
   * @param patterns the kill patterns (duplicates are dropped as a `KillAllSessionsByPatternSet` does)
   * @param semantics how `users`/`roles` are read
   * @param users the cluster's users, to resolve session owners (manual reading with `roles`)
   */
  constructor(
    patterns: readonly KillAllSessionsByPattern[],
    readonly semantics: KillSessionsPatternSemantics = KillSessionsPatternSemantics.code,
    private readonly users?: UserDirectory,
  ) {
    const set = killPatternSet(patterns, semantics);
    let killAll: KillAllSessionsByPattern | undefined;
    for (const p of set) {
      if (p.uid !== undefined) {
        const key = uidHex(p.uid);
        if (!this.byUid.has(key)) this.byUid.set(key, p);
      } else if (p.lsid !== undefined) {
        const key = parentLsidKey(p.lsid);
        if (!this.byLsid.has(key)) this.byLsid.set(key, p);
      } else if (semantics === KillSessionsPatternSemantics.manual && hasOwnerCriterion(p)) {
        this.byOwner.push(p);
      } else {
        // "If we're killing everything, it's the only pattern we care about."
        killAll = p;
        break;
      }
    }
    this.killAll = killAll;
    this.patterns = killAll === undefined ? set : [killAll];
  }

  /** Whether the matcher selects every session. */
  get isKillAll(): boolean {
    return this.killAll !== undefined;
  }

  /** The pattern that selects `lsid`, if any (`Matcher::match`). */
  match(lsid: Document | undefined): KillAllSessionsByPattern | undefined {
    if (lsid === undefined) return undefined;
    if (this.killAll !== undefined) return this.killAll;
    const parts = lsidParts(lsid);
    if (parts === undefined) return undefined;
    // Child and parent sessions are logically related: match on the parent (id, uid).
    const byLsid = this.byLsid.get(parentLsidKey(parts));
    if (byLsid !== undefined) return byLsid;
    const byUid = this.byUid.get(uidHex(parts.uid));
    if (byUid !== undefined) return byUid;
    for (const p of this.byOwner) if (this.ownerMatches(p, parts.uid)) return p;
    return undefined;
  }

  /** Whether `lsid` is selected. */
  matches(lsid: Document | undefined): boolean {
    return this.match(lsid) !== undefined;
  }

  /**
   * Applies the impersonation data of the pattern that selected a session, as the server does
   * before killing anything of it.
   *
   * @remarks
   * `ScopedKillAllSessionsByPatternImpersonator` (`kill_sessions_common.h`) is active only when the
   * pattern has both `users` and `roles`; it then calls `getKillAllSessionsByPatternImpersonateData`
   * (`kill_sessions.cpp`), which refuses more than one user: BadValue "Too many users in
   * impersonation data". So that error surfaces only when such a pattern selects something.
   * Under the manual's reading `users` is a list of owners and nothing is impersonated.
   */
  impersonate(pattern: KillAllSessionsByPattern): void {
    if (this.semantics !== KillSessionsPatternSemantics.code) return;
    if (pattern.users === undefined || pattern.roles === undefined) return;
    if (pattern.users.length > 1) throw new ServerError(ErrorCodes.BadValue, "Too many users in impersonation data");
  }

  private ownerMatches(p: KillAllSessionsByPattern, uid: Binary): boolean {
    const hex = uidHex(uid);
    if (p.users !== undefined && p.users.length > 0) {
      if (!p.users.some((u) => uidHex(userDigest(u.user, u.db)) === hex)) return false;
    }
    if (p.roles !== undefined && p.roles.length > 0) {
      const owner = this.ownerOf(hex);
      if (owner === undefined || this.users === undefined) return false;
      const held = this.rolesOf(owner);
      if (!p.roles.some((r) => held.has(roleKey(r)))) return false;
    }
    return true;
  }

  /** Every role `user` holds, directly or inherited (none if one of them no longer exists). */
  private rolesOf(user: UserDocument): Set<string> {
    try {
      return new Set((this.users?.resolveRoles(user.roles).roles ?? []).map((r: RoleName) => roleKey(r)));
    } catch {
      return new Set();
    }
  }

  /** The user whose digest is `uidHexKey` (the session record's `user`), if it exists. */
  private ownerOf(uidHexKey: string): UserDocument | undefined {
    if (this.users === undefined) return undefined;
    if (this.ownersByUid === undefined) {
      this.ownersByUid = new Map();
      for (const u of this.users.listUsers()) this.ownersByUid.set(uidHex(userDigest(u.user, u.db)), u);
    }
    return this.ownersByUid.get(uidHexKey);
  }
}

function hasOwnerCriterion(p: KillAllSessionsByPattern): boolean {
  return (p.users !== undefined && p.users.length > 0) || (p.roles !== undefined && p.roles.length > 0);
}
