import {
  Kernel,
  scheduleFaults,
  type FailPointMode,
  type FaultSchedule,
  type FaultTarget,
  type NetworkConfig,
} from "@sessionsim/kernel";
import { buildClusterTopology, type ClusterTopology, type Document, type SimTraceEvent } from "@sessionsim/server";
import { Connection, InFlight } from "./connection.js";
import type { ClusterOptions } from "./options.js";

/** A structured trace event (discriminated union on `type`). */
export type TraceEvent = SimTraceEvent;

const DEFAULT_CLIENT_TIMEOUT_MS = 600_000;

/**
 * A simulated MongoDB sharded cluster: a config server, shards and mongos routers on a
 * deterministic discrete-event kernel. Same seed and same calls give the same trace.
 *
 * @example
 * const cluster = await Cluster.start({ seed: 42, shards: 2 });
 * const conn = cluster.connect(cluster.mongos());
 * const { id } = await conn.runCommand("admin", { startSession: 1 });
 * await cluster.advance(300_000); // one refresh interval of virtual time
 * await cluster.stop();
 */
export class Cluster {
  private readonly kernel: Kernel<SimTraceEvent>;
  private readonly topology: ClusterTopology;
  private readonly clientTimeoutMS: number;
  private clients = 0;
  private stopped = false;
  private running = false;

  private constructor(options: ClusterOptions) {
    const membersPerShard = options.membersPerShard ?? 1;
    if (membersPerShard !== 1)
      throw new Error(
        `membersPerShard: ${membersPerShard} is not supported yet: shards are single-member replica sets (secondaries are not modelled)`,
      );
    const semantics = options.killSessionsPatternSemantics ?? "code";
    if (semantics !== "code" && semantics !== "manual")
      throw new Error(`killSessionsPatternSemantics must be "code" or "manual", got ${String(semantics)}`);
    this.kernel = new Kernel<SimTraceEvent>({ seed: options.seed ?? 1, network: options.network });
    this.clientTimeoutMS = options.clientTimeoutMS ?? DEFAULT_CLIENT_TIMEOUT_MS;
    this.topology = buildClusterTopology(this.kernel, {
      shards: options.shards ?? 2,
      mongos: options.mongos ?? 1,
      auth: options.auth ?? false,
      users: options.users ?? [],
      roles: options.roles ?? [],
      parameters: options.parameters ?? {},
      setupSessionsCollection: options.setupSessionsCollection ?? true,
      killSessionsPatternSemantics: semantics,
    });
  }

