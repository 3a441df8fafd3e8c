import {
  CLOSE_CONNECTION,
  Future,
  NetworkError,
  spawn,
  wait,
  type NodeContext,
  type Process,
  type Task,
} from "@sessionsim/kernel";
import { CloseConnection, evaluateFailCommand } from "../failpoints/fail-command.js";
import { AuthorizationSession, checkCommandAuth, kInternalUser } from "../auth/index.js";
import { commandsFor } from "../commands/index.js";
import { isTask, type CommandDefinition, type CommandResult } from "../commands/command.js";
import { ErrorCodes, ServerError, codeNameOf, type ErrorReply } from "../errors/index.js";
import { firstKey, isDocument, type Document } from "../idl/bson-types.js";
import { makeParameters, type ParameterValues } from "../parameters/server-parameters.js";
import { OperationContext, type CommandRequest } from "./operation-context.js";
import { NodeRoles, type NodeIdentity, type NodeRole } from "./topology.js";
import type { ServerTraceEvent } from "./trace-events.js";
import type { ClusterShared } from "./cluster-shared.js";
import type { DurableState } from "./durable-state.js";
import { CursorManager } from "../cursors/cursor-manager.js";
import { formatBson } from "../storage/bson-format.js";
import { ClusterClock } from "../cluster-time/cluster-clock.js";
import { LogicalSessionCache } from "../session-cache/logical-session-cache.js";
import { initializeOperationSessionInfo } from "../session/initialize-operation-session-info.js";
import { TTLMonitor } from "../ttl/ttl-monitor.js";
import { runInRouterTransaction } from "../transactions/router/router-session.js";
import { observeShardCommand, startTransactionCoordinatorService } from "../transactions/coordinator/index.js";
import { SessionCatalog } from "../session-catalog/index.js";
import { TransactionParticipants } from "../transactions/participant/transaction-participants.js";
import { invokeCommand } from "../transactions/checkout-session-and-invoke.js";
import {
  appendClusterAndOperationTime,
  gossipIn,
  operationTimeOf,
  withClusterTimeGossip,
} from "../cluster-time/gossip.js";
import type { KernelTraceEvent } from "@sessionsim/kernel";

/** Every trace event a run can contain. */
export type SimTraceEvent = KernelTraceEvent | ServerTraceEvent;

/** A `serverStatus` section provider. */
export type ServerStatusSection = () => Document;

