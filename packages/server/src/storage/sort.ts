/**
 * Sort specifications (`{a: 1, "b.c": -1}`) for `find` and the `$sort` stage
 * (`SortKeyGenerator` in `src/mongo/db/index/sort_key_generator.cpp`).
 *
 * @packageDocumentation
 */
import { ServerError } from "../errors/index.js";
import { compareBson } from "./bson-order.js";
import { isPlainObject, toDouble, type Doc } from "./bson-types.js";
import { keyValues } from "./field-path.js";

/** A validated sort specification: paths with direction 1 or -1, in priority order. */
export type SortSpec = ReadonlyArray<readonly [path: string, direction: 1 | -1]>;

/**
 * Validates a sort document.
 *
 * @throws ServerError 15975 unless every value is 1 or -1; 15976 if it is empty.
 */
export function parseSort(spec: unknown): SortSpec {
  if (!isPlainObject(spec)) throw new ServerError(15973, "the $sort key specification must be an object");
  const out: [string, 1 | -1][] = [];
  for (const path of Object.keys(spec)) {
    const d = toDouble(spec[path]);
    if (d !== 1 && d !== -1) {
      throw new ServerError(15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    }
    out.push([path, d]);
  }
  if (out.length === 0) throw new ServerError(15976, "$sort stage must have at least one sort key");
  return out;
}

/**
 * The sort key of one document for one path: missing sorts as null; an array contributes its
 * smallest element ascending and its largest descending.
 */
function sortKey(doc: Doc, path: string, dir: 1 | -1): unknown {
  const vals = keyValues(doc, path);
  if (vals.length === 0) return null;
  let best = vals[0];
  for (let i = 1; i < vals.length; i++) {
    const c = compareBson(vals[i], best);
    if (dir === 1 ? c < 0 : c > 0) best = vals[i];
  }
  return best;
}

/**
 * Sorts documents by a sort specification in BSON order (stable: ties keep input order).
 * Returns a new array; documents are not copied.
 *
 * @example
 * ```ts
 * sortDocs(docs, parseSort({ lastUse: -1 }));
 * ```
 */
export function sortDocs<T extends Doc>(docs: readonly T[], spec: SortSpec): T[] {
  const keyed = docs.map((doc, i) => ({ doc, i, keys: spec.map(([p, d]) => sortKey(doc, p, d)) }));
  keyed.sort((a, b) => {
    for (let k = 0; k < spec.length; k++) {
      const c = compareBson(a.keys[k], b.keys[k]);
      if (c !== 0) return spec[k][1] === 1 ? c : -c;
    }
    return a.i - b.i;
  });
  return keyed.map((k) => k.doc);
}
