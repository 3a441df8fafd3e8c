import { Binary, Long, UUID } from "bson";
import { ErrorCodes, ServerError } from "../errors/index.js";
import { bsonTypeOf, isDocument, toNumber, type Document } from "./bson-types.js";

/**
 * A small IDL-style field parser producing MongoDB's own parse errors (`idl_parser.cpp`):
 * wrong type → TypeMismatch (14) "BSON field '<ctx>.<f>' is the wrong type '<t>', expected type
 * '<e>'"; missing → 40414 "BSON field '<ctx>.<f>' is missing but a required field"; unknown in a
 * strict struct → 40415 "BSON field '<ctx>.<f>' is an unknown field."
 */
export function wrongType(context: string, value: unknown, expected: string): ServerError {
  return new ServerError(
    ErrorCodes.TypeMismatch,
    `BSON field '${context}' is the wrong type '${bsonTypeOf(value)}', expected type${expected.includes(",") ? "s" : ""} '${expected}'`,
  );
}

export function missingField(context: string): ServerError {
  return new ServerError(40414, `BSON field '${context}' is missing but a required field`);
}

export function unknownField(context: string): ServerError {
  return new ServerError(ErrorCodes.Location40415, `BSON field '${context}' is an unknown field.`);
}

/** The BSON type lists of the readers (built once: readers run on every statement). */
const T_ARRAY: readonly string[] = ["array"];
const T_BINDATA: readonly string[] = ["binData"];
const T_BOOL_INT_LONG_DOUBLE_DECIMAL: readonly string[] = ["bool", "int", "long", "double", "decimal"];
const T_BOOL: readonly string[] = ["bool"];
const T_DATE: readonly string[] = ["date"];
const T_INT_LONG_DOUBLE_DECIMAL: readonly string[] = ["int", "long", "double", "decimal"];
const T_LONG_INT_DOUBLE: readonly string[] = ["long", "int", "double"];
const T_OBJECT: readonly string[] = ["object"];
const T_STRING: readonly string[] = ["string"];

/** Reads a field of a document with type checks; `ctx` is the dotted path used in messages. */
export class FieldReader {
  constructor(
    readonly doc: Document,
    readonly ctx: string,
  ) {}

  private path(f: string): string {
    return `${this.ctx}.${f}`;
  }

  has(f: string): boolean {
    return this.doc[f] !== undefined;
  }

  private typed<T>(f: string, types: readonly string[], expected: string, required: boolean): T | undefined {
    const v = this.doc[f];
    if (v === undefined) {
      if (required) throw missingField(this.path(f));
      return undefined;
    }
    if (!types.includes(bsonTypeOf(v))) throw wrongType(this.path(f), v, expected);
    return v as T;
  }

  string(f: string): string;
  string(f: string, optional: "optional"): string | undefined;
  string(f: string, optional?: "optional"): string | undefined {
    return this.typed<string>(f, T_STRING, "string", optional === undefined);
  }

  bool(f: string, optional: "optional"): boolean | undefined {
    return this.typed<boolean>(f, T_BOOL, "bool", optional === undefined);
  }

  /** A "safeBool": bool or number, read as truthiness. */
  flag(f: string): boolean | undefined {
    const v = this.typed<unknown>(f, T_BOOL_INT_LONG_DOUBLE_DECIMAL, "bool, int, long, double, decimal", false);
    return v === undefined ? undefined : typeof v === "boolean" ? v : toNumber(v) !== 0;
  }

  document(f: string): Document;
  document(f: string, optional: "optional"): Document | undefined;
  document(f: string, optional?: "optional"): Document | undefined {
    return this.typed<Document>(f, T_OBJECT, "object", optional === undefined);
  }

  array(f: string): unknown[];
  array(f: string, optional: "optional"): unknown[] | undefined;
  array(f: string, optional?: "optional"): unknown[] | undefined {
    return this.typed<unknown[]>(f, T_ARRAY, "array", optional === undefined);
  }

  /** Any numeric type, as a JS number. */
  number(f: string): number;
  number(f: string, optional: "optional"): number | undefined;
  number(f: string, optional?: "optional"): number | undefined {
    const v = this.typed<unknown>(f, T_INT_LONG_DOUBLE_DECIMAL, "int, long, double, decimal", optional === undefined);
    return v === undefined ? undefined : toNumber(v);
  }

  /** An integral number (int/long, or a double with no fraction), as MongoDB's `safeInt64`. */
  integer(f: string, optional?: "optional"): number | undefined {
    const n = optional === undefined ? this.number(f) : this.number(f, "optional");
    if (n === undefined) return undefined;
    if (!Number.isInteger(n)) throw new ServerError(ErrorCodes.BadValue, `Expected an integer: ${this.path(f)}: ${n}`);
    return n;
  }

  /** A 64-bit long (plain integral numbers accepted, as the public API promises). */
  long(f: string, optional?: "optional"): Long | undefined {
    const v = this.typed<unknown>(f, T_LONG_INT_DOUBLE, "long", optional === undefined);
    if (v === undefined) return undefined;
    if (v instanceof Long) return v;
    const n = toNumber(v);
    if (!Number.isInteger(n)) throw wrongType(this.path(f), v, "long");
    return Long.fromNumber(n);
  }

  uuid(f: string, optional?: "optional"): UUID | undefined {
    const v = this.typed<Binary>(f, T_BINDATA, "binData", optional === undefined);
    if (v === undefined) return undefined;
    if (v instanceof UUID) return v;
    if (v.sub_type !== Binary.SUBTYPE_UUID || v.length() !== 16)
      throw new ServerError(ErrorCodes.BadValue, `uuid must be a 16-byte binary field with UUID (4) subtype`);
    return new UUID(v.buffer);
  }

  binary(f: string, optional?: "optional"): Binary | undefined {
    return this.typed<Binary>(f, T_BINDATA, "binData", optional === undefined);
  }

  date(f: string, optional?: "optional"): Date | undefined {
    return this.typed<Date>(f, T_DATE, "date", optional === undefined);
  }

  /** Rejects fields not in `known` (strict IDL structs). */
  strict(known: readonly string[]): void {
    for (const f in this.doc) if (!known.includes(f) && this.doc[f] !== undefined) throw unknownField(this.path(f));
  }
}

/** Requires `v` to be a document, else TypeMismatch naming `context`. */
export function expectDocument(v: unknown, context: string): Document {
  if (!isDocument(v)) throw wrongType(context, v, "object");
  return v;
}
