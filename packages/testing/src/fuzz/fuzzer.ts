import fc from "fast-check";
import { Cluster, NetworkError, type Document, type TraceEvent } from "sessionsim";
import { ALL_COMMANDS, ErrorCodes } from "@sessionsim/server";
import { checkTrace } from "../invariants/monitor.js";
import { invariantContext, type Violation } from "../invariants/types.js";
import { WORKLOAD_USERS, type WorkloadUser } from "../model/system.js";
import { brief } from "../util.js";
import { bsonDocument, bsonValue, fuzzKey, nest, oddNumber, oddString } from "./bson.js";
import { COMMAND_TEMPLATES, type CommandTemplate } from "./templates.js";

/**
 * Where a fuzzed command goes: a node role and the connection's user.
 *
 * @example
 * const role: FuzzRole = "config";
 */
export type FuzzRole = "mongos" | "shard" | "config";

/**
 * One fuzzed command.
 *
 * @example
 * const [c]: FuzzCase[] = fc.sample(fuzzCase({ auth: true }), 1);
 * console.log(c.role, c.user, c.origin);
 */
export interface FuzzCase {
  readonly role: FuzzRole;
  readonly user: WorkloadUser;
  readonly db: string;
  readonly command: Document;
  /** How it was made (`template insert: set documents`, `random`). */
  readonly origin: string;
}

type Mutation = (doc: Document) => fc.Arbitrary<{ doc: Document; how: string }>;

function keysOf(doc: Document): string[] {
  return Object.keys(doc);
}

const setField: Mutation = (doc) =>
  fc
    .tuple(fc.constantFrom(...keysOf(doc)), bsonValue(2))
    .map(([k, v]) => ({ doc: { ...doc, [k]: v }, how: `set ${k}` }));

const setNested: Mutation = (doc) => {
  const nestedKeys = keysOf(doc).filter(
    (k) =>
      typeof doc[k] === "object" && doc[k] !== null && !Array.isArray(doc[k]) && keysOf(doc[k] as Document).length > 0,
  );
  if (nestedKeys.length === 0) return setField(doc);
  return fc
    .constantFrom(...nestedKeys)
    .chain((k) =>
      fc
        .tuple(fc.constantFrom(...keysOf(doc[k] as Document)), bsonValue(1))
        .map(([k2, v]) => ({ doc: { ...doc, [k]: { ...(doc[k] as Document), [k2]: v } }, how: `set ${k}.${k2}` })),
    );
};

const setInArray: Mutation = (doc) => {
  const arrayKeys = keysOf(doc).filter((k) => Array.isArray(doc[k]) && (doc[k] as unknown[]).length > 0);
  if (arrayKeys.length === 0) return setField(doc);
  return fc.tuple(fc.constantFrom(...arrayKeys), bsonValue(2)).map(([k, v]) => {
    const arr = [...(doc[k] as unknown[])];
    const first = arr[0];
    if (first !== null && typeof first === "object" && !Array.isArray(first) && keysOf(first as Document).length > 0) {
      const k2 = keysOf(first as Document)[0];
      arr[0] = { ...(first as Document), [k2]: v };
      return { doc: { ...doc, [k]: arr }, how: `set ${k}[0].${k2}` };
    }
    arr[0] = v;
    return { doc: { ...doc, [k]: arr }, how: `set ${k}[0]` };
  });
};

const deleteField: Mutation = (doc) => {
  const rest = keysOf(doc).slice(1);
  if (rest.length === 0) return fc.constant({ doc, how: "none" });
  return fc.constantFrom(...rest).map((k) => {
    const { [k]: _gone, ...others } = doc;
    return { doc: others, how: `delete ${k}` };
  });
};

const addField: Mutation = (doc) =>
  fc.tuple(fuzzKey(), bsonValue(2)).map(([k, v]) => ({ doc: k in doc ? doc : { ...doc, [k]: v }, how: `add ${k}` }));

const typeSwap: Mutation = (doc) =>
  fc
    .tuple(
      fc.constantFrom(...keysOf(doc)),
      fc.oneof(oddString(), oddNumber(), fc.constantFrom<unknown>([], {}, null, true, [[]], [{}])),
    )
    .map(([k, v]) => ({ doc: { ...doc, [k]: v }, how: `swap ${k}` }));

