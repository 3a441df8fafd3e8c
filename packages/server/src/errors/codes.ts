/**
 * MongoDB's error codes, mirroring `src/mongo/base/error_codes.yml` for every code sessionsim uses.
 * Codes without a name in error_codes.yml (assertion ids such as 40602) are listed by number with
 * `codeName` "Location<code>", which is what the server reports for them.
 */
export const ErrorCodes = Object.freeze({
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  HostUnreachable: 6,
  HostNotFound: 7,
  UnknownError: 8,
  FailedToParse: 9,
  UserNotFound: 11,
  AuthenticationFailed: 18,
  InvalidRoleModification: 49,
  UnsupportedFormat: 12,
  Unauthorized: 13,
  TypeMismatch: 14,
  Overflow: 15,
  InvalidLength: 16,
  IllegalOperation: 20,
  AlreadyInitialized: 23,
  EmptyArrayOperation: 21,
  InvalidBSON: 22,
  LockTimeout: 24,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  MaxTimeMSExpired: 50,
  DollarPrefixedFieldName: 52,
  CommandNotFound: 59,
  ShardKeyNotFound: 61,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  IndexAlreadyExists: 68,
  ShardNotFound: 70,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  NetworkTimeout: 89,
  ShutdownInProgress: 91,
  WriteConcernFailed: 64,
  ExceededTimeLimit: 262,
  NoMatchingDocument: 47,
  DuplicateKey: 11000,
  RoleNotFound: 31,
  UserDataInconsistent: 45,
  WriteConflict: 112,
  CommandNotSupported: 115,
  ConflictingOperationInProgress: 117,
  NamespaceNotSharded: 118,
  InvalidSyncSource: 119,
  OplogStartMissing: 120,
  CommandFailed: 125,
  CannotImplicitlyCreateCollection: 227,
  ShardingStateNotInitialized: 203,
  TimeProofMismatch: 204,
  ClusterTimeFailsRateLimiter: 205,
  NoSuchSession: 206,
  InvalidUUID: 207,
  KeyNotFound: 211,
  IncompleteTransactionHistory: 217,
  TransactionTooOld: 225,
  NoSuchTransaction: 251,
  TransactionCommitted: 256,
  TransactionTooLarge: 257,
  TooManyLogicalSessions: 261,
  OperationNotSupportedInTransaction: 263,
  FailPointSetFailed: 266,
  PreparedTransactionInProgress: 267,
  TransactionCoordinatorSteppingDown: 281,
  TransactionCoordinatorReachedAbortDecision: 282,
  TransactionExceededLifetimeLimitSeconds: 290,
  TransactionCoordinatorCanceled: 311,
  TransactionCoordinatorDeadlineTaskCanceled: 287,
  TxnRetryCounterTooOld: 356,
  InternalTransactionNotSupported: 358,
  NotWritablePrimary: 10107,
  NotPrimaryNoSecondaryOk: 13435,
  PrimarySteppedDown: 189,
  InterruptedAtShutdown: 11600,
  Interrupted: 11601,
  InterruptedDueToReplStateChange: 11602,
  CursorKilled: 237,
  NotImplemented: 238,
  ReadConcernMajorityNotEnabled: 148,
  APIMismatchError: 347,
  StaleConfig: 13388,
  Location40602: 40602,
  Location40528: 40528,
  Location50889: 50889,
  Location50911: 50911,
  Location50940: 50940,
  Location50768: 50768,
  Location50993: 50993,
  Location51026: 51026,
  Location51027: 51027,
  Location51113: 51113,
  Location40415: 40415,
  Location40324: 40324,
  Location51002: 51002,
  Location51003: 51003,
  Location31106: 31106,
  Location31111: 31111,
} as const);

/** The name of an error code, e.g. `"NoSuchTransaction"`. */
export type CodeName = keyof typeof ErrorCodes;

const nameByCode: ReadonlyMap<number, CodeName> = new Map(
  (Object.entries(ErrorCodes) as [CodeName, number][]).map(([name, code]) => [code, name]),
);

/** The codeName MongoDB reports for `code` ("Location<code>" for unnamed assertion ids). */
export function codeNameOf(code: number): string {
  return nameByCode.get(code) ?? `Location${code}`;
}

/** Error categories from error_codes.yml that the transaction coordinator reads. */
export const VoteAbortErrors: ReadonlySet<number> = new Set([
  ErrorCodes.ReadConcernMajorityNotEnabled,
  ErrorCodes.TransactionTooOld,
  ErrorCodes.NoSuchTransaction,
  ErrorCodes.OperationNotSupportedInTransaction,
  ErrorCodes.APIMismatchError,
  ErrorCodes.TxnRetryCounterTooOld,
]);

/** `TwoPhaseDecisionAckError`: replies to a decision that count as acknowledgements. */
export const TwoPhaseDecisionAckErrors: ReadonlySet<number> = new Set([
  ErrorCodes.TransactionTooOld,
  ErrorCodes.NoSuchTransaction,
  ErrorCodes.TxnRetryCounterTooOld,
]);

/** Codes in MongoDB's `Interruption` category. */
export const InterruptionErrors: ReadonlySet<number> = new Set([
  ErrorCodes.Interrupted,
  ErrorCodes.InterruptedAtShutdown,
  ErrorCodes.InterruptedDueToReplStateChange,
  ErrorCodes.MaxTimeMSExpired,
  ErrorCodes.ExceededTimeLimit,
  ErrorCodes.TransactionExceededLifetimeLimitSeconds,
  ErrorCodes.CursorKilled,
]);
