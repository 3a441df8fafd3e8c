import type { TraceEvent } from "sessionsim";
import { KILL_COMMANDS } from "./invariants/kill-matcher.js";
import { txnTransition } from "./invariants/safety.js";
import { field, TraceIndex, type TxnState } from "./trace-index.js";
import { uuidHex } from "./util.js";

/**
 * The role of the node a probe fired on.
 *
 * @example
 * const role: ProbeRole = "shard";
 */
export type ProbeRole = "mongos" | "shard" | "config";
/**
 * A session's state on a node: never seen, used since the last refresh, ended (pending refresh), refreshed.
 *
 * @example
 * const state: ProbeSessionState = "ending"; // endSessions received, refresh pending
 */
export type ProbeSessionState = "new" | "active" | "ending" | "refreshed";
/**
 * The session's transaction state on the node (participant states; `retryable` = executed retryable write).
 *
 * @example
 * const txn: ProbeTxnState = "prepared";
 */
export type ProbeTxnState = "none" | "inProgress" | "prepared" | "committed" | "aborted" | "retryable";
/**
 * Whether a kill command was in progress on the node.
 *
 * @example
 * const kill: ProbeKill = "kill-pending";
 */
export type ProbeKill = "kill-pending" | "no-kill";

/**
 * One reached combination: `role/session/txn/kill`, e.g. `shard/active/prepared/kill-pending`.
 *
 * @example
 * const key: CoverageKey = "shard/active/prepared/kill-pending";
 * coverage.counts.get(key);
 */
export type CoverageKey = `${ProbeRole}/${ProbeSessionState}/${ProbeTxnState}/${ProbeKill}`;

/**
 * The values of each dimension of a {@link CoverageKey}, in key order (role, session, txn, kill).
 *
 * @example
 * COVERAGE_DIMENSIONS.map((d) => d.name); // ["role", "session", "txn", "kill"]
 */
export const COVERAGE_DIMENSIONS: readonly { readonly name: string; readonly values: readonly string[] }[] =
  Object.freeze([
    { name: "role", values: ["mongos", "shard", "config"] satisfies ProbeRole[] },
    { name: "session", values: ["new", "active", "ending", "refreshed"] satisfies ProbeSessionState[] },
    {
      name: "txn",
      values: ["none", "inProgress", "prepared", "committed", "aborted", "retryable"] satisfies ProbeTxnState[],
    },
    { name: "kill", values: ["kill-pending", "no-kill"] satisfies ProbeKill[] },
  ]);

/**
 * Checks a coverage pattern: four parts `role/session/txn/kill`, each a known value of its
 * dimension or `*`. Throws an Error naming the bad part and the values it may take.
 *
 * @example
 * checkCoveragePattern("shard/*\/prepared/kill-pending"); // fine
 * checkCoveragePattern("bogus/x"); // throws
 */
export function checkCoveragePattern(pattern: string): void {
  const parts = pattern.split("/");
  const shape = COVERAGE_DIMENSIONS.map((d) => d.name).join("/");
  if (parts.length !== COVERAGE_DIMENSIONS.length)
    throw new Error(
      `coverage state ${JSON.stringify(pattern)} must have ${COVERAGE_DIMENSIONS.length} parts ${shape} (each a value or *), e.g. shard/*/prepared/kill-pending`,
    );
  parts.forEach((part, i) => {
    const d = COVERAGE_DIMENSIONS[i];
    if (part !== "*" && !d.values.includes(part))
      throw new Error(
        `coverage state ${JSON.stringify(pattern)}: unknown ${d.name} ${JSON.stringify(part)}; ${d.name} is one of ${d.values.join(", ")} or *`,
      );
  });
}

/**
 * Raised (as `StandardCheckResult.error`) when a suite asked to fail on missing coverage and
 * required states were never reached.
 *
 * @example
 * const r = await checkStandard({ seed: 1, coverage, failOnMissingCoverage: true });
 * if (r.error instanceof MissingCoverageError) console.log(r.error.missing);
 */
export class MissingCoverageError extends Error {
  constructor(readonly missing: readonly string[]) {
    super(`required coverage states never reached: ${missing.join(", ")}`);
    this.name = "MissingCoverageError";
  }
}

const txnProbe = (s: TxnState | undefined): ProbeTxnState => {
  switch (s) {
    case undefined:
    case "none":
      return "none";
    case "inProgress":
    case "prepared":
    case "committed":
      return s;
    case "abortedWithPrepare":
    case "abortedWithoutPrepare":
      return "aborted";
    case "executedRetryableWrite":
      return "retryable";
  }
};

const roleOf = (node: string): ProbeRole | undefined =>
  node.startsWith("mongos")
    ? "mongos"
    : node.startsWith("shard")
      ? "shard"
      : node.startsWith("config")
        ? "config"
        : undefined;

/**
 * Code-probe style coverage (as FoundationDB's): which combinations of node role × session state ×
 * transaction state × kill pending the runs reached. Every session-related event on a node (a
 * session started, used, ended; a transaction state change; a cursor of a session; a kill arriving)
 * is a probe. A suite can `require` combinations (with `*` wildcards) and fail when one is never
 * reached.
 *
 * @example
 * const coverage = new CoverageTracker();
 * coverage.addTrace(cluster.trace(), false);
 * coverage.require("shard/*\/prepared/kill-pending");
 * assert.deepEqual(coverage.missing(), []);
 * console.log(coverage.format());
 */
export class CoverageTracker {
  readonly counts = new Map<CoverageKey, number>();
  private readonly required: string[] = [];
  runs = 0;

