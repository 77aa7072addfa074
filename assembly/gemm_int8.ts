// int8 linear layers: weights quantized symmetrically per output feature,
// activations quantized per row on the fly, products summed exactly in i32 by
// `i32x4.dot_i16x8_s`, then scaled back to f32.
//
// Quantization (weights and activations alike), for one row r of length k:
//   scale_r = f32(max_t |r_t| / 127)          (f32 division; 0 for an all-zero row)
//   q_t     = clamp(nearest(f32(r_t / scale_r)), −127, 127)   (ties to even)
// and q_t = 0 for every t when scale_r is 0 (all-zero row, or a row so tiny the
// division underflows). Inputs must be finite: an inf or NaN makes that row's
// results meaningless (never an out-of-bounds access).
//
// Packed weight layout: panels of PANEL = 8 output features, the reduction in
// pairs of consecutive indices:
//   packed[p][u][j][e] = q(W[p*8 + j][2u + e])   (int8),
// shape [ceil(n/8)][ceil(k/2)][8][2] = 16 bytes per pair per panel, zero past
// n and past k. One 16-byte load is the pair (t, t+1) of all 8 features; its
// two sign-extended halves, dotted with the activation pair broadcast to every
// 32-bit lane, give 4 features' sums each — the f32 kernel's broadcast tile
// with a pair of products per multiply-add, no horizontal reductions.
// A prefix of output features is a prefix of panels; a prefix of the
// reduction is a prefix of every panel (panels sit ceil(kFull/2)·16 bytes
// apart). An odd k reads one weight past it (index k, another width's or the
// padding), which meets the zero the activation row is padded with.
//
// Exactness: |q| ≤ 127, so one dot lane adds at most 2·127² = 32258 and the
// i32 sums cannot overflow while k ≤ 133,000.
//
// Strides (ldInp, ldOut, ld) are in elements; pointers are byte offsets.

import { loadLanes, storeCols } from "./panel_io";

const PANEL: i32 = 8;
/** One reduction pair of one panel: 8 features × 2 int8. */
const PAIR_BYTES: usize = 16;

/**
 * Rows per register tile: 4 rows × 8 features keeps 8 i32 accumulators, the
 * two widened weight vectors and 4 broadcast activation pairs live (14), as
 * in gemm.ts what fits the 15 xmm registers V8 allocates. Loading the weights
 * as one 16-byte vector and widening both halves measured 10–15% slower.
 */
const ROWS: i32 = 4;

/** Bytes of quantized activation rows one pass over all panels touches (kept in L2). */
const ROW_CHUNK_BYTES: i32 = 1 << 20;

/** Bytes needed to pack a [n][k] weight: ceil(n/8) panels of ceil(k/2) pairs × 16 bytes. */
export function packed_int8_bytes(n: i32, k: i32): i32 {
  return ((n + PANEL - 1) / PANEL) * ((k + 1) >> 1) * <i32>PAIR_BYTES;
}

/**
 * Bytes of `scratch` linear_forward_int8 needs: f32 scales [m], then the
 * quantized input as i16 [m][2·ceil(k/2)] (pairs, zero-padded to even length).
 */
export function linear_int8_scratch_bytes(m: i32, k: i32): i32 {
  return m * 4 + m * ((k + 1) >> 1) * 4;
}

/**
 * Quantizes W [n][k] (f32, row-major) per output feature into dstPacked
 * (`packed_int8_bytes(n, k)` bytes, layout above) and scales f32 [n].
 */
export function quantize_weight_int8(dstPacked: usize, scales: usize, src: usize, n: i32, k: i32): void {
  if (n <= 0 || k <= 0) {
    for (let j = 0; j < n; j++) store<f32>(scales + (<usize>j << 2), 0);
    return;
  }
  const pairs = (k + 1) >> 1;
  const panelStride = <usize>pairs * PAIR_BYTES;
  const panels = (n + PANEL - 1) / PANEL;
  memory.fill(dstPacked, 0, <usize>panels * panelStride);
  for (let j = 0; j < n; j++) {
    const row = src + (<usize>j * k << 2);
    const scale = rowScale(row, k);
    store<f32>(scales + (<usize>j << 2), scale);
    if (scale == 0) continue;
    const to = dstPacked + <usize>(j / PANEL) * panelStride + (<usize>(j % PANEL) << 1);
    for (let t = 0; t < k; t++) {
      const q = quantizeOne(load<f32>(row + (<usize>t << 2)), scale);
      store<i8>(to + <usize>(t >> 1) * PAIR_BYTES + <usize>(t & 1), <i8>q);
    }
  }
}

/**
 * Packs weights that are already quantized (an int8 checkpoint's rows):
 * src int8 [n][k] row-major → dstPacked (`packed_int8_bytes(n, k)` bytes,
 * layout above, zero past n and k). With the scales stored beside them this
 * is exactly what quantize_weight_int8 makes of the f32 rows they came from.
 */