  /** Starts a cluster and returns once it is ready (see ClusterOptions for defaults). */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const cluster = new Cluster(options);
    await cluster.topology.ready(cluster.kernel);
    return cluster;
  }

  // ---- nodes ----------------------------------------------------------------------------------

  /** Node name of mongos `i`. */
  mongos(i = 0): string {
    return this.pick(this.topology.mongos, i, "mongos");
  }

  /** Node name of the primary of shard `i`. */
  shard(i = 0): string {
    return this.pick(this.topology.shards, i, "shard").members[0];
  }

  /** Node name of the config server primary. */
  config(): string {
    return this.topology.config;
  }

  /** Every server node's name (clients excluded). */
  nodes(): string[] {
    return [this.topology.config, ...this.topology.shards.map((s) => s.members[0]), ...this.topology.mongos];
  }

  /** The shard's id as `config.shards` and transaction participants name it. */
  shardName(i = 0): string {
    return this.pick(this.topology.shards, i, "shard")._id;
  }

  // ---- connections and commands -------------------------------------------------------------

  /** Opens a connection to `node`, authenticated as `user` if given. */
  connect(node: string, user?: { readonly user: string; readonly db: string }): Connection {
    this.checkUsable();
    if (!this.nodes().includes(node)) throw new Error(`unknown node ${node}; nodes are ${this.nodes().join(", ")}`);
    const name = `client${++this.clients}`;
    this.kernel.addNode(name, () => ({ onRequest: () => undefined }));
    return new Connection(this, name, node, user === undefined ? undefined : { user: user.user, db: user.db });
  }

  /** @internal Sends a command from a connection's client endpoint. */
  sendFrom(conn: Connection, db: string, command: Document): InFlight {
    this.checkUsable();
    if (typeof db !== "string") throw new TypeError("runCommand: db must be a string");
    if (command === null || typeof command !== "object" || Array.isArray(command))
      throw new TypeError("runCommand: command must be a document (a plain object)");
    const ctx = this.kernel.contextOf(conn.clientName);
    const label = Object.keys(command)[0] ?? "command";
    const future = ctx.request(conn.node, { db, command, user: conn.user }, { label, timeoutMs: this.clientTimeoutMS });
    return new InFlight(future, conn.node, command);
  }

  /**
   * Runs the simulation until `inflight`'s reply arrives and resolves with it; rejects with a
   * NetworkError if the node was down or unreachable, or with an Error if `maxMs` of virtual time
   * pass first.
   */
  async wait(inflight: InFlight, options: { readonly maxMs?: number } = {}): Promise<Document> {
    this.checkUsable();
    const deadline = this.kernel.now() + (options.maxMs ?? Infinity);
    this.run(() => {
      // Without a reply, maxMs of virtual time have passed (as with advance), not just up to the last event.
      if (!this.kernel.runUntil(() => inflight.done, deadline) && Number.isFinite(deadline))
        this.kernel.advance(deadline - this.kernel.now());
    });
    if (!inflight.done) throw new Error(`no reply from ${inflight.node} within ${options.maxMs} ms of virtual time`);
    return inflight.future.value as Document;
  }

  // ---- time and faults ----------------------------------------------------------------------

  /** Runs the simulation for `ms` of virtual time. */
  async advance(ms: number): Promise<void> {
    this.checkUsable();
    if (!(ms >= 0)) throw new RangeError("advance: ms must be a non-negative number");
    this.run(() => this.kernel.advance(ms));
  }

  /** Virtual time. */
  now(): Date {
    return new Date(this.kernel.now());
  }

  /** Crashes a node: its in-memory state (session cache, cursors, running operations) is lost. */
  crash(node: string): void {
    this.checkNode(node);
    this.kernel.crash(node);
  }

  /** Restarts a crashed node: durable state is kept and its recovery runs. */
  async restart(node: string): Promise<void> {
    this.checkNode(node);
    this.kernel.restart(node);
  }

  /** No message crosses between the two groups of nodes (clients may be named too). */
  partition(a: readonly string[], b: readonly string[]): void {
    this.checkUsable();
    this.kernel.partition(a, b, false);
  }

  /** Only messages from `from` to `to` are cut. */
  partitionOneWay(from: readonly string[], to: readonly string[]): void {
    this.checkUsable();
    this.kernel.partition(from, to, true);
  }

  /** Removes every partition. */
  heal(): void {
    this.checkUsable();
    this.kernel.heal();
  }

  /** Changes the network model (latency, drop/duplicate/reorder rates) from now on. */
  configureNetwork(config: Partial<NetworkConfig>): void {
    this.checkUsable();
    this.kernel.configureNetwork(config);
  }

  /** Sets a node's clock offset (ms) and drift (ppm). */
  setClock(node: string, offsetMs: number, driftPpm = 0): void {
    this.checkNode(node);
    this.kernel.setClock(node, offsetMs, driftPpm);
  }

  /** Schedules a list of timed faults, relative to now. */
  applyFaults(schedule: FaultSchedule): void {
    this.checkUsable();
    scheduleFaults(this.kernel, this.faultTarget(), schedule);
  }

  // ---- observation --------------------------------------------------------------------------

  /** Every trace event so far, in order. */
  trace(): readonly TraceEvent[] {
    return this.kernel.trace.all();
  }

  /** Listens to live trace events of `type` ("*" for all). */
  on(type: string, listener: (event: TraceEvent) => void): void {
    this.kernel.trace.on(type, listener);
  }

  off(type: string, listener: (event: TraceEvent) => void): void {
    this.kernel.trace.off(type, listener);
  }

  /**
   * Turns access control on for the running cluster, as a rolling restart with `--auth` does
   * without downtime. Sessions created before stay in the caches but, having no owner, cannot be
   * used afterwards: their `{id}` now names a different session (`id`, the caller's digest), and
   * naming their `uid` explicitly is refused (DOCS-10552, reference §7).
   */
  enableAuth(): void {
    this.checkUsable();
    this.topology.shared.auth.enabled = true;
    this.kernel.note("access control enabled on every node");
  }

  /** Adds a narration line to the trace (shown in timelines and reports). */
  note(text: string): void {
    this.checkUsable();
    this.kernel.note(text);
  }

  /** Hash of the trace: equal for equal seed and equal calls. */
  traceHash(): string {
    return this.kernel.trace.hash();
  }

  /** Stops the cluster; later calls are refused. */
  async stop(): Promise<void> {
    this.stopped = true;
  }

  /** @internal The kernel, for the testing and report packages. */
  get simulation(): Kernel<SimTraceEvent> {
    return this.kernel;
  }

  // ---- internals ----------------------------------------------------------------------------

  private faultTarget(): FaultTarget {
    return {
      crash: (n) => this.kernel.crash(n),
      restart: (n) => this.kernel.restart(n),
      partition: (a, b, oneWay) => this.kernel.partition(a, b, oneWay),
      heal: () => this.kernel.heal(),
      configureNetwork: (c) => this.kernel.configureNetwork(c),
      setClock: (n, o, d) => this.kernel.setClock(n, o, d),
      configureFailPoint: (n: string, name: string, mode: FailPointMode, data: Record<string, unknown>) => {
        if (this.kernel.isUp(n)) this.kernel.contextOf(n).failpoints.configure(name, mode, data);
      },
    };
  }

  private run(fn: () => void): void {
    if (this.running) throw new Error("the simulation is already running (a trace listener may not run commands)");
    this.running = true;
    try {
      fn();
    } finally {
      this.running = false;
    }
  }

  private pick<T>(list: readonly T[], i: number, what: string): T {
    const item = list[i];
    if (item === undefined) throw new RangeError(`no ${what} ${i}: the cluster has ${list.length}`);
    return item;
  }

  private checkNode(node: string): void {
    this.checkUsable();
    if (!this.nodes().includes(node)) throw new Error(`unknown node ${node}; nodes are ${this.nodes().join(", ")}`);
  }

  private checkUsable(): void {
    if (this.stopped) throw new Error("the cluster was stopped");
  }
}
