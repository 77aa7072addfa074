// GELU with the exact erf form BERT uses (not the tanh approximation).
import { expNegHalfSquare4, twiceNormalCdf4 } from "./simd_exp_erf";

/** GELU of each lane: 0.5·x·(1 + erf(x/√2)). */
// @ts-ignore: decorator
@inline function gelu4(x: v128): v128 {
  return f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), twiceNormalCdf4(x));
}

/**
 * `out[i] = 0.5·inp[i]·(1 + erf(inp[i]/√2))` for `i < n`.
 * out, inp: f32 `[n]`; `out` may equal `inp` (each element is read before it is written).
 */
export function gelu_forward(out: usize, inp: usize, n: i32): void {
  const vectorEnd = n & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const offset = <usize>i << 2;
    v128.store(out + offset, gelu4(v128.load(inp + offset)));
  }
  // The tail goes through the same four-lane code so every element gets identical math.
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    store<f32>(out + offset, f32x4.extract_lane(gelu4(f32x4.splat(load<f32>(inp + offset))), 0));
  }
}

// 1/√(2π) rounded to f32.
const INV_SQRT_2PI: f32 = 0.3989423;

/** GELU'(x) per lane: Φ(x) + x·φ(x) = 0.5·(1 + erf(x/√2)) + x·exp(-x²/2)/√(2π). */
// @ts-ignore: decorator
@inline function geluDerivative4(x: v128): v128 {
  const cdf = f32x4.mul(twiceNormalCdf4(x), f32x4.splat(0.5));
  const density = f32x4.mul(expNegHalfSquare4(x), f32x4.splat(INV_SQRT_2PI));
  return f32x4.add(cdf, f32x4.mul(x, density));
}

/**
 * `dInp[i] = dOut[i] · GELU'(inp[i])` for `i < n` (written, not accumulated).
 * dInp, inp, dOut: f32 `[n]`; `dInp` may equal `dOut`.
 */
export function gelu_backward(dInp: usize, inp: usize, dOut: usize, n: i32): void {
  const vectorEnd = n & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const offset = <usize>i << 2;
    v128.store(dInp + offset, f32x4.mul(v128.load(dOut + offset), geluDerivative4(v128.load(inp + offset))));
  }
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    const slope = f32x4.extract_lane(geluDerivative4(f32x4.splat(load<f32>(inp + offset))), 0);
    store<f32>(dInp + offset, load<f32>(dOut + offset) * slope);
  }
}
