// Training losses, each fused with its gradient. Every pointer is a byte offset;
// f32 row-major unless stated, labels i32.
//
// Conventions shared by every export here:
// - The return value is the loss itself (f64, a mean as stated per function),
//   NOT multiplied by `scale`.
// - The gradient of `scale · loss` with respect to the first input is ADDED to
//   the gradient buffer (`+=`), so several terms (e.g. λ·soft-CE and CE on the
//   same logits) can share one buffer; zero it first when starting afresh.
// - Sums run in f64; the per-element gradient is formed in f32.
// - Nothing is read or written outside the stated shapes, whatever the labels
//   hold (labels are validated in TypeScript; an out-of-range one here yields a
//   NaN loss and no gradient for its row rather than a stray memory access).
//
// Log-softmax uses max subtraction: logsumexp(x) = m + log Σ exp(x − m), m = max x.
// exp is the four-lane f32 exp4 of simd_exp_erf.ts (≲ 2 ulp), summed in f64.

import { exp4 } from "./simd_exp_erf";

/** TinyBERT replaces attention scores at or below this (masked keys, ~−10000) by 0. */
const ATTENTION_SCORE_FLOOR: f32 = -100.0;
/** torch's cosine_embedding_loss adds this to each squared norm (ATen's EPSILON). */
const COSINE_EPSILON: f64 = 1e-12;

// ---- row helpers ------------------------------------------------------------------

/** exp of one f32 by the same arithmetic as one lane of exp4 (tails use it). */
// @ts-ignore: decorator
@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** Sum of the two f64 lanes of a promoted f32x4 (lanes 0,1 + lanes 2,3) added to acc. */
// @ts-ignore: decorator
@inline function addPromoted(acc: v128, x: v128): v128 {
  return f64x2.add(acc, f64x2.add(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(v128.shuffle<i64>(x, x, 1, 1))));
}

// @ts-ignore: decorator
@inline function sumLanes64(acc: v128): f64 {
  return f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

/** Largest element of row f32 [n], n ≥ 1; NaN if any element is NaN. */
function rowMax(row: usize, n: i32): f32 {
  let m: f32 = load<f32>(row);
  let i = 0;
  if (n >= 4) {
    let mv = v128.load(row);
    for (i = 4; i + 4 <= n; i += 4) mv = f32x4.max(mv, v128.load(row + (<usize>i << 2)));
    m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  }
  for (; i < n; i++) m = max(m, load<f32>(row + (<usize>i << 2)));
  return m;
}

/** Σ exp(row[j] − m) over f32 [n], in f64. */
function sumExpShifted(row: usize, n: i32, m: f32): f64 {
  const mv = f32x4.splat(m);
  let acc = f64x2.splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = addPromoted(acc, exp4(f32x4.sub(v128.load(row + (<usize>i << 2)), mv)));
  let sum = sumLanes64(acc);
  for (; i < n; i++) sum += <f64>exp1(load<f32>(row + (<usize>i << 2)) - m);
  return sum;
}

/** grad[j] += exp(row[j] − m) · c over f32 [n]: c·softmax when c = coef / Σexp. */
function addScaledExp(grad: usize, row: usize, n: i32, m: f32, c: f32): void {
  const mv = f32x4.splat(m);
  const cv = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p = f32x4.mul(exp4(f32x4.sub(v128.load(row + o), mv)), cv);
    v128.store(grad + o, f32x4.add(v128.load(grad + o), p));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(grad + o, load<f32>(grad + o) + exp1(load<f32>(row + o) - m) * c);
  }
}

// ---- cross-entropy against class labels -------------------------------------------

/**
 * Shared body of the two label losses: rows whose label equals `ignoreIndex` (when
 * `useIgnore`) are skipped; `divisor` is the count of rows the mean runs over.
 * Returns Σ over counted rows of (logsumexp(row) − row[label]) in f64, and adds
 * coef·(softmax − onehot) with coef = scale/divisor. An out-of-range label makes
 * the sum NaN and its row gets no gradient.
 */
