// Plain references for the loss, AdamW and dropout kernel tests: straight f64 loops
// (f32 where the kernel's f32 rounding is the specification), written for
// obviousness, not speed. Nothing here is shared with the kernels.

// ---- losses in f64 -------------------------------------------------------------------

/** log Σ_j exp(x[off + j]) for j < n, with max subtraction. */
export function refLogSumExp(x: Float64Array, off: i32, n: i32): f64 {
  let m = -Infinity;
  for (let j = 0; j < n; j++) m = Math.max(m, x[off + j]);
  let s = 0.0;
  for (let j = 0; j < n; j++) s += Math.exp(x[off + j] - m);
  return m + Math.log(s);
}

/** Rows whose label is not `ignoreIndex` (every row when !useIgnore). */
export function countedRows(labels: Int32Array, ignoreIndex: i32, useIgnore: bool): i32 {
  let c = 0;
  for (let r = 0; r < labels.length; r++) if (!useIgnore || labels[r] != ignoreIndex) c++;
  return c;
}

/** A scalar function of one f64 vector; the other operands live in the object. */
export abstract class LossFn {
  abstract value(x: Float64Array): f64;
}

/** Mean over counted rows of −log softmax(row)[label]; logits [rows][classes]. */
export class CrossEntropyRef extends LossFn {
  constructor(public labels: Int32Array, public classes: i32, public ignoreIndex: i32, public useIgnore: bool) {
    super();
  }
  value(logits: Float64Array): f64 {
    const count = countedRows(this.labels, this.ignoreIndex, this.useIgnore);
    if (count == 0) return 0.0;
    let total = 0.0;
    for (let r = 0; r < this.labels.length; r++) {
      const label = this.labels[r];
      if (this.useIgnore && label == this.ignoreIndex) continue;
      total += refLogSumExp(logits, r * this.classes, this.classes) - logits[r * this.classes + label];
    }
    return total / <f64>count;
  }
  /** Analytic gradient (softmax − onehot)/count, for checks too large to difference. */
  gradient(logits: Float64Array): Float64Array {
    const g = new Float64Array(logits.length);
    const count = countedRows(this.labels, this.ignoreIndex, this.useIgnore);
    for (let r = 0; r < this.labels.length; r++) {
      const label = this.labels[r];
      if (this.useIgnore && label == this.ignoreIndex) continue;
      const lse = refLogSumExp(logits, r * this.classes, this.classes);
      for (let j = 0; j < this.classes; j++) {
        const p = Math.exp(logits[r * this.classes + j] - lse);
        g[r * this.classes + j] = (p - (j == label ? 1.0 : 0.0)) / <f64>count;
      }
    }
    return g;
  }
}

/** Mean over rows of −Σ_j softmax(t)_j · log_softmax(s)_j, as a function of the student s. */
export class SoftCrossEntropyRef extends LossFn {
  constructor(public teacher: Float64Array, public batch: i32, public classes: i32) {
    super();
  }
  value(student: Float64Array): f64 {
    let total = 0.0;
    for (let b = 0; b < this.batch; b++) {
      const off = b * this.classes;
      const lseS = refLogSumExp(student, off, this.classes);
      const lseT = refLogSumExp(this.teacher, off, this.classes);
      for (let j = 0; j < this.classes; j++) {
        const pt = Math.exp(this.teacher[off + j] - lseT);
        total -= pt * (student[off + j] - lseS);
      }
    }
    return total / <f64>this.batch;
  }
}

/** mean((a − b)²), optionally with TinyBERT's "≤ −100 becomes 0" applied to a and b first. */
export class MseRef extends LossFn {
  constructor(public b: Float64Array, public floorScores: bool) {
    super();
  }
  value(a: Float64Array): f64 {
    let s = 0.0;
    for (let i = 0; i < a.length; i++) {
      let x = a[i];
      let y = this.b[i];
      if (this.floorScores) {
        if (x <= -100.0) x = 0.0;
        if (y <= -100.0) y = 0.0;
      }
      s += (x - y) * (x - y);
    }
    return s / <f64>a.length;
  }
}

