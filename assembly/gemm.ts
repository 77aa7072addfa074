// Linear layers over weights pre-packed in panels of PANEL output features.
//
// W is [n][k] (HuggingFace out × in). Packed: packed[p][t][j] = W[p*PANEL + j][t],
// shape [ceil(n/PANEL)][kFull][PANEL], zero-padded past n. A prefix of output
// features is a prefix of panels, and a prefix of the reduction dimension is a
// prefix of every panel (panels sit kFull*PANEL floats apart), so any width
// slice runs on the full-size buffer with no copy.
//
// Strides (ldInp, ldOut, ...) are in floats; pointers are byte offsets.
//
// Every c + a·b of the tiles is multiply_add.ts's mulAdd / mulAdd2: a mul and
// an add in the baseline build, one relaxed_madd in the relaxed-SIMD build
// (which also frees the product's register), in the same order either way.

import { loadLanes, storeCols } from "./panel_io";
import { mulAdd, mulAdd2 } from "./multiply_add";

/**
 * Output features per panel: two f32x4 vectors. 16 measured the same speed
 * at BERT-base shapes (bench/gemm.bench.mjs) and wastes more on narrow layers
 * (a 2-label classifier pads to a whole panel).
 */
const PANEL: i32 = 8;
const PANEL_BYTES: usize = <usize>PANEL * 4;

/**
 * Rows per register tile. V8 (TurboFan, x64) issues every load of a loop body
 * before the arithmetic that uses it, so a ROWS × PANEL tile keeps
 * ROWS broadcasts + 2 panel vectors + 2·ROWS accumulators + 1 product live:
 * 15 xmm registers at 4 rows — exactly what V8 allocates (xmm15 is its
 * scratch). 5 or 6 rows spill and lose 15–20%. Unrolling the k loop gains
 * nothing: TurboFan already unrolls it, and hoisting more loads spills.
 */
const ROWS: i32 = 4;

/**
 * Upper bound on the bytes of input rows one pass over all panels touches, so
 * that they stay in L2 while every panel streams past them: 340 rows at
 * k = 768, 84 at k = 3072. Matters for training batches (m in the thousands).
 */
const ROW_CHUNK_BYTES: i32 = 1 << 20;

/** Output features per packed panel. */
export function gemm_panel_width(): i32 {
  return PANEL;
}

/** Floats needed to pack a [n][k] weight: ceil(n/PANEL) panels of [k][PANEL]. */
export function packed_weight_floats(n: i32, k: i32): i32 {
  return ((n + PANEL - 1) / PANEL) * PANEL * k;
}

/** src [n][k] row-major → dst packed [ceil(n/PANEL)][k][PANEL], zero past n. */
export function pack_weight(dst: usize, src: usize, n: i32, k: i32): void {
  const panels = (n + PANEL - 1) / PANEL;
  for (let p = 0; p < panels; p++) {
    const panel = dst + <usize>p * k * PANEL_BYTES;
    for (let j = 0; j < PANEL; j++) {
      const row = p * PANEL + j;
      const from = src + (<usize>row * k << 2);
      for (let t = 0; t < k; t++) {
        const v: f32 = row < n ? load<f32>(from + (<usize>t << 2)) : 0;
        store<f32>(panel + <usize>t * PANEL_BYTES + (<usize>j << 2), v);
      }
    }
  }
}

/** Inverse of pack_weight: src packed from [n][k] → dst [n][k]. */
export function unpack_weight(dst: usize, src: usize, n: i32, k: i32): void {
  for (let row = 0; row < n; row++) {
    const panel = src + <usize>(row / PANEL) * k * PANEL_BYTES + (<usize>(row % PANEL) << 2);
    const to = dst + (<usize>row * k << 2);
    for (let t = 0; t < k; t++) {
      store<f32>(to + (<usize>t << 2), load<f32>(panel + <usize>t * PANEL_BYTES));
    }
  }
}

/**
 * out[i*ldOut + j] = bias[j] + Σ_{t<k} inp[i*ldInp + t] · W[j][t], i < m, j < n.
 * - out: f32 [m][ldOut], only columns < n written (never read);
 * - inp: f32 [m][ldInp], columns < k read; must not overlap out;
 * - wp: packed from [nFull][kFull] with n ≤ nFull, k ≤ kFull;
 * - bias: f32 [≥ n] or 0.
 * k = 0 gives out = bias (or 0).
 */