function labelCrossEntropyRows(
  dLogits: usize, logits: usize, labels: usize, rows: i32, classes: i32,
  ignoreIndex: i32, useIgnore: bool, divisor: i32, scale: f32,
): f64 {
  const coef = <f64>scale / <f64>divisor;
  const rowBytes = <usize>classes << 2;
  let total: f64 = 0.0;
  for (let r = 0; r < rows; r++) {
    const label = load<i32>(labels + (<usize>r << 2));
    if (useIgnore && label == ignoreIndex) continue;
    if (label < 0 || label >= classes) {
      total = NaN;
      continue;
    }
    const row = logits + <usize>r * rowBytes;
    const grad = dLogits + <usize>r * rowBytes;
    const m = rowMax(row, classes);
    const sum = sumExpShifted(row, classes, m);
    total += <f64>m + Math.log(sum) - <f64>load<f32>(row + (<usize>label << 2));
    addScaledExp(grad, row, classes, m, <f32>(coef / sum));
    const g = grad + (<usize>label << 2);
    store<f32>(g, load<f32>(g) - <f32>coef);
  }
  return total;
}

/**
 * Cross-entropy of logits f32 [batch][classes] against labels i32 [batch]
 * (PyTorch's F.cross_entropy, mean reduction): returns
 * (1/batch)·Σ_b −log softmax(logits[b])[labels[b]], and adds
 * dLogits[b][j] += scale·(softmax(logits[b])[j] − [j = labels[b]])/batch.
 * Every label must lie in [0, classes). batch 0 → 0 and no writes.
 */
export function cross_entropy_forward_backward(
  dLogits: usize, logits: usize, labels: usize, batch: i32, classes: i32, scale: f32,
): f64 {
  if (batch <= 0 || classes <= 0) return 0.0;
  return labelCrossEntropyRows(dLogits, logits, labels, batch, classes, 0, false, batch, scale) / <f64>batch;
}

/**
 * Masked-LM cross-entropy over logits f32 [rows][vocab], labels i32 [rows]: rows
 * whose label is `ignoreIndex` (HF uses −100) take no part. With c the number of
 * other rows, returns (1/c)·Σ −log softmax(row)[label] and adds
 * scale·(softmax − onehot)/c to those rows of dLogits; ignored rows get no
 * gradient. c = 0 → returns 0 and writes nothing (no NaN). Non-ignored labels
 * must lie in [0, vocab).
 */
export function masked_lm_cross_entropy_forward_backward(
  dLogits: usize, logits: usize, labels: usize, rows: i32, vocab: i32, ignoreIndex: i32, scale: f32,
): f64 {
  if (rows <= 0 || vocab <= 0) return 0.0;
  let counted = 0;
  for (let r = 0; r < rows; r++) if (load<i32>(labels + (<usize>r << 2)) != ignoreIndex) counted++;
  if (counted == 0) return 0.0;
  return labelCrossEntropyRows(dLogits, logits, labels, rows, vocab, ignoreIndex, true, counted, scale) / <f64>counted;
}

// ---- distillation losses -----------------------------------------------------------

/**
 * Soft cross-entropy of student logits against teacher logits, both f32
 * [batch][classes] (DynaBERT's soft_cross_entropy): returns
 * (1/batch)·Σ_b −Σ_j softmax(t_b)_j · log_softmax(s_b)_j, and adds
 * dStudent[b][j] += scale·(softmax(s_b)_j − softmax(t_b)_j)/batch.
 * The teacher gets no gradient. batch 0 → 0 and no writes.
 */
export function soft_cross_entropy_forward_backward(
  dStudent: usize, student: usize, teacher: usize, batch: i32, classes: i32, scale: f32,
): f64 {
  if (batch <= 0 || classes <= 0) return 0.0;
  const coef = <f64>scale / <f64>batch;
  const rowBytes = <usize>classes << 2;
  let total: f64 = 0.0;
  for (let b = 0; b < batch; b++) {
    const s = student + <usize>b * rowBytes;
    const t = teacher + <usize>b * rowBytes;
    const grad = dStudent + <usize>b * rowBytes;
    const ms = rowMax(s, classes);
    const mt = rowMax(t, classes);
    const sumS = sumExpShifted(s, classes, ms);
    // Σ_j exp(t_j − mt)·(s_j − ms) in f64: with Σ_j softmax(t)_j = 1 the row loss is
    // log Σexp(s − ms) − Σ_j softmax(t)_j·(s_j − ms), free of the large m terms.
    const mtv = f32x4.splat(mt);
    const msd = f64x2.splat(<f64>ms);
    let sumT2 = f64x2.splat(0.0);
    let dot2 = f64x2.splat(0.0);
    let j = 0;
    for (; j + 4 <= classes; j += 4) {
      const o = <usize>j << 2;
      const e = exp4(f32x4.sub(v128.load(t + o), mtv));
      const sv = v128.load(s + o);
      const eLo = f64x2.promote_low_f32x4(e);
      const eHi = f64x2.promote_low_f32x4(v128.shuffle<i64>(e, e, 1, 1));
      const sLo = f64x2.sub(f64x2.promote_low_f32x4(sv), msd);
      const sHi = f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<i64>(sv, sv, 1, 1)), msd);
      sumT2 = f64x2.add(sumT2, f64x2.add(eLo, eHi));
      dot2 = f64x2.add(dot2, f64x2.add(f64x2.mul(eLo, sLo), f64x2.mul(eHi, sHi)));
    }
    let sumT = sumLanes64(sumT2);
    let dot = sumLanes64(dot2);
    for (; j < classes; j++) {
      const o = <usize>j << 2;
      const e = <f64>exp1(load<f32>(t + o) - mt);
      sumT += e;
      dot += e * (<f64>load<f32>(s + o) - <f64>ms);
    }
    total += Math.log(sumS) - dot / sumT;
    // grad += exp(s − ms)·cS − exp(t − mt)·cT.
    addScaledExp(grad, s, classes, ms, <f32>(coef / sumS));
    addScaledExp(grad, t, classes, mt, <f32>(-coef / sumT));
  }
  return total / <f64>batch;
}

