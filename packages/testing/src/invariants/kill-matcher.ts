import { Binary, type Document } from "sessionsim";
import type { RequestBody } from "../trace-index.js";
import { keyId, sessionKey, sessionUid, uidHex, uuidHex } from "../util.js";

/**
 * The kill commands.
 *
 * @example
 * const kills = index.requests.filter((r) => KILL_COMMANDS.has(r.name));
 */
export const KILL_COMMANDS: ReadonlySet<string> = new Set([
  "killSessions",
  "killAllSessions",
  "killAllSessionsByPattern",
]);

/**
 * Which sessions a kill command names, as a predicate on session keys (`<id>:<uid>`), following
 * `SessionKiller::Matcher`: an empty list kills all (`killSessions: []` only the caller's sessions
 * when auth is on), a pattern with `uid` matches by uid only, with `lsid` that session, with neither
 * everything.
 *
 * @remarks `kill_sessions_command.cpp`, `kill_all_sessions_command.cpp`,
 * `kill_all_sessions_by_pattern_command.cpp`, `session_killer.cpp` (reference §3.4–3.6).
 * @example
 * const m = killMatcher({ db: "admin", command: { killAllSessions: [] } }, false);
 * m("…:…"); // true
 */
export function killMatcher(
  body: RequestBody,
  auth: boolean,
  semantics: "code" | "manual" = "code",
): (key: string) => boolean {
  const cmd = body.command;
  const name = Object.keys(cmd)[0];
  const arg = cmd[name];
  const list = Array.isArray(arg) ? (arg as unknown[]) : [];
  const callerUid = uidHex(sessionUid(auth, body.user));
  const all = (): boolean => true;
  const none = (): boolean => false;
  const byUid =
    (uids: Set<string>) =>
    (key: string): boolean =>
      uids.has(key.slice(key.indexOf(":") + 1));
  const byKey =
    (keys: Set<string>) =>
    (key: string): boolean =>
      keys.has(key);
  if (name === "killSessions") {
    if (list.length === 0) {
      if (!auth) return all;
      if (body.user === undefined) return none;
      return byUid(new Set([callerUid]));
    }
    const keys = new Set<string>();
    for (const l of list) {
      const d = l as Document;
      const id = uuidHex(d?.id);
      if (id === undefined) continue;
      keys.add(sessionKey(id, d.uid instanceof Binary ? uidHex(d.uid) : callerUid));
    }
    return byKey(keys);
  }
  if (name === "killAllSessions") {
    if (list.length === 0) return all;
    const uids = new Set<string>();
    for (const l of list) {
      const d = l as Document;
      if (typeof d?.user === "string" && typeof d?.db === "string")
        uids.add(uidHex(sessionUid(true, { user: d.user, db: d.db })));
    }
    return byUid(uids);
  }
  if (name === "killAllSessionsByPattern") {
    if (list.length === 0) return all;
    const uids = new Set<string>();
    const keys = new Set<string>();
    for (const l of list) {
      const d = l as Document;
      if (d?.uid instanceof Binary) uids.add(uidHex(d.uid));
      else if (d?.lsid !== undefined && d.lsid !== null && typeof d.lsid === "object") {
        const lsid = d.lsid as Document;
        const id = uuidHex(lsid.id);
        if (id !== undefined && lsid.uid instanceof Binary) keys.add(sessionKey(id, uidHex(lsid.uid)));
      } else if (semantics === "manual" && (Array.isArray(d?.users) || Array.isArray(d?.roles))) {
        // The manual's reading: `users` name the owners; `roles` cannot be judged from the trace
        // (match nothing rather than guess).
        for (const u of Array.isArray(d.users) ? (d.users as Document[]) : [])
          if (typeof u?.user === "string" && typeof u?.db === "string")
            uids.add(uidHex(sessionUid(true, { user: u.user, db: u.db })));
      } else return all;
    }
    return (key) => uids.has(key.slice(key.indexOf(":") + 1)) || keys.has(key);
  }
  return none;
}

/**
 * A predicate on session ids only (for events that name a session by its UUID).
 *
 * @internal Not exported from the package.
 */
export function killMatcherById(
  body: RequestBody,
  auth: boolean,
  uidsOfId: (id: string) => readonly string[],
  semantics: "code" | "manual" = "code",
): (id: string) => boolean {
  const m = killMatcher(body, auth, semantics);
  return (id) => {
    const uids = uidsOfId(id);
    if (uids.length === 0) return m(sessionKey(id, uidHex(sessionUid(false, undefined))));
    return uids.every((u) => m(sessionKey(id, u)));
  };
}

export { keyId };
