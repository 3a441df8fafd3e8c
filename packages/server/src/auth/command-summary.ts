/**
 * Renders BSON-ish values the way MongoDB's `BSONObj::toString()` does in error messages:
 * `{ insert: "x", documents: [ { _id: 1 } ], $db: "test" }`.
 */

const int32Min = -2147483648;
const int32Max = 2147483647;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function formatDouble(n: number): string {
  if (Number.isNaN(n)) return "nan.0";
  if (!Number.isFinite(n)) return n > 0 ? "inf.0" : "-inf.0";
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

function formatBsonType(v: Record<string, unknown> & { _bsontype: string }): string {
  switch (v._bsontype) {
    case "Binary": {
      const b = v as unknown as { buffer: Uint8Array; position: number; sub_type: number };
      const h = hex(b.buffer.subarray(0, b.position));
      if (b.sub_type === 4 && h.length === 32) {
        return `UUID("${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}")`;
      }
      return `BinData(${b.sub_type}, ${h.toUpperCase()})`;
    }
    case "Int32":
      return String((v as unknown as { value: number }).value);
    case "Double":
      return formatDouble((v as unknown as { value: number }).value);
    case "Long":
    case "Decimal128":
      return String(v);
    case "ObjectId":
      return `ObjectId('${(v as unknown as { toHexString(): string }).toHexString()}')`;
    case "Timestamp": {
      const t = v as unknown as { t: number; i: number };
      return `Timestamp(${t.t}, ${t.i})`;
    }
    case "MinKey":
      return "MinKey";
    case "MaxKey":
      return "MaxKey";
    default:
      return String(v);
  }
}

/** One value, as `BSONElement::toString(false)` prints it. */
export function formatBsonValue(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return Number.isInteger(v) && v >= int32Min && v <= int32Max ? String(v) : formatDouble(v);
    case "bigint":
      return String(v);
    case "string":
      return JSON.stringify(v);
    case "object":
      break;
    default:
      return String(v);
  }
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v instanceof RegExp) return `/${v.source}/${v.flags}`;
  if (Array.isArray(v)) {
    const items = v.map((x) => formatBsonValue(x === undefined ? null : x));
    return items.length === 0 ? "[]" : `[ ${items.join(", ")} ]`;
  }
  const rec = v as Record<string, unknown>;
  if (typeof rec["_bsontype"] === "string") {
    return formatBsonType(rec as Record<string, unknown> & { _bsontype: string });
  }
  return formatDocument(rec);
}

/** A document, as `BSONObj::toString()` prints it; `undefined` fields are skipped like BSON does. */
export function formatDocument(doc: Readonly<Record<string, unknown>>): string {
  const parts = Object.entries(doc)
    .filter(([, x]) => x !== undefined)
    .map(([k, x]) => `${k}: ${formatBsonValue(x)}`);
  return parts.length === 0 ? "{}" : `{ ${parts.join(", ")} }`;
}

/** Commands whose `pwd` field is redacted to `"xxx"` (`snipForLogging`/`redactForLogging`). */
const commandsWithPassword: ReadonlySet<string> = new Set(["createUser", "updateUser"]);

/**
 * The command as it appears in "not authorized on <db> to execute command { ... }": the request
 * body with `$db` (OP_MSG puts it in the body) and passwords redacted.
 *
 * @remarks
 * `CommandInvocation::checkAuthorization` (`src/mongo/db/commands.cpp`) rethrows an `Unauthorized`
 * from the command's check with this text, after `snipForLogging`.
 */
export function formatCommandForError(commandName: string, db: string, cmd: Readonly<Record<string, unknown>>): string {
  const body: Record<string, unknown> = { ...cmd };
  if (commandsWithPassword.has(commandName) && body["pwd"] !== undefined) body["pwd"] = "xxx";
  if (body["$db"] === undefined) body["$db"] = db;
  return formatDocument(body);
}
