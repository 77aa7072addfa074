/**
 * longest_first truncation as HF's Rust `tokenizers` (0.23) does it for
 * BertTokenizerFast, in two steps:
 *
 * 1. While a sequence is being tokenized, words stop being added once it has
 *    at least `maxLength` tokens (the whole max length, special tokens not
 *    subtracted); the word that crosses the line is kept whole. This is a
 *    speed cut in the Rust code, but it decides which sequence counts as the
 *    longer one below when both run past maxLength. (Older releases, which
 *    tokenize everything first, can give the odd token to the other sequence
 *    in that case; nothing else differs.) Measured against the oracle, not
 *    read from its source: see tests/fixtures/tokenizer.
 * 2. `longestFirstLengths` below, on the lengths from step 1, with the budget
 *    maxLength minus the special tokens.
 */

/**
 * How many content tokens of each sequence survive (TruncationStrategy::
 * LongestFirst). Unlike the slow Python tokenizer, which removes one token at
 * a time from the longer side, the fast one computes the lengths directly: if
 * the shorter sequence fits in half the budget it is kept whole and the longer
 * one gets the rest; otherwise each gets half, the odd token going to the
 * longer one (to the second when they are equally long).
 */
export function longestFirstLengths(lengthA: number, lengthB: number | undefined, budget: number): [number, number] {
  if (lengthB === undefined) return [Math.min(lengthA, budget), 0];
  if (lengthA + lengthB <= budget) return [lengthA, lengthB];
  const swap = lengthA > lengthB;
  const shorter = swap ? lengthB : lengthA;
  let keepShorter = shorter;
  // When even the shorter one exceeds the budget, both end up at half of it below.
  let keepLonger = shorter > budget ? shorter : Math.max(shorter, budget - shorter);
  if (keepShorter + keepLonger > budget) {
    keepShorter = Math.floor(budget / 2);
    keepLonger = keepShorter + (budget % 2);
  }
  return swap ? [keepLonger, keepShorter] : [keepShorter, keepLonger];
}