const hugeArray: Mutation = (doc) =>
  fc.tuple(fc.constantFrom(...keysOf(doc)), fc.integer({ min: 100, max: 3000 })).map(([k, n]) => {
    const v: unknown = doc[k];
    const item: unknown = Array.isArray(v) && v.length > 0 ? (v as unknown[])[0] : v;
    return { doc: { ...doc, [k]: Array.from({ length: n }, () => item) }, how: `huge ${k}×${n}` };
  });

const deepNest: Mutation = (doc) =>
  fc
    .tuple(fc.constantFrom(...keysOf(doc)), fc.integer({ min: 20, max: 250 }), fc.boolean())
    .map(([k, d, arr]) => ({ doc: { ...doc, [k]: nest(doc[k], d, arr) }, how: `nest ${k}×${d}` }));

const MUTATIONS: readonly Mutation[] = [
  setField,
  setNested,
  setInArray,
  deleteField,
  addField,
  typeSwap,
  hugeArray,
  deepNest,
];

/**
 * Mutations of a valid command (one to three at a time).
 *
 * @example
 * fc.sample(mutatedCommand({ db: "admin", command: { killSessions: [] } }), 3).map((m) => m.how);
 */
export function mutatedCommand(t: CommandTemplate): fc.Arbitrary<{ doc: Document; how: string }> {
  const step = (d: { doc: Document; how: string }): fc.Arbitrary<{ doc: Document; how: string }> =>
    fc
      .constantFrom(...MUTATIONS)
      .chain((m) => m(d.doc).map((r) => ({ doc: r.doc, how: d.how === "" ? r.how : `${d.how}, ${r.how}` })));
  return fc.integer({ min: 1, max: 3 }).chain((n) => {
    let arb: fc.Arbitrary<{ doc: Document; how: string }> = fc.constant({ doc: t.command, how: "" });
    for (let i = 0; i < n; i++) arb = arb.chain(step);
    return arb;
  });
}

/**
 * Options of {@link fuzzCase}.
 *
 * @example
 * fuzzCase({ auth: false, templates: COMMAND_TEMPLATES.slice(0, 5) });
 */
export interface FuzzCaseOptions {
  readonly auth: boolean;
  readonly templates?: readonly CommandTemplate[];
}

/**
 * Fuzzed command documents: mutations of valid commands (wrong types, missing and extra fields,
 * huge arrays, deep nesting, NaN, negative numbers, Long extremes, strings where documents belong)
 * and random BSON-shaped documents under every command name, for every node role and user.
 *
 * @example
 * fc.sample(fuzzCase({ auth: false }), 3);
 */
export function fuzzCase(o: FuzzCaseOptions): fc.Arbitrary<FuzzCase> {
  const templates = o.templates ?? COMMAND_TEMPLATES;
  // Every command any role registers (names and aliases), besides the templates' own.
  const names = [
    ...new Set([
      ...templates.map((t) => Object.keys(t.command)[0]),
      ...ALL_COMMANDS.flatMap((d) => [d.name, ...(d.aliases ?? [])]),
    ]),
  ];
  const role = fc.constantFrom<FuzzRole>("mongos", "shard", "config");
  const user = fc.constantFrom<WorkloadUser>(
    ...(o.auth ? (["admin", "alice", undefined] as const) : ([undefined, "admin"] as const)),
  );
  const mutated = fc.constantFrom(...templates).chain((t) =>
    mutatedCommand(t).map(({ doc, how }) => ({
      db: t.db,
      command: doc,
      origin: `${Object.keys(t.command)[0]}: ${how}`,
    })),
  );
  const random = fc
    .tuple(
      fc.constantFrom(...names),
      bsonValue(2),
      bsonDocument(2),
      fc.constantFrom("admin", "test", "config", "local", "", "a.b", "$x"),
    )
    .map(([name, v, body, db]) => {
      const { [name]: _drop, ...rest } = body;
      return { db, command: { [name]: v, ...rest }, origin: `${name}: random` };
    });
  return fc
    .record({ role, user, body: fc.oneof({ arbitrary: mutated, weight: 4 }, { arbitrary: random, weight: 1 }) })
    .map(({ role: r, user: u, body }) => ({ role: r, user: u, ...body }));
}

/**
 * What broke for one fuzzed command.
 *
 * @example
 * for (const p of (await runFuzz({ count: 1000, seed: 1 })).problems) console.log(p.kind, p.message);
 */