/**
 * Mean squared error over a, b f32 [n] (F.mse_loss, mean over every element):
 * returns (1/n)·Σ (a−b)², and adds dA[i] += scale·2·(a[i]−b[i])/n. b gets no
 * gradient. n 0 → 0 and no writes.
 */
export function mse_forward_backward(dA: usize, a: usize, b: usize, n: i32, scale: f32): f64 {
  return squaredErrorRows(dA, a, b, n, scale, false);
}

/**
 * TinyBERT's attention loss over a, b f32 [n] (student, teacher attention scores):
 * every value ≤ −100 (keys hidden by the −10000 mask) is replaced by 0 in both,
 * then the plain mean squared error as mse_forward_backward: returns
 * (1/n)·Σ (a'−b')², and adds dA[i] += scale·2·(a'[i]−b'[i])/n where a[i] > −100
 * and nothing where a[i] ≤ −100 (torch.where passes no gradient to a replaced
 * element). On probabilities (all ≥ 0) this is exactly mse_forward_backward.
 */
export function attention_mse_forward_backward(dA: usize, a: usize, b: usize, n: i32, scale: f32): f64 {
  return squaredErrorRows(dA, a, b, n, scale, true);
}

/** Body of the two MSE exports; `floorScores` applies TinyBERT's ≤ −100 → 0 rule. */
// @ts-ignore: decorator
@inline function squaredErrorRows(dA: usize, a: usize, b: usize, n: i32, scale: f32, floorScores: bool): f64 {
  if (n <= 0) return 0.0;
  const c = <f32>(2.0 * <f64>scale / <f64>n);
  const cv = f32x4.splat(c);
  const floorV = f32x4.splat(ATTENTION_SCORE_FLOOR);
  let acc0 = f64x2.splat(0.0);
  let acc1 = f64x2.splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    let av = v128.load(a + o);
    let bv = v128.load(b + o);
    let aFloored = i32x4.splat(0);
    if (floorScores) {
      aFloored = f32x4.le(av, floorV);
      av = v128.andnot(av, aFloored);
      bv = v128.andnot(bv, f32x4.le(bv, floorV));
    }
    const d = f32x4.sub(av, bv);
    const dLo = f64x2.promote_low_f32x4(d);
    const dHi = f64x2.promote_low_f32x4(v128.shuffle<i64>(d, d, 1, 1));
    acc0 = f64x2.add(acc0, f64x2.mul(dLo, dLo));
    acc1 = f64x2.add(acc1, f64x2.mul(dHi, dHi));
    const g = v128.andnot(f32x4.mul(d, cv), aFloored);
    v128.store(dA + o, f32x4.add(v128.load(dA + o), g));
  }
  let sum = sumLanes64(f64x2.add(acc0, acc1));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let av = load<f32>(a + o);
    let bv = load<f32>(b + o);
    let aFloored = false;
    if (floorScores) {
      aFloored = av <= ATTENTION_SCORE_FLOOR;
      if (aFloored) av = 0.0;
      if (bv <= ATTENTION_SCORE_FLOOR) bv = 0.0;
    }
    const d = av - bv;
    sum += <f64>d * <f64>d;
    if (!aFloored) store<f32>(dA + o, load<f32>(dA + o) + d * c);
  }
  return sum / <f64>n;
}

