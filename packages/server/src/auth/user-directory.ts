import { ErrorCodes, ServerError } from "../errors/index.js";
import { builtinRolePrivileges, isBuiltinRole } from "./builtin-roles.js";
import {
  type RoleName,
  type RoleRef,
  type UserName,
  compareRoleNames,
  compareStrings,
  roleDisplayName,
  roleKey,
  toRoleName,
  userDisplayName,
  userKey,
} from "./names.js";
import { type Privilege, PrivilegeSet, parsePrivileges } from "./privilege.js";
import { matchTypeOf } from "./resource-pattern.js";

/** MongoDB's `InvalidRoleModification` (49), missing from the shared error-code table. */
const InvalidRoleModification = 49;
/** Assertion id used by `createUser` for an existing user. */
const UserAlreadyExists = 51003;
/** Assertion id used by `createRole` for an existing role. */
const RoleAlreadyExists = 51002;

/** The mechanisms `createUser` records when none are given (SCRAM-SHA-1 and SCRAM-SHA-256). */
const defaultMechanisms: readonly string[] = Object.freeze(["SCRAM-SHA-1", "SCRAM-SHA-256"]);

/** A user document as stored in `admin.system.users` (credentials are not modelled). */
export interface UserDocument {
  /** `"<db>.<user>"`, the `_id` MongoDB gives user documents. */
  readonly _id: string;
  readonly user: string;
  readonly db: string;
  /** Directly granted roles. */
  readonly roles: readonly RoleName[];
  readonly customData?: Readonly<Record<string, unknown>>;
  readonly mechanisms: readonly string[];
}

/** A user-defined role as stored in `admin.system.roles`. */
export interface RoleDocument {
  /** `"<db>.<role>"`. */
  readonly _id: string;
  readonly role: string;
  readonly db: string;
  readonly privileges: readonly Privilege[];
  /** Directly inherited roles. */
  readonly roles: readonly RoleName[];
}

/** Arguments of {@link UserDirectory.createUser}, as in the `createUser` command. */
export interface CreateUserSpec {
  readonly user: string;
  readonly db: string;
  /** Strings name roles on `db`. */
  readonly roles: readonly RoleRef[];
  readonly customData?: Readonly<Record<string, unknown>>;
  readonly mechanisms?: readonly string[];
}

/** Arguments of {@link UserDirectory.createRole}, as in the `createRole` command. */
export interface CreateRoleSpec {
  readonly role: string;
  readonly db: string;
  /** Privilege documents (validated: known actions, well-formed resources). */
  readonly privileges: readonly Privilege[];
  /** Strings name roles on `db`. */
  readonly roles: readonly RoleRef[];
}

/** The closure of a set of roles over inheritance. */
export interface ResolvedRoles {
  /** Every role reached (the given ones and all they inherit), sorted by db then name. */
  readonly roles: readonly RoleName[];
  /** The union of their privileges. */
  readonly privileges: PrivilegeSet;
}

/**
 * The `usersInfo` argument: `1` for every user of the command's database, a user name (on the
 * command's database), `{user, db}`, an array of those, or `{forAllDBs: true}`.
 */
export type UsersInfoArg = 1 | true | string | UserName | { readonly forAllDBs: true } | readonly (string | UserName)[];

/** One entry of a `usersInfo` reply. */
export interface UsersInfoEntry {
  readonly _id: string;
  readonly user: string;
  readonly db: string;
  readonly customData?: Readonly<Record<string, unknown>>;
  readonly roles: readonly RoleName[];
  readonly mechanisms: readonly string[];
  /** With `showPrivileges`: every role held, directly or by inheritance. */
  readonly inheritedRoles?: readonly RoleName[];
  /** With `showPrivileges`: the union of those roles' privileges. */
  readonly inheritedPrivileges?: readonly Privilege[];
}

function freezeRoles(roles: readonly RoleName[]): readonly RoleName[] {
  const seen = new Set<string>();
  const out: RoleName[] = [];
  for (const r of roles) {
    const k = roleKey(r);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(Object.freeze({ role: r.role, db: r.db }));
    }
  }
  return Object.freeze(out);
}

function userNotFound(u: UserName): ServerError {
  return new ServerError(ErrorCodes.UserNotFound, `User '${userDisplayName(u)}' not found`);
}

function roleNotFound(r: RoleName): ServerError {
  return new ServerError(ErrorCodes.RoleNotFound, `Could not find role: ${roleDisplayName(r)}`);
}

