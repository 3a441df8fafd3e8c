// The repository's ESLint config (eslint.config.js) enforces the determinism bans in the
// simulation packages and the one-direction layering (architecture.md, "Determinism" and
// "Layers"; issue 2 §1). Each snippet is linted through ESLint's Node API as if it were a file of
// the named package: every banned form must be reported, every allowed form must not.
//
// Type information is switched off for these snippets (the files do not exist, so no TypeScript
// project contains them); none of the bans is a typed rule, so the config under test is the real one.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint, type Linter } from "eslint";
import tseslint from "typescript-eslint";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const eslint = new ESLint({
  cwd: root,
  overrideConfig: tseslint.configs.disableTypeChecked as Linter.Config,
});

const BAN_RULES = new Set([
  "no-restricted-syntax",
  "no-restricted-imports",
  "no-restricted-properties",
  "no-restricted-globals",
]);

/** The ban reports for `code` linted as `filePath` (fails on parse errors). */
async function bans(code: string, filePath: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const fatal = result.messages.filter((m) => m.fatal === true);
  assert.deepEqual(fatal, [], `parse error in ${JSON.stringify(code)}`);
  return result.messages.filter((m) => m.ruleId !== null && BAN_RULES.has(m.ruleId));
}

const SIMULATION = ["kernel", "server", "sessionsim", "testing"];

/** Forms that read real time, schedule outside the virtual scheduler, or draw real randomness. */
const BANNED: Record<string, string> = {
  "Math.random": "export const x = Math.random();",
  "Date.now": "export const x = Date.now();",
  "new Date()": "export const x = new Date();",
  "Date()": "export const x = Date();",
  "performance.now": "export const x = performance.now();",
  "globalThis.performance.now": "export const x = globalThis.performance.now();",
  "globalThis.Date.now": "export const x = globalThis.Date.now();",
  "new globalThis.Date()": "export const x = new globalThis.Date();",
  "globalThis.Math.random": "export const x = globalThis.Math.random();",
  "process.hrtime": "export const x = process.hrtime.bigint();",
  setTimeout: "setTimeout(() => {}, 1);",
  setInterval: "setInterval(() => {}, 1);",
  setImmediate: "setImmediate(() => {});",
  queueMicrotask: "queueMicrotask(() => {});",
  "process.nextTick": "process.nextTick(() => {});",
  "globalThis.setTimeout": "globalThis.setTimeout(() => {}, 1);",
  "globalThis.setInterval": "globalThis.setInterval(() => {}, 1);",
  "globalThis.setImmediate": "globalThis.setImmediate(() => {});",
  "globalThis.queueMicrotask": "globalThis.queueMicrotask(() => {});",
  "global.setTimeout": "global.setTimeout(() => {}, 1);",
  "destructured from globalThis": "const { setTimeout: later } = globalThis;\nlater(() => {}, 1);",
  "node:timers": 'import { setTimeout as later } from "node:timers";\nlater(() => {}, 1);',
  "node:timers/promises": 'import { setTimeout as sleep } from "node:timers/promises";\nawait sleep(1);',
  "node:perf_hooks": 'import { performance as p } from "node:perf_hooks";\nexport const x = p.now();',
  "default crypto.randomInt": 'import crypto from "node:crypto";\nexport const x = crypto.randomInt(10);',
  "default crypto.randomFillSync":
    'import crypto from "node:crypto";\nexport const x = crypto.randomFillSync(new Uint8Array(4));',
  "default crypto.randomUUID": 'import crypto from "node:crypto";\nexport const x = crypto.randomUUID();',
  "default crypto.randomBytes": 'import crypto from "crypto";\nexport const x = crypto.randomBytes(4);',
  "default crypto destructured": 'import crypto from "node:crypto";\nconst { randomBytes } = crypto;\nrandomBytes(4);',
  "default import renamed": 'import nc from "node:crypto";\nexport const x = nc.randomInt(10);',
  "default import as named default": 'import { default as nc } from "node:crypto";\nexport const x = nc.randomInt(10);',
  "namespace nc.randomBytes": 'import * as nc from "node:crypto";\nexport const x = nc.randomBytes(4);',
  "named randomBytes": 'import { randomBytes } from "node:crypto";\nexport const x = randomBytes(4);',
  "named randomInt (bare crypto)": 'import { randomInt } from "crypto";\nexport const x = randomInt(4);',
  "named randomUUID renamed": 'import { randomUUID as id } from "node:crypto";\nexport const x = id();',
  "re-exported randomBytes": 'export { randomBytes } from "node:crypto";',
  "webcrypto.getRandomValues":
    'import { webcrypto } from "node:crypto";\nexport const x = webcrypto.getRandomValues(new Uint8Array(4));',
  "global crypto.getRandomValues": "export const x = crypto.getRandomValues(new Uint8Array(4));",
  "global crypto.randomUUID": "export const x = crypto.randomUUID();",
  "global crypto aliased": "const c = crypto;\nexport const x = c.randomUUID();",
  "globalThis.crypto.randomUUID": "export const x = globalThis.crypto.randomUUID();",
  "globalThis.crypto.getRandomValues": "export const x = globalThis.crypto.getRandomValues(new Uint8Array(4));",
  "dynamic import of node:crypto": 'const nc = await import("node:crypto");\nexport const x = nc.randomBytes(4);',
  "dynamic import, computed specifier":
    'const name = "node:" + "crypto";\nexport const m: unknown = await import(name);',
  "bson new UUID()": 'import { UUID } from "bson";\nexport const x = new UUID();',
  "bson new ObjectId()": 'import { ObjectId } from "bson";\nexport const x = new ObjectId();',
};