/**
 * DistilBERT's cosine loss (torch's CosineEmbeddingLoss with target +1, mean
 * reduction) over a, b f32 [rows][dim], optionally only over rows with
 * rowMask[r] ≠ 0 (rowMask i32 [rows], or 0 for every row; DistilBERT selects
 * the non-padding positions). With A = |a_r|² + ε, B = |b_r|² + ε (ε = 1e-12, as
 * torch adds) and cos_r = a_r·b_r / √(A·B), returns (1/c)·Σ (1 − cos_r) over the c
 * counted rows and adds dA[r] += (scale/c)·(cos_r·a_r/A − b_r/√(A·B)).
 * A zero a_r or b_r is safe: cos = 0, loss 1; the gradient is −(scale/c)·b_r/√(ε·B)
 * (large but finite, as torch's) when a_r = 0, and 0 when b_r = 0.
 * c = 0 → returns 0 and writes nothing.
 */
export function cosine_embedding_forward_backward(
  dA: usize, a: usize, b: usize, rowMask: usize, rows: i32, dim: i32, scale: f32,
): f64 {
  if (rows <= 0 || dim <= 0) return 0.0;
  let counted = rows;
  if (rowMask != 0) {
    counted = 0;
    for (let r = 0; r < rows; r++) if (load<i32>(rowMask + (<usize>r << 2)) != 0) counted++;
  }
  if (counted == 0) return 0.0;
  const coef = <f64>scale / <f64>counted;
  const rowBytes = <usize>dim << 2;
  let total: f64 = 0.0;
  for (let r = 0; r < rows; r++) {
    if (rowMask != 0 && load<i32>(rowMask + (<usize>r << 2)) == 0) continue;
    const ar = a + <usize>r * rowBytes;
    const br = b + <usize>r * rowBytes;
    const gr = dA + <usize>r * rowBytes;
    let ab2 = f64x2.splat(0.0);
    let aa2 = f64x2.splat(0.0);
    let bb2 = f64x2.splat(0.0);
    let j = 0;
    for (; j + 4 <= dim; j += 4) {
      const o = <usize>j << 2;
      const av = v128.load(ar + o);
      const bv = v128.load(br + o);
      const aLo = f64x2.promote_low_f32x4(av);
      const aHi = f64x2.promote_low_f32x4(v128.shuffle<i64>(av, av, 1, 1));
      const bLo = f64x2.promote_low_f32x4(bv);
      const bHi = f64x2.promote_low_f32x4(v128.shuffle<i64>(bv, bv, 1, 1));
      ab2 = f64x2.add(ab2, f64x2.add(f64x2.mul(aLo, bLo), f64x2.mul(aHi, bHi)));
      aa2 = f64x2.add(aa2, f64x2.add(f64x2.mul(aLo, aLo), f64x2.mul(aHi, aHi)));
      bb2 = f64x2.add(bb2, f64x2.add(f64x2.mul(bLo, bLo), f64x2.mul(bHi, bHi)));
    }
    let ab = sumLanes64(ab2);
    let aa = sumLanes64(aa2);
    let bb = sumLanes64(bb2);
    for (; j < dim; j++) {
      const o = <usize>j << 2;
      const x = <f64>load<f32>(ar + o);
      const y = <f64>load<f32>(br + o);
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const normA = aa + COSINE_EPSILON;
    const denom = Math.sqrt(normA * (bb + COSINE_EPSILON));
    const cos = ab / denom;
    total += 1.0 - cos;
    // d(1 − cos)/da = cos·a/A − b/√(AB).
    const ca = <f32>(coef * cos / normA);
    const cb = <f32>(coef / denom);
    const cav = f32x4.splat(ca);
    const cbv = f32x4.splat(cb);
    j = 0;
    for (; j + 4 <= dim; j += 4) {
      const o = <usize>j << 2;
      const g = f32x4.sub(f32x4.mul(v128.load(ar + o), cav), f32x4.mul(v128.load(br + o), cbv));
      v128.store(gr + o, f32x4.add(v128.load(gr + o), g));
    }
    for (; j < dim; j++) {
      const o = <usize>j << 2;
      store<f32>(gr + o, load<f32>(gr + o) + (load<f32>(ar + o) * ca - load<f32>(br + o) * cb));
    }
  }
  return total / <f64>counted;
}
