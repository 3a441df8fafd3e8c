import { Future, wait, type Task } from "@sessionsim/kernel";
import { isDocument, type Document } from "../idl/bson-types.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import { describeKillPattern, killPatternToBSON } from "./kill-pattern.js";
import { killSessionsKillCursors, killSessionsLocalKillOps } from "./kill-sessions-local.js";
import type { SessionKillerMatcher } from "./session-killer-matcher.js";

/** The port every simulated host listens on, as hosts appear in `failedHosts` and `$currentOp`. */
const PORT = 27017;

/** `host:port` of a node. */
export function hostAndPort(nodeName: string): string {
  return `${nodeName}:${PORT}`;
}

/** What a mongos kill did (the `kill.remote` trace event). */
export interface RemoteKillResult {
  readonly closedCursors: number;
  readonly interruptedOps: number;
  /** Every shard host the kill was sent to, in sending order. */
  readonly hosts: readonly string[];
  /** Hosts that failed or did not answer (`host:port`), in sending order. */
  readonly failedHosts: readonly string[];
}

/**
 * Every member of every shard (`getAllClusterHosts`: the hosts of each shard's connection
 * string). The config server is not a shard here.
 */
function allClusterHosts(node: ServerNode): string[] {
  return node.shared.sharding.shards.flatMap((s) => [...s.members]);
}

/** Fisher–Yates with the node's seeded `killSessions` stream (`std::shuffle` with the killer's URBG). */
function shuffle<T>(node: ServerNode, items: T[]): T[] {
  const rng = node.ctx.random("killSessions");
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * Sends `command` to `admin` on every host, at most `maxConcurrency` at a time, each with its own
 * timeout; returns the hosts that failed (a network error, a timeout, or a reply that is not ok).
 *
 * @remarks `executor::AsyncMulticaster::multicast` as `parallelExec` in `kill_sessions_remote.cpp`
 * uses it: `!result.isOK() || !getStatusFromCommandResult(result.data).isOK()` → failed.
 */
function* multicast(
  node: ServerNode,
  op: OperationContext,
  hosts: readonly string[],
  command: Document,
  maxConcurrency: number,
  timeoutMs: number,
): Task<string[]> {
  const ok = new Array<boolean>(hosts.length).fill(false);
  const done = new Future<void>();
  let next = 0;
  let running = 0;
  let finished = 0;
  const launch = (): void => {
    while (running < maxConcurrency && next < hosts.length) {
      const i = next++;
      running++;
      node.ctx
        .request(
          hosts[i],
          { db: "admin", command, user: op.request.user, internal: true },
          { label: "killAllSessionsByPattern", timeoutMs },
        )
        .onSettle((r) => {
          ok[i] = r.ok && isDocument(r.value) && r.value.ok === 1;
          running--;
          finished++;
          if (finished === hosts.length) done.resolve();
          else launch();
        });
    }
  };
  if (hosts.length === 0) done.resolve();
  else launch();
  // The caller waits interruptibly for the killer's result (`waitForConditionOrInterrupt`).
  yield* wait(op.interruptible(done));
  return hosts.filter((_, i) => !ok[i]).map(hostAndPort);
}

/**
 * Kills the matching sessions from a mongos: its own cursors, then its own operations, then
 * `{killAllSessionsByPattern: [<patterns>]}` to `admin` on every member of every shard (shuffled
 * with the node's seeded stream), at most `KillSessionsMaxConcurrency` at a time, each with
 * `KillSessionsPerHostTimeoutMS`. Returns the hosts that failed; records a `kill.remote` event.
 *
 * @remarks
 * `killSessionsRemote` (`src/mongo/db/session/kill_sessions_remote.cpp`): the patterns sent are the
 * matcher's (`matcher.getPatterns()`: only the kill-all pattern if there is one) with their
 * impersonation data; shards accept it because mongos authenticates as the internal user. The
 * transaction router's state is not touched; each participant aborts its unprepared transaction.
 *
 * @example
 * ```ts
 * const { failedHosts } = yield* killSessionsRemote(node, op, matcher);
 * ```
 */
export function* killSessionsRemote(
  node: ServerNode,
  op: OperationContext,
  matcher: SessionKillerMatcher,
): Task<RemoteKillResult> {
  const closedCursors = killSessionsKillCursors(node, matcher);
  const interruptedOps = killSessionsLocalKillOps(node, op, matcher);
  const command = { killAllSessionsByPattern: matcher.patterns.map(killPatternToBSON) };
  const hosts = shuffle(node, allClusterHosts(node));
  const failedHosts = yield* multicast(
    node,
    op,
    hosts,
    command,
    node.params.KillSessionsMaxConcurrency,
    node.params.KillSessionsPerHostTimeoutMS,
  );
  const result = { closedCursors, interruptedOps, hosts: hosts.map(hostAndPort), failedHosts };
  node.ctx.record({ type: "kill.remote", patterns: matcher.patterns.map(describeKillPattern), ...result });
  return result;
}