/** Characters MongoDB refuses in database names (`DatabaseName::validDBName`). */
const INVALID_DB_CHARS = /[/\\. "$*<>:|?\0]/;

/** Database names already found valid (a few per run; bounded against fuzzed names). */
const validDbNames = new Set<string>();

function isValidDbName(db: unknown): db is string {
  if (typeof db !== "string") return false;
  if (validDbNames.has(db)) return true;
  if (db.length === 0 || db.length >= 64 || INVALID_DB_CHARS.test(db)) return false;
  if (validDbNames.size < 1024) validDbNames.add(db);
  return true;
}

/**
 * A MongoDB process (mongod or mongos) as a simulated node: it handles one message at a time,
 * dispatches commands by name, tracks running operations and answers with MongoDB's replies.
 * Created anew at every start; `durable` state (collections) is what survives a crash.
 */
export class ServerNode implements Process {
  readonly params: ParameterValues;
  readonly ops = new Map<number, OperationContext>();
  readonly serverStatusSections = new Map<string, ServerStatusSection>();
  readonly startedAt: number;
  /** Open cursors (volatile). */
  readonly cursors: CursorManager;
  /** The node's logical clock (its last write's time survives restarts on mongods). */
  readonly clusterTime: ClusterClock;
  /** The logical session cache (volatile) with its refresh and reap jobs. */
  readonly sessionCache: LogicalSessionCache;
  /** The TTL monitor (mongods). */
  readonly ttlMonitor: TTLMonitor;
  /** Runtime session entries and their checkout (volatile). */
  readonly sessionCatalog: SessionCatalog;
  /** A mongod's transaction participants (undefined on mongos). */
  readonly participants: TransactionParticipants | undefined;
  /** This node's context; its requests gossip `$clusterTime` (the egress metadata hook). */
  readonly ctx: NodeContext<SimTraceEvent>;
  private nextOpId = 1;
  private readonly commands: ReadonlyMap<string, CommandDefinition>;

  constructor(
    ctx: NodeContext<SimTraceEvent>,
    readonly identity: NodeIdentity,
    readonly shared: ClusterShared,
    /** A mongod's durable state (undefined on mongos, which stores nothing). */
    readonly durable?: DurableState,
  ) {
    this.ctx = withClusterTimeGossip(ctx, () => this.clusterTime);
    this.params = makeParameters(shared.startupParameters);
    this.commands = commandsFor(identity.role);
    this.startedAt = ctx.now();
    this.cursors = new CursorManager(this);
    this.clusterTime = new ClusterClock(() => ctx.now(), durable);
    // A mongod's startup (step-up) writes a no-op oplog entry: its cluster time is never null.
    if (durable !== undefined) this.clusterTime.tick();
    this.sessionCatalog = new SessionCatalog(this);
    this.participants =
      durable === undefined
        ? undefined
        : new TransactionParticipants(this, durable.transactions, durable.catalog, this.sessionCatalog);
    this.sessionCache = new LogicalSessionCache(this);
    this.sessionCache.sessionCatalogSize = () => this.sessionCatalog.size;
    this.ttlMonitor = new TTLMonitor(this);
    // Resume the two-phase commits recorded in config.transaction_coordinators (step-up recovery).
    if (identity.role === NodeRoles.shardsvr) startTransactionCoordinatorService(this);
  }

  get name(): string {
    return this.identity.name;
  }

  get role(): NodeRole {
    return this.identity.role;
  }

  /** This node's clock. */
  now(): number {
    return this.ctx.now();
  }

  /** Looks up a command the way the server's command registry does (exact name, aliases). */
  findCommand(name: string): CommandDefinition | undefined {
    const def = this.commands.get(name);
    if (def === undefined || (def.testOnly === true && !this.params.enableTestCommands)) return undefined;
    return def;
  }

  // ---- request handling ------------------------------------------------------------------------

  onRequest(from: string, body: unknown, reply: (body: unknown) => void): void {
    const raw = body as CommandRequest | undefined;
    // A malformed request gets an empty command (answered as an unknown command), never a throw.
    const request = (isDocument(raw?.command) ? raw : { ...raw, command: {} }) as CommandRequest;
    const commandName = firstKey(request.command) ?? "";
    const op = new OperationContext(this.nextOpId++, request, commandName, from, this.now());
    this.ops.set(op.opId, op);
    const finish = (doc: Document): void => {
      this.ops.delete(op.opId);
      const final = this.finishReply(op, doc);
      const db = typeof request.db === "string" ? request.db : formatBson(request.db);
      this.ctx.record(
        final.ok === 1
          ? { type: "cmd.reply", opId: op.opId, command: commandName, db, client: from, ok: true }
          : {
              type: "cmd.reply",
              opId: op.opId,
              command: commandName,
              db,
              client: from,
              ok: false,
              codeName: String(final.codeName),
              errmsg: String(final.errmsg),
            },
      );
      reply(final);
    };
    const fail = (e: unknown): void => {
      if (!(e instanceof CloseConnection)) return finish(this.errorReply(op, e));
      this.ops.delete(op.opId);
      reply(CLOSE_CONNECTION);
    };
    let result;
    try {
      result = this.runCommand(op);
    } catch (e) {
      return fail(e);
    }
    if (!isTask(result)) return finish(result);
    spawn(result).onSettle((r) => (r.ok ? finish(r.value) : fail(r.error)));
  }

  /** Validation and dispatch common to every command (`ServiceEntryPointCommon::execCommand`). */
  private runCommand(op: OperationContext): Document | ReturnType<CommandDefinition["run"]> {
    const db = op.request.db;
    if (!isValidDbName(db))
      throw new ServerError(
        ErrorCodes.InvalidNamespace,
        `Invalid database name: '${typeof db === "string" ? db : formatBson(db)}'`,
      );
    gossipIn(this.clusterTime, this.now(), this.params.maxAcceptableLogicalClockDriftSecs, op.command);
    const def = this.findCommand(op.commandName);
    if (def === undefined) throw new ServerError(ErrorCodes.CommandNotFound, `no such command: '${op.commandName}'`);
    if (def.adminOnly === true && db !== "admin")
      throw new ServerError(ErrorCodes.Unauthorized, `${def.name} may only be run against the admin database.`);
    const request = op.request;
    op.authz = new AuthorizationSession(
      this.shared.users,
      this.shared.auth.enabled,
      request.internal === true ? kInternalUser : request.user,
    );
    checkCommandAuth(op.authz, def.name, db, op.command, { isMongos: this.role === NodeRoles.mongos });
    initializeOperationSessionInfo(op, def, this);
    const effect = evaluateFailCommand(op, this);
    const run = (): CommandResult =>
      effect === undefined
        ? def.run(op, this)
        : this.withFailCommandEffect(op, def, effect.blockMs, effect.writeConcernError);
    // Cross-shard transactions: mongos runs transaction statements through the session's router;
    // shards create and cancel two-phase-commit coordinators (transactions/router, .../coordinator).
    // Commands with a txnNumber run with their session checked out (session-catalog/,
    // transactions/participant/), the router and coordinator hooks inside the checkout.
    return invokeCommand(op, this, def, () => {
      if (this.role === NodeRoles.mongos) return runInRouterTransaction(op, this, run);
      if (this.role === NodeRoles.shardsvr) observeShardCommand(op, this);
      return run();
    });
  }

  /** Runs a command under an active `failCommand` that blocks it or adds a writeConcernError. */
  private *withFailCommandEffect(
    op: OperationContext,
    def: CommandDefinition,
    blockMs: number,
    wce: Document | undefined,
  ): Task<Document> {
    if (blockMs > 0) {
      const slept = new Future<void>();
      this.ctx.setTimer(blockMs, () => slept.resolve());
      yield* wait(op.interruptible(slept));
    }
    const result = def.run(op, this);
    const reply = isTask(result) ? yield* result : result;
    return wce === undefined ? reply : { ...reply, writeConcernError: wce };
  }

  /** Adds `ok`, `$clusterTime` and `operationTime` to a command's reply fields (reference §6). */
  private finishReply(op: OperationContext, doc: Document): Document {
    const withOk = "ok" in doc ? doc : { ...doc, ok: 1 };
    const fallback = this.durable !== undefined ? this.durable.lastWrite : this.clusterTime.current();
    return appendClusterAndOperationTime(withOk, this.clusterTime.current(), operationTimeOf(op) ?? fallback);
  }

  /** The error reply for anything a command threw. Nothing escapes the node as an exception. */
  errorReply(op: OperationContext, e: unknown): ErrorReply {
    if (e instanceof ServerError) return e.toReply();
    if (e instanceof NetworkError) {
      const code = e.kind === "HostUnreachable" ? ErrorCodes.HostUnreachable : ErrorCodes.NetworkTimeout;
      return { ok: 0, errmsg: e.message, code, codeName: codeNameOf(code) };
    }
    // A bug in the simulator: report it as MongoDB would an internal error, and trace it so
    // tests and invariants can insist that it never happens.
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    this.ctx.record({ type: "node.bug", opId: op.opId, command: op.commandName, error: message });
    return { ok: 0, errmsg: `internal error: ${message}`, code: ErrorCodes.InternalError, codeName: "InternalError" };
  }
}
