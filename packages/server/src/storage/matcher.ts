/**
 * Query filters (`MatchExpression` in `src/mongo/db/matcher/`), run by mingo with the BSON-aware
 * operator context.
 *
 * @packageDocumentation
 */
import { Query } from "mingo/query";
import { MingoError } from "mingo/util";
import { ServerError, ErrorCodes } from "../errors/index.js";
import { isPlainObject, type Doc } from "./bson-types.js";
import { MINGO_OPTIONS } from "./mingo-context.js";

/** A compiled filter: true if the document matches. */
export type Matcher = (doc: Doc) => boolean;

const matchAll: Matcher = () => true;

/** Turns mingo's errors into MongoDB's BadValue; other errors pass through. */
export function fromMingoError(e: unknown, code: number = ErrorCodes.BadValue): unknown {
  if (!(e instanceof MingoError)) return e;
  const m = /^unknown query operator (\$\w+)/.exec(e.message);
  return new ServerError(code, m ? `unknown operator: ${m[1]}` : e.message);
}

/**
 * Compiles a query filter with MongoDB semantics (dotted paths, implicit array traversal,
 * BSON-typed comparisons: `{_id: {$in: [{id: UUID, uid: Binary}]}}` matches by value).
 *
 * @throws ServerError BadValue for a malformed filter (`unknown operator: $foo`).
 *
 * @example
 * ```ts
 * const m = compileFilter({ "_id.uid": { $in: [uid] } });
 * docs.filter(m);
 * ```
 */
export function compileFilter(filter: unknown): Matcher {
  if (filter === undefined || filter === null) return matchAll;
  if (!isPlainObject(filter)) throw new ServerError(ErrorCodes.BadValue, "filter must be an object");
  let empty = true;
  for (const _ in filter) {
    empty = false;
    break;
  }
  if (empty) return matchAll;
  try {
    const q = new Query(filter, MINGO_OPTIONS);
    return (doc) => {
      try {
        return q.test(doc);
      } catch (e) {
        throw fromMingoError(e);
      }
    };
  } catch (e) {
    throw fromMingoError(e);
  }
}
