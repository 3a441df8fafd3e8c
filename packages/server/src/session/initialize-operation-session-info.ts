import type { Long } from "bson";
import { clusterResource } from "../auth/index.js";
import type { CommandDefinition } from "../commands/command.js";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { bsonTypeOf } from "../idl/bson-types.js";
import { wrongType } from "../idl/parse.js";
import type { OperationContext } from "../node/operation-context.js";
import type { ServerNode } from "../node/server-node.js";
import {
  isChildSession,
  makeLogicalSessionId,
  parseLogicalSessionFromClient,
  parseTxnNumberField,
} from "./logical-session-id.js";
import { ownerName } from "./logical-session-record.js";

const CONTEXT = "OperationSessionInfo";

/** The session fields of a command (IDL `OperationSessionInfoFromClientBase`, not strict). */
interface OperationSessionInfoFromClient {
  readonly lsid: unknown;
  readonly txnNumber: Long | undefined;
  readonly txnRetryCounter: number | undefined;
  readonly autocommit: boolean | undefined;
  readonly startTransaction: boolean | undefined;
}

function optionalBool(cmd: Readonly<Record<string, unknown>>, field: string): boolean | undefined {
  const v = cmd[field];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw wrongType(`${CONTEXT}.${field}`, v, "bool");
  return v;
}

function parseOperationSessionInfo(cmd: Readonly<Record<string, unknown>>): OperationSessionInfoFromClient {
  const txnNumber =
    cmd.txnNumber === undefined ? undefined : parseTxnNumberField(cmd.txnNumber, `${CONTEXT}.txnNumber`);
  let txnRetryCounter: number | undefined;
  if (cmd.txnRetryCounter !== undefined) {
    if (bsonTypeOf(cmd.txnRetryCounter) !== "int")
      throw wrongType(`${CONTEXT}.txnRetryCounter`, cmd.txnRetryCounter, "int");
    txnRetryCounter = Number(cmd.txnRetryCounter);
  }
  return {
    lsid: cmd.lsid,
    txnNumber,
    txnRetryCounter,
    autocommit: optionalBool(cmd, "autocommit"),
    startTransaction: optionalBool(cmd, "startTransaction"),
  };
}

/**
 * Reads and validates a command's session fields (`lsid`, `txnNumber`, `autocommit`,
 * `startTransaction`), resolves the lsid's `uid`, stores them on the operation and vivifies the
 * session in the node's cache. Called by command dispatch right after the auth check.
 *
 * @remarks
 * `initializeOperationSessionInfo` (`src/mongo/db/session/initialize_operation_session_info.cpp`),
 * in the server's order:
 * 1. commands that do not require auth refuse `autocommit` (OperationNotSupportedInTransaction
 *    "This command is not supported in transactions") and `txnNumber` (50889);
 * 2. access control on, nobody authenticated, command not requiring auth → session info ignored;
 * 3. `lsid` → `makeLogicalSessionId` (uid rules); commands that do not attach sessions (the kill
 *    commands) stop here; child lsids need the `internal` action ("Internal sessions are only
 *    allowed for internal clients") and `txnNumber` + `autocommit: false` ("Internal sessions are
 *    not supported outside of transactions"); then `vivify` (TooManyLogicalSessions fails the
 *    command);
 * 4. `txnNumber` without `lsid` → InvalidOptions "Transaction number requires a session ID to also
 *    be specified"; negative → "Transaction number cannot be negative" (IllegalOperation 20 is
 *    for nodes that are neither replica-set members nor mongos; every sessionsim mongod is a
 *    replica-set member); `txnRetryCounter` only for internal clients, not for retryable writes,
 *    not negative;
 * 5. `autocommit` without `txnNumber`, `autocommit: true`, `startTransaction` without
 *    `autocommit`, `startTransaction: false` → InvalidOptions.
 *
 * @example
 * ```ts
 * initializeOperationSessionInfo(op, def, node); // op.lsid = {id, uid}; node.sessionCache vivified
 * ```
 */