export interface FuzzProblem {
  readonly kind: "rejected" | "malformed-reply" | "code-mismatch" | "invariant";
  readonly message: string;
  readonly case?: FuzzCase;
  readonly violation?: Violation;
}

const CODE_NAMES = new Map<number, string>(Object.entries(ErrorCodes).map(([name, code]) => [code as number, name]));

/**
 * Checks that a reply is MongoDB-shaped: `ok: 1`, or `ok: 0` with a numeric `code`, a string
 * `codeName` (MongoDB's name for that code when it has one) and a string `errmsg`. Returns a
 * description of what is wrong, or undefined.
 *
 * @example
 * replyShapeProblem({ ok: 0, code: 13, codeName: "Unauthorized", errmsg: "…" }); // undefined
 */
export function replyShapeProblem(
  reply: unknown,
): { kind: "malformed-reply" | "code-mismatch"; message: string } | undefined {
  if (reply === null || typeof reply !== "object" || Array.isArray(reply))
    return { kind: "malformed-reply", message: `reply is not a document: ${brief(reply)}` };
  const r = reply as Document;
  if (r.ok === 1) return undefined;
  if (r.ok !== 0) return { kind: "malformed-reply", message: `ok is ${brief(r.ok)}, not 1 or 0` };
  if (typeof r.code !== "number" || !Number.isInteger(r.code))
    return { kind: "malformed-reply", message: `error reply without a numeric code: ${brief(r)}` };
  if (typeof r.codeName !== "string" || r.codeName === "")
    return { kind: "malformed-reply", message: `error reply without a codeName: ${brief(r)}` };
  if (typeof r.errmsg !== "string")
    return { kind: "malformed-reply", message: `error reply without a string errmsg: ${brief(r)}` };
  const known = CODE_NAMES.get(r.code);
  if (known !== undefined && known !== r.codeName)
    return {
      kind: "code-mismatch",
      message: `code ${r.code} is ${known} in MongoDB's table, but the reply says ${r.codeName}`,
    };
  if (
    known === undefined &&
    r.codeName !== `Location${r.code}` &&
    ErrorCodes[r.codeName as keyof typeof ErrorCodes] !== undefined
  )
    return {
      kind: "code-mismatch",
      message: `codeName ${r.codeName} is code ${ErrorCodes[r.codeName as keyof typeof ErrorCodes]} in MongoDB's table, but the reply says ${r.code}`,
    };
  return undefined;
}

/**
 * Options of {@link runFuzz}.
 *
 * @example
 * await runFuzz({ count: 10_000, seed: 3, batch: 500, onProgress: (n) => process.stdout.write(`\r${n}`) });
 */
export interface FuzzOptions {
  /** Documents to try (split evenly between auth off and on). */
  readonly count: number;
  readonly seed: number;
  /** Fresh cluster every this many documents (default 250). */
  readonly batch?: number;
  /** Called after every document (for progress bars). */
  readonly onProgress?: (tried: number) => void;
  readonly templates?: readonly CommandTemplate[];
}

/**
 * The outcome of a fuzzing campaign.
 *
 * @example
 * const r: FuzzReport = await runFuzz({ count: 1000, seed: 1 });
 * console.log(`${r.tried} tried, ${r.problems.length} problems`);
 */
export interface FuzzReport {
  readonly tried: number;
  readonly byOrigin: Record<string, number>;
  readonly okReplies: number;
  readonly errorReplies: number;
  readonly networkErrors: number;
  readonly problems: readonly FuzzProblem[];
  /** Distinct error codeNames seen, with counts. */
  readonly codeNames: Record<string, number>;
}