export function pack_weight_int8(dstPacked: usize, src: usize, n: i32, k: i32): void {
  if (n <= 0 || k <= 0) return;
  const pairs = (k + 1) >> 1;
  const panelStride = <usize>pairs * PAIR_BYTES;
  const panels = (n + PANEL - 1) / PANEL;
  memory.fill(dstPacked, 0, <usize>panels * panelStride);
  for (let j = 0; j < n; j++) {
    const row = src + <usize>j * k;
    const to = dstPacked + <usize>(j / PANEL) * panelStride + (<usize>(j % PANEL) << 1);
    // Whole pairs as one 16-bit move: the pair (t, t+1) of a feature is adjacent in both layouts.
    let t = 0;
    for (; t + 2 <= k; t += 2) store<u16>(to + <usize>(t >> 1) * PAIR_BYTES, load<u16>(row + <usize>t));
    if (t < k) store<i8>(to + <usize>(t >> 1) * PAIR_BYTES, load<i8>(row + <usize>t));
  }
}

/**
 * The inverse of pack_weight_int8 for the first n rows: srcPacked (packed
 * from [nFull][k], n ≤ nFull) → dst int8 [n][k] row-major. The export reads
 * an int8 model's rows back with it, so re-exporting never re-quantizes.
 */
export function unpack_weight_int8(dst: usize, srcPacked: usize, n: i32, k: i32): void {
  if (n <= 0 || k <= 0) return;
  const panelStride = <usize>((k + 1) >> 1) * PAIR_BYTES;
  for (let j = 0; j < n; j++) {
    const row = dst + <usize>j * k;
    const from = srcPacked + <usize>(j / PANEL) * panelStride + (<usize>(j % PANEL) << 1);
    let t = 0;
    for (; t + 2 <= k; t += 2) store<u16>(row + <usize>t, load<u16>(from + <usize>(t >> 1) * PAIR_BYTES));
    if (t < k) store<i8>(row + <usize>t, load<i8>(from + <usize>(t >> 1) * PAIR_BYTES));
  }
}

/**
 * dst f32 [n][k] = f32(src[j][t]) · scales[j]: int8 rows back to f32 (one
 * rounding: the product of an integer ≤ 127 in magnitude and an f32). src
 * int8 [n][k], scales f32 [n]. Int8 embedding tables are widened with it at
 * load.
 */
export function dequantize_rows_int8(dst: usize, src: usize, scales: usize, n: i32, k: i32): void {
  if (n <= 0 || k <= 0) return;
  for (let j = 0; j < n; j++) {
    const scale = load<f32>(scales + (<usize>j << 2));
    const sv = f32x4.splat(scale);
    const row = src + <usize>j * k;
    const out = dst + (<usize>j * k << 2);
    let t = 0;
    for (; t + 8 <= k; t += 8) {
      const q16 = v128.load8x8_s(row + <usize>t);
      const lo = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q16));
      const hi = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q16));
      v128.store(out + (<usize>t << 2), f32x4.mul(lo, sv));
      v128.store(out + (<usize>t << 2), f32x4.mul(hi, sv), 16);
    }
    for (; t < k; t++) store<f32>(out + (<usize>t << 2), <f32>load<i8>(row + <usize>t) * scale);
  }
}

/**
 * Dynamic per-row quantization of activations: src f32 [m][ld] (columns < k
 * read) → dst int8 [m][k] (compact) and scales f32 [m].
 */
export function quantize_rows_int8(dst: usize, scales: usize, src: usize, m: i32, k: i32, ld: i32): void {
  k = max(k, 0);
  for (let i = 0; i < m; i++) {
    const row = src + (<usize>i * ld << 2);
    const scale = k > 0 ? rowScale(row, k) : <f32>0;
    store<f32>(scales + (<usize>i << 2), scale);
    quantizeRow(dst + <usize>i * k, row, k, scale, false);
  }
}

/**
 * out[i*ldOut + j] = f32(acc_ij) · (aScale_i · wScale_j) + bias[j], i < m, j < n,
 * where acc_ij = Σ_{t<k} qa[i][t] · qw[j][t] (exact, i32) and qa, aScale are
 * `inp`'s rows quantized as above (the f32 operations in exactly that order;
 * without bias, no addition at all).
 * - out: f32 [m][ldOut], only columns < n written (never read); must not
 *   overlap inp or scratch;
 * - inp: f32 [m][ldInp], columns < k read;
 * - wq: packed from [nFull][kFull] by quantize_weight_int8 (n ≤ nFull, k ≤ kFull);
 * - wScales: f32 [≥ n] from the same call; bias: f32 [≥ n] or 0;
 * - scratch: `linear_int8_scratch_bytes(m, k)` bytes, overwritten.
 * k = 0 gives out = bias (or 0). k ≤ 133,000 (i32 accumulation).
 */
