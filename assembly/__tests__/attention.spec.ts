/// <reference types="@as-pect/assembly/types/as-pect" />
import { attention_backward, attention_backward_scratch_floats, attention_forward, attention_mask_additive } from "../attention";
import { dropout_forward } from "../dropout";
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
  /** v_j = e_j in each head's columns (needs seq ≤ headDim): then ctx_i[h·headDim + j] = hm·D_ij exactly. */
  oneHotV: bool = false;
  /** Attention-probability dropout: probability, seed and counter offset. */
  dropoutP: f64 = 0;
  dropSeed: u32 = 0;
  dropOffset: u32 = 0;
}

/**
 * What dropout_forward makes of a probability tensor (f32 `[n]`) with (p, seed, offset):
 * the dropped-out probabilities D that the kernels must use, bit for bit.
 */
function droppedOut(probs: Float32Array, n: i32, p: f64, seed: u32, offset: u32): Float32Array {
  const out = new Float32Array(n);
  dropout_forward(out.dataStart, probs.dataStart, 0, n, p, seed, offset);
  return out;
}

/** dropout_forward's factors over `[n]` (0 or f32(1/(1−p))), in f64 for the references; null without dropout. */
function dropFactors(n: i32, p: f64, seed: u32, offset: u32): Float64Array | null {
  if (!(p > 0)) return null;
  return toF64(droppedOut(filledF32(n, 1.0), n, p, seed, offset));
}

