// longest_first lengths (HF Rust): properties that must hold for every input,
// and the cases that tell it apart from the slow Python one-token-at-a-time loop.
import assert from "node:assert/strict";
import { test } from "node:test";
import { longestFirstLengths } from "../../src/tokenizer/truncation.js";

/** The slow Python tokenizer's loop: drop one token from the longer side, the second on a tie. */
function pythonLoop(a: number, b: number, budget: number): [number, number] {
  while (a + b > budget) {
    if (a > b) a--;
    else b--;
  }
  return [a, b];
}

test("for every pair of lengths the result fits the budget, cuts only what it must, never grows a side", () => {
  for (let budget = 0; budget <= 20; budget++) {
    for (let a = 0; a <= 25; a++) {
      for (let b = 0; b <= 25; b++) {
        const [ka, kb] = longestFirstLengths(a, b, budget);
        const label = `a=${a} b=${b} budget=${budget}`;
        assert.ok(ka <= a && kb <= b && ka >= 0 && kb >= 0, label);
        assert.equal(ka + kb, Math.min(a + b, budget), label);
        // A side no longer than half the budget is never cut.
        if (a <= budget / 2) assert.equal(ka, a, label);
        if (b <= budget / 2) assert.equal(kb, b, label);
      }
    }
  }
});

test("when both sides are cut they get half each, the odd token to the longer (the second on a tie)", () => {
  assert.deepEqual(longestFirstLengths(10, 8, 7), [4, 3]);
  assert.deepEqual(longestFirstLengths(8, 10, 7), [3, 4]);
  assert.deepEqual(longestFirstLengths(9, 9, 7), [3, 4]);
  assert.deepEqual(longestFirstLengths(9, 9, 6), [3, 3]);
});

test("it agrees with the slow loop on totals but not always on the split", () => {
  let differences = 0;
  for (let a = 0; a <= 12; a++) {
    for (let b = 0; b <= 12; b++) {
      const fast = longestFirstLengths(a, b, 7);
      const slow = pythonLoop(a, b, 7);
      assert.equal(fast[0] + fast[1], slow[0] + slow[1]);
      if (fast[0] !== slow[0]) differences++;
    }
  }
  // e.g. (8, 10): the loop ends on a tie it breaks against the second → [4, 3]; the fast one gives the longer the odd token.
  assert.deepEqual(pythonLoop(8, 10, 7), [4, 3]);
  assert.deepEqual(longestFirstLengths(8, 10, 7), [3, 4]);
  assert.ok(differences > 0);
});

test("a single sequence keeps min(length, budget)", () => {
  assert.deepEqual(longestFirstLengths(10, undefined, 4), [4, 0]);
  assert.deepEqual(longestFirstLengths(3, undefined, 4), [3, 0]);
});
