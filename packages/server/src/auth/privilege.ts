import { ErrorCodes, ServerError } from "../errors/index.js";
import { type ActionType, allActionTypes, isActionType } from "./action-types.js";
import {
  type ResourcePattern,
  compareResourcePatterns,
  normalizeResourcePattern,
  parseResourcePattern,
  resourcePatternKey,
  resourceSearchList,
} from "./resource-pattern.js";

/**
 * A privilege: actions allowed on a resource, in the shape of MongoDB's privilege documents
 * (`{resource: {db: "test", collection: ""}, actions: ["find"]}`).
 *
 * @remarks
 * `Privilege` in `src/mongo/db/auth/privilege.h`. When describing what a command *needs*, every
 * action listed is required.
 */
export interface Privilege {
  readonly resource: ResourcePattern;
  readonly actions: readonly ActionType[];
}

/** Builds a frozen privilege. */
export function privilege(resource: ResourcePattern, ...actions: ActionType[]): Privilege {
  return Object.freeze({
    resource: normalizeResourcePattern(resource),
    actions: Object.freeze([...actions]),
  });
}

const actionOrder: ReadonlyMap<ActionType, number> = new Map(allActionTypes.map((a, i) => [a, i]));

/**
 * Actions granted per resource pattern, merged the way `Privilege::addPrivilegeToPrivilegeVector`
 * merges them (same pattern → union of actions).
 *
 * @remarks
 * Authorization follows `AuthorizationSessionImpl::isAuthorizedForPrivilege`: the required
 * actions are removed for every pattern in the target's search list (see `resourceSearchList`),
 * and the check passes once none remain, so actions may be covered by different patterns.
 */
export class PrivilegeSet {
  private readonly byPattern = new Map<string, { resource: ResourcePattern; actions: Set<ActionType> }>();

  /** Adds one privilege. */
  add(p: Privilege): void {
    const key = resourcePatternKey(p.resource);
    let entry = this.byPattern.get(key);
    if (entry === undefined) {
      entry = { resource: normalizeResourcePattern(p.resource), actions: new Set() };
      this.byPattern.set(key, entry);
    }
    for (const a of p.actions) entry.actions.add(a);
  }

  /** Adds privileges. */
  addAll(ps: Iterable<Privilege>): void {
    for (const p of ps) this.add(p);
  }

  /** Whether every action in `actions` is granted on `target`. */
  isAuthorized(target: ResourcePattern, actions: readonly ActionType[]): boolean {
    const unmet = new Set(actions);
    if (unmet.size === 0) return true;
    for (const pattern of resourceSearchList(target)) {
      const granted = this.byPattern.get(resourcePatternKey(pattern));
      if (granted === undefined) continue;
      for (const a of granted.actions) unmet.delete(a);
      if (unmet.size === 0) return true;
    }
    return false;
  }

  /** Whether every privilege in `privileges` is granted. */
  isAuthorizedForPrivileges(privileges: readonly Privilege[]): boolean {
    return privileges.every((p) => this.isAuthorized(p.resource, p.actions));
  }

  /** The merged privileges, sorted by resource, actions in `action_type.idl` order. */
  toArray(): Privilege[] {
    return [...this.byPattern.values()]
      .sort((a, b) => compareResourcePatterns(a.resource, b.resource))
      .map((e) =>
        privilege(e.resource, ...[...e.actions].sort((x, y) => (actionOrder.get(x) ?? 0) - (actionOrder.get(y) ?? 0))),
      );
  }
}

/**
 * Parses privilege documents as given to `createRole`/`grantPrivilegesToRole`.
 *
 * @throws ServerError `BadValue` for a malformed resource or an unknown action (the simulator's
 * own wording; the server reports such input from its IDL parser).
 */
export function parsePrivileges(value: unknown): Privilege[] {
  if (!Array.isArray(value)) {
    throw new ServerError(ErrorCodes.BadValue, "privileges must be an array");
  }
  return value.map((item: unknown) => {
    const doc = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    const resource = parseResourcePattern(doc["resource"]);
    if (resource === undefined) {
      throw new ServerError(ErrorCodes.BadValue, "Invalid privilege resource");
    }
    const actions = doc["actions"];
    if (!Array.isArray(actions)) {
      throw new ServerError(ErrorCodes.BadValue, "Privilege actions must be an array");
    }
    for (const a of actions) {
      if (!isActionType(a)) {
        throw new ServerError(ErrorCodes.BadValue, `Unrecognized action privilege string: ${String(a)}`);
      }
    }
    return privilege(resource, ...(actions as ActionType[]));
  });
}
