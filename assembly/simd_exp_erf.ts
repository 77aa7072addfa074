// Four-lane f32 exp, erf and the normal CDF/density for the softmax (attention_rows.ts)
// and GELU (gelu.ts) kernels. Not re-exported by index.ts: building blocks, not wasm exports.
//
// Every polynomial below was fitted for this file (Lawson's iteratively reweighted
// least squares converging to the minimax fit, against 40-digit mpmath values) and its
// coefficients rounded to f32. The fit error quoted with each one is far below f32
// rounding, so what remains is the rounding of a few f32 operations per result.

// ---- exp ----------------------------------------------------------------------------

// ln 2 split so that n·LN2_HI is exact for |n| < 2^8 (LN2_HI has 15 significant bits).
const LN2_HI: f32 = 0.69314575; // 0x3f317200
const LN2_LO: f32 = 1.4286068e-6;
const LOG2E: f32 = 1.442695;
// Below this, exp(x) < 1.7e-38 is flushed to 0 (it would be subnormal); it also keeps
// the 2^n scale factor a normal number (n ≥ -126).
const EXP_FLUSH_BELOW: f32 = -87.0;

// exp(r) = 1 + r + r²·(E2 + r·(E3 + …)) on |r| ≤ ln2/2: max relative fit error 3.1e-9.
const E2: f32 = 0.49999994;
const E3: f32 = 0.16666521;
const E4: f32 = 0.04166839;
const E5: f32 = 0.00836871;
const E6: f32 = 0.0013814613;

// Adding 1.5·2^23 rounds y (|y| < 2^22) to the nearest integer n, which then sits in the
// low mantissa bits: cheaper than f32x4.nearest plus a saturating conversion.
const ROUNDER: f32 = 12582912.0; // 1.5·2^23, bit pattern 0x4b400000
const ROUNDER_BITS_MINUS_BIAS: i32 = 0x4b400000 - 127;

/**
 * exp(n·ln2 + r) for |r| ≤ ~0.35, with `rounded` = n + ROUNDER (n an integer in
 * [-126, 127]; other lanes give garbage, which callers flush).
 */
// @ts-ignore: decorator
@inline function expFromReduced(rounded: v128, r: v128): v128 {
  let q = f32x4.add(f32x4.mul(f32x4.splat(E6), r), f32x4.splat(E5));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(E4));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(E3));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(E2));
  // 1 + (r + r²q): the large terms are added last so each rounding is relative to the result.
  const p = f32x4.add(f32x4.splat(1.0), f32x4.add(r, f32x4.mul(f32x4.mul(r, r), q)));
  // 2^n built in the exponent field; a multiply (not an exponent add) so that
  // results just above the flush threshold round correctly into subnormals.
  const scale = i32x4.shl(i32x4.sub(rounded, i32x4.splat(ROUNDER_BITS_MINUS_BIAS)), 23);
  return f32x4.mul(p, scale);
}

/** Zeroes lanes whose argument is below the flush threshold; NaN lanes pass through. */
// @ts-ignore: decorator
@inline function flushTiny(result: v128, x: v128): v128 {
  return v128.andnot(result, f32x4.lt(x, f32x4.splat(EXP_FLUSH_BELOW)));
}

/**
 * exp of each lane, for x ≤ 88 (softmax only feeds x ≤ 0). Relative error within 2^-23
 * (about one ulp); lanes below -87 give 0 (true value < 1.7e-38).
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const rounded = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUNDER));
  const n = f32x4.sub(rounded, f32x4.splat(ROUNDER));
  // x - n·LN2_HI is exact (Sterbenz), so r carries only the rounding of n·LN2_LO.
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  return flushTiny(expFromReduced(rounded, r), x);
}

/**
 * exp(hi + lo) for hi ≤ 88 exactly representable and |lo| ≪ 1: the sum is never
 * rounded to f32, which keeps erfc's exp(-a²) accurate to a few ulp for large a.
 */
// @ts-ignore: decorator
@inline function expHiLo4(hi: v128, lo: v128): v128 {
  const rounded = f32x4.add(f32x4.mul(hi, f32x4.splat(LOG2E)), f32x4.splat(ROUNDER));
  const n = f32x4.sub(rounded, f32x4.splat(ROUNDER));
  const r = f32x4.add(
    f32x4.sub(hi, f32x4.mul(n, f32x4.splat(LN2_HI))),
    f32x4.sub(lo, f32x4.mul(n, f32x4.splat(LN2_LO))),
  );
  return flushTiny(expFromReduced(rounded, r), hi);
}