export function linear_forward(
  out: usize, inp: usize, wp: usize, bias: usize,
  m: i32, n: i32, k: i32, kFull: i32, ldInp: i32, ldOut: i32,
): void {
  if (m <= 0 || n <= 0) return;
  const ldI = <usize>ldInp << 2;
  const ldO = <usize>ldOut << 2;
  const panelStride = <usize>kFull * PANEL_BYTES;
  const panels = (n + PANEL - 1) / PANEL;
  // Rows per pass: as many as fit the L2 budget, whole tiles, at least one tile.
  const chunk = max(ROWS, (ROW_CHUNK_BYTES / max(1, k * 4)) / ROWS * ROWS);
  for (let i0 = 0; i0 < m; i0 += chunk) {
    const iEnd = min(m, i0 + chunk);
    for (let p = 0; p < panels; p++) {
      const j0 = p * PANEL;
      const cols = min(PANEL, n - j0);
      const w = wp + <usize>p * panelStride;
      let bias0 = f32x4.splat(0);
      let bias1 = f32x4.splat(0);
      if (bias != 0) {
        const b = bias + (<usize>j0 << 2);
        bias0 = loadLanes(b, min(cols, 4));
        bias1 = loadLanes(b + 16, max(cols - 4, 0));
      }
      const o = out + (<usize>j0 << 2);
      let i = i0;
      for (; i + ROWS <= iEnd; i += ROWS) {
        forwardTile(4, o + <usize>i * ldO, inp + <usize>i * ldI, w, k, ldI, ldO, bias0, bias1, cols);
      }
      // Leftover rows get their own specialisation rather than a 1-row loop:
      // a single row has only two accumulator chains and runs at half speed.
      const left = iEnd - i;
      const oi = o + <usize>i * ldO;
      const ai = inp + <usize>i * ldI;
      if (left == 3) forwardTile(3, oi, ai, w, k, ldI, ldO, bias0, bias1, cols);
      else if (left == 2) forwardTile(2, oi, ai, w, k, ldI, ldO, bias0, bias1, cols);
      else if (left == 1) forwardTile(1, oi, ai, w, k, ldI, ldO, bias0, bias1, cols);
    }
  }
}

/**
 * One `rows` × PANEL block of out (rows ≤ ROWS, a compile-time constant at
 * every call so the unused rows vanish). out and inp point at the block's
 * first row; w at the panel; cols ≤ PANEL columns are stored.
 */
// @ts-ignore: decorator
@inline
function forwardTile(
  rows: i32, out: usize, inp: usize, w: usize, k: i32, ldI: usize, ldO: usize,
  bias0: v128, bias1: v128, cols: i32,
): void {
  let c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1;
  let c20 = bias0, c21 = bias1, c30 = bias0, c31 = bias1;
  let a0 = inp;
  let a1 = inp + ldI;
  let a2 = inp + 2 * ldI;
  let a3 = inp + 3 * ldI;
  const wEnd = w + <usize>k * PANEL_BYTES;
  for (let b = w; b < wEnd; b += PANEL_BYTES) {
    const w0 = v128.load(b);
    const w1 = v128.load(b, 16);
    const x0 = v128.load32_splat(a0);
    c00 = mulAdd(x0, w0, c00);
    c01 = mulAdd(x0, w1, c01);
    a0 += 4;
    if (rows > 1) {
      const x1 = v128.load32_splat(a1);
      c10 = mulAdd(x1, w0, c10);
      c11 = mulAdd(x1, w1, c11);
      a1 += 4;
    }
    if (rows > 2) {
      const x2 = v128.load32_splat(a2);
      c20 = mulAdd(x2, w0, c20);
      c21 = mulAdd(x2, w1, c21);
      a2 += 4;
    }
    if (rows > 3) {
      const x3 = v128.load32_splat(a3);
      c30 = mulAdd(x3, w0, c30);
      c31 = mulAdd(x3, w1, c31);
      a3 += 4;
    }
  }
  storeCols(out, c00, c01, cols);
  if (rows > 1) storeCols(out + ldO, c10, c11, cols);
  if (rows > 2) storeCols(out + 2 * ldO, c20, c21, cols);
  if (rows > 3) storeCols(out + 3 * ldO, c30, c31, cols);
}

/**
 * The backward-input sweep's cache block: PANEL_GROUP panels × T_BAND
 * reduction rows of W (16 KiB) stay in L1 while every row of dOut passes
 * them. Without the panel grouping a wide layer (n = 3072) streams W from L2
 * across 384 pages per dot product and runs at a third of the speed. Each
 * group adds its partial sums into dInp, n/256 read-modify-writes per element.
 */