export function initializeOperationSessionInfo(op: OperationContext, def: CommandDefinition, node: ServerNode): void {
  const cmd = op.command;
  if (
    cmd.lsid === undefined &&
    cmd.txnNumber === undefined &&
    cmd.autocommit === undefined &&
    cmd.startTransaction === undefined &&
    cmd.txnRetryCounter === undefined
  )
    return;
  const osi = parseOperationSessionInfo(cmd);
  const requiresAuth = def.requiresAuth !== false;
  if (!requiresAuth) {
    if (osi.autocommit !== undefined)
      throw new ServerError(
        ErrorCodes.OperationNotSupportedInTransaction,
        "This command is not supported in transactions",
      );
    if (osi.txnNumber !== undefined)
      throw new ServerError(ErrorCodes.Location50889, "It is illegal to provide a txnNumber for this command");
  }
  const authz = op.authz;
  // No sensible uid can be assigned without a user: the session info is ignored.
  if (authz.authEnabled && !authz.isAuthenticated && !requiresAuth) return;

  const internalClient = authz.isAuthorized(clusterResource, "internal");
  if (osi.lsid !== undefined) {
    const fromClient = parseLogicalSessionFromClient(osi.lsid, `${CONTEXT}.lsid`);
    const lsid = makeLogicalSessionId(fromClient, authz);
    if (def.attachSessions === false) return;
    if (isChildSession(lsid)) {
      if (!internalClient)
        throw new ServerError(ErrorCodes.InvalidOptions, "Internal sessions are only allowed for internal clients");
      if (osi.txnNumber === undefined || osi.autocommit !== false)
        throw new ServerError(ErrorCodes.InvalidOptions, "Internal sessions are not supported outside of transactions");
    }
    op.lsid = lsid;
    node.sessionCache.vivify(lsid, ownerName(authz, lsid));
  } else if (osi.txnNumber !== undefined) {
    throw new ServerError(ErrorCodes.InvalidOptions, "Transaction number requires a session ID to also be specified");
  }

  if (osi.txnNumber !== undefined) {
    // Every sessionsim mongod is a replica-set member, and mongos accepts transaction numbers.
    const isReplSetMemberOrMongos = true;
    if (!isReplSetMemberOrMongos)
      throw new ServerError(
        ErrorCodes.IllegalOperation,
        "Transaction numbers are only allowed on a replica set member or mongos",
      );
    if (osi.txnNumber.isNegative())
      throw new ServerError(ErrorCodes.InvalidOptions, "Transaction number cannot be negative");
    op.txnNumber = osi.txnNumber;
    if (osi.txnRetryCounter !== undefined) {
      if (!internalClient)
        throw new ServerError(ErrorCodes.InvalidOptions, "txnRetryCounter is only allowed for internal clients");
      if (osi.autocommit === undefined)
        throw new ServerError(ErrorCodes.InvalidOptions, "Cannot specify txnRetryCounter for a retryable write");
      if (osi.txnRetryCounter < 0)
        throw new ServerError(ErrorCodes.InvalidOptions, "txnRetryCounter cannot be negative");
    }
  } else if (osi.autocommit !== undefined) {
    throw new ServerError(
      ErrorCodes.InvalidOptions,
      "'autocommit' field requires a transaction number to also be specified",
    );
  }

  if (osi.autocommit !== undefined) {
    if (osi.autocommit) throw new ServerError(ErrorCodes.InvalidOptions, "Specifying autocommit=true is not allowed.");
    op.autocommit = false;
  } else if (osi.startTransaction !== undefined) {
    throw new ServerError(
      ErrorCodes.InvalidOptions,
      "'startTransaction' field requires 'autocommit' field to also be specified",
    );
  }

  if (osi.startTransaction !== undefined) {
    if (!osi.startTransaction)
      throw new ServerError(ErrorCodes.InvalidOptions, "Specifying startTransaction=false is not allowed.");
    op.startTransaction = true;
  }
}
