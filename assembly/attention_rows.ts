// Row-level building blocks of attention (one or two query rows at a time over raw
// pointers): dot products, scores, softmax, probability-weighted sums of value rows,
// the softmax's backward and the dropout of probabilities. attention.ts composes them
// into the exported kernels; these are not wasm exports. Their f32x4 multiply-adds are
// multiply_add.ts's mulAdd (relaxed_madd in the relaxed-SIMD build, mul + add otherwise).
import { dropoutKey, dropoutThreshold, dropoutKeepScale, droppedLanes, isDropped } from "./dropout_rng";
export { dropoutKey, dropoutThreshold, dropoutKeepScale };
import { exp4 } from "./simd_exp_erf";
import { mulAdd } from "./multiply_add";

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
@inline function dotOne(q: usize, kj: usize, headDim: i32): f32 {
  const dVec = headDim & ~3;
  let acc = f32x4.splat(0);
  for (let t = 0; t < dVec; t += 4) {
    const offset = <usize>t << 2;
    acc = mulAdd(v128.load(q + offset), v128.load(kj + offset), acc);
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
 * q: f32 `[headDim]`; key j at `k + j·rowStride` (bytes), f32 `[headDim]`; maskAdd f32
 * `[seq]` or 0 (none: backward takes plain dot products with sqrtD = 1, both exact).
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
      a0 = mulAdd(qv, v128.load(k0 + offset), a0);
      a1 = mulAdd(qv, v128.load(k1 + offset), a1);
      a2 = mulAdd(qv, v128.load(k2 + offset), a2);
      a3 = mulAdd(qv, v128.load(k3 + offset), a3);
    }
    let dots = sum4x4(a0, a1, a2, a3);
    if (dVec < headDim) dots = f32x4.add(dots, tailDots(q, k0, k1, k2, k3, dVec, headDim));
    const offset = <usize>j << 2;
    v128.store(dst + offset, f32x4.add(f32x4.div(dots, sqrtDv), maskAdd != 0 ? v128.load(maskAdd + offset) : f32x4.splat(0)));
  }
  for (; j < seq; j++) {
    const offset = <usize>j << 2;
    const m: f32 = maskAdd != 0 ? load<f32>(maskAdd + offset) : 0;
    store<f32>(dst + offset, dotOne(q, k + <usize>j * rowStride, headDim) / sqrtD + m);
  }
}

