/// <reference types="@as-pect/assembly/types/as-pect" />
import { embedding_backward, embedding_forward } from "../embedding";
import { FD_STEP, Rng, SENTINEL, dotF64, filledF32, randomF32, refEmbedding, refEmbeddingF64, toF64 } from "./reference_ops";

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

/** Inputs of the f64 loss Σ dOut·embedding(word, pos, type), which embedding_backward differentiates. */
class EmbeddingLoss {
  ids: Int32Array = new Int32Array(0);
  typeIds: Int32Array | null = null;
  word: Float64Array = new Float64Array(0);
  pos: Float64Array = new Float64Array(0);
  type: Float64Array = new Float64Array(0);
  dOut: Float64Array = new Float64Array(0);
  batch: i32 = 0;
  seq: i32 = 0;
  dim: i32 = 0;

  value(): f64 {
    return dotF64(refEmbeddingF64(this.ids, this.typeIds, this.word, this.pos, this.type, this.batch, this.seq, this.dim), this.dOut);
  }

  slope(param: Float64Array, i: i32): f64 {
    const saved = param[i];
    param[i] = saved + FD_STEP;
    const up = this.value();
    param[i] = saved - FD_STEP;
    const down = this.value();
    param[i] = saved;
    return (up - down) / (2.0 * FD_STEP);
  }
}

/**
 * Checks `got - start` (the accumulated gradient) against central differences for every
 * element of `param`, except rows listed in `frozenRow` (the padding row), which must be
 * left exactly as they started. The sums are of at most batch·seq f32 terms of size 1,
 * so 1e-5 absolute covers their rounding; a missed or doubled token is off by ~0.5.
 */
function checkAccumulated(name: string, got: Float32Array, start: Float32Array, param: Float64Array, loss: EmbeddingLoss, frozenRow: i32): void {
  let worst = 0.0;
  for (let i = 0; i < param.length; i++) {
    if (i / loss.dim == frozenRow) {
      expect<f32>(got[i]).toBe(start[i], name + ": the padding row got a gradient");
      continue;
    }
    worst = max<f64>(worst, Math.abs(<f64>got[i] - <f64>start[i] - loss.slope(param, i)));
  }
  expect<f64>(worst).toBeLessThanOrEqual(1e-5, name + ": worst |error|");
  for (let g = 0; g < GUARD; g++) expect<f32>(got[param.length + g]).toBe(SENTINEL, name + ": wrote past the end");
}

function copyWithGuard(a: Float32Array): Float32Array {
  const out = filledF32(a.length + GUARD, SENTINEL);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

function checkEmbeddingBackward(rng: Rng, batch: i32, seq: i32, dim: i32, vocab: i32, types: i32, withTypeIds: bool, padId: i32): void {
  const loss = new EmbeddingLoss();
  loss.batch = batch;
  loss.seq = seq;
  loss.dim = dim;
  loss.ids = randomIds(rng, batch * seq, vocab); // a small vocab repeats ids: their gradients must add up
  if (padId >= 0) loss.ids[batch * seq - 1] = padId; // make sure the padding id occurs
  loss.typeIds = withTypeIds ? randomIds(rng, batch * seq, types) : null;
  loss.word = toF64(randomF32(rng, vocab * dim, -1.0, 1.0));
  loss.pos = toF64(randomF32(rng, (seq + 2) * dim, -1.0, 1.0));
  loss.type = toF64(randomF32(rng, types * dim, -1.0, 1.0));
  const dOut = randomF32(rng, batch * seq * dim, -1.0, 1.0);
  loss.dOut = toF64(dOut);

  const startWord = randomF32(rng, vocab * dim, -1.0, 1.0);
  const startPos = randomF32(rng, (seq + 2) * dim, -1.0, 1.0);
  const startType = randomF32(rng, types * dim, -1.0, 1.0);
  const dWord = copyWithGuard(startWord);
  const dPos = copyWithGuard(startPos);
  const dType = copyWithGuard(startType);
  const typeIds = loss.typeIds;
  embedding_backward(
    dWord.dataStart, dPos.dataStart, dType.dataStart, dOut.dataStart, loss.ids.dataStart,
    typeIds != null ? typeIds.dataStart : 0, batch, seq, dim, padId,
  );
  checkAccumulated("dWord", dWord, startWord, loss.word, loss, padId);
  checkAccumulated("dPos", dPos, startPos, loss.pos, loss, -1);
  checkAccumulated("dType", dType, startType, loss.type, loss, -1);
}

describe("embedding_backward", () => {
  it("accumulates central-difference gradients into word, position and type rows; the padding row gets none", () => {
    checkEmbeddingBackward(new Rng(34), 2, 7, 13, 6, 3, true, 0);
  });

  it("sends everything to type 0 when typeIds is 0, and updates every word row when padId is -1", () => {
    checkEmbeddingBackward(new Rng(35), 2, 5, 4, 5, 2, false, -1);
  });

  it("handles dim 1 and seq 1", () => {
    checkEmbeddingBackward(new Rng(36), 3, 1, 1, 4, 2, true, 3);
  });
});