export function linear_forward_int8(
  out: usize, inp: usize, wq: usize, wScales: usize, bias: usize,
  m: i32, n: i32, k: i32, kFull: i32, ldInp: i32, ldOut: i32, scratch: usize,
): void {
  if (m <= 0 || n <= 0) return;
  k = max(k, 0);
  const pairs = (k + 1) >> 1;
  const aScales = scratch;
  const act = scratch + (<usize>m << 2);
  const ldA = <usize>pairs << 2;
  for (let i = 0; i < m; i++) {
    const row = inp + (<usize>i * ldInp << 2);
    const scale = k > 0 ? rowScale(row, k) : <f32>0;
    store<f32>(aScales + (<usize>i << 2), scale);
    quantizeRow(act + <usize>i * ldA, row, k, scale, true);
  }
  const ldO = <usize>ldOut << 2;
  const panelStride = <usize>((kFull + 1) >> 1) * PAIR_BYTES;
  const panels = (n + PANEL - 1) / PANEL;
  const hasBias = bias != 0;
  const chunk = max(ROWS, (ROW_CHUNK_BYTES / max(1, <i32>ldA)) / ROWS * ROWS);
  for (let i0 = 0; i0 < m; i0 += chunk) {
    const iEnd = min(m, i0 + chunk);
    for (let p = 0; p < panels; p++) {
      const j0 = p * PANEL;
      const cols = min(PANEL, n - j0);
      const w = wq + <usize>p * panelStride;
      const ws = wScales + (<usize>j0 << 2);
      const ws0 = loadLanes(ws, min(cols, 4));
      const ws1 = loadLanes(ws + 16, max(cols - 4, 0));
      let bias0 = f32x4.splat(0);
      let bias1 = f32x4.splat(0);
      if (hasBias) {
        const b = bias + (<usize>j0 << 2);
        bias0 = loadLanes(b, min(cols, 4));
        bias1 = loadLanes(b + 16, max(cols - 4, 0));
      }
      const o = out + (<usize>j0 << 2);
      let i = i0;
      for (; i + ROWS <= iEnd; i += ROWS) {
        int8Tile(4, o + <usize>i * ldO, act + <usize>i * ldA, aScales + (<usize>i << 2), w, pairs, ldA, ldO, ws0, ws1, hasBias, bias0, bias1, cols);
      }
      const left = iEnd - i;
      const oi = o + <usize>i * ldO;
      const ai = act + <usize>i * ldA;
      const si = aScales + (<usize>i << 2);
      if (left == 3) int8Tile(3, oi, ai, si, w, pairs, ldA, ldO, ws0, ws1, hasBias, bias0, bias1, cols);
      else if (left == 2) int8Tile(2, oi, ai, si, w, pairs, ldA, ldO, ws0, ws1, hasBias, bias0, bias1, cols);
      else if (left == 1) int8Tile(1, oi, ai, si, w, pairs, ldA, ldO, ws0, ws1, hasBias, bias0, bias1, cols);
    }
  }
}

/**
 * One `rows` × PANEL block (rows ≤ ROWS, a compile-time constant at every
 * call). act: the block's first quantized row (i16 pairs, rows ldA bytes
 * apart); aScales: its f32 scale; w: the panel; cols ≤ PANEL columns stored.
 */
// @ts-ignore: decorator
@inline
function int8Tile(
  rows: i32, out: usize, act: usize, aScales: usize, w: usize, pairs: i32, ldA: usize, ldO: usize,
  ws0: v128, ws1: v128, hasBias: bool, bias0: v128, bias1: v128, cols: i32,
): void {
  let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let a0 = act;
  let a1 = act + ldA;
  let a2 = act + 2 * ldA;
  let a3 = act + 3 * ldA;
  const wEnd = w + <usize>pairs * PAIR_BYTES;
  for (let b = w; b < wEnd; b += PAIR_BYTES) {
    // Lanes (2c, 2c+1) of w0 hold feature c's weights at t, t+1 (w1: feature 4 + c).
    // Two sign-extending 8-byte loads, not one load and two extends: no
    // register for the raw bytes, and one instruction each on x64.
    const w0 = v128.load8x8_s(b);
    const w1 = v128.load8x8_s(b, 8);
    const x0 = v128.load32_splat(a0);
    c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, w0));
    c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, w1));
    a0 += 4;
    if (rows > 1) {
      const x1 = v128.load32_splat(a1);
      c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, w0));
      c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, w1));
      a1 += 4;
    }
    if (rows > 2) {
      const x2 = v128.load32_splat(a2);
      c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, w0));
      c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, w1));
      a2 += 4;
    }
    if (rows > 3) {
      const x3 = v128.load32_splat(a3);
      c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, w0));
      c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, w1));
      a3 += 4;
    }
  }
  storeScaled(out, c00, c01, load<f32>(aScales), ws0, ws1, hasBias, bias0, bias1, cols);
  if (rows > 1) storeScaled(out + ldO, c10, c11, load<f32>(aScales, 4), ws0, ws1, hasBias, bias0, bias1, cols);
  if (rows > 2) storeScaled(out + 2 * ldO, c20, c21, load<f32>(aScales, 8), ws0, ws1, hasBias, bias0, bias1, cols);
  if (rows > 3) storeScaled(out + 3 * ldO, c30, c31, load<f32>(aScales, 12), ws0, ws1, hasBias, bias0, bias1, cols);
}

