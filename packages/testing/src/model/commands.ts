import fc from "fast-check";
import { formatDuration } from "../util.js";
import {
  describeKill,
  KILL_FORMS,
  type CrudOp,
  type KillForm,
  type NodeRef,
  type SimSystem,
  type WorkloadUser,
} from "./system.js";

/**
 * The fast-check model of the model-based test: the shape of the cluster the commands run on.
 *
 * @example
 * const shape: ClusterShape = { shards: 2, mongos: 2, auth: false };
 * fc.commands([...workloadCommands(shape), ...faultCommands(shape, "all")]);
 */
export interface ClusterShape {
  readonly shards: number;
  readonly mongos: number;
  readonly auth: boolean;
}

/**
 * A model-based command over a {@link SimSystem}; `toString()` is its log line.
 *
 * @example
 * const cmds: SimCommand[] = [new StartSessionCommand("s1", "mongos0", undefined), new AdvanceCommand(300_000)];
 * await fc.asyncModelRun(() => ({ model: shape, real: sys }), cmds);
 */
export type SimCommand = fc.AsyncCommand<ClusterShape, SimSystem, boolean>;

abstract class Base implements SimCommand {
  check(_m: Readonly<ClusterShape>): boolean {
    return true;
  }
  async run(_m: ClusterShape, sys: SimSystem): Promise<void> {
    await this.exec(sys);
    sys.sync();
  }
  protected abstract exec(sys: SimSystem): Promise<void>;
  abstract toString(): string;
}

const as = (user: WorkloadUser): string => (user === undefined ? "" : ` as ${user}`);

// ---- workload -------------------------------------------------------------------------------

/**
 * `startSession(s1)@mongos0`: a server-generated session bound to slot s1.
 *
 * @example
 * String(new StartSessionCommand("s1", "mongos0", "alice")); // "startSession(s1)@mongos0 as alice"
 */
export class StartSessionCommand extends Base {
  constructor(
    readonly slot: string,
    readonly node: NodeRef,
    readonly user: WorkloadUser,
  ) {
    super();
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.startSession(this.slot, this.node, this.user);
  }
  toString(): string {
    return `startSession(${this.slot})@${this.node}${as(this.user)}`;
  }
}

/**
 * `insert(s1)@mongos0`, `find()@shard1`: CRUD with or without a session.
 *
 * @example
 * String(new CrudCommand("insert", "s1", "mongos0", undefined)); // "insert(s1)@mongos0"
 */
export class CrudCommand extends Base {
  constructor(
    readonly op: CrudOp,
    readonly slot: string | undefined,
    readonly node: NodeRef,
    readonly user: WorkloadUser,
  ) {
    super();
  }
  override check(m: Readonly<ClusterShape>): boolean {
    return m.shards > 0 || this.node.startsWith("config");
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.crud(this.op, this.slot, this.node, this.user);
  }
  toString(): string {
    return `${this.op}(${this.slot ?? ""})@${this.node}${as(this.user)}`;
  }
}

/**
 * `getMore(s1)`: continues the cursor last opened on s1.
 *
 * @example
 * String(new GetMoreCommand("s1", undefined)); // "getMore(s1)"
 */
export class GetMoreCommand extends Base {
  constructor(
    readonly slot: string,
    readonly user: WorkloadUser,
  ) {
    super();
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.getMore(this.slot, this.user);
  }
  toString(): string {
    return `getMore(${this.slot})${as(this.user)}`;
  }
}

/**
 * `refreshSessions(s1)@mongos1` / `endSessions(s1)@shard0`.
 *
 * @example
 * String(new SessionListCommand("endSessions", "s1", "shard0", undefined)); // "endSessions(s1)@shard0"
 */
export class SessionListCommand extends Base {
  constructor(
    readonly kind: "refreshSessions" | "endSessions",
    readonly slot: string,
    readonly node: NodeRef,
    readonly user: WorkloadUser,
  ) {
    super();
  }
  protected exec(sys: SimSystem): Promise<void> {
    return this.kind === "endSessions"
      ? sys.endSessions(this.slot, this.node, this.user)
      : sys.refreshSessions(this.slot, this.node, this.user);
  }
  toString(): string {
    return `${this.kind}(${this.slot})@${this.node}${as(this.user)}`;
  }
}