/** torch's CosineEmbeddingLoss(target = +1, mean): ε = 1e-12 added to each squared norm. */
export class CosineRef extends LossFn {
  constructor(public b: Float64Array, public rowMask: Int32Array | null, public rows: i32, public dim: i32) {
    super();
  }
  counts(r: i32): bool {
    const mask = this.rowMask;
    return mask === null || mask[r] != 0;
  }
  value(a: Float64Array): f64 {
    let total = 0.0;
    let count = 0;
    for (let r = 0; r < this.rows; r++) {
      if (!this.counts(r)) continue;
      count++;
      total += 1.0 - this.cos(a, r);
    }
    return count == 0 ? 0.0 : total / <f64>count;
  }
  cos(a: Float64Array, r: i32): f64 {
    let ab = 0.0, aa = 0.0, bb = 0.0;
    for (let j = 0; j < this.dim; j++) {
      const x = a[r * this.dim + j];
      const y = this.b[r * this.dim + j];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    return ab / Math.sqrt((aa + 1e-12) * (bb + 1e-12));
  }
  /** Analytic ∂loss/∂a (differencing is useless where ε makes the curvature ~1e12). */
  gradient(a: Float64Array): Float64Array {
    const g = new Float64Array(a.length);
    let count = 0;
    for (let r = 0; r < this.rows; r++) if (this.counts(r)) count++;
    for (let r = 0; r < this.rows; r++) {
      if (!this.counts(r)) continue;
      let ab = 0.0, aa = 0.0, bb = 0.0;
      for (let j = 0; j < this.dim; j++) {
        const x = a[r * this.dim + j];
        const y = this.b[r * this.dim + j];
        ab += x * y;
        aa += x * x;
        bb += y * y;
      }
      const A = aa + 1e-12;
      const D = Math.sqrt(A * (bb + 1e-12));
      const cos = ab / D;
      for (let j = 0; j < this.dim; j++) {
        g[r * this.dim + j] = (cos * a[r * this.dim + j] / A - this.b[r * this.dim + j] / D) / <f64>count;
      }
    }
    return g;
  }
}

// ---- gradient checking ---------------------------------------------------------------

/** Central-difference step: truncation ~h²·f''' ≈ 1e-8, rounding ~1e-16/h ≈ 1e-12. */
export const FD_H: f64 = 1e-4;

/** ∂f/∂x[i] by central differences in f64 for each i in `indices` (all when null). */
export function finiteDifference(f: LossFn, x: Float64Array, indices: Int32Array | null): Float64Array {
  const g = new Float64Array(x.length);
  const n = indices === null ? x.length : indices.length;
  for (let k = 0; k < n; k++) {
    const i = indices === null ? k : indices[k];
    const saved = x[i];
    x[i] = saved + FD_H;
    const up = f.value(x);
    x[i] = saved - FD_H;
    const down = f.value(x);
    x[i] = saved;
    g[i] = (up - down) / (2.0 * FD_H);
  }
  return g;
}

/**
 * Largest |g − ref| over the largest |ref|, over `indices` (all when null). The
 * kernels' f32 gradients land within ~1e-6 of f64 differences by this measure.
 * A sign error scores 2, a missing 1/batch scores batch − 1 (≥ 2 for batch ≥ 3),
 * a missing factor 2 in an MSE 0.5, a scale applied twice or not at all |scale − 1|:
 * GRADIENT_TOLERANCE is far below every one of those.
 */
export function gradientError(g: Float64Array, ref: Float64Array, indices: Int32Array | null): f64 {
  let worst = 0.0;
  let largest = 0.0;
  const n = indices === null ? ref.length : indices.length;
  for (let k = 0; k < n; k++) {
    const i = indices === null ? k : indices[k];
    worst = Math.max(worst, Math.abs(g[i] - ref[i]));
    largest = Math.max(largest, Math.abs(ref[i]));
  }
  return worst / largest;
}

export const GRADIENT_TOLERANCE: f64 = 1e-5;

/** Relative bound for loss values: exp4's ≲ 2 ulp and f32 inputs give ≲ 3e-7. */
export const LOSS_TOLERANCE: f64 = 2e-6;

export function toF64(a: Float32Array): Float64Array {
  const r = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) r[i] = <f64>a[i];
  return r;
}

/** (after − before)/scale per element in f64: what one kernel call added, unscaled. */
export function addedGradient(after: Float32Array, before: Float32Array, scale: f64): Float64Array {
  const r = new Float64Array(after.length);
  for (let i = 0; i < after.length; i++) r[i] = (<f64>after[i] - <f64>before[i]) / scale;
  return r;
}

// ---- fused multiply-add and AdamW in scalar f32 -----------------------------------------

