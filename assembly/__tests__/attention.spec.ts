/// <reference types="@as-pect/assembly/types/as-pect" />
import { attention_backward, attention_forward, attention_mask_additive } from "../attention";
import { exp4 } from "../simd_exp_erf";
import {
  AttentionReference, FD_STEP, Rng, SENTINEL, addressOf, dotF64, filledF32, randomF32, refMaskAdditive, toF64,
} from "./reference_ops";

const U: f64 = 5.960464477539063e-8; // 2^-24, the f32 unit roundoff
const GUARD = 8; // floats after every output buffer that must stay SENTINEL

/** One attention problem: sizes, memory layout and data. */
class AttentionCase {
  batch: i32 = 1;
  seq: i32 = 1;
  heads: i32 = 1;
  headDim: i32 = 1;
  /** Extra floats at the end of each q/k/v row (NaN-filled: never to be read). */
  qkvPad: i32 = 0;
  /** Extra floats at the end of each ctx row (SENTINEL-filled: never to be written). */
  ctxPad: i32 = 0;
  /** q, k, v as column blocks of one `[batch][seq][3·heads·headDim + qkvPad]` buffer. */
  fused: bool = false;
  /** Start q, k, v one float past a 16-byte boundary. */
  misaligned: bool = false;
  /** `[heads]` or null for the kernel's "absent" (0). */
  headMask: Float32Array | null = null;
  /** i32 `[batch][seq]`, 1 = attend; null = all ones. */
  mask: Int32Array | null = null;
  /** q and k are uniform in ±qkScale (v in ±1): larger scales make larger scores. */
  qkScale: f64 = 1.0;
  seed: u32 = 1;
}

/** Outputs of one kernel run, with the inputs the reference needs. */
class AttentionRun {
  probs: Float32Array = new Float32Array(0);
  ctx: Float32Array = new Float32Array(0);
  ref: AttentionReference | null = null;
}

function runCase(c: AttentionCase): AttentionRun {
  const width = c.heads * c.headDim;
  const ld = (c.fused ? 3 * width : width) + c.qkvPad;
  const ldCtx = width + c.ctxPad;
  const rows = c.batch * c.seq;
  const shift = c.misaligned ? 1 : 0;
  const rng = new Rng(c.seed);

  // NaN everywhere a kernel must not read: any stray read poisons its outputs.
  const bufferFloats = shift + rows * ld;
  const q = filledF32(bufferFloats, NaN);
  const k = c.fused ? q : filledF32(bufferFloats, NaN);
  const v = c.fused ? q : filledF32(bufferFloats, NaN);
  const qOff = shift;
  const kOff = shift + (c.fused ? width : 0);
  const vOff = shift + (c.fused ? 2 * width : 0);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < width; t++) {
      q[qOff + r * ld + t] = <f32>rng.uniform(-c.qkScale, c.qkScale);
      k[kOff + r * ld + t] = <f32>rng.uniform(-c.qkScale, c.qkScale);
      v[vOff + r * ld + t] = <f32>rng.uniform(-1.0, 1.0);
    }
  }

  const mask = c.mask != null ? <Int32Array>c.mask : new Int32Array(rows).fill(1);
  const maskAdd = new Float32Array(rows);
  attention_mask_additive(maskAdd.dataStart, mask.dataStart, rows);

  const run = new AttentionRun();
  run.probs = filledF32(c.batch * c.heads * c.seq * c.seq + GUARD, SENTINEL);
  run.ctx = filledF32(rows * ldCtx + GUARD, SENTINEL);
  const headMask = c.headMask;
  attention_forward(
    run.ctx.dataStart, run.probs.dataStart,
    addressOf(q, qOff), addressOf(k, kOff), addressOf(v, vOff),
    maskAdd.dataStart, headMask != null ? headMask.dataStart : 0,
    c.batch, c.seq, c.heads, c.headDim, ld, ldCtx,
  );
  const qd = toF64(q);
  const kd = c.fused ? qd : toF64(k);
  const vd = c.fused ? qd : toF64(v);
  run.ref = new AttentionReference(
    qd, qOff, kd, kOff, vd, vOff, toF64(maskAdd), headMask != null ? toF64(headMask) : null,
    c.batch, c.seq, c.heads, c.headDim, ld,
  );
  return run;
}

