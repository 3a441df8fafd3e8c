import type { TraceBase } from "@sessionsim/kernel";

/**
 * Trace events recorded by MongoDB nodes (namespaced `type`s). Invariants, tests and pictures are
 * built from these plus the kernel's message events.
 */
export type ServerTraceEvent =
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
  | (TraceBase & { type: "cursor.open"; cursorId: string; ns: string; lsid?: string })
  | (TraceBase & { type: "cursor.close"; cursorId: string; ns: string; lsid?: string; reason: string });