/**
 * `killAllSessions([])@mongos0`, `killSessions(s2)@shard1 as bob`, ...
 *
 * @example
 * String(new KillCommand("killAllSessions[]", "s1", "mongos1", "admin")); // "killAllSessions([])@mongos1 as admin"
 */
export class KillCommand extends Base {
  constructor(
    readonly form: KillForm,
    readonly slot: string,
    readonly node: NodeRef,
    readonly user: WorkloadUser,
  ) {
    super();
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.kill(this.form, this.node, this.user, this.slot);
  }
  toString(): string {
    return `${describeKill(this.form, this.slot)}@${this.node}${as(this.user)}`;
  }
}

/**
 * `killOpenCursor(find(s1)@mongos0 as alice, killSessions(s1)@mongos1 as alice)`: a session's
 * find leaves a cursor open, a kill naming that session follows at once, then a getMore on the
 * cursor (see {@link SimSystem.killOpenCursor}).
 *
 * @example
 * String(new KillOpenCursorCommand("s1", "alice", "mongos0", "killSessions", "mongos1", "alice"));
 * // "killOpenCursor(find(s1)@mongos0 as alice, killSessions(s1)@mongos1 as alice)"
 */
export class KillOpenCursorCommand extends Base {
  constructor(
    readonly slot: string,
    readonly user: WorkloadUser,
    readonly node: NodeRef,
    readonly form: KillForm,
    readonly killNode: NodeRef,
    readonly killer: WorkloadUser,
  ) {
    super();
  }
  override check(m: Readonly<ClusterShape>): boolean {
    return m.shards > 0;
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.killOpenCursor(this.slot, this.user, this.node, this.form, this.killNode, this.killer);
  }
  toString(): string {
    const of = this.killer === this.user ? "" : ` of ${this.user ?? "nobody"}`;
    return `killOpenCursor(find(${this.slot})@${this.node}${as(this.user)}, ${describeKill(this.form, this.slot)}${of}@${this.killNode}${as(this.killer)})`;
  }
}

/**
 * `listLocalSessions@shard0` / `listSessions@mongos0`: compared with the reference model.
 *
 * @example
 * String(new ListCommand("listLocalSessions", "shard0")); // "listLocalSessions@shard0"
 */
export class ListCommand extends Base {
  constructor(
    readonly kind: "listLocalSessions" | "listSessions",
    readonly node: NodeRef,
  ) {
    super();
  }
  override check(m: Readonly<ClusterShape>): boolean {
    return this.kind === "listLocalSessions" || m.shards > 0;
  }
  protected exec(sys: SimSystem): Promise<void> {
    return this.kind === "listSessions" ? sys.listSessions(this.node) : sys.listLocal(this.node);
  }
  toString(): string {
    return `${this.kind}@${this.node}`;
  }
}

/**
 * `refreshLogicalSessionCacheNow@mongos0`.
 *
 * @example
 * String(new RefreshNowCommand("mongos0")); // "refreshLogicalSessionCacheNow@mongos0"
 */
export class RefreshNowCommand extends Base {
  constructor(readonly node: NodeRef) {
    super();
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.refreshNow(this.node);
  }
  toString(): string {
    return `refreshLogicalSessionCacheNow@${this.node}`;
  }
}

/**
 * `transaction(s1, 2 shards, commit)@mongos0`: a transaction writing on one or two shards, then committed, aborted or left open.
 *
 * @example
 * String(new TransactionCommand("s1", 2, "commit", "mongos0", undefined)); // "transaction(s1, 2 shards, commit)@mongos0"
 */
export class TransactionCommand extends Base {
  constructor(
    readonly slot: string,
    readonly shards: number,
    readonly end: "commit" | "abort" | "open",
    readonly node: NodeRef,
    readonly user: WorkloadUser,
  ) {
    super();
  }
  override check(m: Readonly<ClusterShape>): boolean {
    return m.shards > 0;
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.transaction(this.slot, this.user, this.shards, this.node, this.end);
  }
  toString(): string {
    return `transaction(${this.slot}, ${this.shards} shard${this.shards === 1 ? "" : "s"}, ${this.end})@${this.node}${as(this.user)}`;
  }
}

