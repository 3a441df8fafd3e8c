/**
 * Cluster-time gossip (`VectorClock::gossipIn` / `gossipOut`), `operationTime` and
 * `readConcern.afterClusterTime` (reference §6).
 *
 * @packageDocumentation
 */
import { Binary, Long, Timestamp } from "bson";
import type { NodeContext, RequestOptions } from "@sessionsim/kernel";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { isDocument, type Document } from "../idl/bson-types.js";
import { OperationDecoration, type OperationContext } from "../node/operation-context.js";
import type { ClusterClock, ClusterTimeStore } from "./cluster-clock.js";

/** The dummy signature (`hash`: 20 zero bytes, `keyId` 0): one frozen value shared by every reply. */
const DUMMY_SIGNATURE: Document = Object.freeze({
  hash: Object.freeze(new Binary(new Uint8Array(20), 0)),
  keyId: Object.freeze(Long.fromNumber(0)),
});

/**
 * `{clusterTime, signature: {hash, keyId}}` as every node appends it to its replies.
 *
 * @remarks The signature is the dummy one MongoDB sends to clients allowed to advance the clock
 * (`appendClusterAndOperationTime`: `hash` 20 zero bytes, `keyId` 0). Signing keys
 * (`admin.system.keys`) are not modelled: received signatures are never checked (see the fidelity
 * page).
 */
export function signedClusterTime(t: Timestamp): Document {
  return { clusterTime: t, signature: DUMMY_SIGNATURE };
}

/** `LogicalTime::toString()`: `{ ts: Timestamp(<secs>, <inc>) }`. */
export function formatLogicalTime(t: Timestamp): string {
  return `{ ts: Timestamp(${t.high >>> 0}, ${t.low >>> 0}) }`;
}

/** The `clusterTime` of a `$clusterTime` document, if it is well formed. */
function clusterTimeOf(v: unknown): Timestamp | undefined {
  if (!isDocument(v)) return undefined;
  const t = v.clusterTime;
  return t instanceof Timestamp ? t : undefined;
}

/**
 * Advances the node's clock to the `$clusterTime` a request or reply carries (`gossipIn`).
 *
 * @remarks `LogicalClock::_passesRateLimiter_inlock`: a time more than
 * `maxAcceptableLogicalClockDriftSecs` ahead of the node's wall clock is refused with
 * ClusterTimeFailsRateLimiter (205) "New cluster time, <secs>, is too far from this node's wall
 * clock time, <secs>."
 */
export function gossipIn(clock: ClusterClock, wallMs: number, maxDriftSecs: number, doc: Document): void {
  const t = clusterTimeOf(doc.$clusterTime);
  if (t === undefined) return;
  const newSecs = t.high >>> 0;
  const wallSecs = Math.floor(wallMs / 1000);
  if (newSecs > wallSecs && newSecs - wallSecs > maxDriftSecs)
    throw new ServerError(
      ErrorCodes.ClusterTimeFailsRateLimiter,
      `New cluster time, ${newSecs}, is too far from this node's wall clock time, ${wallSecs}.`,
    );
  clock.advanceTo(t);
}

// ---- operationTime ------------------------------------------------------------------------------

/** Per operation: the latest time it wrote at (mongod) or a contacted shard reported (mongos). */
const operationTimes = new OperationDecoration<Timestamp>("operationTime");

/** Records that `op` wrote at `t` (a mongod's oplog time for the operation). */
export function noteOperationTime(op: OperationContext, t: Timestamp): void {
  const prev = operationTimes.get(op);
  if (prev === undefined || t.greaterThan(prev)) operationTimes.set(op, t);
}

/**
 * mongos: remembers the `operationTime` of a shard's reply to a request made for `op`
 * (`OperationTimeTracker::updateOperationTime`); the largest is returned to the client.
 */
export function noteShardReply(op: OperationContext, reply: unknown): void {
  if (isDocument(reply) && reply.operationTime instanceof Timestamp) noteOperationTime(op, reply.operationTime);
}

/**
 * Ticks `clock` once per document written (one oplog entry each) and records the time as the
 * operation's `operationTime`.
 */
export function tickForWrites(op: OperationContext, clock: ClusterClock, documents: number): void {
  if (documents <= 0) return;
  noteOperationTime(op, clock.tick(documents));
}

