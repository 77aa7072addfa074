/// <reference types="@as-pect/assembly/types/as-pect" />
// attention_backward's optional dProbs: an extra gradient with respect to the stored
// probabilities P (softmax, before dropout and the head mask), as an attention-map loss
// (TinyBERT) gives. The kernel differentiates L = Σ dCtx·ctx + Σ E·P; checked against
// central differences of that f64 loss.
import { attention_backward, attention_backward_scratch_floats, attention_forward, attention_mask_additive } from "../attention";
import { dropout_forward } from "../dropout";
import { AttentionReference, FD_STEP, Rng, SENTINEL, dotF64, filledF32, toF64 } from "./reference_ops";

const GUARD = 8;

class ProbGradCase {
  batch: i32 = 1;
  seq: i32 = 1;
  heads: i32 = 1;
  headDim: i32 = 1;
  /** Extra columns of q, k, v, dq, dk, dv and dCtx that must be neither read nor written. */
  pad: i32 = 0;
  /** Real tokens per sequence `[batch]`, then padding. */
  lengths: i32[] = [1];
  headMask: f32[] | null = null;
  /** dCtx = 0: the gradient comes from E alone. */
  zeroDCtx: bool = false;
  dropoutP: f64 = 0;
  dropSeed: u32 = 0;
  dropOffset: u32 = 0;
  seed: u32 = 1;
  /** Check every stride-th element of dq, dk. */
  stride: i32 = 1;
}