/**
 * `commitTransaction(s1)@mongos0` / `abortTransaction(s1)@mongos1`.
 *
 * @example
 * String(new EndTransactionCommand("abortTransaction", "s1", "mongos0", undefined)); // "abortTransaction(s1)@mongos0"
 */
export class EndTransactionCommand extends Base {
  constructor(
    readonly kind: "commitTransaction" | "abortTransaction",
    readonly slot: string,
    readonly node: NodeRef,
    readonly user: WorkloadUser,
  ) {
    super();
  }
  override check(m: Readonly<ClusterShape>): boolean {
    return m.shards > 0;
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.endTransaction(this.kind, this.slot, this.user, this.node);
  }
  toString(): string {
    return `${this.kind}(${this.slot})@${this.node}${as(this.user)}`;
  }
}

/**
 * `retryableWrite(s1, ctr-2, ×2)@mongos0`: a retryable update sent 1 + retries times.
 *
 * @example
 * String(new RetryableWriteCommand("s1", 2, 1, "mongos0", undefined)); // "retryableWrite(s1, ctr-2, ×2)@mongos0"
 */
export class RetryableWriteCommand extends Base {
  constructor(
    readonly slot: string,
    readonly counter: number,
    readonly retries: number,
    readonly node: NodeRef,
    readonly user: WorkloadUser,
  ) {
    super();
  }
  override check(m: Readonly<ClusterShape>): boolean {
    return m.shards > 0;
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.retryableWrite(this.slot, this.user, this.counter, this.retries, this.node);
  }
  toString(): string {
    return `retryableWrite(${this.slot}, ctr-${this.counter}${this.retries > 0 ? `, ×${this.retries + 1}` : ""})@${this.node}${as(this.user)}`;
  }
}

/**
 * `advance(5m)`: lets virtual time pass (periodic refreshes, TTL, reaping, expiry happen).
 *
 * @example
 * String(new AdvanceCommand(300_000)); // "advance(5m)"
 */
export class AdvanceCommand extends Base {
  constructor(readonly ms: number) {
    super();
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.advance(this.ms);
  }
  toString(): string {
    return `advance(${formatDuration(this.ms)})`;
  }
}

// ---- faults ---------------------------------------------------------------------------------

/**
 * `crash(shard1)`.
 *
 * @example
 * String(new CrashCommand("shard1")); // "crash(shard1)"
 */
export class CrashCommand extends Base {
  constructor(readonly node: NodeRef) {
    super();
  }
  protected async exec(sys: SimSystem): Promise<void> {
    sys.crash(this.node);
    sys.log.push(`${this.toString()}`);
  }
  toString(): string {
    return `crash(${this.node})`;
  }
}

/**
 * `restart(shard1)`.
 *
 * @example
 * String(new RestartCommand("shard1")); // "restart(shard1)"
 */
export class RestartCommand extends Base {
  constructor(readonly node: NodeRef) {
    super();
  }
  protected async exec(sys: SimSystem): Promise<void> {
    await sys.restart(this.node);
    sys.log.push(this.toString());
  }
  toString(): string {
    return `restart(${this.node})`;
  }
}

/**
 * `partition(mongos0 | shard0,shard1)` or `partitionOneWay(mongos0 → shard1)`.
 *
 * @example
 * String(new PartitionCommand(["mongos0"], ["shard0", "shard1"], false)); // "partition(mongos0 | shard0,shard1)"
 */
export class PartitionCommand extends Base {
  constructor(
    readonly a: readonly NodeRef[],
    readonly b: readonly NodeRef[],
    readonly oneWay: boolean,
  ) {
    super();
  }
  protected async exec(sys: SimSystem): Promise<void> {
    sys.partition(this.a, this.b, this.oneWay);
    sys.log.push(this.toString());
  }
  toString(): string {
    return this.oneWay
      ? `partitionOneWay(${this.a.join(",")} → ${this.b.join(",")})`
      : `partition(${this.a.join(",")} | ${this.b.join(",")})`;
  }
}

