/**
 * Dotted field paths over documents, with the query language's implicit array traversal
 * (`ElementPath` / `BSONElementIterator` in `src/mongo/db/matcher/path.cpp`).
 *
 * @packageDocumentation
 */
import { isPlainObject } from "./bson-types.js";

/** Marks "the path does not exist here" among the values a path reaches. */
export const MISSING: unique symbol = Symbol("missing");

const pathCache = new Map<string, readonly string[]>();

/** `"a.b.0"` → `["a", "b", "0"]` (memoized: paths repeat a lot). */
export function splitPath(path: string): readonly string[] {
  let parts = pathCache.get(path);
  if (parts === undefined) {
    parts = Object.freeze(path.split("."));
    if (pathCache.size < 10_000) pathCache.set(path, parts);
  }
  return parts;
}

/** True for a path component that can index an array ("0", "12"; not "01" or "-1"). */
export function isArrayIndex(part: string): boolean {
  const n = part.length;
  if (n === 0 || n > 9) return false;
  if (n > 1 && part.charCodeAt(0) === 48) return false;
  for (let i = 0; i < n; i++) {
    const c = part.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function collect(value: unknown, parts: readonly string[], i: number, out: unknown[], leafArrays: boolean): void {
  if (i === parts.length) {
    out.push(value);
    if (leafArrays && Array.isArray(value)) for (const e of value) out.push(e);
    return;
  }
  const part = parts[i];
  if (Array.isArray(value)) {
    if (isArrayIndex(part)) {
      const idx = Number(part);
      if (idx < value.length) collect(value[idx], parts, i + 1, out, leafArrays);
      // A numeric component may also name a field of the elements; elements without it add
      // nothing (they do not make the path "missing").
      const sub: unknown[] = [];
      for (const e of value) if (isPlainObject(e)) collect(e, parts, i, sub, leafArrays);
      for (const v of sub) if (v !== MISSING) out.push(v);
      return;
    }
    for (const e of value) if (isPlainObject(e)) collect(e, parts, i, out, leafArrays);
    return;
  }
  if (isPlainObject(value)) {
    const v = value[part];
    if (v === undefined) out.push(MISSING);
    else collect(v, parts, i + 1, out, leafArrays);
    return;
  }
  out.push(MISSING);
}

/**
 * Every value a query path reaches in `doc`: arrays met on the way are traversed element by
 * element (and indexed by numeric components); an array at the end of the path is reported whole
 * and then element by element. {@link MISSING} is reported where the path stops short.
 *
 * @remarks An empty result means the path exists nowhere (e.g. `"a.b"` in `{a: [1, 2]}`); the
 * query language treats that like a missing field.
 */
export function pathValues(doc: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  collect(doc, splitPath(path), 0, out, true);
  return out;
}

/**
 * The values a sort/index key path reaches: like {@link pathValues}, but a trailing array
 * contributes only its elements. `MISSING` is dropped; an empty result means "missing".
 */
export function keyValues(doc: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  collect(doc, splitPath(path), 0, out, false);
  const vals: unknown[] = [];
  for (const v of out) {
    if (v === MISSING) continue;
    if (Array.isArray(v)) for (const e of v) vals.push(e);
    else vals.push(v);
  }
  return vals;
}

/**
 * The value at `path` without array traversal (numeric components index arrays), or `undefined`.
 */
export function getPath(doc: unknown, path: string | readonly string[]): unknown {
  const parts = typeof path === "string" ? splitPath(path) : path;
  let cur: unknown = doc;
  for (const part of parts) {
    if (Array.isArray(cur)) {
      if (!isArrayIndex(part)) return undefined;
      cur = cur[Number(part)];
    } else if (isPlainObject(cur)) {
      cur = cur[part];
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}