/**
 * Checks probs and ctx against the f64 definition, and that nothing outside them was written.
 *
 * Tolerances follow the f32 error model, so they stay tight however large the scores:
 * - a probability's relative error is that of its score difference plus a few roundings
 *   in exp and the normalisation: p·(2^-20 + 4u·(A_j + max A)), with A = Σ|q·k|/√D;
 * - a context element's error is the sum's magnitude M = Σ_j |hm·p_j·v_j| times the
 *   probabilities' relative error bound (plus the same 2^-20 for the f32 summation).
 * Every mistake this test exists for (a wrong head, key, scale, mask or stride) moves
 * results by at least 1e-4 relative; these bounds are around 1e-6. A floor of 2^-125
 * covers probabilities that f32 can only hold as subnormals or zero.
 */
function checkRun(c: AttentionCase, run: AttentionRun): void {
  const ref = <AttentionReference>run.ref;
  const width = c.heads * c.headDim;
  const ldCtx = width + c.ctxPad;
  const floor = 2.350988701644575e-38;
  let worstP = 0.0;
  let worstCtx = 0.0;
  for (let b = 0; b < c.batch; b++) {
    for (let h = 0; h < c.heads; h++) {
      for (let i = 0; i < c.seq; i++) {
        const row = ((b * c.heads + h) * c.seq + i) * c.seq;
        let maxA = 0.0;
        for (let j = 0; j < c.seq; j++) maxA = max<f64>(maxA, ref.scoreMagnitude[row + j]);
        for (let j = 0; j < c.seq; j++) {
          const expected = ref.probs[row + j];
          const tol = expected * (9.5367431640625e-7 + 4.0 * U * (ref.scoreMagnitude[row + j] + maxA)) + floor;
          worstP = max<f64>(worstP, Math.abs(<f64>run.probs[row + j] - expected) / tol);
        }
        for (let t = 0; t < c.headDim; t++) {
          const refIndex = (b * c.seq + i) * width + h * c.headDim + t;
          const tol = ref.ctxMagnitude[refIndex] * (9.5367431640625e-7 + 8.0 * U * maxA) + floor;
          const got = run.ctx[(b * c.seq + i) * ldCtx + h * c.headDim + t];
          worstCtx = max<f64>(worstCtx, Math.abs(<f64>got - ref.ctx[refIndex]) / tol);
        }
      }
    }
  }
  expect<f64>(worstP).toBeLessThanOrEqual(1.0, "probs: worst error / tolerance");
  expect<f64>(worstCtx).toBeLessThanOrEqual(1.0, "ctx: worst error / tolerance");

  let strayWrites = 0;
  for (let r = 0; r < c.batch * c.seq; r++) {
    for (let t = width; t < ldCtx; t++) if (run.ctx[r * ldCtx + t] != SENTINEL) strayWrites++;
  }
  const probsEnd = c.batch * c.heads * c.seq * c.seq;
  const ctxEnd = c.batch * c.seq * ldCtx;
  for (let g = 0; g < GUARD; g++) {
    if (run.probs[probsEnd + g] != SENTINEL) strayWrites++;
    if (run.ctx[ctxEnd + g] != SENTINEL) strayWrites++;
  }
  expect<i32>(strayWrites).toBe(0, "writes outside probs / the ctx column slice");
}

/** i32 `[batch][seq]` mask: sequence b has `lengths[b]` real tokens, then padding. */
function paddingMask(seq: i32, lengths: i32[]): Int32Array {
  const mask = new Int32Array(lengths.length * seq);
  for (let b = 0; b < lengths.length; b++) for (let s = 0; s < lengths[b]; s++) mask[b * seq + s] = 1;
  return mask;
}

function headMaskOf(values: f32[]): Float32Array {
  const a = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) a[i] = values[i];
  return a;
}

describe("exp4 (the softmax's exponential)", () => {
  it("is within 2^-23 relative of Math.exp on [-87, 88] and exactly 1 at 0", () => {
    // 2^-23 is one ulp at the bottom of a binade: a correctly rounded exp is within half of
    // that, a one-term-short polynomial or an inexact ln2 split is not.
    let worst = 0.0;
    let worstX: f32 = 0;
    for (let i = 0; i <= 350000; i++) {
      const x = <f32>(-87.0 + <f64>i * 0.0005);
      const ref = Math.exp(<f64>x);
      const err = Math.abs(<f64>f32x4.extract_lane(exp4(f32x4.splat(x)), 0) - ref) / ref;
      if (err > worst) {
        worst = err;
        worstX = x;
      }
    }
    expect<f64>(worst).toBeLessThanOrEqual(1.1920928955078125e-7, "worst relative error at x = " + worstX.toString());
    expect<f32>(f32x4.extract_lane(exp4(f32x4.splat(0.0)), 0)).toBe(1.0);
  });

  it("flushes below -87 to exactly 0 (what masked keys rely on) and keeps NaN", () => {
    const xs: f32[] = [-87.5, -100.0, -10000.0, -Infinity];
    for (let i = 0; i < xs.length; i++) expect<f32>(f32x4.extract_lane(exp4(f32x4.splat(xs[i])), 0)).toBe(0.0);
    expect<bool>(isNaN(f32x4.extract_lane(exp4(f32x4.splat(NaN)), 0))).toBe(true);
  });
});

