// The record store's `_id` index (open addressing with back-shift deletion) against a model:
// hashes are drawn from a small range so that chains, probe clusters and wrap-around all occur.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RecordStore, type RecordId } from "../src/storage/record-store.js";

/** A small deterministic generator (the test needs no library for this). */
function lcg(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % n;
  };
}

for (const hashRange of [3, 40, 1 << 30]) {
  void test(`inserts and removes agree with a model (hashes in [0, ${hashRange}))`, () => {
    const seed = 20261203 + hashRange;
    const rand = lcg(seed);
    const store = new RecordStore();
    const live = new Map<number, { rec: RecordId; hash: number }>(); // insertion order = natural order
    let next = 0;
    for (let step = 0; step < 5000; step++) {
      if (live.size === 0 || rand(3) > 0) {
        const id = next++;
        const hash = rand(hashRange);
        live.set(id, { rec: store.insert({ _id: id }, hash), hash });
      } else {
        const ids = [...live.keys()];
        const id = ids[rand(ids.length)];
        store.remove(live.get(id)!.rec);
        live.delete(id);
        assert.equal(store.get(id, rand(hashRange)), undefined, `seed ${seed}: removed ${id} still found`);
      }
      if (step % 50 === 0 || step === 4999) {
        assert.equal(store.size, live.size);
        for (const [id, { rec, hash }] of live) assert.equal(store.get(id, hash), rec, `seed ${seed}: lost ${id}`);
        assert.deepEqual(
          store.toArray().map((r) => store.doc(r)._id),
          [...live.keys()],
          `seed ${seed}: natural order`,
        );
      }
    }
    // Everything removed: the table is empty and still usable.
    for (const { rec } of live.values()) store.remove(rec);
    assert.equal(store.size, 0);
    assert.deepEqual(store.toArray(), []);
    const again = store.insert({ _id: "x" }, 7);
    assert.equal(store.get("x", 7), again);
  });
}
