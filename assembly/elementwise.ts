// Per-element ops and the half-precision conversions checkpoints need.
// Every pointer is a byte offset; n counts elements. `out` may alias an input.

/** 2^112: moves an f16 exponent (bias 15) placed in an f32 (bias 127) to its value. */
const F16_REBIAS: f32 = reinterpret<f32>(0x77800000);

/** out[i] = a[i] + b[i]; out, a, b f32 [n]. */
export function add_forward(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/**
 * out[i] = tanh(inp[i]); out, inp f32 [n]. Evaluated in f64 (musl's tanh,
 * which saturates to ±1 instead of overflowing exp for large |x|) and rounded
 * once to f32, so results are the correctly rounded f32 but for f64→f32
 * double rounding. Only the pooler uses it: 768 values per sequence.
 */
export function tanh_forward(out: usize, inp: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, <f32>Math.tanh(<f64>load<f32>(inp + o)));
  }
}

/**
 * Gradient of tanh_forward from its output: dInp[i] = dOut[i]·(1 − out[i]²);
 * dInp, out, dOut f32 [n]; dInp may equal dOut (the pooler reuses its buffer).
 */
export function tanh_backward(dInp: usize, out: usize, dOut: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const y = load<f32>(out + o);
    store<f32>(dInp + o, load<f32>(dOut + o) * (1.0 - y * y));
  }
}

/** dst f32 [n] ← src IEEE binary16 bits u16 [n]; exact, NaN payloads kept. */
export function f16_to_f32(dst: usize, src: usize, n: i32): void {
  const signMask = i32x4.splat(0x8000);
  const magMask = i32x4.splat(0x7fff);
  const infOrNaN = i32x4.splat(0x7c00);
  const f32Inf = i32x4.splat(0x7f800000);
  const rebias = f32x4.splat(F16_REBIAS);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    const out = dst + (<usize>i << 2);
    v128.store(out, f16x4ToF32(i32x4.extend_low_i16x8_u(h), signMask, magMask, infOrNaN, f32Inf, rebias));
    v128.store(out, f16x4ToF32(i32x4.extend_high_i16x8_u(h), signMask, magMask, infOrNaN, f32Inf, rebias), 16);
  }
  for (; i < n; i++) {
    store<u32>(dst + (<usize>i << 2), f16BitsToF32Bits(load<u16>(src + (<usize>i << 1))));
  }
}

/** Four f16 bit patterns (zero-extended to u32 lanes) → four f32. */
// @ts-ignore: decorator
@inline
function f16x4ToF32(h: v128, signMask: v128, magMask: v128, infOrNaN: v128, f32Inf: v128, rebias: v128): v128 {
  const mag = v128.and(h, magMask);
  // Normals and subnormals alike: the f16 bits shifted into f32 position read as
  // a value 2^-112 too small (subnormals as f32 subnormals), and the product is exact.
  const finite = f32x4.mul(i32x4.shl(mag, 13), rebias);
  const special = v128.or(i32x4.shl(mag, 13), f32Inf);
  const value = v128.bitselect(special, finite, i32x4.ge_u(mag, infOrNaN));
  return v128.or(value, i32x4.shl(v128.and(h, signMask), 16));
}

/** One f16 bit pattern → the f32 bit pattern of the same value. */
// @ts-ignore: decorator
@inline
function f16BitsToF32Bits(h: u32): u32 {
  const sign = (h & 0x8000) << 16;
  const mag = h & 0x7fff;
  if (mag >= 0x7c00) return sign | 0x7f800000 | (mag & 0x3ff) << 13;
  return sign | reinterpret<u32>(reinterpret<f32>(mag << 13) * F16_REBIAS);
}

/** dst f32 [n] ← src bfloat16 bits u16 [n]; exact (bf16 is the top half of an f32). */
export function bf16_to_f32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    const out = dst + (<usize>i << 2);
    v128.store(out, i32x4.shl(i32x4.extend_low_i16x8_u(h), 16));
    v128.store(out, i32x4.shl(i32x4.extend_high_i16x8_u(h), 16), 16);
  }
  for (; i < n; i++) {
    store<u32>(dst + (<usize>i << 2), <u32>load<u16>(src + (<usize>i << 1)) << 16);
  }
}

/**
 * dst u16 [n] ← IEEE binary16 bits of src f32 [n], rounded to nearest, ties
 * to even; overflow (|x| ≥ 65520) gives ±inf, tiny values f16 subnormals or
 * ±0. NaN stays NaN (quiet, sign and top payload bits kept).
 */
export function f32_to_f16(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    store<u16>(dst + (<usize>i << 1), f32BitsToF16Bits(load<u32>(src + (<usize>i << 2))));
  }
}

function f32BitsToF16Bits(x: u32): u32 {
  const sign = (x >> 16) & 0x8000;
  const a = x & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00 | ((a >> 13) & 0x3ff);
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520, halfway past 65504, rounds up
  if (a >= 0x38800000) {
    // Normal f16 (≥ 2^-14): re-bias the exponent by 127 - 15 and drop 13
    // mantissa bits; the carry of the rounding add may bump the exponent,
    // which is the right answer.
    const r = a - 0x38000000;
    return sign | ((r + 0x0fff + ((r >> 13) & 1)) >> 13);
  }
  if (a <= 0x33000000) return sign; // ≤ 2^-25: half the least subnormal or less → 0
  // Subnormal f16: the value m·2^(e-150) in units of 2^-24 is m >> (126 - e).
  const e = a >> 23;
  const m = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e; // 14 … 24
  const q = m >> shift;
  const rem = m & ((1 << shift) - 1);
  const half: u32 = 1 << (shift - 1);
  return sign | (rem > half || (rem == half && (q & 1) != 0) ? q + 1 : q);
}

/**
 * dst u16 [n] ← bfloat16 bits of src f32 [n], rounded to nearest, ties to
 * even (values past the largest bf16 become ±inf). NaN stays NaN (quiet).
 */
export function f32_to_bf16(dst: usize, src: usize, n: i32): void {
  const one = i32x4.splat(1);
  const roundBias = i32x4.splat(0x7fff);
  const quiet = i32x4.splat(0x0040);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const from = src + (<usize>i << 2);
    const lo = f32x4ToBf16(v128.load(from), one, roundBias, quiet);
    const hi = f32x4ToBf16(v128.load(from, 16), one, roundBias, quiet);
    // Every lane is ≤ 0xffff, so the saturating narrow is exact.
    v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_u(lo, hi));
  }
  for (; i < n; i++) {
    store<u16>(dst + (<usize>i << 1), f32BitsToBf16Bits(load<u32>(src + (<usize>i << 2))));
  }
}

/** Four f32 → four bf16 bit patterns in the low half of u32 lanes. */
// @ts-ignore: decorator
@inline
function f32x4ToBf16(x: v128, one: v128, roundBias: v128, quiet: v128): v128 {
  const lsb = v128.and(i32x4.shr_u(x, 16), one);
  const rounded = i32x4.shr_u(i32x4.add(x, i32x4.add(roundBias, lsb)), 16);
  const nan = v128.or(i32x4.shr_u(x, 16), quiet);
  return v128.bitselect(nan, rounded, f32x4.ne(x, x));
}

// @ts-ignore: decorator
@inline
function f32BitsToBf16Bits(x: u32): u32 {
  if ((x & 0x7fffffff) > 0x7f800000) return (x >> 16) | 0x0040;
  // Adding 0x7fff (+1 when the kept lsb is odd) carries into the kept half
  // exactly when the dropped half is past (or at, for odd) the midpoint.
  return (x + 0x7fff + ((x >> 16) & 1)) >> 16;
}
