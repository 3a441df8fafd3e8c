import type { Kernel } from "./kernel.js";
import type { NetworkConfig } from "./network.js";
import type { Millis } from "./time.js";
import type { FailPointMode } from "./failpoints.js";
import type { TraceBase } from "./trace.js";

/** One timed fault. `at` is virtual ms after the schedule is applied. */
export type FaultAction =
  | { readonly at: Millis; readonly kind: "crash"; readonly node: string }
  | { readonly at: Millis; readonly kind: "restart"; readonly node: string }
  | {
      readonly at: Millis;
      readonly kind: "partition";
      readonly a: readonly string[];
      readonly b: readonly string[];
      readonly oneWay?: boolean;
    }
  | { readonly at: Millis; readonly kind: "heal" }
  | { readonly at: Millis; readonly kind: "network"; readonly config: Partial<NetworkConfig> }
  | {
      readonly at: Millis;
      readonly kind: "clock";
      readonly node: string;
      readonly offsetMs: number;
      readonly driftPpm?: number;
    }
  | {
      readonly at: Millis;
      readonly kind: "failpoint";
      readonly node: string;
      readonly name: string;
      readonly mode: FailPointMode;
      readonly data?: Record<string, unknown>;
    };

/** A list of timed faults to apply to a run. */
export type FaultSchedule = readonly FaultAction[];

/** What applying a fault needs; restart is async in the public API, so callers may wrap it. */
export interface FaultTarget {
  crash(node: string): void;
  restart(node: string): void;
  partition(a: readonly string[], b: readonly string[], oneWay: boolean): void;
  heal(): void;
  configureNetwork(config: Partial<NetworkConfig>): void;
  setClock(node: string, offsetMs: number, driftPpm: number): void;
  configureFailPoint(node: string, name: string, mode: FailPointMode, data: Record<string, unknown>): void;
}

export function applyFault(target: FaultTarget, f: FaultAction): void {
  switch (f.kind) {
    case "crash":
      return target.crash(f.node);
    case "restart":
      return target.restart(f.node);
    case "partition":
      return target.partition(f.a, f.b, f.oneWay ?? false);
    case "heal":
      return target.heal();
    case "network":
      return target.configureNetwork(f.config);
    case "clock":
      return target.setClock(f.node, f.offsetMs, f.driftPpm ?? 0);
    case "failpoint":
      return target.configureFailPoint(f.node, f.name, f.mode, f.data ?? {});
  }
}

/** Schedules every action of `schedule` on the kernel, relative to now. */
export function scheduleFaults<E extends TraceBase>(
  kernel: Kernel<E>,
  target: FaultTarget,
  schedule: FaultSchedule,
): void {
  for (const action of schedule) kernel.schedule(action.at, () => applyFault(target, action));
}