/**
 * Runs fuzzed command documents against every node role, with and without auth, on fresh
 * clusters; checks that nothing escapes a node (no `node.bug`, `runCommand` only rejects with
 * NetworkError), that every reply is MongoDB-shaped, and that the safety invariants hold on the
 * trace afterwards.
 *
 * @example
 * const report = await runFuzz({ count: 1000, seed: 1 });
 * console.log(`${report.tried} documents, ${report.problems.length} problems`);
 */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const batch = o.batch ?? 250;
  const byOrigin: Record<string, number> = {};
  const codeNames: Record<string, number> = {};
  const problems: FuzzProblem[] = [];
  let tried = 0;
  let ok = 0;
  let errors = 0;
  let network = 0;
  const seen = new Set<string>();
  for (let b = 0; tried < o.count; b++) {
    const auth = b % 2 === 1;
    const n = Math.min(batch, o.count - tried);
    const cases = fc.sample(fuzzCase({ auth, ...(o.templates === undefined ? {} : { templates: o.templates }) }), {
      seed: o.seed + b,
      numRuns: n,
    });
    const cluster = await Cluster.start({
      seed: o.seed + b,
      shards: 2,
      mongos: 1,
      auth,
      users: Object.values(WORKLOAD_USERS),
      clientTimeoutMS: 10_000,
      parameters: { logicalSessionRefreshMillis: 60_000 },
    });
    const conns = new Map<string, ReturnType<Cluster["connect"]>>();
    const conn = (role: FuzzRole, user: WorkloadUser) => {
      const node = role === "mongos" ? cluster.mongos() : role === "shard" ? cluster.shard(0) : cluster.config();
      const k = `${node}/${user ?? ""}`;
      let c = conns.get(k);
      if (c === undefined)
        conns.set(k, (c = user === undefined ? cluster.connect(node) : cluster.connect(node, WORKLOAD_USERS[user])));
      return c;
    };
    const bugs: TraceEvent[] = [];
    cluster.on("node.bug", (e) => bugs.push(e));
    for (const c of cases) {
      tried++;
      const origin = c.origin.split(":")[0];
      byOrigin[origin] = (byOrigin[origin] ?? 0) + 1;
      let reply: unknown;
      try {
        reply = await conn(c.role, c.user).runCommand(c.db, c.command);
      } catch (e) {
        if (e instanceof NetworkError) {
          network++;
          o.onProgress?.(tried);
          continue;
        }
        const message = e instanceof Error ? e.message : String(e);
        // API misuse (a db that is not a string) is the caller's error, not the node's.
        if (e instanceof TypeError && typeof c.db !== "string") continue;
        problems.push({
          kind: "rejected",
          message: `runCommand rejected (${message}) for ${c.role} ${brief(c.command)}`,
          case: c,
        });
        o.onProgress?.(tried);
        continue;
      }
      const shape = replyShapeProblem(reply);
      if (shape !== undefined) {
        const key = `${shape.kind}:${origin}:${shape.message.slice(0, 60)}`;
        if (!seen.has(key)) {
          seen.add(key);
          problems.push({
            ...shape,
            message: `${shape.message} — ${c.role}${c.user === undefined ? "" : ` as ${c.user}`} ${c.db} ${brief(c.command, 300)}`,
            case: c,
          });
        }
      }
      const r = reply as Document;
      if (r.ok === 1) ok++;
      else {
        errors++;
        const name = String(r.codeName);
        codeNames[name] = (codeNames[name] ?? 0) + 1;
      }
      if (bugs.length > 0) {
        for (const bug of bugs.splice(0, bugs.length)) {
          const key = `bug:${bug.type === "node.bug" ? `${bug.command}:${bug.error.slice(0, 80)}` : ""}`;
          if (seen.has(key)) continue;
          seen.add(key);
          problems.push({
            kind: "invariant",
            message: `node.bug on ${bug.node}: ${bug.type === "node.bug" ? `${bug.command}: ${bug.error}` : ""} — after ${c.role}${c.user === undefined ? "" : ` as ${c.user}`} ${c.db} ${brief(c.command, 300)}`,
            case: c,
          });
        }
      }
      o.onProgress?.(tried);
    }
    // The invariants hold afterwards (after a refresh interval has passed).
    await cluster.advance(120_000);
    for (const v of checkTrace(
      cluster.trace(),
      invariantContext({
        auth,
        shards: 2,
        parameters: { logicalSessionRefreshMillis: 60_000 },
        observer: { user: "admin", db: "admin" },
      }),
    )) {
      if (v.invariant === "no-node-bug") continue;
      const key = `inv:${v.invariant}:${v.message.slice(0, 60)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push({ kind: "invariant", message: `${v.invariant}: ${v.message}`, violation: v });
    }
    await cluster.stop();
  }
  return { tried, byOrigin, okReplies: ok, errorReplies: errors, networkErrors: network, problems, codeNames };
}