describe("attention_mask_additive", () => {
  it("is (1 - mask)·(-10000) for every element, and writes nothing past n", () => {
    const mask = new Int32Array(7);
    mask[0] = 1;
    mask[1] = 1;
    mask[3] = 1;
    mask[6] = 1;
    const out = filledF32(7 + GUARD, SENTINEL);
    attention_mask_additive(out.dataStart, mask.dataStart, 7);
    const expected = refMaskAdditive(mask);
    for (let i = 0; i < 7; i++) expect<f64>(<f64>out[i]).toBe(expected[i]);
    expect<f32>(out[2]).toBe(-10000.0);
    for (let g = 0; g < GUARD; g++) expect<f32>(out[7 + g]).toBe(SENTINEL);
  });
});

describe("attention_forward", () => {
  it("matches the f64 definition: 3 heads of 5, seq 7, padding, head mask, strided and misaligned rows", () => {
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 7;
    c.heads = 3;
    c.headDim = 5;
    c.qkvPad = 3;
    c.ctxPad = 2;
    c.misaligned = true;
    c.mask = paddingMask(7, [7, 4]);
    c.headMask = headMaskOf([1.0, 0.0, 0.37]);
    c.seed = 11;
    checkRun(c, runCase(c));
  });

  it("matches for seq 129, headDim 9, where one sequence attends to only 2 of 129 keys", () => {
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 129;
    c.heads = 3;
    c.headDim = 9;
    c.ctxPad = 1;
    c.mask = paddingMask(129, [129, 2]);
    c.headMask = headMaskOf([0.5, 1.0, 0.25]);
    c.seed = 12;
    checkRun(c, runCase(c));
  });

  it("matches for BERT-sized heads (headDim 64) over seq 129 with scores in the tens", () => {
    const c = new AttentionCase();
    c.batch = 1;
    c.seq = 129;
    c.heads = 2;
    c.headDim = 64;
    c.qkScale = 3.0;
    c.seed = 13;
    checkRun(c, runCase(c));
  });

  it("subtracts the row max: scores in the hundreds (exp would overflow f32) stay exact", () => {
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 9;
    c.heads = 1;
    c.headDim = 16;
    c.qkScale = 8.0;
    c.mask = paddingMask(9, [9, 6]);
    c.seed = 14;
    const run = runCase(c);
    for (let i = 0; i < c.batch * c.seq * c.seq; i++) expect<bool>(isFinite(run.probs[i])).toBe(true);
    checkRun(c, run);
  });

  it("reads q, k, v from one fused [seq][3·width] buffer (headDim 21 = 16 + 4 + 1)", () => {
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 7;
    c.heads = 3;
    c.headDim = 21;
    c.fused = true;
    c.qkvPad = 1;
    c.mask = paddingMask(7, [5, 7]);
    c.seed = 15;
    checkRun(c, runCase(c));
  });

  it("handles one token and headDim 3 with no head mask: p = 1 and ctx = v", () => {
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 1;
    c.heads = 1;
    c.headDim = 3;
    c.seed = 16;
    const run = runCase(c);
    checkRun(c, run);
    expect<f32>(run.probs[0]).toBe(1.0);
    expect<f32>(run.probs[1]).toBe(1.0);
  });

  it("gives masked keys probability exactly 0 and each row a total of 1", () => {
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 13;
    c.heads = 3;
    c.headDim = 7;
    c.mask = paddingMask(13, [13, 3]);
    c.seed = 17;
    const run = runCase(c);
    for (let h = 0; h < c.heads; h++) {
      for (let i = 0; i < c.seq; i++) {
        let total = 0.0;
        for (let j = 0; j < c.seq; j++) {
          const p = run.probs[((c.heads + h) * c.seq + i) * c.seq + j]; // batch 1
          if (j >= 3) expect<f32>(p).toBe(0.0, "a padded key got probability");
          total += <f64>p;
        }
        expect<f64>(Math.abs(total - 1.0)).toBeLessThanOrEqual(1e-6);
      }
    }
  });

  it("applies the head mask to P·V only: probs are unchanged, ctx is scaled exactly", () => {
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 6;
    c.heads = 3;
    c.headDim = 6;
    c.mask = paddingMask(6, [6, 4]);
    c.seed = 18;
    const plain = runCase(c);
    c.headMask = headMaskOf([1.0, 0.5, 0.0]);
    const masked = runCase(c);
    for (let i = 0; i < c.batch * c.heads * c.seq * c.seq; i++) expect<f32>(masked.probs[i]).toBe(plain.probs[i]);
    const width = c.heads * c.headDim;
    for (let r = 0; r < c.batch * c.seq; r++) {
      for (let t = 0; t < c.headDim; t++) {
        expect<f32>(masked.ctx[r * width + t]).toBe(plain.ctx[r * width + t]);
        expect<f32>(masked.ctx[r * width + c.headDim + t]).toBe(plain.ctx[r * width + c.headDim + t] * 0.5);
        expect<f32>(masked.ctx[r * width + 2 * c.headDim + t]).toBe(0.0);
      }
    }
  });
});