/** The f64 loss Σ dCtx·ctx(q, k, v) + Σ E·P(q, k) over the same inputs as the kernel. */
class ProbLoss {
  q: Float64Array = new Float64Array(0);
  k: Float64Array = new Float64Array(0);
  v: Float64Array = new Float64Array(0);
  maskAdd: Float64Array = new Float64Array(0);
  headMask: Float64Array | null = null;
  dCtx: Float64Array = new Float64Array(0); // [batch][seq][heads·headDim]
  e: Float64Array = new Float64Array(0); // [batch][heads][seq][seq]
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
    return dotF64(ref.ctx, this.dCtx) + dotF64(ref.probs, this.e);
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

class ProbGradRun {
  dq: Float32Array = new Float32Array(0);
  dk: Float32Array = new Float32Array(0);
  dv: Float32Array = new Float32Array(0);
  dHeadMask: Float32Array = new Float32Array(0);
  loss: ProbLoss = new ProbLoss();
}

/** Forward, then backward with dProbs = E (or 0 when `withE` is false) over the same data. */
function run(c: ProbGradCase, withE: bool): ProbGradRun {
  const rng = new Rng(c.seed);
  const width = c.heads * c.headDim;
  const ld = width + c.pad;
  const rows = c.batch * c.seq;
  const q = filledF32(rows * ld, NaN);
  const k = filledF32(rows * ld, NaN);
  const v = filledF32(rows * ld, NaN);
  const dCtx = filledF32(rows * ld, NaN);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < width; t++) {
      q[r * ld + t] = <f32>rng.uniform(-1.5, 1.5);
      k[r * ld + t] = <f32>rng.uniform(-1.5, 1.5);
      v[r * ld + t] = <f32>rng.uniform(-1.0, 1.0);
      dCtx[r * ld + t] = c.zeroDCtx ? 0 : <f32>rng.uniform(-1.0, 1.0);
    }
  }
  const probsCount = c.batch * c.heads * c.seq * c.seq;
  const e = new Float32Array(probsCount);
  for (let i = 0; i < probsCount; i++) e[i] = <f32>rng.uniform(-2.0, 2.0);
  const mask = new Int32Array(rows);
  for (let b = 0; b < c.batch; b++) for (let s = 0; s < c.lengths[b]; s++) mask[b * c.seq + s] = 1;
  const maskAdd = new Float32Array(rows);
  attention_mask_additive(maskAdd.dataStart, mask.dataStart, rows);
  let headMask: Float32Array | null = null;
  if (c.headMask != null) {
    const values = <f32[]>c.headMask;
    headMask = new Float32Array(values.length);
    for (let h = 0; h < values.length; h++) headMask[h] = values[h];
  }
  const headMaskPtr = headMask != null ? headMask.dataStart : 0;

  const probs = new Float32Array(probsCount);
  const ctx = new Float32Array(rows * ld);
  attention_forward(
    ctx.dataStart, probs.dataStart, q.dataStart, k.dataStart, v.dataStart, maskAdd.dataStart, headMaskPtr,
    c.batch, c.seq, c.heads, c.headDim, ld, ld, c.dropoutP, c.dropSeed, c.dropOffset,
  );
  const out = new ProbGradRun();
  out.dq = filledF32(rows * ld + GUARD, SENTINEL);
  out.dk = filledF32(rows * ld + GUARD, SENTINEL);
  out.dv = filledF32(rows * ld + GUARD, SENTINEL);
  out.dHeadMask = new Float32Array(c.heads);
  const scratch = filledF32(attention_backward_scratch_floats(c.seq), NaN);
  const eCopy = new Float32Array(probsCount);
  for (let i = 0; i < probsCount; i++) eCopy[i] = e[i];
  attention_backward(
    out.dq.dataStart, out.dk.dataStart, out.dv.dataStart, out.dHeadMask.dataStart, dCtx.dataStart, probs.dataStart,
    q.dataStart, k.dataStart, v.dataStart, headMaskPtr, c.batch, c.seq, c.heads, c.headDim, ld, ld,
    scratch.dataStart, c.dropoutP, c.dropSeed, c.dropOffset, withE ? e.dataStart : 0,
  );
  let eChanged = 0;
  for (let i = 0; i < probsCount; i++) if (reinterpret<u32>(e[i]) != reinterpret<u32>(eCopy[i])) eChanged++;
  expect<i32>(eChanged).toBe(0, "dProbs is read only");
  let stray = 0;
  for (let r = 0; r < rows; r++) {
    for (let t = width; t < ld; t++) {
      if (out.dq[r * ld + t] != SENTINEL) stray++;
      if (out.dk[r * ld + t] != SENTINEL) stray++;
      if (out.dv[r * ld + t] != SENTINEL) stray++;
    }
  }
  for (let g = 0; g < GUARD; g++) {
    if (out.dq[rows * ld + g] != SENTINEL) stray++;
    if (out.dk[rows * ld + g] != SENTINEL) stray++;
  }
  expect<i32>(stray).toBe(0, "writes outside the head columns");

  const loss = out.loss;
  loss.q = toF64(q);
  loss.k = toF64(k);
  loss.v = toF64(v);
  loss.maskAdd = toF64(maskAdd);
  loss.headMask = headMask != null ? toF64(headMask) : null;
  loss.dCtx = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let t = 0; t < width; t++) loss.dCtx[r * width + t] = <f64>dCtx[r * ld + t];
  loss.e = withE ? toF64(e) : new Float64Array(probsCount);
  if (c.dropoutP > 0) {
    const ones = filledF32(probsCount, 1.0);
    const factors = new Float32Array(probsCount);
    dropout_forward(factors.dataStart, ones.dataStart, 0, probsCount, c.dropoutP, c.dropSeed, c.dropOffset);
    loss.dropFactor = toF64(factors);
  }
  loss.batch = c.batch;
  loss.seq = c.seq;
  loss.heads = c.heads;
  loss.headDim = c.headDim;
  loss.ld = ld;
  return out;
}

/**
 * One gradient against central differences at the head columns. Tolerance 1e-5 of the
 * largest difference quotient (f32 rounding is ~1e-6 of it); a missing rho_i term, E scaled
 * by the head mask or the dropout factor, or a missing 1/√d is off by ≫ 1e-2.
 * Returns that largest quotient.
 */
function checkAgainstFd(name: string, grad: Float32Array, param: Float64Array, loss: ProbLoss, stride: i32): f64 {
  const width = loss.heads * loss.headDim;
  const count = loss.batch * loss.seq * width;
  const expected = new Float64Array(count);
  let scale = 0.0;
  for (let e = 0; e < count; e += stride) {
    expected[e] = loss.slope(param, (e / width) * loss.ld + (e % width));
    scale = max<f64>(scale, Math.abs(expected[e]));
  }
  let worst = 0.0;
  for (let e = 0; e < count; e += stride) {
    const err = Math.abs(<f64>grad[(e / width) * loss.ld + (e % width)] - expected[e]);
    worst = max<f64>(worst, scale > 0 ? err / (1e-5 * scale) : err);
  }
  expect<f64>(worst).toBeLessThanOrEqual(scale > 0 ? 1.0 : 0.0, name + ": worst error / tolerance");
  return scale;
}

