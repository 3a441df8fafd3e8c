/**
 * Fields every command accepts besides its own (`src/mongo/idl/generic_argument.idl`): session
 * and transaction fields, read/write concern, gossip, API versioning, internal routing fields.
 */
export const GENERIC_ARGUMENTS: ReadonlySet<string> = new Set([
  "$db",
  "lsid",
  "txnNumber",
  "txnRetryCounter",
  "autocommit",
  "startTransaction",
  "stmtId",
  "stmtIds",
  "readConcern",
  "writeConcern",
  "maxTimeMS",
  "maxTimeMSOpOnly",
  "comment",
  "$clusterTime",
  "$readPreference",
  "$audit",
  "$client",
  "apiVersion",
  "apiStrict",
  "apiDeprecationErrors",
  "coordinator",
  "recoveryToken",
  "shardVersion",
  "databaseVersion",
  "clientOperationKey",
  "mayBypassWriteBlocking",
  "bypassDocumentValidation",
]);

/** The fields of `cmd` other than its first (the command name) and the generic arguments. */
export function commandSpecificFields(cmd: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(cmd)
    .slice(1)
    .filter((f) => !GENERIC_ARGUMENTS.has(f));
}
