/**
 * Micro-benchmark of the storage layer's hot path (not a test): the session cache refresh
 * upserts every live session into `config.system.sessions` by `_id` with a pipeline update. The
 * statements are the refresh's own: a frozen lsid as `_id` (stored shared, not copied) and one
 * frozen pipeline for all of them (parsed once), so this times the upserts, not their parsing.
 *
 * Run: `node --expose-gc --import tsx packages/server/test/storage.bench.ts [count]`
 * Prints the total and per-upsert time for N distinct lsids, a second pass over the same lsids
 * (the steady-state refresh: every update matches), the heap bytes per stored document, and a
 * calibration figure (N trivial `Map.set`s) to compare machines.
 */
import { Binary, UUID } from "bson";
import { Collection, freezePipeline } from "../src/storage/index.js";

const N = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;

function lsid(i: number): Readonly<{ id: UUID; uid: Binary }> {
  const id = new Uint8Array(16);
  new DataView(id.buffer).setUint32(0, i);
  id[6] = 0x40;
  id[8] = 0x80;
  const uid = new Uint8Array(32);
  new DataView(uid.buffer).setUint32(28, i % 97);
  return Object.freeze({ id: new UUID(id), uid: new Binary(uid, 0) });
}

const ids = Array.from({ length: N }, (_, i) => lsid(i));
const now = new Date(1_700_000_000_000);
const refreshUpdate = freezePipeline([{ $set: { lastUse: "$$NOW" } }, { $set: { user: { name: "alice@test" } } }]);
const coll = new Collection("config.system.sessions");
coll.createIndex({ key: { lastUse: 1 }, name: "lsidTTLIndex", expireAfterSeconds: 1800 });

gc?.();
const heapBefore = process.memoryUsage().heapUsed;

function pass(): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    coll.update({ _id: ids[i] }, refreshUpdate, { upsert: true, now });
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const insertMs = pass();
gc?.();
const heapAfter = process.memoryUsage().heapUsed;
const refreshMs = pass();

// Calibration: what this machine takes for N trivial string-keyed Map inserts.
const t0 = process.hrtime.bigint();
const m = new Map<string, { i: number }>();
for (let i = 0; i < N; i++) m.set("k" + i, { i });
const calibrationMs = Number(process.hrtime.bigint() - t0) / 1e6;

const perOp = (ms: number): string => `${((ms * 1e6) / N).toFixed(0)} ns/op`;
console.log(`calibration: ${N} x Map.set("k" + i, {i}): ${calibrationMs.toFixed(0)} ms (${perOp(calibrationMs)})`);
console.log(`upsert-insert ${N} lsids: ${insertMs.toFixed(0)} ms (${perOp(insertMs)})`);
console.log(`upsert-refresh ${N} lsids: ${refreshMs.toFixed(0)} ms (${perOp(refreshMs)})`);
console.log(
  gc
    ? `heap per stored doc: ${((heapAfter - heapBefore) / N).toFixed(0)} bytes (${coll.size} docs)`
    : "heap per stored doc: run with --expose-gc",
);