function probCase(batch: i32, seq: i32, heads: i32, headDim: i32, pad: i32, lengths: i32[], headMask: f32[] | null, seed: u32): ProbGradCase {
  const c = new ProbGradCase();
  c.batch = batch;
  c.seq = seq;
  c.heads = heads;
  c.headDim = headDim;
  c.pad = pad;
  c.lengths = lengths;
  c.headMask = headMask;
  c.seed = seed;
  return c;
}

describe("attention_backward with dProbs (a loss on the attention probabilities)", () => {
  it("matches central differences of Σ dCtx·ctx + Σ E·P with dropout, padding and a head mask holding 0", () => {
    const c = probCase(2, 7, 3, 5, 2, [7, 4], [1.0, 0.0, 0.6], 71);
    c.dropoutP = 0.1;
    c.dropSeed = 99;
    c.dropOffset = 500;
    const r = run(c, true);
    const qScale = checkAgainstFd("dq", r.dq, r.loss.q, r.loss, 1);
    checkAgainstFd("dk", r.dk, r.loss.k, r.loss, 1);
    checkAgainstFd("dv", r.dv, r.loss.v, r.loss, 1);
    expect<f64>(qScale).toBeGreaterThan(0.0, "the loss must depend on q");
    // Head 1 has mask 0: dCtx cannot reach its q and k, E still does (E meets P before the mask).
    let head1 = 0.0;
    for (let row = 0; row < c.batch * c.seq; row++) {
      for (let t = 0; t < c.headDim; t++) head1 = max<f64>(head1, Math.abs(<f64>r.dq[row * (c.heads * c.headDim + c.pad) + c.headDim + t]));
    }
    expect<f64>(head1).toBeGreaterThan(1e-3 * qScale, "a masked head's q still gets E's gradient");
  });

  it("E alone (dCtx = 0), odd seq 33 and headDim 21 (vector and scalar tails), strided check", () => {
    const c = probCase(2, 33, 2, 21, 1, [33, 20], null, 72);
    c.zeroDCtx = true;
    c.stride = 11;
    const r = run(c, true);
    checkAgainstFd("dq", r.dq, r.loss.q, r.loss, c.stride);
    checkAgainstFd("dk", r.dk, r.loss.k, r.loss, c.stride);
    let nonzeroDv = 0;
    const ld = c.heads * c.headDim + c.pad;
    for (let row = 0; row < c.batch * c.seq; row++) for (let t = 0; t < c.heads * c.headDim; t++) if (r.dv[row * ld + t] != 0) nonzeroDv++;
    expect<i32>(nonzeroDv).toBe(0, "E does not pass through P·V: dv stays 0");
  });

  it("leaves dv and dHeadMask bit for bit as without it (headDim 16, seq 20, dropout 0.3)", () => {
    const c = probCase(1, 20, 2, 16, 0, [15], [0.8, 1.0], 73);
    c.dropoutP = 0.3;
    c.dropSeed = 5;
    const withE = run(c, true);
    const without = run(c, false);
    let differing = 0;
    for (let i = 0; i < withE.dv.length; i++) if (reinterpret<u32>(withE.dv[i]) != reinterpret<u32>(without.dv[i])) differing++;
    for (let h = 0; h < c.heads; h++) if (reinterpret<u32>(withE.dHeadMask[h]) != reinterpret<u32>(without.dHeadMask[h])) differing++;
    expect<i32>(differing).toBe(0, "dv / dHeadMask elements changed by dProbs");
    let changedDq = 0;
    for (let i = 0; i < withE.dq.length; i++) if (withE.dq[i] != without.dq[i]) changedDq++;
    expect<i32>(changedDq).toBeGreaterThan(0, "dProbs must move dq");
  });

  it("a single token: the softmax is constant, so E gives q and k nothing", () => {
    const c = probCase(1, 1, 2, 3, 1, [1], null, 74);
    c.zeroDCtx = true;
    const r = run(c, true);
    for (let t = 0; t < c.heads * c.headDim; t++) {
      expect<f32>(r.dq[t]).toBe(0.0);
      expect<f32>(r.dk[t]).toBe(0.0);
    }
  });
});
