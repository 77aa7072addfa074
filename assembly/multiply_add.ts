// c + a·b on f32x4, the one operation the hot loops (GEMM tiles, attention's
// dot products and weighted sums) are made of, written once for both builds:
//
// - baseline (`--enable simd`): f32x4.add(c, f32x4.mul(a, b)), two roundings —
//   exactly the instructions these loops were written with, so the baseline
//   module computes the same bits it always did;
// - relaxed (`--enable simd,relaxed-simd`, asconfig target "relaxed"):
//   f32x4.relaxed_madd(a, b, c), one instruction. The engine may fuse it (one
//   rounding: x64 with FMA3, arm64) or not (two roundings), by design of the
//   relaxed-SIMD proposal, so results may differ from the baseline's in the
//   last bits and between machines; never in anything larger than the
//   difference between a rounded and an unrounded product.
//
// ASC_FEATURE_RELAXED_SIMD is a compile-time constant: the branch not taken is
// never compiled, so the baseline module holds no relaxed opcode at all (a
// Node 20 without --experimental-wasm-relaxed-simd would refuse it).
//
// Not for anything that needs a correctly rounded fma (AdamW: see
// fused_multiply_add.ts), since relaxed_madd promises neither rounding.

/** c + a·b, lane-wise (fused or not in the relaxed build; unfused in the baseline). */
// @ts-ignore: decorator
@inline export function mulAdd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * s + (a0·b0 + a1·b1), lane-wise: one step of a dot product over two vectors.
 * Baseline: exactly f32x4.add(s, f32x4.add(a0·b0, a1·b1)). Relaxed: the pair
 * is formed off the accumulator's chain (a mul and a madd) and added to s in
 * one step, so the loop-carried dependency stays one add long.
 */
// @ts-ignore: decorator
@inline export function mulAdd2(a0: v128, b0: v128, a1: v128, b1: v128, s: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.add(s, f32x4.relaxed_madd(a1, b1, f32x4.mul(a0, b0)));
  return f32x4.add(s, f32x4.add(f32x4.mul(a0, b0), f32x4.mul(a1, b1)));
}

/** 1 in the relaxed-SIMD build, 0 in the baseline one: lets the host tell the two modules apart. */
export function simd_relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