/**
 * The cluster's users and user-defined roles (`admin.system.users`, `admin.system.roles`), plus the
 * role graph that resolves inheritance.
 *
 * @remarks
 * Models the user-management commands of `src/mongo/db/commands/user_management_commands.cpp`
 * and the role graph of `src/mongo/db/auth/role_graph.cpp`: built-in roles are leaves holding all
 * their privileges; user-defined roles may inherit built-in and user-defined roles. Every
 * mutation bumps {@link UserDirectory.version}, so cached resolutions can be invalidated (the
 * server's user cache invalidation). Listing order is deterministic: by database, then name.
 *
 * @example
 * ```ts
 * const dir = new UserDirectory();
 * dir.createUser({ user: "alice", db: "test", roles: ["readWrite"] });
 * dir.resolveRoles(dir.getUser("alice", "test")!.roles).privileges.isAuthorized(
 *   { db: "test", collection: "x" }, ["insert"]); // true
 * ```
 */
export class UserDirectory {
  private readonly users = new Map<string, UserDocument>();
  private readonly customRoles = new Map<string, RoleDocument>();
  private _version = 0;

  /** Increases on every change to users or roles. */
  get version(): number {
    return this._version;
  }

  /**
   * Adds a user (`createUser`).
   *
   * @throws `BadValue` "Cannot create users in the local database"; `RoleNotFound` for an unknown
   * role; 51003 `User "<user>@<db>" already exists`.
   */
  createUser(spec: CreateUserSpec): UserDocument {
    const name: UserName = { user: spec.user, db: spec.db };
    if (spec.db === "local") {
      throw new ServerError(ErrorCodes.BadValue, "Cannot create users in the local database");
    }
    if (this.users.has(userKey(name))) {
      throw new ServerError(UserAlreadyExists, `User "${userDisplayName(name)}" already exists`);
    }
    const roles = freezeRoles(spec.roles.map((r) => toRoleName(r, spec.db)));
    for (const r of roles) this.assertRoleExists(r);
    const doc: UserDocument = Object.freeze({
      _id: `${spec.db}.${spec.user}`,
      user: spec.user,
      db: spec.db,
      roles,
      ...(spec.customData !== undefined ? { customData: spec.customData } : {}),
      mechanisms: Object.freeze([...(spec.mechanisms ?? defaultMechanisms)]),
    });
    this.users.set(userKey(name), doc);
    this._version++;
    return doc;
  }

  /**
   * Removes a user (`dropUser`).
   *
   * @throws `UserNotFound`.
   */
  dropUser(user: string, db: string): void {
    const name = { user, db };
    if (!this.users.delete(userKey(name))) throw userNotFound(name);
    this._version++;
  }

  /** The stored user document, or `undefined`. */
  getUser(user: string, db: string): UserDocument | undefined {
    return this.users.get(userKey({ user, db }));
  }

  /** Whether the user exists. */
  hasUser(user: string, db: string): boolean {
    return this.users.has(userKey({ user, db }));
  }