/**
 * `scoreRow` for two query rows at once (qa → dstA, qb → dstB): each key vector
 * loaded serves both rows, halving the loads per multiply-add. maskAdd may be 0.
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
      a0 = mulAdd(qva, kv0, a0);
      b0 = mulAdd(qvb, kv0, b0);
      const kv1 = v128.load(k1 + offset);
      a1 = mulAdd(qva, kv1, a1);
      b1 = mulAdd(qvb, kv1, b1);
      const kv2 = v128.load(k2 + offset);
      a2 = mulAdd(qva, kv2, a2);
      b2 = mulAdd(qvb, kv2, b2);
      const kv3 = v128.load(k3 + offset);
      a3 = mulAdd(qva, kv3, a3);
      b3 = mulAdd(qvb, kv3, b3);
    }
    let dotsA = sum4x4(a0, a1, a2, a3);
    let dotsB = sum4x4(b0, b1, b2, b3);
    if (dVec < headDim) {
      dotsA = f32x4.add(dotsA, tailDots(qa, k0, k1, k2, k3, dVec, headDim));
      dotsB = f32x4.add(dotsB, tailDots(qb, k0, k1, k2, k3, dVec, headDim));
    }
    const offset = <usize>j << 2;
    const m = maskAdd != 0 ? v128.load(maskAdd + offset) : f32x4.splat(0);
    v128.store(dstA + offset, f32x4.add(f32x4.div(dotsA, sqrtDv), m));
    v128.store(dstB + offset, f32x4.add(f32x4.div(dotsB, sqrtDv), m));
  }
  for (; j < seq; j++) {
    const kj = k + <usize>j * rowStride;
    const offset = <usize>j << 2;
    const m: f32 = maskAdd != 0 ? load<f32>(maskAdd + offset) : 0;
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

// ---- probability-weighted sums -------------------------------------------------------------
// dst[t] = scale · Σ_j w_j·v_j[t], the weights w_j read at `p + j·pStride` (bytes): 4 for a
// row of probabilities, seq·4 for a column of an `[seq][seq]` matrix (the backward's
// dK = dSᵀ·Q and dV = Dᵀ·dCtx). Each output element is a sequential sum over j, whichever of
// the 16-, 4- or 1-wide paths computes it.
//
// `dropped` rows come from markDroppedRow: a dropped entry carries a set sign bit, and its
// weight is (p < 0 ? 0 : p)·keepScale: ±0 when dropped, p·keepScale when kept, NaN kept NaN.
// That is dropout_forward's p·(kept ? keepScale : 0) up to the sign of a zero weight, which
// no sum can tell from +0 (it starts at +0), so ctx is bit for bit P·V over dropout_forward's
// output. pmax is that select in one instruction (the IEEE max is a long sequence on x64).
// `dropped` is a flag of these always-inlined cores, so the plain (inference) versions carry
// no trace of it.

// @ts-ignore: decorator
@inline function weight4(p: v128, dropped: bool, keepScale: v128): v128 {
  return dropped ? f32x4.mul(f32x4.pmax(p, f32x4.splat(0)), keepScale) : p;
}

// @ts-ignore: decorator
@inline function weight1(p: f32, dropped: bool, keepScale: f32): f32 {
  return dropped ? (p < 0 ? <f32>0 : p) * keepScale : p;
}

// @ts-ignore: decorator
@inline function weightedSumRowCore(
  dst: usize, p: usize, pStride: usize, v: usize, rowStride: usize, seq: i32, headDim: i32, scale: f32,
  dropped: bool, keepScale: f32,
): void {
  const scaleSplat = f32x4.splat(scale);
  const keepSplat = f32x4.splat(keepScale);
  let t = 0;
  for (; t + 16 <= headDim; t += 16) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let vj = v + (<usize>t << 2);
    let pj = p;
    for (let j = 0; j < seq; j++) {
      const w = weight4(v128.load32_splat(pj), dropped, keepSplat);
      a0 = mulAdd(w, v128.load(vj), a0);
      a1 = mulAdd(w, v128.load(vj, 16), a1);
      a2 = mulAdd(w, v128.load(vj, 32), a2);
      a3 = mulAdd(w, v128.load(vj, 48), a3);
      vj += rowStride;
      pj += pStride;
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
    let pj = p;
    for (let j = 0; j < seq; j++) {
      acc = mulAdd(weight4(v128.load32_splat(pj), dropped, keepSplat), v128.load(vj), acc);
      vj += rowStride;
      pj += pStride;
    }
    v128.store(dst + (<usize>t << 2), f32x4.mul(acc, scaleSplat));
  }
  for (; t < headDim; t++) {
    let acc: f32 = 0;
    let vj = v + (<usize>t << 2);
    let pj = p;
    for (let j = 0; j < seq; j++) {
      acc += weight1(load<f32>(pj), dropped, keepScale) * load<f32>(vj);
      vj += rowStride;
      pj += pStride;
    }
    store<f32>(dst + (<usize>t << 2), acc * scale);
  }
}

// @ts-ignore: decorator
@inline function weightedSumRowPairCore(
  dstA: usize, dstB: usize, pa: usize, pb: usize, pStride: usize, v: usize, rowStride: usize,
  seq: i32, headDim: i32, scale: f32, dropped: bool, keepScale: f32,
): void {
  const scaleSplat = f32x4.splat(scale);
  const keepSplat = f32x4.splat(keepScale);
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
    let pja = pa;
    let pjb = pb;
    for (let j = 0; j < seq; j++) {
      const wa = weight4(v128.load32_splat(pja), dropped, keepSplat);
      const wb = weight4(v128.load32_splat(pjb), dropped, keepSplat);
      const v0 = v128.load(vj);
      a0 = mulAdd(wa, v0, a0);
      b0 = mulAdd(wb, v0, b0);
      const v1 = v128.load(vj, 16);
      a1 = mulAdd(wa, v1, a1);
      b1 = mulAdd(wb, v1, b1);
      const v2 = v128.load(vj, 32);
      a2 = mulAdd(wa, v2, a2);
      b2 = mulAdd(wb, v2, b2);
      const v3 = v128.load(vj, 48);
      a3 = mulAdd(wa, v3, a3);
      b3 = mulAdd(wb, v3, b3);
      vj += rowStride;
      pja += pStride;
      pjb += pStride;
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
    weightedSumRowCore(dstA + offset, pa, pStride, v + offset, rowStride, seq, headDim - t, scale, dropped, keepScale);
    weightedSumRowCore(dstB + offset, pb, pStride, v + offset, rowStride, seq, headDim - t, scale, dropped, keepScale);
  }
}

/**
 * One row of context: `dst[t] = scale · Σ_j p[j·pStride]·v_j[t]` for `t < headDim`.
 * p: `seq` f32 weights `pStride` bytes apart; value j at `v + j·rowStride` (bytes).
 */
