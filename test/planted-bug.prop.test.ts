/**
 * The worked example of docs/guides/property-testing.md: a toy application with a planted bug —
 * its emergency stop assumes that `killAllSessions` aborts every transaction, including prepared
 * ones (it does not: kill_sessions_local.cpp, reference §3.7, checklist 46) — and a property test
 * that finds it and shrinks the failure to a three-step scenario of workload and faults together.
 *
 * This file checks that the toolkit finds the bug (the test passes when the property FAILS with
 * the expected shrunk counterexample).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Long, NetworkError, type Cluster, type Connection, type Document, type TraceEvent } from "sessionsim";
import { formatTimeline } from "@sessionsim/report";
import {
  AdvanceCommand,
  faultCommands,
  SimSystem,
  suiteSeed,
  type ClusterShape,
  type SimCommand,
} from "@sessionsim/testing";

// ---- the application under test ---------------------------------------------------------------

/** A toy inventory service: reservations are cross-shard transactions on the service's sessions. */
class InventoryService {
  private readonly txnNumbers = new Map<string, number>();
  private nextId = 1000;

  constructor(
    private readonly cluster: Cluster,
    private readonly conn: Connection,
    private readonly lsidOf: (session: string) => Document,
  ) {}

  /** Reserves an item: writes a hold on both shards in one transaction and commits it. */
  async reserve(session: string): Promise<Document> {
    const txnNumber = Long.fromNumber(this.bump(session));
    const base = { lsid: this.lsidOf(session), txnNumber, autocommit: false };
    const id = this.nextId++;
    await this.conn.runCommand("test", {
      insert: "items",
      documents: [{ _id: -id, hold: session }],
      startTransaction: true,
      ...base,
    });
    await this.conn.runCommand("test", { insert: "items", documents: [{ _id: id, hold: session }], ...base });
    // The commit may take a while (two-phase commit); the service does not wait for it.
    return { commit: this.conn.send("admin", { commitTransaction: 1, ...base }) };
  }

  /**
   * Emergency stop: kill every session, then write an audit record on each session.
   * PLANTED BUG: it assumes killAllSessions aborted every transaction, so each session is free
   * for a new transaction at once. A prepared transaction survives the kill.
   */
  async emergencyStop(sessions: readonly string[]): Promise<void> {
    await this.conn.runCommand("admin", { killAllSessions: [] });
    for (const session of sessions) {
      if (!this.txnNumbers.has(session)) continue;
      const base = { lsid: this.lsidOf(session), txnNumber: Long.fromNumber(this.bump(session)), autocommit: false };
      const audit = this.conn.send("test", {
        insert: "items",
        documents: [{ _id: this.nextId++, audit: "stop" }],
        startTransaction: true,
        ...base,
      });
      const r = await this.cluster.wait(audit, { maxMs: 5_000 }).catch(() => undefined);
      if (r?.ok !== 1)
        throw new Error(
          `emergencyStop: session ${session} is still busy after killAllSessions (${r === undefined ? "no reply within 5 s" : String(r.codeName)})`,
        );
      await this.conn.runCommand("admin", { abortTransaction: 1, ...base });
    }
  }

  private bump(session: string): number {
    const n = (this.txnNumbers.get(session) ?? 0) + 1;
    this.txnNumbers.set(session, n);
    return n;
  }
}

// ---- the property -----------------------------------------------------------------------------

/** The real side: the toolkit's SimSystem (cluster, invariants, reference model) plus the app. */
interface Real {
  readonly sys: SimSystem;
  readonly app: InventoryService;
}

const SESSIONS = ["s1", "s2"];

/** The service reports an unreachable cluster to its caller; that is not the bug we look for. */
async function unlessUnreachable(f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
  }
}