/** The f32 next to x in the direction of `toward` (toward ≠ x). */
function nextF32Toward(x: f32, toward: f64): f32 {
  if (x == 0) return reinterpret<f32>(toward > 0 ? <u32>1 : <u32>0x80000001);
  const bits = reinterpret<u32>(x);
  const awayFromZero = (toward > <f64>x) == (x > 0);
  return reinterpret<f32>(awayFromZero ? bits + 1 : bits - 1);
}

/**
 * a·b + c rounded once to f32 (round to nearest, ties to even). An algorithm
 * different from the kernel's round-to-odd: a·b is exact in f64 and TwoSum gives
 * the exact sum as s + e. Rounding s to f32 is already right unless s sits exactly
 * on the midpoint of two f32 neighbours, since no midpoint (an f64 number) can lie
 * strictly between s and s + e without being a closer f64 to the sum than s. On a
 * midpoint, the sign of e says which side the exact sum is on.
 */
export function refFma(a: f32, b: f32, c: f32): f32 {
  const p = <f64>a * <f64>b;
  const cd = <f64>c;
  const s = p + cd;
  const bb = s - p;
  const e = (p - (s - bb)) + (cd - bb);
  const r = <f32>s;
  if (e == 0.0 || !isFinite(s) || !isFinite(r) || <f64>r == s) return r;
  const other = nextF32Toward(r, s);
  const mid = (<f64>r + <f64>other) * 0.5;
  if (s != mid) return r;
  // Exactly on the midpoint: the exact sum is on e's side of it.
  const upper = <f64>r > <f64>other ? r : other;
  const lower = <f64>r > <f64>other ? other : r;
  return e > 0 ? upper : lower;
}

/** torch.optim.AdamW (`_single_tensor_adamw`) on f32 arrays, element by element. */
export function refAdamwTorch(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  lr: f64, beta1: f64, beta2: f64, eps: f64, wd: f64, step: i32,
): void {
  const bc1 = 1.0 - Math.pow(beta1, <f64>step);
  const bc2 = 1.0 - Math.pow(beta2, <f64>step);
  const stepSize = lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < p.length; i++) {
    p[i] = p[i] * <f32>(1.0 - lr * wd); // param.mul_(1 - lr*wd)
    m[i] = refFma(<f32>(1.0 - beta1), g[i], m[i] * <f32>beta1); // exp_avg.mul_(β1).add_(g, alpha=1−β1)
    v[i] = refFma(<f32>(1.0 - beta2) * g[i], g[i], v[i] * <f32>beta2); // exp_avg_sq.mul_(β2).addcmul_(g, g, value=1−β2)
    const denom = Mathf.sqrt(v[i]) / <f32>bc2Sqrt + <f32>eps; // (v.sqrt() / bc2_sqrt).add_(eps)
    p[i] = p[i] + (<f32>-stepSize * m[i]) / denom; // param.addcdiv_(m, denom, value=-step_size)
  }
}

/** transformers 2.x AdamW (correct_bias=True) on f32 arrays, element by element. */
export function refAdamwHf(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  lr: f64, beta1: f64, beta2: f64, eps: f64, wd: f64, step: i32,
): void {
  const bc1 = 1.0 - Math.pow(beta1, <f64>step);
  const bc2 = 1.0 - Math.pow(beta2, <f64>step);
  const stepSize = lr * Math.sqrt(bc2) / bc1;
  for (let i = 0; i < p.length; i++) {
    m[i] = refFma(<f32>(1.0 - beta1), g[i], m[i] * <f32>beta1);
    v[i] = refFma(<f32>(1.0 - beta2) * g[i], g[i], v[i] * <f32>beta2);
    const denom = Mathf.sqrt(v[i]) + <f32>eps; // exp_avg_sq.sqrt().add_(eps)
    p[i] = p[i] + (<f32>-stepSize * m[i]) / denom; // p.addcdiv_(m, denom, value=-step_size)
    if (wd > 0.0) p[i] = refFma(<f32>(-lr * wd), p[i], p[i]); // p.add_(p, alpha=-lr*wd)
  }
}

// ---- f32 bit-pattern helpers ------------------------------------------------------------

export function fromBits(bits: StaticArray<u32>, start: i32, n: i32): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = reinterpret<f32>(bits[start + i]);
  return a;
}

/** Elements whose bit patterns differ. */
export function countBitMismatches(a: Float32Array, b: Float32Array): i32 {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (reinterpret<u32>(a[i]) != reinterpret<u32>(b[i])) c++;
  return c;
}
