// ESLint flat config: typed rules, the determinism bans in the simulation packages, and the
// one-direction layering kernel <- server <- sessionsim <- testing, cli, report.
//
// Flat config replaces (does not merge) a rule's options when a later block sets the same rule, so
// each package's `no-restricted-syntax` and `no-restricted-imports` are built once below from the
// shared pieces. test/lint-bans.test.ts checks every ban (and the allowed forms) through ESLint's API.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Packages whose code runs inside the simulation: virtual time and seeded random streams only. */
const SIMULATION = new Set(["kernel", "server", "sessionsim", "testing"]);

/** What each package may not import (the layers above it). */
const LAYERS = {
  kernel: ["@sessionsim/server", "sessionsim", "@sessionsim/testing", "@sessionsim/cli", "@sessionsim/report"],
  server: ["sessionsim", "@sessionsim/testing", "@sessionsim/cli", "@sessionsim/report"],
  sessionsim: ["@sessionsim/testing", "@sessionsim/cli", "@sessionsim/report"],
  testing: ["@sessionsim/cli", "@sessionsim/report"],
  report: ["@sessionsim/cli", "@sessionsim/testing"],
  cli: [],
};

const determinismMessage =
  "Simulation code must use virtual time and seeded random streams (architecture.md, Determinism).";
const enumBan = { selector: "TSEnumDeclaration", message: "Use a frozen `as const` object and a derived union type." };

/** node:crypto's exports that draw randomness (createHash, createHmac, timingSafeEqual... stay allowed). */
const CRYPTO_RANDOMNESS = [
  "randomBytes",
  "randomFill",
  "randomFillSync",
  "randomInt",
  "randomUUID",
  "getRandomValues",
  "pseudoRandomBytes",
  "prng",
  "rng",
  "webcrypto",
  "subtle",
  "generateKey",
  "generateKeySync",
  "generateKeyPair",
  "generateKeyPairSync",
  "generatePrime",
  "generatePrimeSync",
];
/** Globals that read the wall clock, schedule outside the virtual scheduler, or draw randomness. */
const REAL_WORLD_GLOBALS = ["setTimeout", "setInterval", "setImmediate", "queueMicrotask", "performance", "crypto"];
/** Modules that are nothing but real timers and clocks. */
const REAL_TIME_MODULES = ["timers", "timers/promises", "perf_hooks"].flatMap((m) => [m, `node:${m}`]);

/** esquery regexes cannot contain "/": write it as \x2F. */
const rx = (s) => s.replaceAll("/", "\\x2F");
/** A regex (for a selector) matching exactly these module names, or deep paths under them. */
const modulesRegex = (names) =>
  `/^(${names.map((n) => rx(n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("|")})(\\x2F.*)?$/`;
const CRYPTO_MODULE = "/^(node:)?crypto$/";

/** Selectors for every way a module can be named outside an import/export declaration. */
function moduleReferenceSelectors(regex, message) {
  return [
    `ImportExpression[source.value=${regex}]`,
    `TSImportType[source.value=${regex}]`,
    `TSExternalModuleReference[expression.value=${regex}]`,
    `CallExpression[callee.name='require'][arguments.0.value=${regex}]`,
  ].map((selector) => ({ selector, message }));
}

const determinismSyntax = [
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: determinismMessage },
  { selector: "CallExpression[callee.name='Date']", message: determinismMessage },
  // globalThis.Date.now(), new globalThis.Date(), globalThis.Math.random()
  {
    selector:
      "MemberExpression[object.type='MemberExpression'][object.object.name=/^(globalThis|global)$/][object.property.name=/^(Date|Math)$/][property.name=/^(now|random)$/]",
    message: determinismMessage,
  },
  {
    selector:
      "NewExpression[arguments.length=0][callee.type='MemberExpression'][callee.object.name=/^(globalThis|global)$/][callee.property.name='Date']",
    message: determinismMessage,
  },
  // bson's UUID and ObjectId draw from crypto when built without a value.
  { selector: "NewExpression[callee.name=/^(UUID|ObjectId)$/][arguments.length=0]", message: determinismMessage },
  // A default import of node:crypto is checked by the `crypto.<name>` property bans, so it must be called crypto.
  {
    selector: `ImportDeclaration[source.value=${CRYPTO_MODULE}] > :matches(ImportDefaultSpecifier, ImportSpecifier[imported.name='default'])[local.name!='crypto']`,
    message: `Import node:crypto's functions by name (e.g. { createHash }), or its default export as \`crypto\`: ${determinismMessage}`,
  },
  ...moduleReferenceSelectors(modulesRegex(["crypto", "node:crypto", ...REAL_TIME_MODULES]), determinismMessage),
  {
    selector: "ImportExpression[source.type!='Literal']",
    message: "Dynamic import with a computed specifier: lint cannot check its layering or determinism.",
  },
];

const determinismRules = {
  "no-restricted-properties": [
    "error",
    ...[
      ["Math", "random"],
      ["Date", "now"],
      ["performance", "now"],
      ["process", "hrtime"],
      ["process", "uptime"],
      ["process", "nextTick"],
      ...["crypto", "webcrypto"].flatMap((object) => CRYPTO_RANDOMNESS.map((property) => [object, property])),
      ...["globalThis", "global"].flatMap((object) => REAL_WORLD_GLOBALS.map((property) => [object, property])),
    ].map(([object, property]) => ({ object, property, message: determinismMessage })),
  ],
  "no-restricted-globals": ["error", ...REAL_WORLD_GLOBALS.map((name) => ({ name, message: determinismMessage }))],
};

/** The rules of one package's sources: layering for all, determinism for the simulation packages. */
function packageRules(pkg, banned) {
  const simulation = SIMULATION.has(pkg);
  const layering = `Layering: ${pkg} may not depend on the layers above it (kernel <- server <- sessionsim <- testing, cli, report).`;
  return {
    ...(simulation ? determinismRules : {}),
    "no-restricted-syntax": [
      "error",
      enumBan,
      ...(simulation ? determinismSyntax : []),
      ...(banned.length === 0 ? [] : moduleReferenceSelectors(modulesRegex(banned), layering)),
    ],
    "no-restricted-imports": [
      "error",
      {
        paths: [
          ...banned.map((name) => ({
            name,
            message: `Layering: ${pkg} may not depend on ${name} (kernel <- server <- sessionsim <- testing, cli, report).`,
          })),
          ...(simulation
            ? [
                ...["crypto", "node:crypto"].map((name) => ({
                  name,
                  importNames: CRYPTO_RANDOMNESS,
                  message: `Import only node:crypto's deterministic functions, by name (e.g. { createHash }). ${determinismMessage}`,
                })),
                ...REAL_TIME_MODULES.map((name) => ({ name, message: determinismMessage })),
              ]
            : []),
        ],
        patterns: [
          { group: ["@sessionsim/*/*", "sessionsim/*"], message: "No deep imports: use the package's exports." },
        ],
      },
    ],
  };
}

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "docs/**", "out/**", ".scratch/**", "sweep-out/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The packages' own projects, and test/tsconfig.json for test/, scripts/ and packages/*/test.
        project: ["./packages/*/tsconfig.json", "./test/tsconfig.json"],
        tsconfigRootDir: import.meta.dirname,
      },
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        globalThis: "readonly",
        performance: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/restrict-template-expressions": "off",
      "@typescript-eslint/no-base-to-string": "off",
      "no-restricted-syntax": ["error", enumBan],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  ...Object.entries(LAYERS).map(([pkg, banned]) => ({
    files: [`packages/${pkg}/src/**/*.ts`],
    rules: packageRules(pkg, banned),
  })),
);