class Reserve implements fc.AsyncCommand<ClusterShape, Real, boolean> {
  constructor(readonly session: string) {}
  check = (): boolean => true;
  async run(_m: ClusterShape, r: Real): Promise<void> {
    await unlessUnreachable(() => r.app.reserve(this.session));
    await r.sys.cluster.advance(5_000);
    r.sys.sync();
  }
  toString = (): string => `reserve(${this.session})@mongos0`;
}

class EmergencyStop implements fc.AsyncCommand<ClusterShape, Real, boolean> {
  check = (): boolean => true;
  async run(_m: ClusterShape, r: Real): Promise<void> {
    await unlessUnreachable(() => r.app.emergencyStop(SESSIONS));
    r.sys.sync();
  }
  toString = (): string => "emergencyStop()@mongos0";
}

const shape: ClusterShape = { shards: 2, mongos: 1, auth: false };

/** Application commands, the toolkit's fault commands (crashes, partitions, coordinator failpoints, ...) and time. */
const commands = fc.commands(
  [
    fc.constantFrom(...SESSIONS).map((s) => new Reserve(s)),
    fc.constant(new EmergencyStop()),
    fc.constantFrom(10_000, 60_000, 300_000).map((ms) => wrap(new AdvanceCommand(ms))),
    ...faultCommands(shape, "all").map((a) => a.map((c) => wrap(c))),
  ],
  { maxCommands: 25, size: "+1" },
);

/** Runs a toolkit command (which expects a SimSystem) inside this property's `Real`. */
function wrap(c: SimCommand): fc.AsyncCommand<ClusterShape, Real, boolean> {
  return { check: (m) => c.check(m), run: (m, r) => c.run(m, r.sys), toString: () => c.toString() };
}

let lastTrace: readonly TraceEvent[] | undefined;

/** Runs one command sequence on a fresh cluster; returns the cluster's trace. */
async function runInventory(
  cmds: Iterable<fc.AsyncCommand<ClusterShape, Real, boolean>>,
): Promise<readonly TraceEvent[]> {
  const sys = await SimSystem.start({ seed: 7, shards: 2, mongos: 1 });
  const app = new InventoryService(sys.cluster, sys.conn("mongos0", undefined), (s) => sys.lsidOf(s, undefined));
  try {
    await fc.asyncModelRun(() => ({ model: shape, real: { sys, app } }), cmds);
  } finally {
    lastTrace = sys.cluster.trace();
    await sys.stop();
  }
  return lastTrace;
}

const inventoryProperty = fc.asyncProperty(commands, async (cmds) => {
  await runInventory(cmds);
});

void test("the toolkit finds the planted emergency-stop bug and shrinks it to a short scenario", async () => {
  const seed = suiteSeed(42);
  const details = await fc.check(inventoryProperty, { seed, numRuns: 1000 });
  assert.ok(details.failed, "the planted bug was not found");
  console.log(fc.defaultReportMessage(details));
  const scenario = String(details.counterexample?.[0]);
  // The shrunk counterexample: a fault that holds the two-phase commit between prepare and decision
  // (a coordinator failpoint, a partition, a crash), a reservation, and the emergency stop.
  assert.match(scenario, /failpoint\(shard\d, hang|partition|crash/);
  assert.match(scenario, /reserve\(s\d\)@mongos0/);
  assert.match(scenario, /emergencyStop\(\)@mongos0/);
  const steps = scenario.replace(/\s*\/\*.*\*\//, "").split(/,(?![^()]*\))/);
  assert.ok(steps.length <= 5, `not shrunk enough: ${scenario}`);
  assert.match(String(details.errorInstance), /still busy after killAllSessions/);
  // The counterexample's timeline (client traffic, faults and errors), as the guide shows it.
  if (process.env.SESSIONSIM_TIMELINE === "1") {
    let trace: readonly TraceEvent[] = [];
    const cmds = details.counterexample![0];
    await runInventory(cmds).catch((e: unknown) => (trace = (e as { trace?: readonly TraceEvent[] }).trace ?? []));
    for (const line of formatTimeline(lastTrace ?? trace, { internal: false, timers: false })) console.log(line);
  }
});