/**
 * `heal()`: removes every partition.
 *
 * @example
 * String(new HealCommand()); // "heal()"
 */
export class HealCommand extends Base {
  protected async exec(sys: SimSystem): Promise<void> {
    sys.heal();
    sys.log.push(this.toString());
  }
  toString(): string {
    return "heal()";
  }
}

/**
 * Network misbehaviour from now on: `network(drop 5%, dup 2%, reorder 10%, delay 20ms)`; `network(clean)`.
 *
 * @example
 * String(new NetworkCommand(0.05, 0, 0.1, 20)); // "network(drop 5%, reorder 10%, delay 20ms)"
 */
export class NetworkCommand extends Base {
  constructor(
    readonly dropRate: number,
    readonly duplicateRate: number,
    readonly reorderRate: number,
    readonly delayMs: number,
  ) {
    super();
  }
  protected async exec(sys: SimSystem): Promise<void> {
    sys.cluster.configureNetwork({
      dropRate: this.dropRate,
      duplicateRate: this.duplicateRate,
      reorderRate: this.reorderRate,
      reorderDelayMs: Math.max(1, this.delayMs),
      latency:
        this.delayMs > 0
          ? { kind: "exponential", minMs: 0.2, meanMs: this.delayMs }
          : { kind: "uniform", minMs: 0.2, maxMs: 2 },
    });
    sys.log.push(this.toString());
  }
  toString(): string {
    if (this.dropRate === 0 && this.duplicateRate === 0 && this.reorderRate === 0 && this.delayMs === 0)
      return "network(clean)";
    const parts: string[] = [];
    if (this.dropRate > 0) parts.push(`drop ${pct(this.dropRate)}`);
    if (this.duplicateRate > 0) parts.push(`dup ${pct(this.duplicateRate)}`);
    if (this.reorderRate > 0) parts.push(`reorder ${pct(this.reorderRate)}`);
    if (this.delayMs > 0) parts.push(`delay ${this.delayMs}ms`);
    return `network(${parts.join(", ")})`;
  }
}

const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;

/**
 * `clock(shard0, +30s)`: a node's clock offset.
 *
 * @example
 * String(new ClockCommand("shard0", 30_000)); // "clock(shard0, +30s)"
 */
export class ClockCommand extends Base {
  constructor(
    readonly node: NodeRef,
    readonly offsetMs: number,
  ) {
    super();
  }
  protected async exec(sys: SimSystem): Promise<void> {
    sys.cluster.setClock(sys.node(this.node), this.offsetMs, 0);
    sys.log.push(this.toString());
  }
  toString(): string {
    return `clock(${this.node}, ${this.offsetMs >= 0 ? "+" : "-"}${formatDuration(Math.abs(this.offsetMs))})`;
  }
}

/**
 * The coordinator failpoints the fault arbitraries use (MongoDB's names).
 *
 * @example
 * fc.constantFrom(...COORDINATOR_FAILPOINTS).map((name) => new FailpointCommand("shard0", name, true));
 */
export const COORDINATOR_FAILPOINTS: readonly string[] = [
  "hangBeforeWritingParticipantList",
  "hangWhileTargetingRemoteHost",
  "hangBeforeWritingDecision",
  "hangBeforeDeletingCoordinatorDoc",
  "hangBeforeSendingCommitDecision",
  "hangBeforeSendingAbortDecision",
];

/**
 * `failpoint(shard0, hangBeforeWritingDecision)` / `failpoint(shard0, hangBeforeWritingDecision, off)`.
 *
 * @example
 * String(new FailpointCommand("shard0", "hangBeforeWritingDecision", true)); // "failpoint(shard0, hangBeforeWritingDecision)"
 */
export class FailpointCommand extends Base {
  constructor(
    readonly node: NodeRef,
    readonly name: string,
    readonly on: boolean,
  ) {
    super();
  }
  protected async exec(sys: SimSystem): Promise<void> {
    await sys.failpoint(this.node, this.name, this.on ? "alwaysOn" : "off");
    sys.log.push(this.toString());
  }
  toString(): string {
    return `failpoint(${this.node}, ${this.name}${this.on ? "" : ", off"})`;
  }
}

