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
//
// Fast path: the TwoSum and the nudge are needed only then. No f32 midpoint (itself an
// f64 number) can lie strictly between s and the exact sum, or it would be a closer
// f64 to the sum than s; so unless s *is* a midpoint, demoting s rounds exactly as
// demoting the exact sum would. In f32's normal range the midpoints are the f64s whose
// low 29 mantissa bits are 1 followed by 28 zeros; f32 subnormal results have their
// midpoints elsewhere and always take the exact path. Both cases are rare (about
// 2^-29 of random sums; subnormals only for values below 1.2e-38), and the vector
// takes the exact path only when one of its lanes needs it.

/**
 * The f64 sum s = a·b + c (a·b exact, lanes holding promoted f32) moved to odd when
 * inexact: rounding it to f32 then rounds the exact a·b + c correctly. ±inf/NaN
 * inputs give ±inf/NaN.
 */
// @ts-ignore: decorator
@inline function roundSumToOdd(p: v128, c: v128, s: v128): v128 {
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

/** f64 mantissa bits below f32 precision, and their pattern on an f32 midpoint. */
const BELOW_F32_BITS: i64 = 0x1fffffff;
const F32_MIDPOINT_BITS: i64 = 0x10000000;
const F32_MIN_NORMAL: f64 = 1.1754943508222875e-38; // 2^-126

/** Lanes (all ones) whose f64 sum may demote differently from the exact sum. */
// @ts-ignore: decorator
@inline function mayDoubleRound(s: v128): v128 {
  const onMidpoint = i64x2.eq(v128.and(s, i64x2.splat(BELOW_F32_BITS)), i64x2.splat(F32_MIDPOINT_BITS));
  const magnitude = f64x2.abs(s);
  const subnormal = v128.and(f64x2.lt(magnitude, f64x2.splat(F32_MIN_NORMAL)), f64x2.gt(magnitude, f64x2.splat(0.0)));
  return v128.or(onMidpoint, subnormal);
}

/** Lanes 2 and 3 of an f32x4 promoted to f64x2. */
// @ts-ignore: decorator
@inline function promoteHigh(x: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<i64>(x, x, 1, 1));
}

/** a·b + c per f32 lane with one rounding (IEEE fusedMultiplyAdd, round to nearest even). */
// @ts-ignore: decorator
@inline export function fma4(a: v128, b: v128, c: v128): v128 {
  const cLo = f64x2.promote_low_f32x4(c);
  const cHi = promoteHigh(c);
  const pLo = f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b));
  const pHi = f64x2.mul(promoteHigh(a), promoteHigh(b));
  let sLo = f64x2.add(pLo, cLo);
  let sHi = f64x2.add(pHi, cHi);
  if (v128.any_true(v128.or(mayDoubleRound(sLo), mayDoubleRound(sHi)))) {
    sLo = roundSumToOdd(pLo, cLo, sLo);
    sHi = roundSumToOdd(pHi, cHi, sHi);
  }
  return v128.shuffle<i64>(f32x4.demote_f64x2_zero(sLo), f32x4.demote_f64x2_zero(sHi), 0, 2);
}

/** Scalar a·b + c with one rounding: the same arithmetic as one lane of fma4. */
// @ts-ignore: decorator
@inline export function fma1(a: f32, b: f32, c: f32): f32 {
  return f32x4.extract_lane(fma4(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
}