/** Code the simulation packages legitimately contain, or may. */
const ALLOWED: Record<string, string> = {
  "named createHash (kernel's trace hash)":
    'import { createHash } from "node:crypto";\nexport const h = createHash("sha256").update("x").digest("hex");',
  "default crypto.createHash": 'import crypto from "node:crypto";\nexport const h = crypto.createHash("sha256");',
  "createHmac and timingSafeEqual":
    'import { createHmac, timingSafeEqual } from "node:crypto";\nexport const h = createHmac("sha256", "k");\nexport const eq = timingSafeEqual;',
  "seeded bson UUID": 'import { UUID } from "bson";\nexport const x = new UUID(new Uint8Array(16));',
  "Date with a value": "export const x = new Date(0);\nexport const y = Date.UTC(2026, 0, 1);",
  "a method called setTimeout on a kernel object":
    "export function f(k: { setTimeout(ms: number): void }): void {\n  k.setTimeout(1);\n}",
  "a local named random": "export function f(rng: { random(): number }): number {\n  return rng.random();\n}",
};

void describe("determinism bans in the simulation packages", () => {
  for (const [name, code] of Object.entries(BANNED))
    void test(`bans ${name}`, async () => {
      const found = await bans(code, "packages/kernel/src/x.ts");
      assert.ok(found.length > 0, `${JSON.stringify(code)} is not reported`);
    });

  for (const pkg of SIMULATION)
    void test(`applies in ${pkg}`, async () => {
      for (const name of ["globalThis.setTimeout", "namespace nc.randomBytes", "global crypto.randomUUID"])
        assert.ok((await bans(BANNED[name], `packages/${pkg}/src/deep/x.ts`)).length > 0, `${name} in ${pkg}`);
    });

  for (const [name, code] of Object.entries(ALLOWED))
    void test(`allows ${name}`, async () => {
      assert.deepEqual(
        (await bans(code, "packages/kernel/src/x.ts")).map((m) => m.message),
        [],
        JSON.stringify(code),
      );
    });

  void test("cli and report may read wall clocks and use real timers", async () => {
    const code = "export const t = Date.now();\nexport const d = new Date();\nsetTimeout(() => {}, performance.now());";
    for (const file of ["packages/cli/src/x.ts", "packages/report/src/x.ts", "scripts/x.ts", "test/x.test.ts"])
      assert.deepEqual(await bans(code, file), [], file);
  });
});

void describe("layering", () => {
  const upward: [string, string][] = [
    ["kernel", "@sessionsim/server"],
    ["kernel", "sessionsim"],
    ["server", "sessionsim"],
    ["sessionsim", "@sessionsim/testing"],
    ["testing", "@sessionsim/cli"],
    ["report", "@sessionsim/testing"],
  ];
  for (const [pkg, dep] of upward)
    void test(`${pkg} may not depend on ${dep} in any form`, async () => {
      const forms = [
        `import { x } from "${dep}";\nexport const y = x;`,
        `import type { X } from "${dep}";\nexport type Y = X;`,
        `export * from "${dep}";`,
        `export const m: unknown = await import("${dep}");`,
        `export type M = typeof import("${dep}");`,
        `import m = require("${dep}");\nexport const y = m;`,
      ];
      for (const code of forms)
        assert.ok((await bans(code, `packages/${pkg}/src/x.ts`)).length > 0, `${JSON.stringify(code)} in ${pkg}`);
    });

  void test("a dependency on a lower layer is allowed, also dynamically", async () => {
    const cases: [string, string][] = [
      ["server", "@sessionsim/kernel"],
      ["sessionsim", "@sessionsim/server"],
      ["testing", "sessionsim"],
      ["cli", "@sessionsim/report"],
      ["cli", "@sessionsim/testing"],
    ];
    for (const [pkg, dep] of cases) {
      const code = `import type { X } from "${dep}";\nexport type Y = X;\nexport const m: unknown = await import("${dep}");`;
      assert.deepEqual(await bans(code, `packages/${pkg}/src/x.ts`), [], `${dep} from ${pkg}`);
    }
  });

  void test("no deep imports", async () => {
    const found = await bans(
      'export const m: unknown = await import("@sessionsim/server/dist/x.js");',
      "packages/kernel/src/x.ts",
    );
    assert.ok(found.length > 0);
    assert.ok(
      (await bans('import { x } from "@sessionsim/kernel/dist/x.js";\nexport const y = x;', "packages/server/src/x.ts"))
        .length > 0,
    );
  });
});
