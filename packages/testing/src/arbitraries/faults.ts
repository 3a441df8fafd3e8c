import fc from "fast-check";
import type { FaultAction, FaultSchedule } from "sessionsim";
import { COORDINATOR_FAILPOINTS } from "../model/commands.js";

/**
 * The kinds of fault a schedule may contain.
 *
 * @example
 * faultSchedule({ nodes: cluster.nodes(), kinds: ["crash", "partition"] satisfies FaultKind[] });
 */
export type FaultKind =
  "crash" | "partition" | "oneWayPartition" | "network" | "clock" | "coordinatorFailpoint" | "refreshFailure";

/**
 * Every fault kind.
 *
 * @example
 * faultSchedule({ nodes: cluster.nodes(), kinds: FAULT_KINDS.filter((k) => k !== "clock") });
 */
export const FAULT_KINDS: readonly FaultKind[] = [
  "crash",
  "partition",
  "oneWayPartition",
  "network",
  "clock",
  "coordinatorFailpoint",
  "refreshFailure",
];

/**
 * Options of {@link faultSchedule}.
 *
 * @example
 * const o: FaultScheduleOptions = { nodes: cluster.nodes(), horizonMs: 600_000, maxFaults: 3 };
 * fc.sample(faultSchedule(o), 1);
 */
export interface FaultScheduleOptions {
  /** Every server node name (`cluster.nodes()`). */
  readonly nodes: readonly string[];
  /** Shard primaries (coordinators, sessions-collection chunks); default: names starting with "shard". */
  readonly shards?: readonly string[];
  /** Faults happen in [0, horizonMs) after the schedule is applied (default 1 hour). */
  readonly horizonMs?: number;
  readonly kinds?: readonly FaultKind[];
  readonly maxFaults?: number;
  /** End with everything healed: crashed nodes restarted, partitions healed, network clean, failpoints off (default true). */
  readonly healAtEnd?: boolean;
}

/**
 * A timed fault schedule for `cluster.applyFaults`: crashes with restarts, symmetric and one-way
 * partitions with heals, drop/duplicate/delay/reorder rates, clock offsets, the coordinator's
 * failpoints and refresh write failures (`failCommand` on `update`/`delete` of
 * `config.system.sessions` with `failInternalCommands`). Each fault is undone after a while, so
 * liveness can be checked after the horizon.
 *
 * @example
 * fc.assert(fc.asyncProperty(faultSchedule({ nodes: cluster.nodes() }), async (schedule) => {
 *   cluster.applyFaults(schedule);
 *   await cluster.advance(3_600_000);
 * }));
 */
export function faultSchedule(options: FaultScheduleOptions): fc.Arbitrary<FaultSchedule> {
  const horizon = options.horizonMs ?? 3_600_000;
  const kinds = options.kinds ?? FAULT_KINDS;
  const shards = options.shards ?? options.nodes.filter((n) => n.startsWith("shard"));
  const node = fc.constantFrom(...options.nodes);
  const at = fc.integer({ min: 0, max: horizon - 1 });
  const length = fc.integer({ min: 1_000, max: Math.max(1_000, Math.floor(horizon / 4)) });
  const one: fc.Arbitrary<FaultAction[]>[] = [];
  if (kinds.includes("crash"))
    one.push(
      fc.tuple(node, at, length).map(([n, t, d]) => [
        { at: t, kind: "crash", node: n },
        { at: t + d, kind: "restart", node: n },
      ]),
    );
  if (kinds.includes("partition") && options.nodes.length > 1)
    one.push(
      fc
        .tuple(fc.subarray([...options.nodes], { minLength: 1, maxLength: options.nodes.length - 1 }), at, length)
        .map(([a, t, d]) => [
          { at: t, kind: "partition", a, b: options.nodes.filter((x) => !a.includes(x)) },
          { at: t + d, kind: "heal" },
        ]),
    );
  if (kinds.includes("oneWayPartition") && options.nodes.length > 1)
    one.push(
      fc
        .tuple(node, node, at, length)
        .filter(([a, b]) => a !== b)
        .map(([a, b, t, d]) => [
          { at: t, kind: "partition", a: [a], b: [b], oneWay: true },
          { at: t + d, kind: "heal" },
        ]),
    );
  if (kinds.includes("network"))
    one.push(
      fc
        .tuple(
          fc.constantFrom(0, 0.01, 0.1),
          fc.constantFrom(0, 0.01, 0.1),
          fc.constantFrom(0, 0.1, 0.5),
          fc.constantFrom(0, 5, 100),
          at,
          length,
        )
        .map(([drop, dup, reorder, delay, t, d]) => [
          {
            at: t,
            kind: "network",
            config: {
              dropRate: drop,
              duplicateRate: dup,
              reorderRate: reorder,
              reorderDelayMs: Math.max(1, delay),
              ...(delay > 0 ? { latency: { kind: "exponential" as const, minMs: 0.2, meanMs: delay } } : {}),
            },
          },
          {
            at: t + d,
            kind: "network",
            config: {
              dropRate: 0,
              duplicateRate: 0,
              reorderRate: 0,
              latency: { kind: "uniform", minMs: 0.2, maxMs: 2 },
            },
          },
        ]),
    );
  if (kinds.includes("clock"))
    one.push(
      fc
        .tuple(node, fc.integer({ min: -120_000, max: 120_000 }), fc.integer({ min: -100, max: 100 }), at)
        .map(([n, o, p, t]) => [{ at: t, kind: "clock", node: n, offsetMs: o, driftPpm: p }]),
    );
  if (kinds.includes("coordinatorFailpoint") && shards.length > 0)
    one.push(
      fc
        .tuple(fc.constantFrom(...shards), fc.constantFrom(...COORDINATOR_FAILPOINTS), at, length)
        .map(([n, name, t, d]) => [
          { at: t, kind: "failpoint", node: n, name, mode: "alwaysOn" },
          { at: t + d, kind: "failpoint", node: n, name, mode: "off" },
        ]),
    );
  if (kinds.includes("refreshFailure") && shards.length > 0)
    one.push(
      fc
        .tuple(fc.constantFrom(...shards), fc.constantFrom(1, 5, 50), fc.constantFrom(6, 64, 91), at)
        .map(([n, times, code, t]) => [
          {
            at: t,
            kind: "failpoint",
            node: n,
            name: "failCommand",
            mode: { times },
            data: {
              failCommands: ["update", "delete"],
              failInternalCommands: true,
              namespace: "config.system.sessions",
              errorCode: code,
            },
          },
        ]),
    );
  if (one.length === 0) return fc.constant([]);
  return fc.array(fc.oneof(...one), { maxLength: options.maxFaults ?? 8 }).map((groups) => {
    const actions = groups.flat().sort((a, b) => a.at - b.at);
    if (options.healAtEnd === false) return actions;
    const end: FaultAction[] = [
      { at: horizon, kind: "heal" },
      {
        at: horizon,
        kind: "network",
        config: { dropRate: 0, duplicateRate: 0, reorderRate: 0, latency: { kind: "uniform", minMs: 0.2, maxMs: 2 } },
      },
      ...options.nodes.map((n) => ({ at: horizon, kind: "restart" as const, node: n })),
    ];
    return [...actions, ...end];
  });
}