  /**
   * Declares combinations that must be reached at least once (`*` matches any part). Throws on a
   * pattern that names no state (wrong number of parts, unknown value: see {@link COVERAGE_DIMENSIONS}).
   */
  require(...patterns: string[]): this {
    for (const p of patterns) checkCoveragePattern(p);
    for (const p of patterns) if (!this.required.includes(p)) this.required.push(p);
    return this;
  }

  /** The required patterns, in the order declared. */
  requirements(): readonly string[] {
    return [...this.required];
  }

  /** Adds one run's probes. */
  addTrace(trace: readonly TraceEvent[], auth: boolean): void {
    this.runs++;
    const index = new TraceIndex({ auth });
    /** node → id → session state. */
    const sessions = new Map<string, Map<string, ProbeSessionState>>();
    /** node → id → txn state. */
    const txns = new Map<string, Map<string, TxnState>>();
    /** node → kill requests delivered and not answered. */
    const kills = new Map<string, number>();
    const sessionState = (node: string, id: string): ProbeSessionState => sessions.get(node)?.get(id) ?? "new";
    const setSession = (node: string, id: string, s: ProbeSessionState): void => {
      let m = sessions.get(node);
      if (m === undefined) sessions.set(node, (m = new Map<string, ProbeSessionState>()));
      m.set(id, s);
    };
    const probe = (node: string, id: string): void => {
      const role = roleOf(node);
      if (role === undefined) return;
      const key: CoverageKey = `${role}/${sessionState(node, id)}/${txnProbe(txns.get(node)?.get(id))}/${(kills.get(node) ?? 0) > 0 ? "kill-pending" : "no-kill"}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    };
    for (const e of trace) {
      const rec = index.add(e);
      const type = e.type as string;
      if (e.type === "net.deliver" && rec !== undefined && !e.label.endsWith(":reply")) {
        if (KILL_COMMANDS.has(rec.name)) {
          kills.set(e.node, (kills.get(e.node) ?? 0) + 1);
          for (const [id] of sessions.get(e.node) ?? []) probe(e.node, id);
        } else if (rec.lsidKey !== undefined) {
          const id = rec.lsidKey.slice(0, 32);
          probe(e.node, id);
        }
        continue;
      }
      if (e.type === "cmd.reply" && rec !== undefined && KILL_COMMANDS.has(rec.name)) {
        kills.set(e.node, Math.max(0, (kills.get(e.node) ?? 0) - 1));
        continue;
      }
      if (e.type === "node.crash") {
        sessions.delete(e.node);
        kills.delete(e.node);
        continue;
      }
      if (type === "session.start" || type === "session.vivify") {
        const id = uuidHex(field(e, "id"));
        if (id === undefined) continue;
        if (sessionState(e.node, id) !== "ending") setSession(e.node, id, "active");
        probe(e.node, id);
      } else if (type === "session.end") {
        const id = uuidHex(field(e, "id"));
        if (id === undefined) continue;
        setSession(e.node, id, "ending");
        probe(e.node, id);
      } else if (type === "refresh.end" && field(e, "ok") === true) {
        const m = sessions.get(e.node);
        if (m !== undefined) for (const [id, s] of m) m.set(id, s === "ending" ? "new" : "refreshed");
      } else if (e.type === "cursor.open" || e.type === "cursor.close") {
        const id = uuidHex(e.lsid);
        if (id !== undefined) probe(e.node, id);
      } else {
        const t = txnTransition(e);
        if (t === undefined) continue;
        let m = txns.get(t.node);
        if (m === undefined) txns.set(t.node, (m = new Map<string, TxnState>()));
        m.set(t.lsidId, t.to);
        probe(t.node, t.lsidId);
      }
    }
  }

  /** Merges another tracker's counts (e.g. from worker threads). */
  merge(other: {
    readonly counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>;
    readonly runs?: number;
  }): void {
    const entries: [string, number][] =
      other.counts instanceof Map
        ? [...(other.counts as ReadonlyMap<string, number>)]
        : Object.entries(other.counts as Readonly<Record<string, number>>);
    for (const [k, n] of entries) this.counts.set(k as CoverageKey, (this.counts.get(k as CoverageKey) ?? 0) + n);
    this.runs += other.runs ?? 0;
  }

  /** Whether any reached combination matches a pattern (`*` for any part). */
  reached(pattern: string): boolean {
    const re = patternRegExp(pattern);
    for (const k of this.counts.keys()) if (re.test(k)) return true;
    return false;
  }

  /** The required patterns never reached. */
  missing(): string[] {
    return this.required.filter((p) => !this.reached(p));
  }

  /** Counts as a plain object (sorted keys), for JSON. */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** A table of reached combinations and the required ones never reached. */
  format(): string {
    const lines = [
      `coverage over ${this.runs} run(s): ${this.counts.size} combinations of role/session/txn/kill reached`,
    ];
    for (const [k, n] of Object.entries(this.toJSON())) lines.push(`  ${k.padEnd(44)} ${n}`);
    const missing = this.missing();
    if (missing.length > 0) lines.push(`never reached (required): ${missing.join(", ")}`);
    return lines.join("\n");
  }
}

function patternRegExp(pattern: string): RegExp {
  const parts = pattern.split("/").map((p) => (p === "*" ? "[^/]+" : p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  return new RegExp(`^${parts.join("/")}$`);
}

/**
 * Combinations worth declaring as required by a suite that exercises kills and prepared transactions.
 *
 * @example
 * new CoverageTracker().require(...INTERESTING_COVERAGE);
 */
export const INTERESTING_COVERAGE: readonly string[] = [
  "mongos/active/none/no-kill",
  "shard/active/inProgress/*",
  "shard/*/prepared/*",
  "shard/*/committed/*",
  "shard/*/aborted/*",
  "*/ending/*/*",
  "*/refreshed/*/*",
  "*/*/*/kill-pending",
];
