import { ErrorCodes, ServerError } from "../errors/index.js";
import { bsonTypeOf, isNumeric, toNumber } from "../idl/bson-types.js";

/** When a parameter may be set: at startup (cluster options), at runtime (`setParameter`), or both. */
export type ParameterSettability = "startup" | "runtime" | "both";

export interface ParameterSpec {
  readonly default: number | boolean;
  readonly settable: ParameterSettability;
  /** Inclusive bounds for numeric parameters (the IDL `validator: { gte, lte }`). */
  readonly min?: number;
  readonly max?: number;
  /** Where MongoDB defines it. */
  readonly source: string;
}

/**
 * The server parameters sessionsim models, with MongoDB's names and defaults
 * (reference §1.7; `logical_session_cache.idl`, `sessions_server_parameters.idl`, `kill_sessions.idl`,
 * `transaction_participant.idl`, `ttl.idl`).
 */
export const PARAMETER_SPECS = Object.freeze({
  localLogicalSessionTimeoutMinutes: { default: 30, settable: "startup", min: 1, source: "logical_session_id.idl" },
  logicalSessionRefreshMillis: { default: 300_000, settable: "startup", min: 1, source: "logical_session_cache.idl" },
  maxSessions: { default: 1_000_000, settable: "startup", min: 1, source: "logical_session_cache.idl" },
  disableLogicalSessionCacheRefresh: { default: false, settable: "startup", source: "logical_session_cache.idl" },
  TransactionRecordMinimumLifetimeMinutes: {
    default: 30,
    settable: "startup",
    min: 0,
    source: "logical_session_cache.idl",
  },
  sessionWriteConcernTimeoutSystemMillis: {
    default: 60_000,
    settable: "both",
    min: 0,
    source: "sessions_server_parameters.idl",
  },
  sessionMaxBatchSize: {
    default: 1000,
    settable: "both",
    min: 100,
    max: 10_000,
    source: "sessions_server_parameters.idl",
  },
  KillSessionsMaxConcurrency: { default: 100, settable: "startup", min: 1, source: "kill_sessions.idl" },
  KillSessionsPerHostTimeoutMS: { default: 60_000, settable: "startup", min: 1, source: "kill_sessions.idl" },
  transactionLifetimeLimitSeconds: { default: 60, settable: "both", min: 1, source: "transaction_participant.idl" },
  maxTransactionLockRequestTimeoutMillis: { default: 5, settable: "both", source: "transaction_participant.idl" },
  maxAcceptableLogicalClockDriftSecs: { default: 31_536_000, settable: "startup", min: 0, source: "logical_clock.idl" },
  ttlMonitorEnabled: { default: true, settable: "both", source: "ttl.idl" },
  ttlMonitorSleepSecs: { default: 60, settable: "startup", min: 1, source: "ttl.idl" },
  enableTestCommands: { default: true, settable: "startup", source: "test_commands_enabled.idl" },
  coordinateCommitTransactionReturnImmediatelyAfterPersistingDecision: {
    default: true,
    settable: "both",
    source: "transaction_coordinator.idl",
  },
  /** sessionsim's own: how long a node waits for another node's reply before NetworkTimeout. */
  internalRequestTimeoutMS: { default: 60_000, settable: "both", min: 1, source: "sessionsim" },
} satisfies Record<string, ParameterSpec>);

export type ParameterName = keyof typeof PARAMETER_SPECS;
export type ParameterValues = {
  -readonly [K in ParameterName]: (typeof PARAMETER_SPECS)[K]["default"] extends boolean ? boolean : number;
};

export function isParameterName(name: string): name is ParameterName {
  return Object.hasOwn(PARAMETER_SPECS, name);
}

/** Checks and converts a value for parameter `name` (MongoDB's IDL validators). */
export function coerceParameter(name: ParameterName, value: unknown): number | boolean {
  const spec: ParameterSpec = PARAMETER_SPECS[name];
  if (typeof spec.default === "boolean") {
    if (typeof value === "boolean") return value;
    if (isNumeric(value)) return toNumber(value) !== 0;
    throw new ServerError(
      ErrorCodes.BadValue,
      `Invalid value for parameter ${name}: expected a boolean, got ${bsonTypeOf(value)}`,
    );
  }
  if (!isNumeric(value) || !Number.isFinite(toNumber(value)))
    throw new ServerError(
      ErrorCodes.BadValue,
      `Invalid value for parameter ${name}: expected a number, got ${bsonTypeOf(value)}`,
    );
  const n = toNumber(value);
  if (spec.min !== undefined && n < spec.min)
    throw new ServerError(
      ErrorCodes.BadValue,
      `Invalid value for parameter ${name}: ${n} is not greater than or equal to ${spec.min}`,
    );
  if (spec.max !== undefined && n > spec.max)
    throw new ServerError(
      ErrorCodes.BadValue,
      `Invalid value for parameter ${name}: ${n} is not less than or equal to ${spec.max}`,
    );
  return n;
}

/** The defaults, overridden by `overrides` (validated). */
export function makeParameters(overrides: Readonly<Record<string, unknown>> = {}): ParameterValues {
  const values = Object.fromEntries(Object.entries(PARAMETER_SPECS).map(([k, s]) => [k, s.default])) as ParameterValues;
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!isParameterName(name)) throw new ServerError(ErrorCodes.InvalidOptions, `Unknown server parameter: ${name}`);
    (values as Record<string, unknown>)[name] = coerceParameter(name, value);
  }
  return values;
}
