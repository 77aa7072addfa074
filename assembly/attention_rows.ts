// Row-level building blocks of attention (one or two query rows at a time over raw
// pointers): dot products, scores, softmax, probability-weighted sums of value rows.
// attention.ts composes them into the exported kernels; these are not wasm exports.
import { exp4 } from "./simd_exp_erf";

/** (v0 + v2) + (v1 + v3): the same pairing `sum4x4` uses, so a key's score does not depend on its block. */
// @ts-ignore: decorator
@inline function horizontalSum(v: v128): f32 {
  const pairs = f32x4.add(v, f32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(pairs, 0) + f32x4.extract_lane(pairs, 1);
}

/** Lane k of the result is the horizontal sum of the k-th argument (a 4×4 transpose-and-add). */
// @ts-ignore: decorator
@inline function sum4x4(a: v128, b: v128, c: v128, d: v128): v128 {
  // [a0+a2, b0+b2, a1+a3, b1+b3] and the same for c, d
  const ab = f32x4.add(f32x4.shuffle(a, b, 0, 4, 1, 5), f32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(f32x4.shuffle(c, d, 0, 4, 1, 5), f32x4.shuffle(c, d, 2, 6, 3, 7));
  return f32x4.add(f32x4.shuffle(ab, cd, 0, 1, 4, 5), f32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/** Σ_{t ∈ [from, to)} a[t]·b[t], in order. */
// @ts-ignore: decorator
@inline function scalarDot(a: usize, b: usize, from: i32, to: i32): f32 {
  let s: f32 = 0;
  for (let t = from; t < to; t++) s += load<f32>(a + (<usize>t << 2)) * load<f32>(b + (<usize>t << 2));
  return s;
}

/** q·k over `headDim` floats, ordered exactly as in the four-key blocks. */
// @ts-ignore: decorator
@inline export function dotOne(q: usize, kj: usize, headDim: i32): f32 {
  const dVec = headDim & ~3;
  let acc = f32x4.splat(0);
  for (let t = 0; t < dVec; t += 4) {
    const offset = <usize>t << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(q + offset), v128.load(kj + offset)));
  }
  return horizontalSum(acc) + scalarDot(q, kj, dVec, headDim);
}

/** The headDim tail (past the last multiple of 4) of four dot products, one per lane. */
// @ts-ignore: decorator
@inline function tailDots(q: usize, k0: usize, k1: usize, k2: usize, k3: usize, dVec: i32, headDim: i32): v128 {
  let tail = f32x4.splat(0);
  tail = f32x4.replace_lane(tail, 0, scalarDot(q, k0, dVec, headDim));
  tail = f32x4.replace_lane(tail, 1, scalarDot(q, k1, dVec, headDim));
  tail = f32x4.replace_lane(tail, 2, scalarDot(q, k2, dVec, headDim));
  tail = f32x4.replace_lane(tail, 3, scalarDot(q, k3, dVec, headDim));
  return tail;
}

/**
 * One query row of scores: `dst[j] = (q·k_j) / sqrtD + maskAdd[j]` for `j < seq`.
 * q: f32 `[headDim]`; key j at `k + j·rowStride` (bytes), f32 `[headDim]`.
 * Keys go four at a time so each q vector load serves four dot products.
 */
export function scoreRow(dst: usize, q: usize, k: usize, rowStride: usize, maskAdd: usize, seq: i32, headDim: i32, sqrtD: f32): void {
  const dVec = headDim & ~3;
  const sqrtDv = f32x4.splat(sqrtD);
  let j = 0;
  for (; j + 4 <= seq; j += 4) {
    const k0 = k + <usize>j * rowStride;
    const k1 = k0 + rowStride;
    const k2 = k1 + rowStride;
    const k3 = k2 + rowStride;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    for (let t = 0; t < dVec; t += 4) {
      const offset = <usize>t << 2;
      const qv = v128.load(q + offset);
      a0 = f32x4.add(a0, f32x4.mul(qv, v128.load(k0 + offset)));
      a1 = f32x4.add(a1, f32x4.mul(qv, v128.load(k1 + offset)));
      a2 = f32x4.add(a2, f32x4.mul(qv, v128.load(k2 + offset)));
      a3 = f32x4.add(a3, f32x4.mul(qv, v128.load(k3 + offset)));
    }
    let dots = sum4x4(a0, a1, a2, a3);
    if (dVec < headDim) dots = f32x4.add(dots, tailDots(q, k0, k1, k2, k3, dVec, headDim));
    const offset = <usize>j << 2;
    v128.store(dst + offset, f32x4.add(f32x4.div(dots, sqrtDv), v128.load(maskAdd + offset)));
  }
  for (; j < seq; j++) {
    const offset = <usize>j << 2;
    store<f32>(dst + offset, dotOne(q, k + <usize>j * rowStride, headDim) / sqrtD + load<f32>(maskAdd + offset));
  }
}

/**
 * `scoreRow` for two query rows at once (qa → dstA, qb → dstB): each key vector
 * loaded serves both rows, halving the loads per multiply-add.
 */
export function scoreRowPair(
  dstA: usize, dstB: usize, qa: usize, qb: usize, k: usize, rowStride: usize, maskAdd: usize,
  seq: i32, headDim: i32, sqrtD: f32,
): void {
  const dVec = headDim & ~3;
  const sqrtDv = f32x4.splat(sqrtD);
  let j = 0;
  for (; j + 4 <= seq; j += 4) {
    const k0 = k + <usize>j * rowStride;
    const k1 = k0 + rowStride;
    const k2 = k1 + rowStride;
    const k3 = k2 + rowStride;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0);
    let b1 = f32x4.splat(0);
    let b2 = f32x4.splat(0);
    let b3 = f32x4.splat(0);
    for (let t = 0; t < dVec; t += 4) {
      const offset = <usize>t << 2;
      const qva = v128.load(qa + offset);
      const qvb = v128.load(qb + offset);
      const kv0 = v128.load(k0 + offset);
      a0 = f32x4.add(a0, f32x4.mul(qva, kv0));
      b0 = f32x4.add(b0, f32x4.mul(qvb, kv0));
      const kv1 = v128.load(k1 + offset);
      a1 = f32x4.add(a1, f32x4.mul(qva, kv1));
      b1 = f32x4.add(b1, f32x4.mul(qvb, kv1));
      const kv2 = v128.load(k2 + offset);
      a2 = f32x4.add(a2, f32x4.mul(qva, kv2));
      b2 = f32x4.add(b2, f32x4.mul(qvb, kv2));
      const kv3 = v128.load(k3 + offset);
      a3 = f32x4.add(a3, f32x4.mul(qva, kv3));
      b3 = f32x4.add(b3, f32x4.mul(qvb, kv3));
    }
    let dotsA = sum4x4(a0, a1, a2, a3);
    let dotsB = sum4x4(b0, b1, b2, b3);
    if (dVec < headDim) {
      dotsA = f32x4.add(dotsA, tailDots(qa, k0, k1, k2, k3, dVec, headDim));
      dotsB = f32x4.add(dotsB, tailDots(qb, k0, k1, k2, k3, dVec, headDim));
    }
    const offset = <usize>j << 2;
    const m = v128.load(maskAdd + offset);
    v128.store(dstA + offset, f32x4.add(f32x4.div(dotsA, sqrtDv), m));
    v128.store(dstB + offset, f32x4.add(f32x4.div(dotsB, sqrtDv), m));
  }
  for (; j < seq; j++) {
    const kj = k + <usize>j * rowStride;
    const offset = <usize>j << 2;
    const m = load<f32>(maskAdd + offset);
    store<f32>(dstA + offset, dotOne(qa, kj, headDim) / sqrtD + m);
    store<f32>(dstB + offset, dotOne(qb, kj, headDim) / sqrtD + m);
  }
}

/**
 * In-place softmax of one row of `seq` scores (row max subtracted first).
 * The normaliser is summed in f64 so that long rows lose nothing to it.
 */
export function softmaxRow(row: usize, seq: i32): void {
  const vecEnd = seq & ~3;
  let maxv = f32x4.splat(-Infinity);
  for (let j = 0; j < vecEnd; j += 4) maxv = f32x4.max(maxv, v128.load(row + (<usize>j << 2)));
  let rowMax = max<f32>(
    max<f32>(f32x4.extract_lane(maxv, 0), f32x4.extract_lane(maxv, 1)),
    max<f32>(f32x4.extract_lane(maxv, 2), f32x4.extract_lane(maxv, 3)),
  );
  for (let j = vecEnd; j < seq; j++) rowMax = max<f32>(rowMax, load<f32>(row + (<usize>j << 2)));

  const maxSplat = f32x4.splat(rowMax);
  let sum2 = f64x2.splat(0);
  for (let j = 0; j < vecEnd; j += 4) {
    const ptr = row + (<usize>j << 2);
    const e = exp4(f32x4.sub(v128.load(ptr), maxSplat));
    v128.store(ptr, e);
    sum2 = f64x2.add(sum2, f64x2.promote_low_f32x4(e));
    sum2 = f64x2.add(sum2, f64x2.promote_low_f32x4(f32x4.shuffle(e, e, 2, 3, 0, 1)));
  }
  let sum = f64x2.extract_lane(sum2, 0) + f64x2.extract_lane(sum2, 1);
  for (let j = vecEnd; j < seq; j++) {
    const ptr = row + (<usize>j << 2);
    const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(ptr) - rowMax)), 0);
    store<f32>(ptr, e);
    sum += <f64>e;
  }

  const inv = <f32>(1.0 / sum);
  const invSplat = f32x4.splat(inv);
  for (let j = 0; j < vecEnd; j += 4) {
    const ptr = row + (<usize>j << 2);
    v128.store(ptr, f32x4.mul(v128.load(ptr), invSplat));
  }
  for (let j = vecEnd; j < seq; j++) {
    const ptr = row + (<usize>j << 2);
    store<f32>(ptr, load<f32>(ptr) * inv);
  }
}

