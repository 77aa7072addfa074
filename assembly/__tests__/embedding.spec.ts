/// <reference types="@as-pect/assembly/types/as-pect" />
import { embedding_forward } from "../embedding";
import { Rng, SENTINEL, filledF32, randomF32, refEmbedding } from "./reference_ops";

const GUARD = 8;

function randomIds(rng: Rng, n: i32, limit: i32): Int32Array {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = rng.below(limit);
  return ids;
}

/**
 * Runs the kernel and demands bit equality with the f32 reference: the sum is elementwise
 * with a fixed order, so there is exactly one right answer per element.
 */
function checkEmbedding(rng: Rng, batch: i32, seq: i32, dim: i32, vocab: i32, types: i32, withTypeIds: bool): void {
  const word = randomF32(rng, vocab * dim, -1.0, 1.0);
  const pos = randomF32(rng, (seq + 3) * dim, -1.0, 1.0); // more positions than used, as in BERT
  const type = randomF32(rng, types * dim, -1.0, 1.0);
  const ids = randomIds(rng, batch * seq, vocab);
  const typeIds = withTypeIds ? randomIds(rng, batch * seq, types) : null;
  const out = filledF32(batch * seq * dim + GUARD, SENTINEL);
  embedding_forward(
    out.dataStart, ids.dataStart, typeIds != null ? typeIds.dataStart : 0,
    word.dataStart, pos.dataStart, type.dataStart, batch, seq, dim,
  );
  const expected = refEmbedding(ids, typeIds, word, pos, type, batch, seq, dim);
  let mismatches = 0;
  for (let i = 0; i < batch * seq * dim; i++) if (reinterpret<u32>(out[i]) != reinterpret<u32>(expected[i])) mismatches++;
  expect<i32>(mismatches).toBe(0, "elements differing from (word + type) + pos");
  for (let g = 0; g < GUARD; g++) expect<f32>(out[batch * seq * dim + g]).toBe(SENTINEL, "wrote past out");
}

describe("embedding_forward", () => {
  it("sums word, token type and position rows: batch 2, seq 7, dim 13", () => {
    checkEmbedding(new Rng(31), 2, 7, 13, 50, 3, true);
  });

  it("uses type 0 for every token when typeIds is 0", () => {
    checkEmbedding(new Rng(32), 2, 5, 10, 20, 2, false);
  });

  it("handles every dim from 1 to 9, seq 1 and seq 129", () => {
    const rng = new Rng(33);
    for (let dim = 1; dim <= 9; dim++) checkEmbedding(rng, 2, 3, dim, 11, 2, true);
    checkEmbedding(rng, 1, 1, 768, 30, 2, true);
    checkEmbedding(rng, 2, 129, 12, 40, 2, true);
  });

  it("adds in HuggingFace's order, (word + type) + pos, which f32 rounding can tell apart", () => {
    // 1 + 2^-24 rounds to 1 (ties to even), so (1 + 2^-24) + 2^-24 = 1 while 1 + (2^-24 + 2^-24) > 1.
    const tiny: f32 = 5.9604644775390625e-8;
    const word = filledF32(5, 1.0);
    const type = filledF32(5, tiny);
    const pos = filledF32(5, tiny);
    const ids = new Int32Array(1);
    const out = new Float32Array(5);
    embedding_forward(out.dataStart, ids.dataStart, 0, word.dataStart, pos.dataStart, type.dataStart, 1, 1, 5);
    for (let t = 0; t < 5; t++) expect<f32>(out[t]).toBe(1.0);
  });
});
