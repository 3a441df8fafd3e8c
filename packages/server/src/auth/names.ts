import { ErrorCodes, ServerError } from "../errors/index.js";
/**
 * A user, identified by name and the database it was created on (`UserName` in
 * `src/mongo/db/auth/user_name.h`).
 */
export interface UserName {
  readonly user: string;
  readonly db: string;
}

/** A role, identified by name and database (`RoleName` in `src/mongo/db/auth/role_name.h`). */
export interface RoleName {
  readonly role: string;
  readonly db: string;
}

/**
 * How commands name a role: a bare string means that role on the command's (the user's or role's)
 * database; otherwise `{role, db}`.
 *
 * @remarks
 * `RoleNameOrString::getRoleName(dbname)` via `resolveRoleNames` in
 * `src/mongo/db/commands/user_management_commands_common.cpp`.
 */
export type RoleRef = string | RoleName;

/** `"user@db"`, MongoDB's `UserName::getDisplayName()`. */
export function userDisplayName(u: UserName): string {
  return `${u.user}@${u.db}`;
}

/** `"role@db"`, MongoDB's `RoleName::getDisplayName()`. */
export function roleDisplayName(r: RoleName): string {
  return `${r.role}@${r.db}`;
}

/** Whether two user names are equal. */
export function sameUser(a: UserName | undefined, b: UserName | undefined): boolean {
  return a !== undefined && b !== undefined && a.user === b.user && a.db === b.db;
}

/** Resolves a role reference against `defaultDb`, returning a fresh frozen `{role, db}`. */
export function toRoleName(ref: RoleRef, defaultDb: string): RoleName {
  if (typeof ref === "string") return Object.freeze({ role: ref, db: defaultDb });
  return Object.freeze({ role: ref.role, db: ref.db });
}

/** A collision-free map key for a role. */
export function roleKey(r: RoleName): string {
  return `${r.db}\u0000${r.role}`;
}

/** A collision-free map key for a user. */
export function userKey(u: UserName): string {
  return `${u.db}\u0000${u.user}`;
}

/** Orders names by database, then name, by UTF-16 code units (locale-independent). */
export function compareRoleNames(a: RoleName, b: RoleName): number {
  return compareStrings(a.db, b.db) || compareStrings(a.role, b.role);
}

/** Locale-independent string comparison. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Checks a `roles` argument of the user-management commands: every entry a role name on the
 * command's database or `{role, db}` (BadValue otherwise, as `auth::parseRoleNamesFromBSONArray`).
 */
export function parseRoleRefs(value: readonly unknown[]): RoleRef[] {
  return value.map((r, i) => {
    if (typeof r === "string") return r;
    if (typeof r === "object" && r !== null) {
      const { role, db } = r as { role?: unknown; db?: unknown };
      if (typeof role === "string" && typeof db === "string") return { role, db };
    }
    throw new ServerError(
      ErrorCodes.BadValue,
      `roles.${i}: role must be either a string or an object with "role" and "db" fields`,
    );
  });
}