// ---- backward ------------------------------------------------------------------------------

/** Inputs of the f64 loss Σ dCtx·ctx(q, k, v, headMask), the function attention_backward differentiates. */
class AttentionLoss {
  q: Float64Array = new Float64Array(0);
  k: Float64Array = new Float64Array(0);
  v: Float64Array = new Float64Array(0);
  maskAdd: Float64Array = new Float64Array(0);
  headMask: Float64Array = new Float64Array(0);
  /** `[batch][seq][heads·headDim]` (compact). */
  dCtx: Float64Array = new Float64Array(0);
  batch: i32 = 0;
  seq: i32 = 0;
  heads: i32 = 0;
  headDim: i32 = 0;
  ld: i32 = 0;

  value(): f64 {
    const ref = new AttentionReference(
      this.q, 0, this.k, 0, this.v, 0, this.maskAdd, this.headMask,
      this.batch, this.seq, this.heads, this.headDim, this.ld,
    );
    return dotF64(ref.ctx, this.dCtx);
  }

  /** Central difference with respect to element i of `param` (one of q, k, v, headMask). */
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
 * Compares one gradient tensor with central differences at the head columns of
 * `[batch][seq][ld]` (every `stride`-th element, to bound the cost for large cases).
 * Tolerance: 1e-5 of the largest difference quotient of the tensor. f32 rounding in the
 * kernel is ~1e-6 of that scale, the quotient's own error ~1e-8; a wrong softmax backward
 * (missing the row term r_i), a missing 1/√d or head mask, or a swapped q/k is off by ≫ 1e-2.
 */
function checkGradient(name: string, grad: Float32Array, param: Float64Array, loss: AttentionLoss, stride: i32): void {
  // With one key the softmax is constant, so q and k get exactly zero: scale 0, tolerance 0.
  const width = loss.heads * loss.headDim;
  const count = loss.batch * loss.seq * width;
  const expected = new Float64Array(count);
  let scale = 0.0;
  for (let e = 0; e < count; e += stride) {
    const i = (e / width) * loss.ld + (e % width);
    expected[e] = loss.slope(param, i);
    scale = max<f64>(scale, Math.abs(expected[e]));
  }
  let worst = 0.0;
  for (let e = 0; e < count; e += stride) {
    const i = (e / width) * loss.ld + (e % width);
    const err = Math.abs(<f64>grad[i] - expected[e]);
    worst = max<f64>(worst, scale > 0 ? err / (1e-5 * scale) : err);
  }
  if (loss.seq > 1) expect<f64>(scale).toBeGreaterThan(0.0, name + ": the loss must depend on it");
  expect<f64>(worst).toBeLessThanOrEqual(scale > 0 ? 1.0 : 0.0, name + ": worst error / tolerance");
}

/**
 * Forward then backward through the kernels; q, k, v and dq, dk, dv are `[batch][seq][ld]`
 * with `qkvPad` extra columns (NaN in inputs, SENTINEL in outputs: neither read nor written),
 * dCtx has `ctxPad` NaN columns. dHeadMask starts non-zero to check it accumulates.
 */
function checkAttentionBackward(
  batch: i32, seq: i32, heads: i32, headDim: i32, qkvPad: i32, ctxPad: i32,
  lengths: i32[], headMaskValues: f32[] | null, stride: i32, seed: u32,
): void {
  const rng = new Rng(seed);
  const width = heads * headDim;
  const ld = width + qkvPad;
  const ldCtx = width + ctxPad;
  const rows = batch * seq;
  const q = filledF32(rows * ld, NaN);
  const k = filledF32(rows * ld, NaN);
  const v = filledF32(rows * ld, NaN);
  const dCtx = filledF32(rows * ldCtx, NaN);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < width; t++) {
      q[r * ld + t] = <f32>rng.uniform(-1.5, 1.5);
      k[r * ld + t] = <f32>rng.uniform(-1.5, 1.5);
      v[r * ld + t] = <f32>rng.uniform(-1.0, 1.0);
      dCtx[r * ldCtx + t] = <f32>rng.uniform(-1.0, 1.0);
    }
  }
  const mask = paddingMask(seq, lengths);
  const maskAdd = new Float32Array(rows);
  attention_mask_additive(maskAdd.dataStart, mask.dataStart, rows);
  const headMask = headMaskValues != null ? headMaskOf(<f32[]>headMaskValues) : null;
  const headMaskPtr = headMask != null ? headMask.dataStart : 0;

  const probs = new Float32Array(batch * heads * seq * seq);
  const ctx = new Float32Array(rows * ldCtx);
  attention_forward(ctx.dataStart, probs.dataStart, q.dataStart, k.dataStart, v.dataStart, maskAdd.dataStart, headMaskPtr, batch, seq, heads, headDim, ld, ldCtx);

  const dq = filledF32(rows * ld + GUARD, SENTINEL);
  const dk = filledF32(rows * ld + GUARD, SENTINEL);
  const dv = filledF32(rows * ld + GUARD, SENTINEL);
  const dHeadMaskStart = randomF32(rng, heads, -1.0, 1.0);
  const dHeadMask = new Float32Array(heads);
  for (let h = 0; h < heads; h++) dHeadMask[h] = dHeadMaskStart[h];
  attention_backward(
    dq.dataStart, dk.dataStart, dv.dataStart, dHeadMask.dataStart, dCtx.dataStart, probs.dataStart,
    q.dataStart, k.dataStart, v.dataStart, headMaskPtr, batch, seq, heads, headDim, ld, ldCtx,
  );

  const loss = new AttentionLoss();
  loss.q = toF64(q);
  loss.k = toF64(k);
  loss.v = toF64(v);
  loss.maskAdd = toF64(maskAdd);
  loss.headMask = headMask != null ? toF64(headMask) : toF64(filledF32(heads, 1.0));
  loss.dCtx = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let t = 0; t < width; t++) loss.dCtx[r * width + t] = <f64>dCtx[r * ldCtx + t];
  loss.batch = batch;
  loss.seq = seq;
  loss.heads = heads;
  loss.headDim = headDim;
  loss.ld = ld;

  checkGradient("dq", dq, loss.q, loss, stride);
  checkGradient("dk", dk, loss.k, loss, stride);
  checkGradient("dv", dv, loss.v, loss, stride);

  let hmScale = 0.0;
  const hmExpected = new Float64Array(heads);
  for (let h = 0; h < heads; h++) {
    hmExpected[h] = loss.slope(loss.headMask, h);
    hmScale = max<f64>(hmScale, Math.abs(hmExpected[h]));
  }
  for (let h = 0; h < heads; h++) {
    const got = <f64>dHeadMask[h] - <f64>dHeadMaskStart[h];
    expect<f64>(Math.abs(got - hmExpected[h])).toBeLessThanOrEqual(1e-5 * hmScale, "dHeadMask (accumulated)");
  }

  let strayWrites = 0;
  for (let r = 0; r < rows; r++) {
    for (let t = width; t < ld; t++) {
      if (dq[r * ld + t] != SENTINEL) strayWrites++;
      if (dk[r * ld + t] != SENTINEL) strayWrites++;
      if (dv[r * ld + t] != SENTINEL) strayWrites++;
    }
  }
  for (let g = 0; g < GUARD; g++) {
    if (dq[rows * ld + g] != SENTINEL) strayWrites++;
    if (dk[rows * ld + g] != SENTINEL) strayWrites++;
    if (dv[rows * ld + g] != SENTINEL) strayWrites++;
  }
  expect<i32>(strayWrites).toBe(0, "writes outside the head columns of dq, dk, dv");
}

describe("attention_backward", () => {
  it("matches central differences: 3 heads of 5, seq 7, padding, head mask with a 0, strided rows", () => {
    checkAttentionBackward(2, 7, 3, 5, 2, 3, [7, 4], [1.0, 0.0, 0.6], 1, 51);
  });

  it("matches for headDim 16 over seq 33 with one sequence attending to 2 keys, no head mask", () => {
    checkAttentionBackward(2, 33, 2, 16, 0, 1, [33, 2], null, 17, 52);
  });

  it("matches for a single token (seq 1, headDim 3): softmax has no gradient, v takes it all", () => {
    checkAttentionBackward(1, 1, 1, 3, 1, 0, [1], [0.5], 1, 53);
  });
});