// ---- erf ----------------------------------------------------------------------------
// Three ranges of a = |z|, each evaluated for all lanes and then selected:
//   A  a < 0.75:        erf(a) = a + a·PA(a²)
//   B  0.75 ≤ a < 1.25: erf(a) = erf(1) + PB(a - 1), PB(0) = 0
//   C  a ≥ 1.25:        erfc(a) = exp(-a²)·t·PC(t), t = 1/(1 + a/2)
// B and C keep erf close to 1 as "1 minus something small", so the small part
// (and erfc itself) keeps its relative accuracy; that is what lets GELU of a
// negative input be accurate relative to its (tiny) value.

const RANGE_A_END: f32 = 0.75;
const RANGE_B_END: f32 = 1.25;

// PA(u) ≈ erf(√u)/√u - 1 on u ∈ [0, 0.5625]: max relative fit error 1.5e-9.
const A0: f32 = 0.12837917;
const A1: f32 = -0.3761262;
const A2: f32 = 0.11283393;
const A3: f32 = -0.026835438;
const A4: f32 = 0.0051159863;
const A5: f32 = -0.0006761126;

// PB(d) ≈ erf(1 + d) - erf(1) on d ∈ [-0.25, 0.25]: max absolute fit error 2.9e-11.
const B1: f32 = 0.4151075;
const B2: f32 = -0.4151075;
const B3: f32 = 0.13836896;
const B4: f32 = 0.06918488;
const B5: f32 = -0.06917242;
const B6: f32 = 0.0046002227;
const B7: f32 = 0.014892369;
const B8: f32 = -0.0045730127;
// erf(1), erfc(1) and 1 + erf(1) as f32 plus the f32 of what that rounding lost.
const ERF1_HI: f32 = 0.8427008;
const ERF1_LO: f32 = 1.3511696e-8;
const ERFC1_HI: f32 = 0.1572992;
const ERFC1_LO: f32 = 1.3894651e-9;
const ONE_PLUS_ERF1_HI: f32 = 1.8427008;
const ONE_PLUS_ERF1_LO: f32 = -4.609295e-8;

// PC(t) ≈ erfc(a)·exp(a²)/t on a ∈ [1.25, 10]: max relative fit error 3.1e-9.
const C0: f32 = 0.28209376;
const C1: f32 = 0.2821448;
const C2: f32 = 0.2459827;
const C3: f32 = 0.1836735;
const C4: f32 = 0.046887197;
const C5: f32 = 0.10605989;
const C6: f32 = -0.24747834;
const C7: f32 = 0.10142125;

/** Range A: a·PA(a²), so that erf(a) = a + result. */
// @ts-ignore: decorator
@inline function erfSmallTail(a: v128): v128 {
  const u = f32x4.mul(a, a);
  let p = f32x4.add(f32x4.mul(f32x4.splat(A5), u), f32x4.splat(A4));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(A3));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(A2));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(A1));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(A0));
  return f32x4.mul(a, p);
}

/** Range B: erf(a) - erf(1). */
// @ts-ignore: decorator
@inline function erfAroundOne(a: v128): v128 {
  const d = f32x4.sub(a, f32x4.splat(1.0)); // exact for a in [0.5, 2]
  let p = f32x4.add(f32x4.mul(f32x4.splat(B8), d), f32x4.splat(B7));
  p = f32x4.add(f32x4.mul(p, d), f32x4.splat(B6));
  p = f32x4.add(f32x4.mul(p, d), f32x4.splat(B5));
  p = f32x4.add(f32x4.mul(p, d), f32x4.splat(B4));
  p = f32x4.add(f32x4.mul(p, d), f32x4.splat(B3));
  p = f32x4.add(f32x4.mul(p, d), f32x4.splat(B2));
  p = f32x4.add(f32x4.mul(p, d), f32x4.splat(B1));
  return f32x4.mul(p, d);
}

/** -a² as hi + lo with hi exact: `a` keeps 12 significant bits in `ah`, so ah² is exact. */
// @ts-ignore: decorator
@inline function negSquareHi(a: v128): v128 {
  const ah = v128.and(a, i32x4.splat(0xfffff000));
  return f32x4.neg(f32x4.mul(ah, ah));
}
/** The small rest -(a - ah)(a + ah) of `negSquareHi`. */
// @ts-ignore: decorator
@inline function negSquareLo(a: v128): v128 {
  const ah = v128.and(a, i32x4.splat(0xfffff000));
  return f32x4.neg(f32x4.mul(f32x4.sub(a, ah), f32x4.add(a, ah)));
}