const PANEL_GROUP: i32 = 32;
const T_BAND: i32 = 16;

/**
 * dInp[i*ldDInp + t] (+)= Σ_{j<n} dOut[i*ldDOut + j] · W[j][t], i < m, t < k.
 * - dInp: f32 [m][ldDInp], columns < k written; overwritten, or added to when
 *   `accumulate` (a residual branch's gradient); must not overlap dOut;
 * - dOut: f32 [m][ldDOut], columns < n read;
 * - wp: packed from [nFull][kFull], n ≤ nFull, k ≤ kFull (as linear_forward).
 */
export function linear_backward_input(
  dInp: usize, dOut: usize, wp: usize,
  m: i32, n: i32, k: i32, kFull: i32, ldDInp: i32, ldDOut: i32, accumulate: bool,
): void {
  if (m <= 0 || k <= 0) return;
  const ldI = <usize>ldDInp << 2;
  const ldD = <usize>ldDOut << 2;
  const panelStride = <usize>kFull * PANEL_BYTES;
  const fullPanels = max(n, 0) / PANEL;
  const tailCols = max(n, 0) % PANEL;
  const panels = fullPanels + (tailCols > 0 ? 1 : 0);
  if (panels == 0 && !accumulate) {
    for (let i = 0; i < m; i++) memory.fill(dInp + <usize>i * ldI, 0, <usize>k << 2);
  }
  for (let g = 0; g < panels; g += PANEL_GROUP) {
    const groupFull = min(PANEL_GROUP, fullPanels - g);
    const groupTail = g + PANEL_GROUP >= panels ? tailCols : 0;
    const add = accumulate || g > 0;
    const wg = wp + <usize>g * panelStride;
    const dg = dOut + <usize>g * PANEL_BYTES;
    for (let t0 = 0; t0 < k; t0 += T_BAND) {
      const tEnd = min(k, t0 + T_BAND);
      for (let i = 0; i < m; i += 2) {
        const di = dInp + <usize>i * ldI;
        const oi = dg + <usize>i * ldD;
        const pair = i + 2 <= m;
        let t = t0;
        for (; t + 2 <= tEnd; t += 2) {
          const at = di + (<usize>t << 2);
          const w = wg + <usize>t * PANEL_BYTES;
          if (pair) backwardInputTile(2, 2, at, oi, w, panelStride, groupFull, groupTail, ldI, ldD, add);
          else backwardInputTile(1, 2, at, oi, w, panelStride, groupFull, groupTail, ldI, ldD, add);
        }
        if (t < tEnd) {
          const at = di + (<usize>t << 2);
          const w = wg + <usize>t * PANEL_BYTES;
          if (pair) backwardInputTile(2, 1, at, oi, w, panelStride, groupFull, groupTail, ldI, ldD, add);
          else backwardInputTile(1, 1, at, oi, w, panelStride, groupFull, groupTail, ldI, ldD, add);
        }
      }
    }
  }
}

/**
 * dInp for `rows` (1–2) rows × `cols` (1–2) reduction indices, each a dot
 * product of a dOut row with a packed W row (W[·][t] is contiguous within a
 * panel), kept as a 4-lane partial sum across panels and reduced at the end.
 * 2 × 2 keeps 4 dOut + 4 W vectors + 4 sums live: 14 registers with temps.
 */