/**
 * `failRefreshWrites(shard1, 3)`: the next `times` upserts/deletes of `config.system.sessions`
 * on the shard fail (`failCommand` on `update`/`delete` with `failInternalCommands`), so session
 * refreshes fail or partly fail.
 *
 * @example
 * String(new RefreshFailureCommand("shard1", 3, 91)); // "failRefreshWrites(shard1, ×3, code 91)"
 */
export class RefreshFailureCommand extends Base {
  constructor(
    readonly node: NodeRef,
    readonly times: number,
    readonly errorCode: number,
  ) {
    super();
  }
  protected async exec(sys: SimSystem): Promise<void> {
    await sys.failpoint(
      this.node,
      "failCommand",
      { times: this.times },
      {
        failCommands: ["update", "delete"],
        failInternalCommands: true,
        namespace: "config.system.sessions",
        errorCode: this.errorCode,
      },
    );
    sys.log.push(this.toString());
  }
  toString(): string {
    return `failRefreshWrites(${this.node}, ×${this.times}, code ${this.errorCode})`;
  }
}

/**
 * `killDuringPrepare(s1, killAllSessions([])@mongos1, hangBeforeWritingDecision)`: a kill while a
 * cross-shard commit is held between prepare and decision by a coordinator failpoint.
 *
 * @example
 * String(new KillDuringPrepareCommand("s1", undefined, "killAllSessions[]", "mongos1", "admin", "hangBeforeWritingDecision"));
 * // "killDuringPrepare(s1, killAllSessions([])@mongos1 as admin, hangBeforeWritingDecision)"
 */
export class KillDuringPrepareCommand extends Base {
  constructor(
    readonly slot: string,
    readonly user: WorkloadUser,
    readonly form: KillForm,
    readonly node: NodeRef,
    readonly killer: WorkloadUser,
    readonly failpoint: string,
  ) {
    super();
  }
  override check(m: Readonly<ClusterShape>): boolean {
    return m.shards >= 2;
  }
  protected exec(sys: SimSystem): Promise<void> {
    return sys.killDuringPrepare(this.slot, this.user, this.form, this.node, this.killer, this.failpoint);
  }
  toString(): string {
    return `killDuringPrepare(${this.slot}${as(this.user)}, ${describeKill(this.form, this.slot)}@${this.node}${as(this.killer)}, ${this.failpoint})`;
  }
}

// ---- arbitraries -------------------------------------------------------------------------------

/**
 * Which faults a run may inject.
 *
 * @example
 * const level: FaultLevel = "network";
 * await checkStandard({ seed: 1, faults: level });
 */
export type FaultLevel = "none" | "network" | "crash" | "all";

/**
 * The fault levels, for command lines.
 *
 * @example
 * if (!FAULT_LEVELS.includes(arg as FaultLevel)) throw new Error(`--faults: one of ${FAULT_LEVELS.join(", ")}`);
 */
export const FAULT_LEVELS: readonly FaultLevel[] = ["none", "network", "crash", "all"];

/**
 * Node references of a cluster shape.
 *
 * @example
 * nodeRefs({ shards: 2, mongos: 1, auth: false }).all; // ["mongos0", "config0", "shard0", "shard1"]
 */
export function nodeRefs(shape: ClusterShape): {
  all: NodeRef[];
  mongos: NodeRef[];
  shards: NodeRef[];
  servers: NodeRef[];
} {
  const mongos = Array.from({ length: shape.mongos }, (_, i) => `mongos${i}` as NodeRef);
  const shards = Array.from({ length: shape.shards }, (_, i) => `shard${i}` as NodeRef);
  const servers: NodeRef[] = ["config0", ...shards];
  return { all: [...mongos, ...servers], mongos, shards, servers };
}

/**
 * Options of {@link workloadCommands} and {@link faultCommands}.
 *
 * @example
 * workloadCommands(shape, { slots: 2, users: ["alice", "bob"] });
 */
