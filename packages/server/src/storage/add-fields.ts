/**
 * The `$addFields` / `$set` aggregation stage (`AddFieldsProjectionExecutor` in
 * `src/mongo/db/exec/add_fields_projection_executor.cpp`), written by hand because mingo replaces
 * embedded documents instead of merging into them.
 *
 * @packageDocumentation
 */
import { ServerError, ErrorCodes } from "../errors/index.js";
import { isPlainObject, type Doc } from "./bson-types.js";

/** A parsed `$addFields` specification: a tree of field names with expressions at the leaves. */
export type AddFieldsTree = ReadonlyMap<string, AddFieldsNode>;

/** A node of an {@link AddFieldsTree}: an expression to evaluate, or nested fields. */
export type AddFieldsNode =
  { readonly kind: "expr"; readonly expr: unknown } | { readonly kind: "tree"; readonly children: AddFieldsTree };

/** Evaluates an aggregation expression against the stage's input document. */
export type Evaluate = (expr: unknown, root: Doc) => unknown;

function isExpressionObject(v: Doc): boolean {
  for (const k in v) return k.startsWith("$");
  return true; // {} is the empty-object literal
}

function insert(
  tree: Map<string, AddFieldsNode>,
  parts: string[],
  node: AddFieldsNode,
  full: string,
  stage: string,
): void {
  let cur = tree;
  for (let i = 0; i < parts.length; i++) {
    const name = parts[i];
    if (name === "" || name.startsWith("$")) {
      throw new ServerError(
        name === "" ? ErrorCodes.BadValue : 16410,
        name === ""
          ? `Invalid ${stage} :: caused by :: FieldPath cannot contain an empty field name: '${full}'`
          : `Invalid ${stage} :: caused by :: FieldPath field names may not start with '$'. Consider using $getField or $setField.`,
      );
    }
    const existing = cur.get(name);
    if (i === parts.length - 1) {
      if (existing !== undefined) {
        throw new ServerError(31250, `Invalid ${stage} :: caused by :: Path collision at ${full}`);
      }
      cur.set(name, node);
      return;
    }
    if (existing === undefined) {
      const children = new Map<string, AddFieldsNode>();
      cur.set(name, { kind: "tree", children });
      cur = children;
    } else if (existing.kind === "tree") {
      cur = existing.children as Map<string, AddFieldsNode>;
    } else {
      throw new ServerError(31250, `Invalid ${stage} :: caused by :: Path collision at ${full}`);
    }
  }
}

function parseInto(tree: Map<string, AddFieldsNode>, spec: Doc, prefix: string, stage: string): void {
  for (const key of Object.keys(spec)) {
    const value = spec[key];
    const full = prefix + key;
    if (isPlainObject(value) && !isExpressionObject(value)) {
      // {a: {b: 1}} adds b inside a, like {"a.b": 1}.
      const sub = new Map<string, AddFieldsNode>();
      parseInto(sub, value, full + ".", stage);
      insert(tree, key.split("."), { kind: "tree", children: sub }, full, stage);
    } else {
      insert(tree, key.split("."), { kind: "expr", expr: value }, full, stage);
    }
  }
}

/**
 * Parses a `$addFields`/`$set` specification. Dotted names and nested plain objects both denote
 * fields inside embedded documents; objects whose first key starts with `$` are expressions.
 *
 * @throws ServerError 31250 on a path collision (`{a: 1, "a.b": 2}`), 16410 for `$`-prefixed
 * field names.
 */
export function parseAddFields(spec: unknown, stage = "$addFields"): AddFieldsTree {
  if (!isPlainObject(spec)) {
    throw new ServerError(40272, `${stage} specification stage must be an object, got ${typeof spec}`);
  }
  const tree = new Map<string, AddFieldsNode>();
  parseInto(tree, spec, "", stage);
  return tree;
}

function applyToValue(root: Doc, value: unknown, tree: AddFieldsTree, evaluate: Evaluate): unknown {
  if (isPlainObject(value)) return applyTree(root, value, tree, evaluate);
  if (Array.isArray(value)) return value.map((e) => applyToValue(root, e, tree, evaluate));
  // A scalar or missing value is replaced by a document of the computed fields.
  return applyTree(root, {}, tree, evaluate);
}

function applyTree(root: Doc, input: Doc, tree: AddFieldsTree, evaluate: Evaluate): Doc {
  const out: Doc = { ...input };
  for (const [name, node] of tree) {
    if (node.kind === "expr") {
      const v = evaluate(node.expr, root);
      if (v === undefined) delete out[name];
      else out[name] = v;
    } else {
      out[name] = applyToValue(root, input[name], node.children, evaluate);
    }
  }
  return out;
}

/**
 * Applies a parsed `$addFields` tree to `doc`, returning a new document (copied along the changed
 * paths; other values are shared with `doc`). Existing fields keep their position; new ones are
 * appended. Every expression sees the stage's input document; `undefined` (`$$REMOVE`) removes
 * the field.
 *
 * @remarks Like MongoDB, a nested field is added to every document of an array
 * (`{a: [{}, {}]}` + `{"a.b": 1}` → `{a: [{b: 1}, {b: 1}]}`) and replaces scalars on its path.
 */
export function applyAddFields(doc: Doc, tree: AddFieldsTree, evaluate: Evaluate): Doc {
  return applyTree(doc, doc, tree, evaluate);
}
