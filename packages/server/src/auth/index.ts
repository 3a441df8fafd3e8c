/**
 * Access control: users, roles and privileges as MongoDB models them, the per-connection
 * authorization state, each command's requirements, and the user digest that owns logical
 * sessions.
 *
 * @packageDocumentation
 */
export * from "./action-types.js";
export * from "./authorization-session.js";
export * from "./builtin-roles.js";
export * from "./command-privileges.js";
export * from "./command-summary.js";
export * from "./digest.js";
export * from "./names.js";
export * from "./privilege.js";
export * from "./resource-pattern.js";
export * from "./user-directory.js";