// @ts-ignore: decorator
@inline
function backwardInputTile(
  rows: i32, cols: i32, dInp: usize, dOut: usize, w: usize, panelStride: usize,
  fullPanels: i32, tailCols: i32, ldI: usize, ldD: usize, accumulate: bool,
): void {
  let s00 = f32x4.splat(0), s01 = s00, s10 = s00, s11 = s00;
  let d0 = dOut;
  let d1 = dOut + ldD;
  let wt = w;
  const wEnd = w + <usize>fullPanels * panelStride;
  for (; wt < wEnd; wt += panelStride) {
    const x00 = v128.load(d0);
    const x01 = v128.load(d0, 16);
    const w00 = v128.load(wt);
    const w01 = v128.load(wt, 16);
    s00 = mulAdd2(x00, w00, x01, w01, s00);
    if (cols > 1) {
      const w10 = v128.load(wt, 32);
      const w11 = v128.load(wt, 48);
      s01 = mulAdd2(x00, w10, x01, w11, s01);
      if (rows > 1) {
        const x10 = v128.load(d1);
        const x11 = v128.load(d1, 16);
        s10 = mulAdd2(x10, w00, x11, w01, s10);
        s11 = mulAdd2(x10, w10, x11, w11, s11);
      }
    } else if (rows > 1) {
      const x10 = v128.load(d1);
      const x11 = v128.load(d1, 16);
      s10 = mulAdd2(x10, w00, x11, w01, s10);
    }
    d0 += PANEL_BYTES;
    d1 += PANEL_BYTES;
  }
  if (tailCols > 0) {
    // The last, partial panel: dOut past column n may hold anything (even
    // NaN), so only its first tailCols floats are read; W rows past n are
    // masked too, so that 0 · inf in an unused row cannot leak in.
    const lo = min(tailCols, 4);
    const hi = max(tailCols - 4, 0);
    const lane = i32x4(0, 1, 2, 3);
    const maskLo = i32x4.lt_s(lane, i32x4.splat(lo));
    const maskHi = i32x4.lt_s(lane, i32x4.splat(hi));
    const x00 = loadLanes(d0, lo);
    const x01 = loadLanes(d0 + 16, hi);
    const w00 = v128.and(v128.load(wt), maskLo);
    const w01 = v128.and(v128.load(wt, 16), maskHi);
    s00 = mulAdd2(x00, w00, x01, w01, s00);
    if (rows > 1) {
      const x10 = loadLanes(d1, lo);
      const x11 = loadLanes(d1 + 16, hi);
      s10 = mulAdd2(x10, w00, x11, w01, s10);
      if (cols > 1) {
        const w10 = v128.and(v128.load(wt, 32), maskLo);
        const w11 = v128.and(v128.load(wt, 48), maskHi);
        s01 = mulAdd2(x00, w10, x01, w11, s01);
        s11 = mulAdd2(x10, w10, x11, w11, s11);
      }
    } else if (cols > 1) {
      const w10 = v128.and(v128.load(wt, 32), maskLo);
      const w11 = v128.and(v128.load(wt, 48), maskHi);
      s01 = mulAdd2(x00, w10, x01, w11, s01);
    }
  }
  writeSum(dInp, s00, accumulate);
  if (cols > 1) writeSum(dInp + 4, s01, accumulate);
  if (rows > 1) {
    writeSum(dInp + ldI, s10, accumulate);
    if (cols > 1) writeSum(dInp + ldI + 4, s11, accumulate);
  }
}

/** *p = sum of v's lanes, or *p += it. */
// @ts-ignore: decorator
@inline
function writeSum(p: usize, v: v128, accumulate: bool): void {
  const pairs = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  const sum = f32x4.extract_lane(f32x4.add(pairs, i32x4.shuffle(pairs, pairs, 1, 0, 3, 2)), 0);
  store<f32>(p, accumulate ? load<f32>(p) + sum : sum);
}

/** Rows of dOut and inp one linear_backward_weight pass reduces over (see there). */
const WEIGHT_ROW_CHUNK: i32 = 32;

/**
 * Gradients of the weight and bias, added to what dWp and dBias hold:
 *   dW[j][t] += Σ_{i<m} dOut[i*ldDOut + j] · inp[i*ldInp + t],  j < n, t < k,
 *   dBias[j] += Σ_{i<m} dOut[i*ldDOut + j],                      j < n.
 * - dWp: packed like the weight, from [nFull][kFull] (n ≤ nFull, k ≤ kFull),
 *   so AdamW can treat weight, gradient and moments as flat arrays; entries
 *   outside [n][k] are untouched; or 0 for no weight gradient;
 * - dBias: f32 [≥ n] or 0;
 * - dOut: f32 [m][ldDOut]; inp: f32 [m][ldInp], the forward's input.
 */
