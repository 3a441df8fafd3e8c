import type { TraceBase } from "@sessionsim/kernel";

/**
 * Trace events recorded by MongoDB nodes (namespaced `type`s). Invariants, tests and pictures are
 * built from these plus the kernel's message events.
 */
export type ServerTraceEvent =
  | KillTraceEvent
  | (TraceBase & {
      type: "cmd.reply";
      opId: number;
      command: string;
      db: string;
      client: string;
      ok: boolean;
      codeName?: string;
      errmsg?: string;
    })
  | (TraceBase & { type: "node.bug"; opId: number; command: string; error: string })
  | (TraceBase & { type: "op.interrupt"; opId: number; command: string; codeName: string })
  | (TraceBase & { type: "param.set"; name: string; value: unknown })
  | (TraceBase & { type: "node.recover"; detail: Record<string, unknown> })
  /** A mongod's replica-set member state changed (`repl/`: stepdown, step-up). */
  | (TraceBase & { type: "repl.state"; from: string; to: string; reason: string })
  | (TraceBase & { type: "cursor.open"; cursorId: string; ns: string; lsid?: string })
  | (TraceBase & { type: "cursor.close"; cursorId: string; ns: string; lsid?: string; reason: string })
  | SessionTraceEvent
  | TwoPhaseCommitTraceEvent
  | TransactionStateTraceEvent;

/**
 * A transaction participant's state change on a mongod (`transactions/participant`): `lsid` is
 * the session UUID, `txnNumber` the session's active number after the change, `from`/`to` the
 * participant states ("None", "InProgress", "Prepared", "Committed", "AbortedWithoutPrepare",
 * "AbortedWithPrepare", "ExecutedRetryableWrite"), `reason` what caused it.
 */
export type TransactionStateTraceEvent = TraceBase & {
  type: "txn.state";
  lsid: string;
  txnNumber: number;
  from: string;
  to: string;
  reason?: string;
};

/**
 * Logical-session events: `id` is the session UUID (hex with dashes), `uid` the owner digest in hex.
 * `session.vivify` is recorded only when a session is new in the node's cache.
 */
export type SessionTraceEvent =
  | (TraceBase & { type: "session.start"; id: string; uid: string; user?: string })
  | (TraceBase & { type: "session.vivify"; id: string; uid: string })
  | (TraceBase & { type: "session.end"; id: string; uid: string })
  | (TraceBase & { type: "refresh.start" })
  | (TraceBase & {
      type: "refresh.end";
      ok: boolean;
      refreshed: number;
      ended: number;
      failed: number;
      cursorsClosed: number;
      codeName?: string;
      error?: string;
    })
  | (TraceBase & {
      type: "reap.end";
      ok: boolean;
      reaped: number;
      reapedFromMemory?: number;
      skipped?: string;
      codeName?: string;
      error?: string;
    })
  | (TraceBase & { type: "ttl.expire"; ns: string; ids: unknown[] })
  | (TraceBase & { type: "sessionsCollection.create"; ns: string; shard: string });

/**
 * Kill-sessions events. `patterns` summarises the matcher's patterns (`all`, `lsid:<uuid>`,
 * `uid:<hex>`, with `users=[..]` / `roles=[..]`). `kill.local` is a mongod's kill: its counts say
 * what it did, and `skippedPrepared` how many matching sessions kept their prepared transaction.
 * `kill.remote` is a mongos kill: its own cursors and operations, then the shard hosts it sent
 * `killAllSessionsByPattern` to and those that failed (`host:port`).
 */
export type KillTraceEvent =
  | (TraceBase & {
      type: "kill.local";
      patterns: string[];
      abortedTransactions: number;
      interruptedOps: number;
      closedCursors: number;
      skippedPrepared: number;
    })
  | (TraceBase & {
      type: "kill.remote";
      patterns: string[];
      closedCursors: number;
      interruptedOps: number;
      hosts: readonly string[];
      failedHosts: readonly string[];
    });

/**
 * Two-phase commit events. `lsid` is the session UUID, `txnNumber` the transaction number.
 * `coord.*` are a shard's coordinator (`coord.step` at each step and each new worker action,
 * `coord.failpoint` when a hang failpoint stops it, `coord.decision` once the decision is
 * durable); `txn.router` is mongos's commit, abort or implicit abort with the shards it contacts.
 */
export type TwoPhaseCommitTraceEvent =
  | (TraceBase & { type: "coord.create"; lsid: string; txnNumber: number; recovered: boolean })
  | (TraceBase & { type: "coord.step"; lsid: string; txnNumber: number; step: string; action?: string })
  | (TraceBase & { type: "coord.failpoint"; lsid: string; txnNumber: number; failpoint: string })
  | (TraceBase & {
      type: "coord.decision";
      lsid: string;
      txnNumber: number;
      decision: "commit" | "abort";
      commitTimestamp?: string;
      codeName?: string;
    })
  | (TraceBase & { type: "coord.end"; lsid: string; txnNumber: number; ok: boolean; codeName?: string })
  | (TraceBase & {
      type: "txn.router";
      lsid: string;
      txnNumber: number;
      action: "commit" | "abort" | "implicitAbort";
      commitType?: string;
      shards: string[];
    });
