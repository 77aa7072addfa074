// Linear layers over weights pre-packed in panels of PANEL output features.
//
// W is [n][k] (HuggingFace out × in). Packed: packed[p][t][j] = W[p*PANEL + j][t],
// shape [ceil(n/PANEL)][kFull][PANEL], zero-padded past n. A prefix of output
// features is a prefix of panels, and a prefix of the reduction dimension is a
// prefix of every panel (panels sit kFull*PANEL floats apart), so any width
// slice runs on the full-size buffer with no copy.
//
// Strides (ldInp, ldOut, ...) are in floats; pointers are byte offsets.

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
 * scratch). 5 or 6 rows spill and lose ~20%; so does unrolling the k loop.
 */
const ROWS: i32 = 4;

/**
 * Upper bound on the bytes of input rows one pass over all panels touches, so
 * that they stay in L2 while every panel streams past them. Only matters for
 * large m (training batches); at m = 128 every BERT-base layer is one pass.
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
    c00 = f32x4.add(c00, f32x4.mul(x0, w0));
    c01 = f32x4.add(c01, f32x4.mul(x0, w1));
    a0 += 4;
    if (rows > 1) {
      const x1 = v128.load32_splat(a1);
      c10 = f32x4.add(c10, f32x4.mul(x1, w0));
      c11 = f32x4.add(c11, f32x4.mul(x1, w1));
      a1 += 4;
    }
    if (rows > 2) {
      const x2 = v128.load32_splat(a2);
      c20 = f32x4.add(c20, f32x4.mul(x2, w0));
      c21 = f32x4.add(c21, f32x4.mul(x2, w1));
      a2 += 4;
    }
    if (rows > 3) {
      const x3 = v128.load32_splat(a3);
      c30 = f32x4.add(c30, f32x4.mul(x3, w0));
      c31 = f32x4.add(c31, f32x4.mul(x3, w1));
      a3 += 4;
    }
  }
  storeCols(out, c00, c01, cols);
  if (rows > 1) storeCols(out + ldO, c10, c11, cols);
  if (rows > 2) storeCols(out + 2 * ldO, c20, c21, cols);
  if (rows > 3) storeCols(out + 3 * ldO, c30, c31, cols);
}

/** The first `count` (0–4) floats at p as a vector, zeros after: never reads past them. */
// @ts-ignore: decorator
@inline
function loadLanes(p: usize, count: i32): v128 {
  if (count >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (count > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the first `cols` (0–8) lanes of lo:hi at p; never writes past them. */
// @ts-ignore: decorator
@inline
function storeCols(p: usize, lo: v128, hi: v128, cols: i32): void {
  if (cols >= PANEL) {
    v128.store(p, lo);
    v128.store(p, hi, 16);
  } else if (cols >= 4) {
    v128.store(p, lo);
    v128.store(p, hi, 16);
  } else {
    storeLanes(p, lo, cols);
  }
}

/** Stores the first `count` (0–3) lanes of v at p. */
// @ts-ignore: decorator
@inline
function storeLanes(p: usize, v: v128, count: i32): void {
  if (count > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}
