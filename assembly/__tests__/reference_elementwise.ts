// Test-only references for elementwise.ts, written from the definitions and
// sharing no code or bit tricks with the kernels: 16-bit floats are decoded
// with the IEEE value formula and rounded by searching the ordered list of
// representable values; tanh comes from expm1.

/** A 16-bit IEEE-style format: 1 sign bit, expBits exponent bits, manBits mantissa bits. */
export class HalfFormat {
  constructor(public expBits: i32, public manBits: i32) {}
  get bias(): i32 {
    return (1 << (this.expBits - 1)) - 1;
  }
  /** Bit pattern of +inf (also the first pattern of the NaN range). */
  get infBits(): u32 {
    return (<u32>((1 << this.expBits) - 1)) << this.manBits;
  }
  /** Largest finite positive pattern. */
  get maxFiniteBits(): u32 {
    return this.infBits - 1;
  }
}

export const F16 = new HalfFormat(5, 10);
export const BF16 = new HalfFormat(8, 7);

export function isNaNBits(bits: u32, fmt: HalfFormat): bool {
  return (bits & 0x7fff) > fmt.infBits;
}

export function isInfBits(bits: u32, fmt: HalfFormat): bool {
  return (bits & 0x7fff) == fmt.infBits;
}

/**
 * Value of a finite pattern by the IEEE definition, exactly (in f64):
 * subnormal m·2^(1−bias−manBits), normal (2^manBits + m)·2^(e−bias−manBits).
 */
export function decodeFinite(bits: u32, fmt: HalfFormat): f64 {
  const e = <i32>((bits & 0x7fff) >> fmt.manBits);
  const m = <f64>(bits & ((1 << fmt.manBits) - 1));
  const mag = e == 0
    ? m * Math.pow(2, <f64>(1 - fmt.bias - fmt.manBits))
    : (Math.pow(2, <f64>fmt.manBits) + m) * Math.pow(2, <f64>(e - fmt.bias - fmt.manBits));
  return (bits & 0x8000) != 0 ? -mag : mag;
}

/**
 * The pattern nearest to x (not NaN), ties to the even pattern; beyond the
 * largest finite value by half its spacing or more, ±inf (the tie goes to
 * inf because the largest finite pattern is odd). Found by binary search:
 * positive patterns are ordered like their values.
 */
export function roundToFormat(x: f64, fmt: HalfFormat): u32 {
  const sign: u32 = x < 0 || (x == 0 && 1 / x < 0) ? 0x8000 : 0;
  const a = Math.abs(x);
  const top = fmt.maxFiniteBits;
  const maxValue = decodeFinite(top, fmt);
  const halfSpacing = (maxValue - decodeFinite(top - 1, fmt)) / 2;
  if (a >= maxValue + halfSpacing) return sign | fmt.infBits;
  // Largest pattern whose value is ≤ a.
  let lo: u32 = 0;
  let hi: u32 = top;
  while (lo < hi) {
    const mid = lo + (hi - lo + 1) / 2;
    if (decodeFinite(mid, fmt) <= a) lo = mid;
    else hi = mid - 1;
  }
  if (lo == top) return sign | top;
  const below = a - decodeFinite(lo, fmt);
  const above = decodeFinite(lo + 1, fmt) - a;
  if (below < above) return sign | lo;
  if (above < below) return sign | (lo + 1);
  return sign | ((lo & 1) == 0 ? lo : lo + 1);
}

/** tanh in f64 from expm1 of a non-positive argument, which cannot overflow. */
export function referenceTanh(x: f64): f64 {
  if (isNaN(x)) return x;
  if (x == 0) return x; // keeps the sign of zero
  const t = Math.expm1(-2 * Math.abs(x));
  const r = -t / (t + 2);
  return x < 0 ? -r : r;
}

/** Distance between f32 values counted in representable steps (same sign assumed finite). */
export function ulpDistance(a: f32, b: f32): i64 {
  const ia = orderedBits(a);
  const ib = orderedBits(b);
  return ia > ib ? ia - ib : ib - ia;
}

/** f32 bits mapped to a signed integer that increases with the value (−0 and +0 adjacent). */
function orderedBits(x: f32): i64 {
  const b = reinterpret<u32>(x);
  return (b & 0x80000000) != 0 ? -(<i64>(b & 0x7fffffff)) - 1 : <i64>b;
}