/** out[0 .. cols) = f32(acc) · (aScale · wScale) (+ bias). */
// @ts-ignore: decorator
@inline
function storeScaled(
  out: usize, acc0: v128, acc1: v128, aScale: f32, ws0: v128, ws1: v128,
  hasBias: bool, bias0: v128, bias1: v128, cols: i32,
): void {
  const s = f32x4.splat(aScale);
  let r0 = f32x4.mul(f32x4.convert_i32x4_s(acc0), f32x4.mul(s, ws0));
  let r1 = f32x4.mul(f32x4.convert_i32x4_s(acc1), f32x4.mul(s, ws1));
  if (hasBias) {
    r0 = f32x4.add(r0, bias0);
    r1 = f32x4.add(r1, bias1);
  }
  storeCols(out, r0, r1, cols);
}

/** f32(max_t |row[t]| / 127) over row f32 [k], k ≥ 1. */
function rowScale(row: usize, k: i32): f32 {
  let mv = f32x4.splat(0);
  let t = 0;
  // pmax (one maxps) rather than max (NaN/±0 handling, several instructions in V8): equal on finite input.
  for (; t + 4 <= k; t += 4) mv = f32x4.pmax(mv, f32x4.abs(v128.load(row + (<usize>t << 2))));
  let mx = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; t < k; t++) mx = max(mx, abs<f32>(load<f32>(row + (<usize>t << 2))));
  return mx / 127;
}

/** clamp(nearest(x / scale), −127, 127), scale > 0. */
// @ts-ignore: decorator
@inline
function quantizeOne(x: f32, scale: f32): i32 {
  return <i32>min<f32>(max<f32>(nearest<f32>(x / scale), -127), 127);
}

/** 1.5·2^23: adding it rounds |y| < 2^22 to an integer (ties to even) held in the low mantissa bits. */
const ROUNDER: f32 = 12582912;

/**
 * i32 lanes of clamp(nearest(y), −127, 127), for finite y. Clamping first is
 * the same (the bounds are integers, rounding is monotonic); then the
 * rounder's add does nearest-even and the conversion in two instructions,
 * where nearest + trunc_sat and wasm's NaN-exact min/max cost many more in V8.
 */
// @ts-ignore: decorator
@inline
function nearestClamped(y: v128): v128 {
  const c = f32x4.pmin(f32x4.pmax(y, f32x4.splat(-127)), f32x4.splat(127));
  return i32x4.sub(f32x4.add(c, f32x4.splat(ROUNDER)), i32x4.splat(reinterpret<i32>(ROUNDER)));
}

/**
 * row f32 [k] → dst: int8 [k] (`wide` false) or i16 [2·ceil(k/2)] with a zero
 * after an odd k (`wide` true, the GEMM's activation pairs). All zeros when
 * scale is 0.
 */
function quantizeRow(dst: usize, row: usize, k: i32, scale: f32, wide: bool): void {
  const width: usize = wide ? 2 : 1;
  if (scale == 0) {
    memory.fill(dst, 0, <usize>(wide ? (k + 1) >> 1 << 1 : k) * width);
    return;
  }
  const sv = f32x4.splat(scale);
  let t = 0;
  for (; t + 8 <= k; t += 8) {
    const x = row + (<usize>t << 2);
    const q0 = nearestClamped(f32x4.div(v128.load(x), sv));
    const q1 = nearestClamped(f32x4.div(v128.load(x, 16), sv));
    const q16 = i16x8.narrow_i32x4_s(q0, q1);
    if (wide) v128.store(dst + (<usize>t << 1), q16);
    else v128.store64_lane(dst + <usize>t, i8x16.narrow_i16x8_s(q16, q16), 0);
  }
  for (; t < k; t++) {
    const q = quantizeOne(load<f32>(row + (<usize>t << 2)), scale);
    if (wide) store<i16>(dst + (<usize>t << 1), <i16>q);
    else store<i8>(dst + <usize>t, <i8>q);
  }
  if (wide && (k & 1) != 0) store<i16>(dst + (<usize>k << 1), 0);
}