export interface CommandArbOptions {
  /** Session slots (`s1` … `sN`), default 4. */
  readonly slots?: number;
  /** Users that commands run as; default alice, bob, admin and unauthenticated. */
  readonly users?: readonly WorkloadUser[];
}

function pickUser(shape: ClusterShape, options: CommandArbOptions): fc.Arbitrary<WorkloadUser> {
  const users =
    options.users ??
    (shape.auth ? (["alice", "bob", "admin", undefined] as WorkloadUser[]) : ([undefined, "alice"] as WorkloadUser[]));
  return fc.constantFrom(...users);
}

/**
 * Arbitraries of workload commands for a cluster shape: session commands, CRUD with and without
 * sessions, transactions (single- and cross-shard), retryable writes, every form of kill, listing,
 * across nodes and users.
 *
 * @example
 * fc.commands(workloadCommands({ shards: 2, mongos: 2, auth: false }), { maxCommands: 50 });
 */
export function workloadCommands(shape: ClusterShape, options: CommandArbOptions = {}): fc.Arbitrary<SimCommand>[] {
  const n = nodeRefs(shape);
  const slots = Array.from({ length: options.slots ?? 4 }, (_, i) => `s${i + 1}`);
  const slot = fc.constantFrom(...slots);
  const user = pickUser(shape, options);
  const anyNode = fc.constantFrom(...n.all);
  const mongos = fc.constantFrom(...n.mongos);
  const dataNode = shape.shards > 0 ? fc.constantFrom(...n.mongos, ...n.shards) : mongos;
  const arbs: fc.Arbitrary<SimCommand>[] = [
    fc.tuple(slot, anyNode, user).map(([s, node, u]) => new StartSessionCommand(s, node, u)),
    fc
      .tuple(fc.constantFrom<"refreshSessions" | "endSessions">("refreshSessions", "endSessions"), slot, anyNode, user)
      .map(([k, s, node, u]) => new SessionListCommand(k, s, node, u)),
    fc
      .tuple(fc.constantFrom(...KILL_FORMS), slot, anyNode, user)
      .map(([f, s, node, u]) => new KillCommand(f, s, node, u)),
    fc
      .tuple(
        fc.constantFrom<"listLocalSessions" | "listSessions">("listLocalSessions", "listLocalSessions", "listSessions"),
        anyNode,
        mongos,
      )
      .map(([k, node, m]) => new ListCommand(k, k === "listSessions" ? m : node)),
    anyNode.map((node) => new RefreshNowCommand(node)),
    fc
      .constantFrom(1_000, 10_000, 60_000, 60_000, 300_000, 300_000, 600_000, 1_800_000)
      .map((ms) => new AdvanceCommand(ms)),
  ];
  const transaction = fc
    .tuple(
      slot,
      fc.integer({ min: 1, max: Math.min(2, Math.max(1, shape.shards)) }),
      fc.constantFrom<"commit" | "abort" | "open">("commit", "commit", "commit", "abort", "open"),
      mongos,
      user,
    )
    .map(([s, k, e, m, u]): SimCommand => new TransactionCommand(s, k, e, m, u));
  if (shape.shards > 0)
    arbs.push(
      fc
        .tuple(
          fc.constantFrom<CrudOp>("insert", "find", "update", "delete", "count"),
          fc.option(slot, { freq: 4 }),
          dataNode,
          user,
        )
        .map(([op, s, node, u]) => new CrudCommand(op, s ?? undefined, node, u)),
      // Sessions' finds and getMores, and kills of sessions with an open cursor, are frequent:
      // otherwise a kill seldom finds a cursor of its session open (no-cursor-survives-kill).
      fc.tuple(slot, dataNode, user).map(([s, node, u]) => new CrudCommand("find", s, node, u)),
      fc.tuple(slot, user).map(([s, u]) => new GetMoreCommand(s, u)),
      fc.tuple(slot, user).map(([s, u]) => new GetMoreCommand(s, u)),
      fc
        .tuple(
          slot,
          user,
          dataNode,
          fc.constantFrom(...KILL_FORMS, "killSessions", "killAllSessions[]"),
          fc.option(anyNode, { freq: 2 }),
          fc.boolean(),
        )
        .map(
          ([s, u, node, form, killNode, byAdmin]) =>
            new KillOpenCursorCommand(s, u, node, form, killNode ?? node, byAdmin ? "admin" : u),
        ),
      transaction,
      transaction,
      fc
        .tuple(
          fc.constantFrom<"commitTransaction" | "abortTransaction">(
            "commitTransaction",
            "commitTransaction",
            "abortTransaction",
          ),
          slot,
          mongos,
          user,
        )
        .map(([k, s, m, u]) => new EndTransactionCommand(k, s, m, u)),
      fc
        .tuple(slot, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 }), mongos, user)
        .map(([s, c, r, m, u]) => new RetryableWriteCommand(s, c, r, m, u)),
    );
  return arbs;
}