/**
 * One query row of context: `dst[t] = scale · Σ_j p[j]·v_j[t]` for `t < headDim`.
 * p: f32 `[seq]`; value j at `v + j·rowStride` (bytes). Each output element is a
 * sequential sum over j, whichever of the 16-, 4- or 1-wide paths computes it.
 */
export function weightedSumRow(dst: usize, p: usize, v: usize, rowStride: usize, seq: i32, headDim: i32, scale: f32): void {
  const scaleSplat = f32x4.splat(scale);
  let t = 0;
  for (; t + 16 <= headDim; t += 16) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let vj = v + (<usize>t << 2);
    for (let j = 0; j < seq; j++) {
      const pj = v128.load32_splat(p + (<usize>j << 2));
      a0 = f32x4.add(a0, f32x4.mul(pj, v128.load(vj)));
      a1 = f32x4.add(a1, f32x4.mul(pj, v128.load(vj, 16)));
      a2 = f32x4.add(a2, f32x4.mul(pj, v128.load(vj, 32)));
      a3 = f32x4.add(a3, f32x4.mul(pj, v128.load(vj, 48)));
      vj += rowStride;
    }
    const out = dst + (<usize>t << 2);
    v128.store(out, f32x4.mul(a0, scaleSplat));
    v128.store(out, f32x4.mul(a1, scaleSplat), 16);
    v128.store(out, f32x4.mul(a2, scaleSplat), 32);
    v128.store(out, f32x4.mul(a3, scaleSplat), 48);
  }
  for (; t + 4 <= headDim; t += 4) {
    let acc = f32x4.splat(0);
    let vj = v + (<usize>t << 2);
    for (let j = 0; j < seq; j++) {
      acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(p + (<usize>j << 2)), v128.load(vj)));
      vj += rowStride;
    }
    v128.store(dst + (<usize>t << 2), f32x4.mul(acc, scaleSplat));
  }
  for (; t < headDim; t++) {
    let acc: f32 = 0;
    let vj = v + (<usize>t << 2);
    for (let j = 0; j < seq; j++) {
      acc += load<f32>(p + (<usize>j << 2)) * load<f32>(vj);
      vj += rowStride;
    }
    store<f32>(dst + (<usize>t << 2), acc * scale);
  }
}