  /** Every user, sorted by database then name. */
  listUsers(): UserDocument[] {
    return [...this.users.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, doc]) => doc);
  }

  /**
   * Adds roles to a user (`grantRolesToUser`); strings name roles on the user's database.
   *
   * @throws `UserNotFound`, `RoleNotFound`.
   */
  grantRolesToUser(user: string, db: string, roles: readonly RoleRef[]): UserDocument {
    const doc = this.requireUser(user, db);
    const added = roles.map((r) => toRoleName(r, db));
    for (const r of added) this.assertRoleExists(r);
    return this.replaceUser(doc, freezeRoles([...doc.roles, ...added]));
  }

  /**
   * Removes roles from a user (`revokeRolesFromUser`); strings name roles on the user's database.
   *
   * @throws `UserNotFound`, `RoleNotFound`.
   */
  revokeRolesFromUser(user: string, db: string, roles: readonly RoleRef[]): UserDocument {
    const doc = this.requireUser(user, db);
    const removed = roles.map((r) => toRoleName(r, db));
    for (const r of removed) this.assertRoleExists(r);
    const drop = new Set(removed.map(roleKey));
    return this.replaceUser(doc, freezeRoles(doc.roles.filter((r) => !drop.has(roleKey(r)))));
  }

  /**
   * Adds a user-defined role (`createRole`).
   *
   * @remarks
   * Checks as the server does: not on `local`; not a built-in role's name; inherited roles exist
   * and, unless the role is on `admin`, are on the same database; privileges of a non-`admin`
   * role target only its own database (`checkOkayToGrantPrivilegesToRole`).
   *
   * @throws `BadValue`, `RoleNotFound`, `InvalidRoleModification` (49), 51002
   * `Role "<role>@<db>" already exists`.
   */
  createRole(spec: CreateRoleSpec): RoleDocument {
    const name: RoleName = { role: spec.role, db: spec.db };
    if (spec.db === "local") {
      throw new ServerError(ErrorCodes.BadValue, "Cannot create roles in the local database");
    }
    if (isBuiltinRole(name)) {
      throw new ServerError(ErrorCodes.BadValue, "Cannot create roles with the same name as a built-in role");
    }
    if (this.customRoles.has(roleKey(name))) {
      throw new ServerError(RoleAlreadyExists, `Role "${roleDisplayName(name)}" already exists`);
    }
    const roles = freezeRoles(spec.roles.map((r) => toRoleName(r, spec.db)));
    for (const r of roles) this.assertRoleExists(r);
    this.assertCanInherit(name, roles);
    const privileges = parsePrivileges(spec.privileges);
    this.assertCanHoldPrivileges(name, privileges);
    const doc: RoleDocument = Object.freeze({
      _id: `${spec.db}.${spec.role}`,
      role: spec.role,
      db: spec.db,
      privileges: mergePrivileges(privileges),
      roles,
    });
    this.customRoles.set(roleKey(name), doc);
    this._version++;
    return doc;
  }

  /**
   * Removes a user-defined role (`dropRole`), and removes it from every user and role that held it.
   *
   * @throws `InvalidRoleModification` (49) for a built-in role, `RoleNotFound`.
   */
  dropRole(role: string, db: string): void {
    const name = { role, db };
    this.assertNotBuiltin(name);
    const key = roleKey(name);
    if (!this.customRoles.delete(key)) throw roleNotFound(name);
    for (const [k, u] of this.users) {
      if (u.roles.some((r) => roleKey(r) === key)) {
        this.users.set(k, Object.freeze({ ...u, roles: freezeRoles(u.roles.filter((r) => roleKey(r) !== key)) }));
      }
    }
    for (const [k, r] of this.customRoles) {
      if (r.roles.some((x) => roleKey(x) === key)) {
        this.customRoles.set(k, Object.freeze({ ...r, roles: freezeRoles(r.roles.filter((x) => roleKey(x) !== key)) }));
      }
    }
    this._version++;
  }

  /** The stored user-defined role, or `undefined` (also for built-in roles). */
  getRole(role: string, db: string): RoleDocument | undefined {
    return this.customRoles.get(roleKey({ role, db }));
  }

  /** Whether `role@db` is a built-in or user-defined role. */
  roleExists(role: RoleName): boolean {
    return isBuiltinRole(role) || this.customRoles.has(roleKey(role));
  }

  /** Every user-defined role, sorted by database then name. */
  listRoles(): RoleDocument[] {
    return [...this.customRoles.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, doc]) => doc);
  }

  /**
   * Adds privileges to a user-defined role (`grantPrivilegesToRole`).
   *
   * @throws `InvalidRoleModification` (49) for a built-in role or a privilege outside a non-`admin`
   * role's database, `RoleNotFound`.
   */
  grantPrivilegesToRole(role: string, db: string, privileges: readonly Privilege[]): RoleDocument {
    const name = { role, db };
    this.assertNotBuiltin(name);
    const doc = this.customRoles.get(roleKey(name));
    if (doc === undefined) throw roleNotFound(name);
    const parsed = parsePrivileges(privileges);
    this.assertCanHoldPrivileges(name, parsed);
    const updated: RoleDocument = Object.freeze({
      ...doc,
      privileges: mergePrivileges([...doc.privileges, ...parsed]),
    });
    this.customRoles.set(roleKey(name), updated);
    this._version++;
    return updated;
  }

  /**
   * Resolves roles over inheritance.
   *
   * @throws `RoleNotFound` "Could not find role: <role>@<db>" for a role that does not exist.
   */
  resolveRoles(roots: readonly RoleName[]): ResolvedRoles {
    // Every operation of an authenticated user resolves the user's (frozen) role list: resolve it
    // once per directory version.
    const cached = Object.isFrozen(roots) ? this.#resolutions.get(roots) : undefined;
    if (cached !== undefined && cached.version === this._version) return cached.resolved;
    const resolved = this.#resolve(roots);
    if (Object.isFrozen(roots)) this.#resolutions.set(roots, { version: this._version, resolved });
    return resolved;
  }

  readonly #resolutions = new WeakMap<readonly RoleName[], { version: number; resolved: ResolvedRoles }>();

  #resolve(roots: readonly RoleName[]): ResolvedRoles {
    const seen = new Map<string, RoleName>();
    const privileges = new PrivilegeSet();
    const stack = [...roots];
    while (stack.length > 0) {
      const r = stack.pop() as RoleName;
      const key = roleKey(r);
      if (seen.has(key)) continue;
      seen.set(key, Object.freeze({ role: r.role, db: r.db }));
      const builtin = builtinRolePrivileges(r);
      if (builtin !== undefined) {
        privileges.addAll(builtin);
        continue;
      }
      const doc = this.customRoles.get(key);
      if (doc === undefined) throw roleNotFound(r);
      privileges.addAll(doc.privileges);
      stack.push(...doc.roles);
    }
    return { roles: Object.freeze([...seen.values()].sort(compareRoleNames)), privileges };
  }

  /**
   * The `users` array of a `usersInfo` reply run on `db`; unknown users are left out.
   *
   * @remarks
   * `usersInfo` in `user_management_commands.cpp`; credentials are not modelled, and `userId` is
   * omitted (it would need a random UUID).
   */
  usersInfo(db: string, arg: UsersInfoArg, options: { readonly showPrivileges?: boolean } = {}): UsersInfoEntry[] {
    let selected: UserDocument[];
    if (arg === 1 || arg === true) {
      selected = this.listUsers().filter((u) => u.db === db);
    } else if (typeof arg === "object" && !Array.isArray(arg) && "forAllDBs" in arg) {
      selected = this.listUsers();
    } else {
      const names = (Array.isArray(arg) ? arg : [arg]) as readonly (string | UserName)[];
      const keys = new Set(names.map((n) => userKey(typeof n === "string" ? { user: n, db } : n)));
      selected = this.listUsers().filter((u) => keys.has(userKey(u)));
    }
    return selected.map((u) => {
      const base = {
        _id: u._id,
        user: u.user,
        db: u.db,
        ...(u.customData !== undefined ? { customData: u.customData } : {}),
        roles: u.roles,
        mechanisms: u.mechanisms,
      };
      if (options.showPrivileges !== true) return base;
      const resolved = this.resolveRoles(u.roles);
      return {
        ...base,
        inheritedRoles: resolved.roles,
        inheritedPrivileges: resolved.privileges.toArray(),
      };
    });
  }

  private requireUser(user: string, db: string): UserDocument {
    const doc = this.users.get(userKey({ user, db }));
    if (doc === undefined) throw userNotFound({ user, db });
    return doc;
  }

  private replaceUser(doc: UserDocument, roles: readonly RoleName[]): UserDocument {
    const updated: UserDocument = Object.freeze({ ...doc, roles });
    this.users.set(userKey(doc), updated);
    this._version++;
    return updated;
  }

  private assertRoleExists(r: RoleName): void {
    if (!this.roleExists(r)) throw roleNotFound(r);
  }

  private assertNotBuiltin(r: RoleName): void {
    if (isBuiltinRole(r)) {
      throw new ServerError(InvalidRoleModification, `${roleDisplayName(r)} is a built-in role and cannot be modified`);
    }
  }

  /** `checkOkayToGrantRolesToRole`: a non-admin role inherits only roles of its own database. */
  private assertCanInherit(role: RoleName, roles: readonly RoleName[]): void {
    for (const r of roles) {
      if (roleKey(r) === roleKey(role)) {
        throw new ServerError(InvalidRoleModification, `Cannot grant role ${roleDisplayName(role)} to itself.`);
      }
      if (role.db !== "admin" && r.db !== role.db) {
        throw new ServerError(
          InvalidRoleModification,
          `Roles on the '${role.db}' database cannot be granted roles from other databases`,
        );
      }
    }
  }

  /** `checkOkayToGrantPrivilegesToRole`: a non-admin role holds only privileges on its own db. */
  private assertCanHoldPrivileges(role: RoleName, privileges: readonly Privilege[]): void {
    if (role.db === "admin") return;
    for (const p of privileges) {
      const t = matchTypeOf(p.resource);
      const ok = (t === "database" || t === "exact_namespace") && (p.resource as { db: string }).db === role.db;
      if (!ok) {
        throw new ServerError(
          InvalidRoleModification,
          `Roles on the '${role.db}' database cannot be granted privileges that target other ` +
            "databases or the cluster",
        );
      }
    }
  }
}

function mergePrivileges(privileges: readonly Privilege[]): readonly Privilege[] {
  const set = new PrivilegeSet();
  set.addAll(privileges);
  return Object.freeze(set.toArray());
}
