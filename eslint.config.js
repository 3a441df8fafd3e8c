// ESLint flat config: typed rules, the determinism bans in the simulation packages, and the
// one-direction layering kernel <- server <- sessionsim <- testing, cli, report.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const SIMULATION = ["kernel", "server", "sessionsim", "testing"].map((p) => `packages/${p}/src/**/*.ts`);

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

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "docs/**", "out/**", ".scratch/**", "sweep-out/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
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
      "no-restricted-syntax": [
        "error",
        { selector: "TSEnumDeclaration", message: "Use a frozen `as const` object and a derived union type." },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: SIMULATION,
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: determinismMessage },
        { object: "Date", property: "now", message: determinismMessage },
        { object: "performance", property: "now", message: determinismMessage },
        { object: "crypto", property: "randomUUID", message: determinismMessage },
        { object: "crypto", property: "getRandomValues", message: determinismMessage },
        { object: "crypto", property: "randomBytes", message: determinismMessage },
      ],
      "no-restricted-globals": [
        "error",
        { name: "setTimeout", message: determinismMessage },
        { name: "setInterval", message: determinismMessage },
        { name: "setImmediate", message: determinismMessage },
        { name: "performance", message: determinismMessage },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: determinismMessage },
        { selector: "TSEnumDeclaration", message: "Use a frozen `as const` object and a derived union type." },
        {
          selector: "ImportDeclaration[source.value=/^(node:)?crypto$/] ImportSpecifier[imported.name=/^random/]",
          message: determinismMessage,
        },
      ],
    },
  },
  ...Object.entries(LAYERS).map(([pkg, banned]) => ({
    files: [`packages/${pkg}/src/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: banned.map((name) => ({
            name,
            message: `Layering: ${pkg} may not depend on ${name} (kernel <- server <- sessionsim <- testing, cli, report).`,
          })),
          patterns: [
            { group: ["@sessionsim/*/*", "sessionsim/*"], message: "No deep imports: use the package's exports." },
          ],
        },
      ],
    },
  })),
);