export function weightedSumRow(
  dst: usize, p: usize, pStride: usize, v: usize, rowStride: usize, seq: i32, headDim: i32, scale: f32,
): void {
  weightedSumRowCore(dst, p, pStride, v, rowStride, seq, headDim, scale, false, 0);
}

/** `weightedSumRow` for two rows at once (pa → dstA, pb → dstB): each value vector loaded serves both. */
export function weightedSumRowPair(
  dstA: usize, dstB: usize, pa: usize, pb: usize, pStride: usize, v: usize, rowStride: usize,
  seq: i32, headDim: i32, scale: f32,
): void {
  weightedSumRowPairCore(dstA, dstB, pa, pb, pStride, v, rowStride, seq, headDim, scale, false, 0);
}

/** `weightedSumRow` over a contiguous row marked by markDroppedRow: the weights are the dropped-out probabilities. */
export function weightedSumRowDropped(
  dst: usize, p: usize, v: usize, rowStride: usize, seq: i32, headDim: i32, scale: f32, keepScale: f32,
): void {
  weightedSumRowCore(dst, p, 4, v, rowStride, seq, headDim, scale, true, keepScale);
}

/** `weightedSumRowPair` over two contiguous rows marked by markDroppedRow. */
export function weightedSumRowPairDropped(
  dstA: usize, dstB: usize, pa: usize, pb: usize, v: usize, rowStride: usize,
  seq: i32, headDim: i32, scale: f32, keepScale: f32,
): void {
  weightedSumRowPairCore(dstA, dstB, pa, pb, 4, v, rowStride, seq, headDim, scale, true, keepScale);
}

// ---- softmax backward ----------------------------------------------------------------------

/** Σ_{j<n} a[j]·b[j] over f32 rows, each product exact in f64 and summed in f64. */
export function dotRowF64(a: usize, b: usize, n: i32): f64 {
  const vecEnd = n & ~3;
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  for (let j = 0; j < vecEnd; j += 4) {
    const offset = <usize>j << 2;
    const x = v128.load(a + offset);
    const y = v128.load(b + offset);
    lo = f64x2.add(lo, f64x2.mul(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(y)));
    hi = f64x2.add(hi, f64x2.mul(
      f64x2.promote_low_f32x4(f32x4.shuffle(x, x, 2, 3, 0, 1)),
      f64x2.promote_low_f32x4(f32x4.shuffle(y, y, 2, 3, 0, 1)),
    ));
  }
  const both = f64x2.add(lo, hi);
  let sum = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
  for (let j = vecEnd; j < n; j++) {
    const offset = <usize>j << 2;
    sum += <f64>load<f32>(a + offset) * <f64>load<f32>(b + offset);
  }
  return sum;
}

/**
 * One row of the score gradient, in place over g (f32 `[seq]`, holding dP'_j = dCtx·v_j):
 *   g[j] = hm·(d[j]·g[j] − p[j]·r) / sqrtD
 * where p is the softmax row, d the probabilities P·V used (p itself without dropout, else
 * p·keep/(1−p_drop)) and r = Σ_j d[j]·g[j]. This is hm·p_j·(dP_j − r)/√D with
 * dP_j = keep_j·g[j]/(1−p_drop): the keep factor is folded into d, so no mask is needed here.
 */
export function softmaxGradRow(g: usize, d: usize, p: usize, seq: i32, r: f32, hm: f32, sqrtD: f32): void {
  const vecEnd = seq & ~3;
  const rV = f32x4.splat(r);
  const hmV = f32x4.splat(hm);
  const sqrtDV = f32x4.splat(sqrtD);
  for (let j = 0; j < vecEnd; j += 4) {
    const offset = <usize>j << 2;
    const diff = f32x4.sub(
      f32x4.mul(v128.load(d + offset), v128.load(g + offset)),
      f32x4.mul(v128.load(p + offset), rV),
    );
    v128.store(g + offset, f32x4.div(f32x4.mul(hmV, diff), sqrtDV));
  }
  for (let j = vecEnd; j < seq; j++) {
    const offset = <usize>j << 2;
    const diff = load<f32>(d + offset) * load<f32>(g + offset) - load<f32>(p + offset) * r;
    store<f32>(g + offset, (hm * diff) / sqrtD);
  }
}

/**
 * softmaxGradRow with an extra gradient reaching the probabilities directly (an attention-map
 * loss), in place over g as above:
 *   g[j] = (hm·(d[j]·g[j] − p[j]·r) + p[j]·(e[j] − rho)) / sqrtD
 * with e the row of dL/dP from that loss and rho = Σ_j p[j]·e[j]: the softmax backward of
 * hm·keep·dP' + e, split so the dCtx part is computed exactly as softmaxGradRow does it.
 */