/**
 * Arbitraries of fault commands: crash/restart of any node, symmetric and one-way partitions,
 * drop/duplicate/delay/reorder rates, clock offsets, the coordinator failpoints and refresh write
 * failures (`failCommand` on `update`/`delete` of `config.system.sessions`).
 *
 * @example
 * fc.commands([...workloadCommands(shape), ...faultCommands(shape, "all")]);
 */
export function faultCommands(shape: ClusterShape, level: FaultLevel): fc.Arbitrary<SimCommand>[] {
  if (level === "none") return [];
  const n = nodeRefs(shape);
  const anyNode = fc.constantFrom(...n.all);
  const arbs: fc.Arbitrary<SimCommand>[] = [];
  const groups = fc
    .subarray(n.all, { minLength: 1, maxLength: Math.max(1, n.all.length - 1) })
    .map((a) => [a, n.all.filter((x) => !a.includes(x))] as const);
  if (level === "network" || level === "all")
    arbs.push(
      groups.filter(([, b]) => b.length > 0).map(([a, b]) => new PartitionCommand(a, b, false)),
      fc
        .tuple(anyNode, anyNode)
        .filter(([a, b]) => a !== b)
        .map(([a, b]) => new PartitionCommand([a], [b], true)),
      fc.constant(new HealCommand()),
      fc
        .tuple(
          fc.constantFrom(0, 0, 0.02, 0.1),
          fc.constantFrom(0, 0, 0.02, 0.1),
          fc.constantFrom(0, 0, 0.1, 0.3),
          fc.constantFrom(0, 0, 5, 50),
        )
        .map(([d, u, r, l]) => new NetworkCommand(d, u, r, l)),
    );
  if (level === "crash" || level === "all")
    arbs.push(
      anyNode.map((node) => new CrashCommand(node)),
      anyNode.map((node) => new RestartCommand(node)),
    );
  if (level === "all") {
    if (shape.shards >= 2) {
      const user = pickUser(shape, {});
      arbs.push(
        fc
          .tuple(
            fc.constantFrom("s1", "s2", "s3", "s4"),
            user,
            fc.constantFrom(...KILL_FORMS),
            anyNode,
            user,
            fc.constantFrom("hangBeforeWritingDecision", "hangBeforeSendingCommitDecision"),
          )
          .map(([s, u, f, node, k, fp]) => new KillDuringPrepareCommand(s, u, f, node, k, fp)),
      );
    }
    arbs.push(
      fc
        .tuple(anyNode, fc.constantFrom(-120_000, -30_000, -1_000, 0, 1_000, 30_000, 120_000))
        .map(([node, o]) => new ClockCommand(node, o)),
    );
    if (shape.shards > 0) {
      const shard = fc.constantFrom(...n.shards);
      arbs.push(
        fc
          .tuple(shard, fc.constantFrom(...COORDINATOR_FAILPOINTS), fc.constantFrom(true, true, true, false))
          .map(([node, name, on]) => new FailpointCommand(node, name, on)),
        fc
          .tuple(
            fc.constantFrom(...n.shards, "config0" as NodeRef),
            fc.constantFrom(1, 3, 10),
            fc.constantFrom(6, 64, 91, 11602),
          )
          .map(([node, t, c]) => new RefreshFailureCommand(node, t, c)),
      );
    }
  }
  return arbs;
}
