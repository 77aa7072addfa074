// Correctly rounded f32 fused multiply-add (a·b + c rounded once) for adamw.ts.
// Baseline wasm SIMD has no FMA; PyTorch's CPU optimisers do fuse (see adamw.ts),
// so matching them bit for bit needs an emulation. Not re-exported by index.ts.
//
// Method: the product of two f32 is exact in f64 (24 + 24 significant bits ≤ 53).
// The sum s = a·b + c is rounded to f64 and TwoSum gives its exact error e. If e ≠ 0
// and the last bit of s is even, s moves one f64 ulp toward the true value (making
// that bit odd): this is rounding to odd. A round-to-odd value with at least two
// more bits than the target rounds to the target correctly (Boldo & Melquiond 2008,
// "Emulation of FMA and correctly rounded sums: proved algorithms using rounding to
// odd"); f64 has 29 more than f32, so the final f64→f32 demotion is the single
// correct rounding. Plain f64 evaluation would be wrong when s lands exactly on an
// f32 halfway point after the f64 rounding (double rounding).

/**
 * a·b + c per f64 lane, rounded to odd. Lanes must hold f32 values promoted to f64
 * (that is what makes a·b exact). ±inf/NaN inputs give ±inf/NaN.
 */
// @ts-ignore: decorator
@inline function mulAddRoundToOdd2(a: v128, b: v128, c: v128): v128 {
  const p = f64x2.mul(a, b);
  const s = f64x2.add(p, c);
  // TwoSum (Knuth): e = (p + c) − s exactly, whatever the magnitudes.
  const cPart = f64x2.sub(s, p);
  const e = f64x2.add(f64x2.sub(p, f64x2.sub(s, cPart)), f64x2.sub(c, cPart));
  const inexact = f64x2.ne(e, f64x2.splat(0.0));
  const lastBitEven = i64x2.eq(v128.and(s, i64x2.splat(1)), i64x2.splat(0));
  // Same sign: the true value lies farther from zero (bits + 1); opposite: nearer (bits − 1).
  const oppositeSign = i64x2.shr_s(v128.xor(s, e), 63);
  const step = v128.or(oppositeSign, i64x2.splat(1));
  return i64x2.add(s, v128.and(step, v128.and(inexact, lastBitEven)));
}

/** Lanes 2 and 3 of an f32x4 promoted to f64x2. */
// @ts-ignore: decorator
@inline function promoteHigh(x: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<i64>(x, x, 1, 1));
}

/** a·b + c per f32 lane with one rounding (IEEE fusedMultiplyAdd, round to nearest even). */
// @ts-ignore: decorator
@inline export function fma4(a: v128, b: v128, c: v128): v128 {
  const lo = mulAddRoundToOdd2(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b), f64x2.promote_low_f32x4(c));
  const hi = mulAddRoundToOdd2(promoteHigh(a), promoteHigh(b), promoteHigh(c));
  return v128.shuffle<i64>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 2);
}

/** Scalar a·b + c with one rounding: the same arithmetic as one lane of fma4. */
// @ts-ignore: decorator
@inline export function fma1(a: f32, b: f32, c: f32): f32 {
  return f32x4.extract_lane(fma4(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
}