/** Outputs of one kernel run, with the inputs the reference needs. */
class AttentionRun {
  probs: Float32Array = new Float32Array(0);
  ctx: Float32Array = new Float32Array(0);
  ref: AttentionReference | null = null;
  /** The v the kernel read (and where in it), for the bit-exact P·V check. */
  v: Float32Array = new Float32Array(0);
  vOff: i32 = 0;
  ld: i32 = 0;
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
      v[vOff + r * ld + t] = c.oneHotV ? (t % c.headDim == r % c.seq ? 1.0 : 0.0) : <f32>rng.uniform(-1.0, 1.0);
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
    c.dropoutP, c.dropSeed, c.dropOffset,
  );
  run.v = v;
  run.vOff = vOff;
  run.ld = ld;
  const qd = toF64(q);
  const kd = c.fused ? qd : toF64(k);
  const vd = c.fused ? qd : toF64(v);
  run.ref = new AttentionReference(
    qd, qOff, kd, kOff, vd, vOff, toF64(maskAdd), headMask != null ? toF64(headMask) : null,
    c.batch, c.seq, c.heads, c.headDim, ld,
    dropFactors(c.batch * c.heads * c.seq * c.seq, c.dropoutP, c.dropSeed, c.dropOffset),
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

/**
 * ctx must be, bit for bit, hm·(Σ_j D_j·v_j) summed in f32 in key order from +0, where D is
 * what dropout_forward makes of the probs (the probs themselves without dropout): the
 * kernel's arithmetic, and so proof that its dropout has dropout_forward's mask and scale.
 */
function checkContextBits(c: AttentionCase, run: AttentionRun): void {
  const n = c.batch * c.heads * c.seq * c.seq;
  const d = c.dropoutP > 0 ? droppedOut(run.probs, n, c.dropoutP, c.dropSeed, c.dropOffset) : run.probs;
  const ldCtx = c.heads * c.headDim + c.ctxPad;
  let mismatches = 0;
  for (let b = 0; b < c.batch; b++) {
    for (let h = 0; h < c.heads; h++) {
      const hm: f32 = c.headMask != null ? (<Float32Array>c.headMask)[h] : 1.0;
      for (let i = 0; i < c.seq; i++) {
        const row = ((b * c.heads + h) * c.seq + i) * c.seq;
        for (let t = 0; t < c.headDim; t++) {
          let acc: f32 = 0;
          for (let j = 0; j < c.seq; j++) acc += d[row + j] * run.v[run.vOff + (b * c.seq + j) * run.ld + h * c.headDim + t];
          if (run.ctx[(b * c.seq + i) * ldCtx + h * c.headDim + t] != acc * hm) mismatches++;
        }
      }
    }
  }
  expect<i32>(mismatches).toBe(0, "ctx elements that differ from f32 P·V over dropout_forward's output");
}

function sameBits(a: Float32Array, b: Float32Array, n: i32): bool {
  for (let i = 0; i < n; i++) if (reinterpret<u32>(a[i]) != reinterpret<u32>(b[i])) return false;
  return true;
}

describe("attention_forward with attention-probability dropout", () => {
  it("p = 0 is the inference kernel: ctx is f32 P·V in key order, bit for bit", () => {
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 13;
    c.heads = 3;
    c.headDim = 21;
    c.qkvPad = 2;
    c.ctxPad = 1;
    c.misaligned = true;
    c.mask = paddingMask(13, [13, 8]);
    c.headMask = headMaskOf([1.0, 0.5, 0.3]);
    c.seed = 31;
    c.dropSeed = 5; // ignored at p = 0
    c.dropOffset = 77;
    checkContextBits(c, runCase(c));
  });

  it("drops exactly dropout_forward's elements of the flat [batch][heads][seq][seq] tensor at (seed, offset)", () => {
    // With v_j = e_j, ctx_i[h·headDim + j] is D_ij itself: the kernel's dropped-out probabilities.
    // The offset makes the counters wrap past 2^32 inside the tensor.
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 13;
    c.heads = 3;
    c.headDim = 16;
    c.oneHotV = true;
    c.seed = 32;
    c.dropoutP = 0.1;
    c.dropSeed = 0xdecafbad;
    c.dropOffset = 0xffffff00;
    const run = runCase(c);
    const n = c.batch * c.heads * c.seq * c.seq;
    const expected = droppedOut(run.probs, n, c.dropoutP, c.dropSeed, c.dropOffset);
    const keptMask = new Uint8Array(n);
    dropout_forward(filledF32(n, 1.0).dataStart, run.probs.dataStart, keptMask.dataStart, n, c.dropoutP, c.dropSeed, c.dropOffset);
    const width = c.heads * c.headDim;
    let differing = 0;
    let maskDisagreements = 0;
    let dropped = 0;
    for (let b = 0; b < c.batch; b++) {
      for (let h = 0; h < c.heads; h++) {
        for (let i = 0; i < c.seq; i++) {
          for (let j = 0; j < c.seq; j++) {
            const e = ((b * c.heads + h) * c.seq + i) * c.seq + j;
            const got = run.ctx[(b * c.seq + i) * width + h * c.headDim + j];
            if (reinterpret<u32>(got) != reinterpret<u32>(expected[e])) differing++;
            expect<bool>(run.probs[e] > 0).toBe(true, "every probability is positive here, so 0 means dropped");
            if ((got != 0) != (keptMask[e] != 0)) maskDisagreements++;
            if (keptMask[e] == 0) dropped++;
          }
        }
      }
    }
    expect<i32>(differing).toBe(0, "dropped-out probabilities that differ from dropout_forward's");
    expect<i32>(maskDisagreements).toBe(0, "elements kept by one and dropped by the other");
    // 1014 draws at p = 0.1: 101 ± 10 expected; a mask that drops nothing or everything fails.
    expect<i32>(dropped).toBeGreaterThan(60);
    expect<i32>(dropped).toBeLessThan(150);

    // probs keep the softmax, before dropout: the same bits as without dropout.
    const plain = new AttentionCase();
    plain.batch = c.batch;
    plain.seq = c.seq;
    plain.heads = c.heads;
    plain.headDim = c.headDim;
    plain.oneHotV = true;
    plain.seed = c.seed;
    expect<bool>(sameBits(runCase(plain).probs, run.probs, n + GUARD)).toBe(true, "probs changed by dropout");
  });

  it("matches the f64 definition with the mask applied: p = 0.1, padding, head mask, strided and misaligned rows", () => {
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 9;
    c.heads = 3;
    c.headDim = 21;
    c.qkvPad = 3;
    c.ctxPad = 2;
    c.misaligned = true;
    c.mask = paddingMask(9, [9, 5]);
    c.headMask = headMaskOf([1.0, 0.0, 0.37]);
    c.seed = 33;
    c.dropoutP = 0.1;
    c.dropSeed = 1234;
    c.dropOffset = 999;
    const run = runCase(c);
    checkRun(c, run);
    checkContextBits(c, run);
  });

  it("matches for p = 0.5, headDim 64, seq 129 (a single last query row), q, k, v fused", () => {
    const c = new AttentionCase();
    c.batch = 1;
    c.seq = 129;
    c.heads = 2;
    c.headDim = 64;
    c.fused = true;
    c.qkScale = 2.0;
    c.seed = 34;
    c.dropoutP = 0.5;
    c.dropSeed = 4321;
    c.dropOffset = 5;
    const run = runCase(c);
    checkRun(c, run);
    checkContextBits(c, run);
  });

  it("p = 1e-12 runs the dropout path with nothing dropped and scale 1: bit-identical to p = 0, as are p < 0 and NaN", () => {
    const c = new AttentionCase();
    c.batch = 2;
    c.seq = 11;
    c.heads = 2;
    c.headDim = 20;
    c.mask = paddingMask(11, [11, 6]);
    c.headMask = headMaskOf([0.75, 1.0]);
    c.seed = 35;
    const reference = runCase(c);
    const n = c.batch * c.heads * c.seq * c.seq + GUARD;
    const nCtx = c.batch * c.seq * c.heads * c.headDim + GUARD;
    const ps: f64[] = [1e-12, -0.5, NaN];
    for (let k = 0; k < ps.length; k++) {
      c.dropoutP = ps[k];
      c.dropSeed = 3;
      const run = runCase(c);
      expect<bool>(sameBits(run.probs, reference.probs, n)).toBe(true, "probs, p = " + ps[k].toString());
      expect<bool>(sameBits(run.ctx, reference.ctx, nCtx)).toBe(true, "ctx, p = " + ps[k].toString());
    }
  });

  it("p = 1 drops everything: ctx is exactly 0 and probs are still the softmax", () => {
    const c = new AttentionCase();
    c.batch = 1;
    c.seq = 6;
    c.heads = 2;
    c.headDim = 5;
    c.seed = 36;
    const plain = runCase(c);
    c.dropoutP = 1.0;
    c.dropSeed = 8;
    const run = runCase(c);
    for (let i = 0; i < c.seq * c.heads * c.headDim; i++) expect<f32>(run.ctx[i]).toBe(0.0);
    expect<bool>(sameBits(run.probs, plain.probs, c.heads * c.seq * c.seq + GUARD)).toBe(true);
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
  /** dropout_forward's factors `[batch][heads][seq][seq]` (fixed: the mask is not a function of the inputs), or null. */
  dropFactor: Float64Array | null = null;
  batch: i32 = 0;
  seq: i32 = 0;
  heads: i32 = 0;
  headDim: i32 = 0;
  ld: i32 = 0;

  value(): f64 {
    const ref = new AttentionReference(
      this.q, 0, this.k, 0, this.v, 0, this.maskAdd, this.headMask,
      this.batch, this.seq, this.heads, this.headDim, this.ld, this.dropFactor,
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
 * (missing the row term r_i), a missing 1/√d, head mask or dropout factor, a mask other
 * than the forward's, or a swapped q/k is off by ≫ 1e-2.
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

/** One backward problem: sizes, layout, data and dropout. */
class BackwardCase {
  batch: i32 = 1;
  seq: i32 = 1;
  heads: i32 = 1;
  headDim: i32 = 1;
  /** Extra columns of q, k, v (NaN) and dq, dk, dv (SENTINEL): neither read nor written. */
  qkvPad: i32 = 0;
  /** Extra NaN columns of dCtx. */
  ctxPad: i32 = 0;
  /** Real tokens per sequence (then padding); `[batch]`. */
  lengths: i32[] = [1];
  headMask: f32[] | null = null;
  /** Check every stride-th gradient element against finite differences. */
  stride: i32 = 1;
  seed: u32 = 1;
  /** dCtx_i = e_i in each head's columns (needs seq ≤ headDim): then dv_j[h·headDim + i] = hm·D_ij exactly. */
  oneHotDCtx: bool = false;
  dropoutP: f64 = 0;
  dropSeed: u32 = 0;
  dropOffset: u32 = 0;
}

/** Backward outputs, with the forward's probs and the f64 loss they differentiate. */
class BackwardRun {
  dq: Float32Array = new Float32Array(0);
  dk: Float32Array = new Float32Array(0);
  dv: Float32Array = new Float32Array(0);
  /** dHeadMask after the call; it started at dHeadMaskStart (accumulation is checked). */
  dHeadMask: Float32Array = new Float32Array(0);
  dHeadMaskStart: Float32Array = new Float32Array(0);
  probs: Float32Array = new Float32Array(0);
  loss: AttentionLoss = new AttentionLoss();
  ld: i32 = 0;
}

/**
 * Forward then backward through the kernels; q, k, v and dq, dk, dv are `[batch][seq][ld]`
 * with `qkvPad` extra columns (NaN in inputs, SENTINEL in outputs), dCtx has `ctxPad` NaN
 * columns, the scratch starts as NaN (so reading a part not written first poisons the
 * results) with SENTINEL guards after it. dHeadMask starts non-zero to check it accumulates.
 */
function runBackward(c: BackwardCase): BackwardRun {
  const rng = new Rng(c.seed);
  const width = c.heads * c.headDim;
  const ld = width + c.qkvPad;
  const ldCtx = width + c.ctxPad;
  const rows = c.batch * c.seq;
  const q = filledF32(rows * ld, NaN);
  const k = filledF32(rows * ld, NaN);
  const v = filledF32(rows * ld, NaN);
  const dCtx = filledF32(rows * ldCtx, NaN);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < width; t++) {
      q[r * ld + t] = <f32>rng.uniform(-1.5, 1.5);
      k[r * ld + t] = <f32>rng.uniform(-1.5, 1.5);
      v[r * ld + t] = <f32>rng.uniform(-1.0, 1.0);
      dCtx[r * ldCtx + t] = c.oneHotDCtx ? (t % c.headDim == r % c.seq ? 1.0 : 0.0) : <f32>rng.uniform(-1.0, 1.0);
    }
  }
  const mask = paddingMask(c.seq, c.lengths);
  const maskAdd = new Float32Array(rows);
  attention_mask_additive(maskAdd.dataStart, mask.dataStart, rows);
  const headMask = c.headMask != null ? headMaskOf(<f32[]>c.headMask) : null;
  const headMaskPtr = headMask != null ? headMask.dataStart : 0;

  const run = new BackwardRun();
  const probsCount = c.batch * c.heads * c.seq * c.seq;
  run.probs = new Float32Array(probsCount);
  const ctx = new Float32Array(rows * ldCtx);
  attention_forward(
    ctx.dataStart, run.probs.dataStart, q.dataStart, k.dataStart, v.dataStart, maskAdd.dataStart, headMaskPtr,
    c.batch, c.seq, c.heads, c.headDim, ld, ldCtx, c.dropoutP, c.dropSeed, c.dropOffset,
  );

  run.dq = filledF32(rows * ld + GUARD, SENTINEL);
  run.dk = filledF32(rows * ld + GUARD, SENTINEL);
  run.dv = filledF32(rows * ld + GUARD, SENTINEL);
  run.dHeadMaskStart = randomF32(rng, c.heads, -1.0, 1.0);
  run.dHeadMask = new Float32Array(c.heads);
  for (let h = 0; h < c.heads; h++) run.dHeadMask[h] = run.dHeadMaskStart[h];
  const scratchFloats = attention_backward_scratch_floats(c.seq);
  const scratch = filledF32(scratchFloats + GUARD, NaN);
  for (let g = 0; g < GUARD; g++) scratch[scratchFloats + g] = SENTINEL;
  attention_backward(
    run.dq.dataStart, run.dk.dataStart, run.dv.dataStart, run.dHeadMask.dataStart, dCtx.dataStart, run.probs.dataStart,
    q.dataStart, k.dataStart, v.dataStart, headMaskPtr, c.batch, c.seq, c.heads, c.headDim, ld, ldCtx,
    scratch.dataStart, c.dropoutP, c.dropSeed, c.dropOffset, 0,
  );
  let scratchOverrun = 0;
  for (let g = 0; g < GUARD; g++) if (scratch[scratchFloats + g] != SENTINEL) scratchOverrun++;
  expect<i32>(scratchOverrun).toBe(0, "writes past attention_backward_scratch_floats(seq)");

  let strayWrites = 0;
  for (let r = 0; r < rows; r++) {
    for (let t = width; t < ld; t++) {
      if (run.dq[r * ld + t] != SENTINEL) strayWrites++;
      if (run.dk[r * ld + t] != SENTINEL) strayWrites++;
      if (run.dv[r * ld + t] != SENTINEL) strayWrites++;
    }
  }
  for (let g = 0; g < GUARD; g++) {
    if (run.dq[rows * ld + g] != SENTINEL) strayWrites++;
    if (run.dk[rows * ld + g] != SENTINEL) strayWrites++;
    if (run.dv[rows * ld + g] != SENTINEL) strayWrites++;
  }
  expect<i32>(strayWrites).toBe(0, "writes outside the head columns of dq, dk, dv");

  const loss = run.loss;
  loss.q = toF64(q);
  loss.k = toF64(k);
  loss.v = toF64(v);
  loss.maskAdd = toF64(maskAdd);
  loss.headMask = headMask != null ? toF64(headMask) : toF64(filledF32(c.heads, 1.0));
  loss.dCtx = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let t = 0; t < width; t++) loss.dCtx[r * width + t] = <f64>dCtx[r * ldCtx + t];
  loss.dropFactor = dropFactors(probsCount, c.dropoutP, c.dropSeed, c.dropOffset);
  loss.batch = c.batch;
  loss.seq = c.seq;
  loss.heads = c.heads;
  loss.headDim = c.headDim;
  loss.ld = ld;
  run.ld = ld;
  return run;
}

/** dq, dk, dv and the accumulated dHeadMask against central differences of the f64 loss. */
function checkAttentionBackward(c: BackwardCase): void {
  const run = runBackward(c);
  const loss = run.loss;
  checkGradient("dq", run.dq, loss.q, loss, c.stride);
  checkGradient("dk", run.dk, loss.k, loss, c.stride);
  checkGradient("dv", run.dv, loss.v, loss, c.stride);

  let hmScale = 0.0;
  const hmExpected = new Float64Array(c.heads);
  for (let h = 0; h < c.heads; h++) {
    hmExpected[h] = loss.slope(loss.headMask, h);
    hmScale = max<f64>(hmScale, Math.abs(hmExpected[h]));
  }
  expect<f64>(hmScale).toBeGreaterThan(0.0, "dHeadMask: the loss must depend on it");
  for (let h = 0; h < c.heads; h++) {
    const got = <f64>run.dHeadMask[h] - <f64>run.dHeadMaskStart[h];
    expect<f64>(Math.abs(got - hmExpected[h])).toBeLessThanOrEqual(1e-5 * hmScale, "dHeadMask (accumulated)");
  }
}

function backwardCase(
  batch: i32, seq: i32, heads: i32, headDim: i32, qkvPad: i32, ctxPad: i32,
  lengths: i32[], headMask: f32[] | null, stride: i32, seed: u32,
): BackwardCase {
  const c = new BackwardCase();
  c.batch = batch;
  c.seq = seq;
  c.heads = heads;
  c.headDim = headDim;
  c.qkvPad = qkvPad;
  c.ctxPad = ctxPad;
  c.lengths = lengths;
  c.headMask = headMask;
  c.stride = stride;
  c.seed = seed;
  return c;
}

describe("attention_backward", () => {
  it("matches central differences: 3 heads of 5, seq 7, padding, head mask with a 0, strided rows", () => {
    checkAttentionBackward(backwardCase(2, 7, 3, 5, 2, 3, [7, 4], [1.0, 0.0, 0.6], 1, 51));
  });

  it("matches for headDim 16 over seq 33 with one sequence attending to 2 keys, no head mask", () => {
    checkAttentionBackward(backwardCase(2, 33, 2, 16, 0, 1, [33, 2], null, 17, 52));
  });

  it("matches for a single token (seq 1, headDim 3): softmax has no gradient, v takes it all", () => {
    checkAttentionBackward(backwardCase(1, 1, 1, 3, 1, 0, [1], [0.5], 1, 53));
  });

  it("matches for headDim 64 over seq 20 (the 16-wide paths, pairs of keys)", () => {
    checkAttentionBackward(backwardCase(1, 20, 2, 64, 4, 0, [20], [0.8, 1.0], 23, 54));
  });
});

describe("attention_backward with attention-probability dropout", () => {
  it("matches central differences at p = 0.1 (fixed mask): 3 heads of 5, seq 7, padding, head mask with a 0", () => {
    const c = backwardCase(2, 7, 3, 5, 2, 3, [7, 4], [1.0, 0.0, 0.6], 1, 61);
    c.dropoutP = 0.1;
    c.dropSeed = 77;
    c.dropOffset = 1000;
    checkAttentionBackward(c);
  });

  it("matches at p = 0.5 for headDim 21 over seq 33 (odd: a last row and a last key alone), counters wrapping", () => {
    const c = backwardCase(2, 33, 2, 21, 1, 2, [33, 20], [0.7, 1.0], 13, 62);
    c.dropoutP = 0.5;
    c.dropSeed = 0x12345678;
    c.dropOffset = 0xfffff000;
    checkAttentionBackward(c);
  });

  it("regenerates dropout_forward's mask: with dCtx_i = e_i, dv_j[i] is D_ij bit for bit", () => {
    const c = backwardCase(2, 11, 3, 16, 0, 0, [11, 11], null, 1, 63);
    c.oneHotDCtx = true;
    c.dropoutP = 0.2;
    c.dropSeed = 4242;
    c.dropOffset = 12345;
    const run = runBackward(c);
    const n = c.batch * c.heads * c.seq * c.seq;
    const expected = droppedOut(run.probs, n, c.dropoutP, c.dropSeed, c.dropOffset);
    let differing = 0;
    let dropped = 0;
    for (let b = 0; b < c.batch; b++) {
      for (let h = 0; h < c.heads; h++) {
        for (let i = 0; i < c.seq; i++) {
          for (let j = 0; j < c.seq; j++) {
            const e = ((b * c.heads + h) * c.seq + i) * c.seq + j;
            const got = run.dv[(b * c.seq + j) * run.ld + h * c.headDim + i];
            if (reinterpret<u32>(got) != reinterpret<u32>(expected[e])) differing++;
            if (expected[e] == 0) dropped++;
          }
        }
      }
    }
    expect<i32>(differing).toBe(0, "dv elements that differ from dropout_forward's D");
    expect<i32>(dropped).toBeGreaterThan(0, "the mask must drop something here");
  });

  it("p = 1e-12 (dropout path, nothing dropped, scale 1) gives the p = 0 gradients bit for bit", () => {
    const c = backwardCase(2, 9, 2, 12, 1, 1, [9, 5], [0.5, 1.0], 1, 64);
    const plain = runBackward(c);
    c.dropoutP = 1e-12;
    c.dropSeed = 9;
    c.dropOffset = 1;
    const tiny = runBackward(c);
    const n = c.batch * c.seq * plain.ld + GUARD;
    expect<bool>(sameBits(tiny.dq, plain.dq, n)).toBe(true, "dq");
    expect<bool>(sameBits(tiny.dk, plain.dk, n)).toBe(true, "dk");
    expect<bool>(sameBits(tiny.dv, plain.dv, n)).toBe(true, "dv");
    expect<bool>(sameBits(tiny.dHeadMask, plain.dHeadMask, c.heads)).toBe(true, "dHeadMask");
  });

  it("p = 1 drops everything: no gradient reaches q, k, v or the head mask", () => {
    const c = backwardCase(1, 6, 2, 5, 0, 0, [6], [1.0, 0.5], 1, 65);
    c.dropoutP = 1.0;
    c.dropSeed = 2;
    const run = runBackward(c);
    for (let i = 0; i < c.seq * run.ld; i++) {
      expect<f32>(run.dq[i]).toBe(0.0);
      expect<f32>(run.dk[i]).toBe(0.0);
      expect<f32>(run.dv[i]).toBe(0.0);
    }
    expect<bool>(sameBits(run.dHeadMask, run.dHeadMaskStart, c.heads)).toBe(true);
  });
});
