/**
 * `maxTimeMS` and `maxTimeMSOpOnly` parsing (`src/mongo/db/query/max_time_ms_parser.cpp`).
 *
 * @packageDocumentation
 */
import { ErrorCodes, ServerError } from "../errors/index.js";
import { bsonTypeOf, isNumeric, toNumber } from "./bson-types.js";

/** `INT_MAX`: the largest `maxTimeMS` a client may send. */
export const MAX_TIME_MS_MAX = 2_147_483_647;

/**
 * `kMaxTimeMSOpOnlyMaxPadding`: how far `maxTimeMSOpOnly` (sent between cluster nodes) may exceed
 * {@link MAX_TIME_MS_MAX}.
 */
export const MAX_TIME_MS_OP_ONLY_MAX_PADDING = 100;

const LLONG_MAX = 9_223_372_036_854_775_807n;
const LLONG_MIN = -9_223_372_036_854_775_808n;

/** `BSONElement::safeNumberLong()` of a numeric value: truncated, NaN → 0, clamped to 64 bits. */
function safeNumberLong(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (bsonTypeOf(v) === "long") return BigInt(String(v));
  const d = toNumber(v);
  if (Number.isNaN(d)) return 0n;
  if (d >= 9.223372036854776e18) return LLONG_MAX;
  if (d <= -9.223372036854776e18) return LLONG_MIN;
  return BigInt(Math.trunc(d));
}

/**
 * Parses a `maxTimeMS`-like field (`parseMaxTimeMS`): absent → 0 ("no limit").
 *
 * @remarks The server's messages, all BadValue (2): a non-number → "<field> must be a number";
 * outside [0, max] → "<n> value for <field> is out of range [0, <max>]" (`n` is the value's
 * `safeNumberLong()`, so a double is truncated first); a double with a fraction → "<field> has
 * non-integral value". `max` is `INT_MAX`, plus {@link MAX_TIME_MS_OP_ONLY_MAX_PADDING} for
 * `maxTimeMSOpOnly`.
 *
 * @example
 * ```ts
 * parseMaxTimeMS(100); // 100
 * parseMaxTimeMS(-1);  // throws BadValue "-1 value for maxTimeMS is out of range [0, 2147483647]"
 * ```
 */
export function parseMaxTimeMS(value: unknown, fieldName = "maxTimeMS"): number {
  if (value === undefined) return 0;
  if (!isNumeric(value)) throw new ServerError(ErrorCodes.BadValue, `${fieldName} must be a number`);
  const max = MAX_TIME_MS_MAX + (fieldName === "maxTimeMSOpOnly" ? MAX_TIME_MS_OP_ONLY_MAX_PADDING : 0);
  const n = safeNumberLong(value);
  if (n < 0n || n > BigInt(max))
    throw new ServerError(ErrorCodes.BadValue, `${n} value for ${fieldName} is out of range [0, ${max}]`);
  if (bsonTypeOf(value) === "double") {
    const d = toNumber(value);
    if (Math.floor(d) !== d) throw new ServerError(ErrorCodes.BadValue, `${fieldName} has non-integral value`);
  }
  return Number(n);
}
