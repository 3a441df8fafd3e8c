import type { Binary } from "bson";
import { ErrorCodes, ServerError } from "../errors/index.js";
import type { ActionType } from "./action-types.js";
import { assertUserNameUsableForLogicalSessions, kNoAuthDigest, userDigest } from "./digest.js";
import { type RoleName, type UserName, sameUser, userDisplayName } from "./names.js";
import type { Privilege, PrivilegeSet } from "./privilege.js";
import type { ResourcePattern } from "./resource-pattern.js";
import type { UserDirectory } from "./user-directory.js";

/** MongoDB's `AuthenticationFailed` (18), missing from the shared error-code table. */
const AuthenticationFailed = 18;

/**
 * The cluster-internal user (`__system@local`, authenticated with the keyfile), whose only role is
 * `__system@admin`. It is not stored in `admin.system.users`.
 *
 * @remarks
 * `internalSecurity.user` in the server. mongos talks to shards as this user, which is why shards
 * accept the `users`/`roles` impersonation data in `killAllSessionsByPattern`.
 */
export const kInternalUser: UserName = Object.freeze({ user: "__system", db: "local" });

const internalUserRoles: readonly RoleName[] = Object.freeze([Object.freeze({ role: "__system", db: "admin" })]);

interface Resolution {
  readonly version: number;
  readonly direct: readonly RoleName[];
  readonly roles: readonly RoleName[];
  readonly privileges: PrivilegeSet;
}

/**
 * The authorization state of one client connection: who is authenticated (at most one user) and
 * what they may do.
 *
 * @remarks
 * `AuthorizationSession` (`src/mongo/db/auth/authorization_session_impl.cpp`). When access control
 * is off every check passes (`shouldIgnoreAuthChecks`). Privileges are resolved from the
 * {@link UserDirectory} and re-resolved after any change to it; if the authenticated user is
 * dropped, the connection is no longer authenticated (the server removes deleted users from the
 * session on its next user refresh).
 *
 * @example
 * ```ts
 * const session = new AuthorizationSession(dir, true, { user: "alice", db: "test" });
 * session.isAuthorized({ db: "test", collection: "x" }, "insert");
 * session.digest(); // SHA-256("alice@test"), the uid of alice's sessions
 * ```
 */
export class AuthorizationSession {
  /** Whether the deployment enforces access control. */
  readonly authEnabled: boolean;
  private readonly directory: UserDirectory;
  private authenticatedUser: UserName | undefined;
  private cache: Resolution | undefined;

  /**
   * @param directory the cluster's users and roles
   * @param authEnabled whether access control is enforced
   * @param user the user this connection authenticated as, if any
   * @throws ServerError `AuthenticationFailed` (18) if `user` does not exist
   */
  constructor(directory: UserDirectory, authEnabled: boolean, user?: UserName) {
    this.directory = directory;
    this.authEnabled = authEnabled;
    if (user !== undefined) this.authenticate(user);
  }

  /**
   * Authenticates the connection as `user`, replacing any previous user (a connection holds at
   * most one).
   *
   * @throws ServerError `AuthenticationFailed` (18) "Authentication failed." if the user does not
   * exist.
   */
  authenticate(user: UserName): void {
    if (!sameUser(user, kInternalUser) && !this.directory.hasUser(user.user, user.db)) {
      throw new ServerError(AuthenticationFailed, "Authentication failed.");
    }
    this.authenticatedUser = Object.freeze({ user: user.user, db: user.db });
    this.cache = undefined;
  }

  /** Forgets the authenticated user (`logout`). */
  logout(): void {
    this.authenticatedUser = undefined;
    this.cache = undefined;
  }

  /** The authenticated user, if any. */
  get user(): UserName | undefined {
    const u = this.authenticatedUser;
    if (u !== undefined && !sameUser(u, kInternalUser) && !this.directory.hasUser(u.user, u.db)) {
      this.logout();
      return undefined;
    }
    return u;
  }

  /** Whether a user is authenticated on this connection. */
  get isAuthenticated(): boolean {
    return this.user !== undefined;
  }

  /** `"user@db"` of the authenticated user, if any. */
  get userName(): string | undefined {
    const u = this.user;
    return u === undefined ? undefined : userDisplayName(u);
  }

  /**
   * The `uid` of sessions this connection creates or names without an explicit `uid`.
   *
   * @remarks
   * `getLogicalSessionUserDigestForLoggedInUser` (`logical_session_id_helpers.cpp`): access control
   * off → `kNoAuthDigest`, even for an authenticated connection; on, with nobody authenticated →
   * `Unauthorized` "Logical sessions require authentication"; a display name of 10000 bytes or more
   * → `BadValue` "Username too long to use with logical sessions"; else SHA-256 of `"user@db"`.
   */
  digest(): Binary {
    if (!this.authEnabled) return kNoAuthDigest;
    const u = this.user;
    if (u === undefined) {
      throw new ServerError(ErrorCodes.Unauthorized, "Logical sessions require authentication");
    }
    assertUserNameUsableForLogicalSessions(u.user, u.db);
    return userDigest(u.user, u.db);
  }

  /** Whether `action` is allowed on `resource` (always, with access control off). */
  isAuthorized(resource: ResourcePattern, action: ActionType): boolean {
    return this.isAuthorizedForActions(resource, [action]);
  }

  /** Whether every one of `actions` is allowed on `resource`. */
  isAuthorizedForActions(resource: ResourcePattern, actions: readonly ActionType[]): boolean {
    if (!this.authEnabled) return true;
    return this.resolution().privileges.isAuthorized(resource, actions);
  }

  /** Whether every privilege is held (vacuously true for none). */
  isAuthorizedForPrivileges(privileges: readonly Privilege[]): boolean {
    if (!this.authEnabled) return true;
    return this.resolution().privileges.isAuthorizedForPrivileges(privileges);
  }

  /**
   * Whether this connection acts as the owner of a cursor/operation owned by `owner`.
   *
   * @remarks
   * `AuthorizationSessionImpl::isCoauthorizedWith`: true with access control off; true when neither
   * side has a user; otherwise the users must be the same.
   */
  isCoauthorizedWith(owner: UserName | undefined): boolean {
    if (!this.authEnabled) return true;
    const me = this.user;
    if (owner === undefined && me === undefined) return true;
    return sameUser(owner, me);
  }

  /**
   * Every role the authenticated user holds, directly or by inheritance (sorted by db, then
   * name); empty when nobody is authenticated. Built-in roles are leaves of the role graph, so
   * `dbOwner` does not list `readWrite`.
   */
  roles(): RoleName[] {
    return [...this.resolution().roles];
  }

  /** The roles granted to the authenticated user directly, in grant order. */
  directRoles(): RoleName[] {
    return [...this.resolution().direct];
  }

  /** The authenticated user's merged privileges (sorted). */
  privileges(): Privilege[] {
    return this.resolution().privileges.toArray();
  }

  private resolution(): Resolution {
    const u = this.user;
    const version = this.directory.version;
    if (this.cache !== undefined && this.cache.version === version) return this.cache;
    let direct: readonly RoleName[] = [];
    if (u !== undefined) {
      direct = sameUser(u, kInternalUser) ? internalUserRoles : (this.directory.getUser(u.user, u.db)?.roles ?? []);
    }
    const resolved = this.directory.resolveRoles(direct);
    this.cache = { version, direct, roles: resolved.roles, privileges: resolved.privileges };
    return this.cache;
  }
}