export function softmaxGradRowExtra(g: usize, d: usize, p: usize, e: usize, seq: i32, r: f32, rho: f32, hm: f32, sqrtD: f32): void {
  const vecEnd = seq & ~3;
  const rV = f32x4.splat(r);
  const rhoV = f32x4.splat(rho);
  const hmV = f32x4.splat(hm);
  const sqrtDV = f32x4.splat(sqrtD);
  for (let j = 0; j < vecEnd; j += 4) {
    const offset = <usize>j << 2;
    const pj = v128.load(p + offset);
    const diff = f32x4.sub(f32x4.mul(v128.load(d + offset), v128.load(g + offset)), f32x4.mul(pj, rV));
    const extra = f32x4.mul(pj, f32x4.sub(v128.load(e + offset), rhoV));
    v128.store(g + offset, f32x4.div(f32x4.add(f32x4.mul(hmV, diff), extra), sqrtDV));
  }
  for (let j = vecEnd; j < seq; j++) {
    const offset = <usize>j << 2;
    const pj = load<f32>(p + offset);
    const diff = load<f32>(d + offset) * load<f32>(g + offset) - pj * r;
    const extra = pj * (load<f32>(e + offset) - rho);
    store<f32>(g + offset, (hm * diff + extra) / sqrtD);
  }
}

// ---- dropout of probabilities --------------------------------------------------------------
// The generator is dropout_rng.ts's (shared with dropout_forward), so attention masks equal
// what dropout_forward draws over the same counters by construction; attention.spec.ts checks it.

/**
 * Sets the sign bit of every dropped entry of row (f32 `[seq]`, softmax output, so all
 * ≥ +0); entry j has counter `counter + j` (u32, wrapping). clearSignsRow undoes it exactly.
 */
export function markDroppedRow(row: usize, seq: i32, counter: u32, key: u32, threshold: u32): void {
  const vecEnd = seq & ~3;
  const keyV = i32x4.splat(key);
  const thresholdV = i32x4.splat(threshold);
  const signBit = i32x4.splat(0x80000000);
  let counters = i32x4.add(i32x4.splat(counter), i32x4(0, 1, 2, 3));
  for (let j = 0; j < vecEnd; j += 4) {
    const ptr = row + (<usize>j << 2);
    v128.store(ptr, v128.or(v128.load(ptr), v128.and(droppedLanes(counters, keyV, thresholdV), signBit)));
    counters = i32x4.add(counters, i32x4.splat(4));
  }
  for (let j = vecEnd; j < seq; j++) {
    const ptr = row + (<usize>j << 2);
    if (isDropped(counter + <u32>j, key, threshold)) store<u32>(ptr, load<u32>(ptr) | 0x80000000);
  }
}

/** Clears the sign bit of every entry of row (f32 `[seq]`). */
export function clearSignsRow(row: usize, seq: i32): void {
  const vecEnd = seq & ~3;
  for (let j = 0; j < vecEnd; j += 4) {
    const ptr = row + (<usize>j << 2);
    v128.store(ptr, f32x4.abs(v128.load(ptr)));
  }
  for (let j = vecEnd; j < seq; j++) {
    const ptr = row + (<usize>j << 2);
    store<f32>(ptr, Mathf.abs(load<f32>(ptr)));
  }
}

/**
 * dst[j] = src[j]·(dropped ? 0 : keepScale) over f32 `[seq]`, entry j with counter
 * `counter + j`: dropout_forward's arithmetic, so the values are bit for bit its output.
 */
export function dropRow(dst: usize, src: usize, seq: i32, counter: u32, key: u32, threshold: u32, keepScale: f32): void {
  const vecEnd = seq & ~3;
  const keyV = i32x4.splat(key);
  const thresholdV = i32x4.splat(threshold);
  const scaleV = f32x4.splat(keepScale);
  let counters = i32x4.add(i32x4.splat(counter), i32x4(0, 1, 2, 3));
  for (let j = 0; j < vecEnd; j += 4) {
    const offset = <usize>j << 2;
    const factor = v128.andnot(scaleV, droppedLanes(counters, keyV, thresholdV));
    v128.store(dst + offset, f32x4.mul(v128.load(src + offset), factor));
    counters = i32x4.add(counters, i32x4.splat(4));
  }
  for (let j = vecEnd; j < seq; j++) {
    const offset = <usize>j << 2;
    const factor: f32 = isDropped(counter + <u32>j, key, threshold) ? 0 : keepScale;
    store<f32>(dst + offset, load<f32>(src + offset) * factor);
  }
}