/** `weightedSumRow` for two query rows at once: each value vector loaded serves both. */
export function weightedSumRowPair(
  dstA: usize, dstB: usize, pa: usize, pb: usize, v: usize, rowStride: usize, seq: i32, headDim: i32, scale: f32,
): void {
  const scaleSplat = f32x4.splat(scale);
  let t = 0;
  for (; t + 16 <= headDim; t += 16) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0);
    let b1 = f32x4.splat(0);
    let b2 = f32x4.splat(0);
    let b3 = f32x4.splat(0);
    let vj = v + (<usize>t << 2);
    for (let j = 0; j < seq; j++) {
      const pja = v128.load32_splat(pa + (<usize>j << 2));
      const pjb = v128.load32_splat(pb + (<usize>j << 2));
      const v0 = v128.load(vj);
      a0 = f32x4.add(a0, f32x4.mul(pja, v0));
      b0 = f32x4.add(b0, f32x4.mul(pjb, v0));
      const v1 = v128.load(vj, 16);
      a1 = f32x4.add(a1, f32x4.mul(pja, v1));
      b1 = f32x4.add(b1, f32x4.mul(pjb, v1));
      const v2 = v128.load(vj, 32);
      a2 = f32x4.add(a2, f32x4.mul(pja, v2));
      b2 = f32x4.add(b2, f32x4.mul(pjb, v2));
      const v3 = v128.load(vj, 48);
      a3 = f32x4.add(a3, f32x4.mul(pja, v3));
      b3 = f32x4.add(b3, f32x4.mul(pjb, v3));
      vj += rowStride;
    }
    const outA = dstA + (<usize>t << 2);
    v128.store(outA, f32x4.mul(a0, scaleSplat));
    v128.store(outA, f32x4.mul(a1, scaleSplat), 16);
    v128.store(outA, f32x4.mul(a2, scaleSplat), 32);
    v128.store(outA, f32x4.mul(a3, scaleSplat), 48);
    const outB = dstB + (<usize>t << 2);
    v128.store(outB, f32x4.mul(b0, scaleSplat));
    v128.store(outB, f32x4.mul(b1, scaleSplat), 16);
    v128.store(outB, f32x4.mul(b2, scaleSplat), 32);
    v128.store(outB, f32x4.mul(b3, scaleSplat), 48);
  }
  // What is left of headDim (under 16 columns) is cheap: finish each row on its own.
  if (t < headDim) {
    const offset = <usize>t << 2;
    weightedSumRow(dstA + offset, pa, v + offset, rowStride, seq, headDim - t, scale);
    weightedSumRow(dstB + offset, pb, v + offset, rowStride, seq, headDim - t, scale);
  }
}

/** y[t] += alpha·x[t] for t < n. */
// @ts-ignore: decorator
@inline export function axpy(y: usize, alpha: f32, x: usize, n: i32): void {
  const alphaV = f32x4.splat(alpha);
  const vecEnd = n & ~3;
  for (let t = 0; t < vecEnd; t += 4) {
    const offset = <usize>t << 2;
    v128.store(y + offset, f32x4.add(v128.load(y + offset), f32x4.mul(alphaV, v128.load(x + offset))));
  }
  for (let t = vecEnd; t < n; t++) {
    const offset = <usize>t << 2;
    store<f32>(y + offset, load<f32>(y + offset) + alpha * load<f32>(x + offset));
  }
}

/** dst[t] = 0 for t < n. */
export function zeroRow(dst: usize, n: i32): void {
  for (let t = 0; t < n; t++) store<f32>(dst + (<usize>t << 2), 0);
}
