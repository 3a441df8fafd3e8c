/**
 * @packageDocumentation
 * `@sessionsim/testing`: property-based testing against sessionsim with fast-check — arbitraries of
 * cluster options, workloads and fault schedules; model-based commands with a reference model of
 * session behaviour (faults are commands too, so failures shrink to short scenarios); an invariant
 * library (safety and liveness) usable on any run's trace; one-line reproductions and a determinism
 * self-check; coverage of role × session × transaction × kill states; a command-document fuzzer and
 * an access-control property.
 *
 * @example
 * import fc from "fast-check";
 * import { standardProperty, suiteSeed } from "@sessionsim/testing";
 * await fc.assert(standardProperty({ faults: "all", commands: 50 }), { seed: suiteSeed(), numRuns: 10 });
 */
export {
  formatDuration,
  formatVirtualTime,
  sessionUid,
  sessionKey,
  derivedUuid,
  keyOfRecord,
  uidHex,
  firstBatch,
} from "./util.js";
export {
  TraceIndex,
  normalizeTxnState,
  lsidIdOf,
  type RequestRecord,
  type RequestBody,
  type TxnState,
} from "./trace-index.js";
export * from "./invariants/types.js";
export {
  txnTransition,
  noNodeBug,
  killNeverAbortsPrepared,
  crossShardAtomicity,
  txnNumberMonotone,
  ttlNotEarly,
  noCursorSurvivesKill,
  endSessionsNeverKills,
  killedSessionsUsable,
  cacheWithinMaxSessions,
  SAFETY_INVARIANTS,
  type TxnTransition,
} from "./invariants/safety.js";
export {
  transactionsResolve,
  sessionsPersisted,
  endedSessionsRemoved,
  transactionDataAtomic,
  retryableAtMostOnce,
  LIVENESS_INVARIANTS,
} from "./invariants/liveness.js";
export {
  InvariantMonitor,
  checkTrace,
  stopFaults,
  checkLiveness,
  checkRun,
  ALL_INVARIANTS,
  FAULT_FAILPOINTS,
} from "./invariants/monitor.js";
export { killMatcher, KILL_COMMANDS } from "./invariants/kill-matcher.js";
export {
  listSessionRecords,
  listLocalSessionRecords,
  readAll,
  QueryFailed,
  keysOf,
} from "./invariants/cluster-queries.js";
export {
  SessionModel,
  type Presence,
  type Expectation,
  type UserRef,
  type ModelViolation,
} from "./model/session-model.js";
export {
  SimSystem,
  PropertyViolation,
  WORKLOAD_USERS,
  KILL_FORMS,
  DATA_DB,
  DATA_COLL,
  describeKill,
  type NodeRef,
  type WorkloadUser,
  type CrudOp,
  type KillForm,
} from "./model/system.js";
export * from "./model/commands.js";
export * from "./arbitraries/cluster.js";
export * from "./arbitraries/faults.js";
export {
  standardCase,
  standardCommand,
  runCase,
  standardProperty,
  checkStandard,
  describeFailure,
  describeEvent,
  replayPathOf,
  CaseFailure,
  type StandardPropertyOptions,
  type StandardCase,
  type CaseResult,
  type StandardCheckResult,
} from "./property.js";
export * from "./replay.js";
export * from "./coverage.js";
export { oddNumber, oddString, oddBinary, bsonScalar, bsonValue, bsonDocument, fuzzKey } from "./fuzz/bson.js";
export * from "./fuzz/templates.js";
export * from "./fuzz/fuzzer.js";
export * from "./access-control.js";
