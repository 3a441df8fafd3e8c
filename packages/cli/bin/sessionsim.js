#!/usr/bin/env node
// The `sessionsim` command. A committed file, so that `pnpm install` can link it before the
// command line is built (a bin pointing into dist/ does not exist yet on a fresh clone).
try {
  await import("../dist/main.js");
} catch (e) {
  if (e?.code !== "ERR_MODULE_NOT_FOUND" || !String(e.url ?? "").endsWith("/dist/main.js")) throw e;
  console.error("sessionsim: error: the command line is not built yet; run `pnpm -s build` in the repository");
  process.exitCode = 2;
}
