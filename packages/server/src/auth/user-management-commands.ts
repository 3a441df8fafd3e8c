import { ErrorCodes, ServerError } from "../errors/index.js";
import { FieldReader } from "../idl/parse.js";
import { isDocument } from "../idl/bson-types.js";
import { NodeRoles } from "../node/topology.js";
import type { CommandDefinition } from "../commands/command.js";
import type { OperationContext } from "../node/operation-context.js";
import { parsePrivileges } from "./privilege.js";
import { parseRoleRefs, type RoleRef } from "./names.js";
import type { UsersInfoArg } from "./user-directory.js";

const ALL = [NodeRoles.mongos, NodeRoles.configsvr, NodeRoles.shardsvr] as const;

/** The name a user-management command acts on (its first field), a non-empty string. */
function subject(op: OperationContext): string {
  const name = op.command[op.commandName];
  if (typeof name !== "string" || name.length === 0)
    throw new ServerError(ErrorCodes.BadValue, `${op.commandName} must be a non-empty string`);
  return name;
}

/** A `roles` array: role names (on the command's database) or `{role, db}` documents. */
function roleRefs(op: OperationContext): RoleRef[] {
  return parseRoleRefs(new FieldReader(op.command, op.commandName).array("roles"));
}

/**
 * `createUser` (`src/mongo/db/commands/user_management_commands.cpp`): a user on the command's
 * database. Users live in the cluster's one `admin.system.users` (every node reads it); the
 * password is accepted and not modelled (connections are authenticated by `cluster.connect`).
 */
export const createUserCommand: CommandDefinition = {
  name: "createUser",
  on: ALL,
  run: (op, node) => {
    const user = subject(op);
    const customData = new FieldReader(op.command, "createUser").document("customData", "optional");
    node.shared.users.createUser({
      user,
      db: op.db,
      roles: roleRefs(op),
      ...(customData === undefined ? {} : { customData }),
    });
    return {};
  },
};

/** `dropUser`. */
export const dropUserCommand: CommandDefinition = {
  name: "dropUser",
  on: ALL,
  run: (op, node) => {
    node.shared.users.dropUser(subject(op), op.db);
    return {};
  },
};

/** `createRole` with `privileges` (cluster or namespace resources) and inherited `roles`. */
export const createRoleCommand: CommandDefinition = {
  name: "createRole",
  on: ALL,
  run: (op, node) => {
    const role = subject(op);
    const privileges = parsePrivileges(new FieldReader(op.command, "createRole").array("privileges"));
    node.shared.users.createRole({ role, db: op.db, privileges, roles: roleRefs(op) });
    return {};
  },
};

/** `grantRolesToUser`. */
export const grantRolesToUserCommand: CommandDefinition = {
  name: "grantRolesToUser",
  on: ALL,
  run: (op, node) => {
    node.shared.users.grantRolesToUser(subject(op), op.db, roleRefs(op));
    return {};
  },
};

/** `revokeRolesFromUser`. */
export const revokeRolesFromUserCommand: CommandDefinition = {
  name: "revokeRolesFromUser",
  on: ALL,
  run: (op, node) => {
    node.shared.users.revokeRolesFromUser(subject(op), op.db, roleRefs(op));
    return {};
  },
};

/** `grantPrivilegesToRole`. */
export const grantPrivilegesToRoleCommand: CommandDefinition = {
  name: "grantPrivilegesToRole",
  on: ALL,
  run: (op, node) => {
    const privileges = parsePrivileges(new FieldReader(op.command, "grantPrivilegesToRole").array("privileges"));
    node.shared.users.grantPrivilegesToRole(subject(op), op.db, privileges);
    return {};
  },
};

/** `usersInfo`: `1`, a name, `{user, db}`, an array of those or `{forAllDBs: true}`; `showPrivileges`. */
export const usersInfoCommand: CommandDefinition = {
  name: "usersInfo",
  on: ALL,
  run: (op, node) => {
    const showPrivileges = new FieldReader(op.command, "usersInfo").flag("showPrivileges") ?? false;
    return { users: node.shared.users.usersInfo(op.db, parseUsersInfoArg(op.command.usersInfo), { showPrivileges }) };
  },
};

/** A user name argument: a string or `{user, db}` (`auth::parseUserNamesFromBSONArray`). */
function isUserNameArg(v: unknown): boolean {
  return typeof v === "string" || (isDocument(v) && typeof v.user === "string" && typeof v.db === "string");
}

/** Checks a `usersInfo` argument: `1`/`true`, a name, `{user, db}`, an array of names, `{forAllDBs: true}`. */
function parseUsersInfoArg(v: unknown): UsersInfoArg {
  if (v === 1 || v === true) return v;
  if (isDocument(v) && v.forAllDBs === true) return { forAllDBs: true };
  if (isUserNameArg(v) || (Array.isArray(v) && v.every(isUserNameArg))) return v as UsersInfoArg;
  throw new ServerError(ErrorCodes.BadValue, "User and role names must be either strings or objects");
}