/**
 * Range C: erfc(a) for a ≥ 1.25 (finite for any a ≥ 0; 0 beyond a ≈ 9.3), given
 * -a² = negSqHi + negSqLo unrounded: exp(-a²) amplifies an error in a² by a², so
 * the square must not be rounded to f32.
 */
// @ts-ignore: decorator
@inline function erfcLarge(a: v128, negSqHi: v128, negSqLo: v128): v128 {
  const e = expHiLo4(negSqHi, negSqLo);
  const t = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), f32x4.mul(a, f32x4.splat(0.5))));
  let p = f32x4.add(f32x4.mul(f32x4.splat(C7), t), f32x4.splat(C6));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(C5));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(C4));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(C3));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(C2));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(C1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(C0));
  return f32x4.mul(e, f32x4.mul(t, p));
}

/** Picks the range A, B or C value per lane of a = |z|. */
// @ts-ignore: decorator
@inline function byRange(a: v128, inA: v128, inB: v128, inC: v128): v128 {
  const isA = f32x4.lt(a, f32x4.splat(RANGE_A_END));
  const isB = f32x4.lt(a, f32x4.splat(RANGE_B_END));
  return v128.bitselect(inA, v128.bitselect(inB, inC, isB), isA);
}

/** erf of each lane; max absolute error ≲ 1e-7 over all finite z, NaN propagates. */
// @ts-ignore: decorator
@inline export function erf4(z: v128): v128 {
  const a = f32x4.abs(z);
  const small = erfSmallTail(a);
  const mid = erfAroundOne(a);
  const ec = erfcLarge(a, negSquareHi(a), negSquareLo(a));
  const erfA = byRange(
    a,
    f32x4.add(a, small),
    f32x4.add(f32x4.splat(ERF1_HI), f32x4.add(mid, f32x4.splat(ERF1_LO))),
    f32x4.sub(f32x4.splat(1.0), ec),
  );
  return v128.or(erfA, v128.and(z, i32x4.splat(0x80000000))); // erf is odd
}

// 1/√2 rounded to f32, as PyTorch multiplies by M_SQRT1_2 in f32.
const INV_SQRT2: f32 = 0.70710677;

/**
 * 1 + erf(x/√2) = 2·Φ(x) per lane (Φ the standard normal CDF), for GELU.
 * For x < 0 this is erfc(|x|/√2), computed directly so that it stays accurate relative
 * to its own (possibly tiny) value rather than to 1; its exp(-x²/2) is formed from x
 * itself, so rounding x/√2 to f32 does not cost relative accuracy in the tail either.
 */
// @ts-ignore: decorator
@inline export function twiceNormalCdf4(x: v128): v128 {
  const a = f32x4.abs(f32x4.mul(x, f32x4.splat(INV_SQRT2)));
  const absX = f32x4.abs(x);
  const half = f32x4.splat(0.5); // halving is exact, so -x²/2 keeps the split exact
  const small = erfSmallTail(a);
  const mid = erfAroundOne(a);
  const ec = erfcLarge(a, f32x4.mul(negSquareHi(absX), half), f32x4.mul(negSquareLo(absX), half));
  const erfA = f32x4.add(a, small);
  const forPositive = byRange(
    a,
    f32x4.add(f32x4.splat(1.0), erfA),
    f32x4.add(f32x4.splat(ONE_PLUS_ERF1_HI), f32x4.add(mid, f32x4.splat(ONE_PLUS_ERF1_LO))),
    f32x4.sub(f32x4.splat(2.0), ec),
  );
  const forNegative = byRange(
    a,
    f32x4.sub(f32x4.splat(1.0), erfA),
    f32x4.sub(f32x4.splat(ERFC1_HI), f32x4.sub(mid, f32x4.splat(ERFC1_LO))),
    ec,
  );
  return v128.bitselect(forNegative, forPositive, f32x4.lt(x, f32x4.splat(0.0)));
}

/** exp(-x²/2) per lane (the normal density without its 1/√(2π)), accurate to a few ulp for all x. */
// @ts-ignore: decorator
@inline export function expNegHalfSquare4(x: v128): v128 {
  const absX = f32x4.abs(x);
  const half = f32x4.splat(0.5);
  return expHiLo4(f32x4.mul(negSquareHi(absX), half), f32x4.mul(negSquareLo(absX), half));
}