export function linear_backward_weight(
  dWp: usize, dBias: usize, dOut: usize, inp: usize,
  m: i32, n: i32, k: i32, kFull: i32, ldInp: i32, ldDOut: i32,
): void {
  if (m <= 0 || n <= 0) return;
  const ldI = <usize>ldInp << 2;
  const ldD = <usize>ldDOut << 2;
  if (dBias != 0) biasGradient(dBias, dOut, m, n, ldD);
  if (dWp == 0 || k <= 0) return;
  const panelStride = <usize>kFull * PANEL_BYTES;
  const panels = (n + PANEL - 1) / PANEL;
  // Rows per pass. The reduction runs down the rows, one cache line (and,
  // for rows ≥ 4 KiB apart, one page) per row of inp and of dOut, so a pass
  // is kept to WEIGHT_ROW_CHUNK rows: their pages fit the L1 TLB. Longer
  // passes measured ~20% slower at BERT-base shapes, though dWp is then
  // read and written m/WEIGHT_ROW_CHUNK times instead of once.
  const chunk = max(1, min(WEIGHT_ROW_CHUNK, ROW_CHUNK_BYTES / max(1, k * 4)));
  for (let i0 = 0; i0 < m; i0 += chunk) {
    const rows = min(chunk, m - i0);
    const inpRows = inp + <usize>i0 * ldI;
    for (let p = 0; p < panels; p++) {
      const j0 = p * PANEL;
      const cols = min(PANEL, n - j0);
      const dPanel = dWp + <usize>p * panelStride;
      const dO = dOut + <usize>i0 * ldD + (<usize>j0 << 2);
      let t = 0;
      if (cols == PANEL) {
        for (; t + ROWS <= k; t += ROWS) weightTile(4, true, dPanel, inpRows, dO, t, rows, ldI, ldD, cols);
      } else {
        for (; t + ROWS <= k; t += ROWS) weightTile(4, false, dPanel, inpRows, dO, t, rows, ldI, ldD, cols);
      }
      // Leftover reduction indices, one at a time: at most 3 of them.
      for (; t < k; t++) weightTile(1, false, dPanel, inpRows, dO, t, rows, ldI, ldD, cols);
    }
  }
}

/**
 * dWp[p][t .. t+tRows)[0 .. cols) += Σ over `rows` rows of inp[i][t + r] · dOut[i][j0 ..]:
 * the forward microkernel with the roles turned — inp broadcast (tRows
 * consecutive floats of one row), a dOut row slice as the panel vectors, the
 * reduction running down the rows. `full` (cols == PANEL) is a compile-time
 * constant; otherwise dOut past column n is never read and dWp past it never written.
 */
// @ts-ignore: decorator
@inline
function weightTile(
  tRows: i32, full: bool, dPanel: usize, inp: usize, dOut: usize, t: i32,
  rows: i32, ldI: usize, ldD: usize, cols: i32,
): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const lo = min(cols, 4);
  const hi = max(cols - 4, 0);
  let a = inp + (<usize>t << 2);
  let d = dOut;
  const aEnd = a + <usize>rows * ldI;
  for (; a < aEnd; a += ldI) {
    const y0 = full ? v128.load(d) : loadLanes(d, lo);
    const y1 = full ? v128.load(d, 16) : loadLanes(d + 16, hi);
    const x0 = v128.load32_splat(a);
    c00 = mulAdd(x0, y0, c00);
    c01 = mulAdd(x0, y1, c01);
    if (tRows > 1) {
      const x1 = v128.load32_splat(a, 4);
      c10 = mulAdd(x1, y0, c10);
      c11 = mulAdd(x1, y1, c11);
    }
    if (tRows > 2) {
      const x2 = v128.load32_splat(a, 8);
      c20 = mulAdd(x2, y0, c20);
      c21 = mulAdd(x2, y1, c21);
    }
    if (tRows > 3) {
      const x3 = v128.load32_splat(a, 12);
      c30 = mulAdd(x3, y0, c30);
      c31 = mulAdd(x3, y1, c31);
    }
    d += ldD;
  }
  const o = dPanel + <usize>t * PANEL_BYTES;
  addCols(o, c00, c01, cols);
  if (tRows > 1) addCols(o + PANEL_BYTES, c10, c11, cols);
  if (tRows > 2) addCols(o + 2 * PANEL_BYTES, c20, c21, cols);
  if (tRows > 3) addCols(o + 3 * PANEL_BYTES, c30, c31, cols);
}

/** p[0 .. cols) += lo:hi, leaving p[cols .. PANEL) as it was. */
// @ts-ignore: decorator
@inline
function addCols(p: usize, lo: v128, hi: v128, cols: i32): void {
  storeCols(p, f32x4.add(v128.load(p), lo), f32x4.add(v128.load(p, 16), hi), cols);
}

/** dBias[j] += Σ_i dOut[i][j], j < n. */
function biasGradient(dBias: usize, dOut: usize, m: i32, n: i32, ldD: usize): void {
  for (let i = 0; i < m; i++) {
    const row = dOut + <usize>i * ldD;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(dBias + o, f32x4.add(v128.load(dBias + o), v128.load(row + o)));
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      store<f32>(dBias + o, load<f32>(dBias + o) + load<f32>(row + o));
    }
  }
}
