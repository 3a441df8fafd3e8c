// Determinism of the public API (architecture.md, "Determinism"): the same scenario with the same
// seed gives the same trace and trace hash, in this process and in another one; different seeds
// give different traces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runScenario } from "./fixtures/determinism-scenario.js";

const fixture = fileURLToPath(new URL("./fixtures/determinism-scenario.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("..", import.meta.url));

void test("the scenario exercises commands, a sleep in flight, crash/restart and partition/heal", async () => {
  const cluster = await runScenario(42);
  const types = new Set<string>(cluster.trace().map((e) => e.type));
  for (const type of [
    "cmd.reply",
    "net.send",
    "net.deliver",
    "net.drop",
    "node.crash",
    "node.restart",
    "net.partition",
    "net.heal",
  ])
    assert.ok(types.has(type), `trace has ${type}`);
  const sleepReply = cluster.trace().find((e) => e.type === "cmd.reply" && e.command === "sleep");
  assert.ok(sleepReply !== undefined, "the sleep completed");
  assert.ok(sleepReply.time - cluster.trace()[0].time >= 60_000);
});

void test("the same seed gives equal traces and trace hashes", async () => {
  const a = await runScenario(42);
  const b = await runScenario(42);
  assert.equal(a.traceHash(), b.traceHash());
  assert.deepEqual(a.trace(), b.trace());
  assert.equal(JSON.stringify(a.trace()), JSON.stringify(b.trace()));
  assert.ok(a.trace().length > 30);
});

void test("different seeds give different trace hashes", async () => {
  const hashes = new Set<string>();
  for (const seed of [42, 43, "forty-two"]) hashes.add((await runScenario(seed)).traceHash());
  assert.equal(hashes.size, 3);
});

void test("the hash is equal across processes", async () => {
  const inProcess = (await runScenario(42)).traceHash();
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawnSync(process.execPath, ["--import", "tsx", fixture, "42"], {
    cwd: repoRoot,
    env,
    encoding: "utf8",
  });
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout.trim(), /^[0-9a-f]{64}$/);
  assert.equal(child.stdout.trim(), inProcess);

  const other = spawnSync(process.execPath, ["--import", "tsx", fixture, "43"], {
    cwd: repoRoot,
    env,
    encoding: "utf8",
  });
  assert.equal(other.status, 0, other.stderr);
  assert.notEqual(other.stdout.trim(), inProcess);
});
