// The deterministic stratified split and the duplicate removal, on synthetic items.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dedupeByText, fnv1a32, stratifiedSplit, TaskError } from "../../src/task/index.js";

test("FNV-1a 32 matches the published test vectors, over UTF-8 bytes", () => {
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
  // "é" is hashed as its UTF-8 bytes C3 A9, not as the UTF-16 unit E9.
  let h = 0x811c9dc5;
  for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  assert.equal(fnv1a32("é"), h);
});

interface Item {
  text: string;
  label: string;
}

function items(counts: Record<string, number>): Item[] {
  const out: Item[] = [];
  for (const [label, n] of Object.entries(counts)) for (let i = 0; i < n; i++) out.push({ text: `${label} message number ${i}`, label });
  return out;
}

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const texts = (list: readonly Item[]) => list.map((i) => i.text);

test("the split does not depend on the order of the input", () => {
  const all = items({ a: 97, b: 31, c: 5 });
  const first = stratifiedSplit(all, (i) => i.label);
  for (const seed of [1, 2, 3]) {
    const again = stratifiedSplit(shuffled(all, seed), (i) => i.label);
    assert.deepEqual(texts(again.train), texts(first.train));
    assert.deepEqual(texts(again.dev), texts(first.dev));
    assert.deepEqual(texts(again.test), texts(first.test));
  }
});

test("each stratum is split round(n·dev%) / round(n·test%) / the rest, and every item lands in exactly one split", () => {
  const counts = { a: 97, b: 31, c: 5, d: 1 };
  const all = items(counts);
  const s = stratifiedSplit(all, (i) => i.label, { dev: 10, test: 15 });
  for (const [label, n] of Object.entries(counts)) {
    const count = (list: Item[]) => list.filter((i) => i.label === label).length;
    const nDev = Math.round((n * 10) / 100);
    const nTest = Math.round((n * 15) / 100);
    assert.deepEqual([count(s.train), count(s.dev), count(s.test)], [n - nDev - nTest, nDev, nTest], label);
  }
  const seen = [...texts(s.train), ...texts(s.dev), ...texts(s.test)].sort();
  assert.deepEqual(seen, texts(all).sort());
});

test("within a stratum, train holds the lowest hashes, then dev, then test; each split is in hash order", () => {
  const s = stratifiedSplit(items({ a: 50 }), (i) => i.label);
  const hashes = (list: Item[]) => list.map((i) => fnv1a32(i.text));
  for (const list of [s.train, s.dev, s.test]) assert.deepEqual(hashes(list), [...hashes(list)].sort((x, y) => x - y));
  assert.ok(Math.max(...hashes(s.train)) <= Math.min(...hashes(s.dev)));
  assert.ok(Math.max(...hashes(s.dev)) <= Math.min(...hashes(s.test)));
});

test("percentages must be integers in 0…100 that leave room for train", () => {
  const all = items({ a: 10 });
  for (const percents of [{ dev: 10.5 }, { test: -1 }, { dev: 101 }, { dev: 60, test: 50 }]) {
    assert.throws(() => stratifiedSplit(all, (i) => i.label, percents), (e: unknown) => e instanceof TaskError && e.code === "OPTION_INVALID");
  }
  const none = stratifiedSplit(all, (i) => i.label, { dev: 0, test: 0 });
  assert.equal(none.train.length, 10);
});

test("dedupe keeps the first copy of each text; copies that disagree on the stratum are all dropped", () => {
  const list = [
    { text: "x", label: "ham", n: 1 },
    { text: "y", label: "spam", n: 2 },
    { text: "x", label: "ham", n: 3 },
    { text: "z", label: "ham", n: 4 },
    { text: "z", label: "spam", n: 5 },
    { text: "x", label: "ham", n: 6 },
  ];
  const d = dedupeByText(list, (i) => i.label);
  assert.deepEqual(
    d.kept.map((i) => i.n),
    [1, 2],
  );
  assert.equal(d.duplicates, 2);
  assert.equal(d.conflicting, 2);
});
