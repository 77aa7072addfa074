// Partial-vector loads and stores for the GEMM kernels (gemm.ts, gemm_int8.ts):
// the edges of a panel never read or write memory past `count` / `cols`
// elements, so an output row may sit right before other data or the end of
// memory. Internal: not re-exported by index.ts.

/** The first `count` (0–4) floats at p as a vector, zeros after: never reads past them. */
// @ts-ignore: decorator
@inline
export function loadLanes(p: usize, count: i32): v128 {
  if (count >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (count > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the first `cols` (0–8) lanes of lo:hi (one 8-wide panel row) at p; never writes past them. */
// @ts-ignore: decorator
@inline
export function storeCols(p: usize, lo: v128, hi: v128, cols: i32): void {
  if (cols >= 8) {
    v128.store(p, lo);
    v128.store(p, hi, 16);
  } else if (cols >= 4) {
    v128.store(p, lo);
    storeLanes(p + 16, hi, cols - 4);
  } else {
    storeLanes(p, lo, cols);
  }
}

/** Stores the first `count` (0–3) lanes of v at p. */
// @ts-ignore: decorator
@inline
export function storeLanes(p: usize, v: v128, count: i32): void {
  if (count > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}