/** The latest time recorded for `op`, if any. */
export function operationTimeOf(op: OperationContext): Timestamp | undefined {
  return operationTimes.get(op);
}

/**
 * Appends `$clusterTime` and `operationTime` to a reply (success or error), replacing any the
 * reply already had (a shard's reply relayed by mongos).
 *
 * @remarks `appendClusterAndOperationTime` (mongod) and `appendRequiredFieldsToResponse`
 * (mongos): `operationTime` is the operation's own write time, else the node's last applied
 * write (`fallback`); on mongos the largest shard `operationTime`, else its cluster time.
 */
export function appendClusterAndOperationTime(
  reply: Document,
  clusterTime: Timestamp,
  operationTime: Timestamp,
): Document {
  // A plain loop: object rest/spread is several times slower, and every reply comes through here.
  const out: Document = {};
  for (const k in reply) if (k !== "$clusterTime" && k !== "operationTime") out[k] = reply[k];
  out.$clusterTime = signedClusterTime(clusterTime);
  out.operationTime = operationTime;
  return out;
}

// ---- afterClusterTime ---------------------------------------------------------------------------

/**
 * `readConcern.afterClusterTime` (or `atClusterTime`) on a mongod: refuses a time ahead of the
 * node's cluster time; for a time beyond the node's last write, writes a no-op oplog entry first,
 * so that the read happens — and its `operationTime` is — at or after the requested time.
 *
 * @remarks `waitForReadConcernImpl` (`read_concern_mongod.cpp`): InvalidOptions (72) "readConcern
 * afterClusterTime value must not be greater than the current clusterTime. Requested clusterTime:
 * <t>; current clusterTime: <c>". Otherwise `makeNoopWriteIfNeeded`: when the requested time is
 * beyond the node's last applied optime, the primary writes a no-op (`appendOplogNote`), which
 * ticks the cluster time (already at or past the requested one, so the no-op lands after it), and
 * the read waits until that entry is applied — at once on a single-member replica set. A node's
 * cluster time runs ahead of its last write whenever it gossips with busier nodes.
 *
 * @param oplog the node's last write (`lastWrite` advances with the no-op's tick)
 */
export function checkReadConcernClusterTime(command: Document, clock: ClusterClock, oplog?: ClusterTimeStore): void {
  const rc = command.readConcern;
  if (!isDocument(rc)) return;
  for (const name of ["afterClusterTime", "atClusterTime"] as const) {
    const target = rc[name];
    if (!(target instanceof Timestamp)) continue;
    const current = clock.current();
    if (current.lessThan(target))
      throw new ServerError(
        ErrorCodes.InvalidOptions,
        `readConcern ${name} value must not be greater than the current clusterTime. Requested clusterTime: ${formatLogicalTime(target)}; current clusterTime: ${formatLogicalTime(current)}`,
      );
    // The no-op write (`makeNoopWriteIfNeeded`): one oplog entry, after the requested time.
    if (oplog !== undefined && oplog.lastWrite.lessThan(target)) clock.tick();
  }
}

// ---- egress hook -------------------------------------------------------------------------------

/**
 * Wraps a node's context so every command request it sends carries its `$clusterTime` and every
 * reply's `$clusterTime` advances its clock — the egress metadata hook of MongoDB's task
 * executors (`VectorClockMetadataHook`). Requests whose body is not a command pass unchanged.
 */
export function withClusterTimeGossip<C extends Pick<NodeContext, "request">>(ctx: C, clock: () => ClusterClock): C {
  const request = (to: string, body: unknown, options?: RequestOptions): ReturnType<NodeContext["request"]> => {
    let out = body;
    if (isDocument(body) && isDocument(body.command)) {
      out = { ...body, command: { ...body.command, $clusterTime: signedClusterTime(clock().current()) } };
    }
    // Registered first, so the clock advances before whoever waits for the reply resumes.
    const future = ctx.request(to, out, options);
    future.onSettle((r) => {
      if (!r.ok || !isDocument(r.value)) return;
      const t = clusterTimeOf(r.value.$clusterTime);
      if (t !== undefined) clock().advanceTo(t);
    });
    return future;
  };
  return Object.freeze({ ...ctx, request });
}
