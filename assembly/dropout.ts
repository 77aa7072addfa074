// Inverted dropout with a counter-based generator (dropout_rng.ts): element i of a
// call draws its random number from (seed, offset + i) alone, so a mask is the same in
// every runtime, at any SIMD width, in any call order, and backward can either read
// the mask forward wrote or regenerate it from the same (seed, offset).
//
// Callers give each dropout site a disjoint counter range per seed (e.g. a running
// element offset through the forward pass) and change the seed every step.

import {
  dropoutDraw, dropoutKeepScale, dropoutKey, dropoutThreshold, droppedLanes, isDropped,
} from "./dropout_rng";

/**
 * The random u32 that dropout draws for element `index` of a call with (seed,
 * offset): `dropout_forward` drops that element iff the value is below
 * round(p·2^32). Exported so tests and tools can inspect the stream.
 */
export function dropout_random_u32(seed: u32, offset: u32, index: u32): u32 {
  return dropoutDraw(offset + index, dropoutKey(seed));
}

/**
 * out[i] = inp[i] · (kept ? f32(1/(1−p)) : 0) over f32 [n]; mask u8 [n] (1 kept,
 * 0 dropped) is written unless it is 0. Dropped elements are inp·0 as in torch
 * (so ±0, or NaN for inf/NaN inputs).
 *
 * p in [0, 1] (validated in TS): p = 0 copies inp exactly (mask all ones); p = 1
 * drops everything. `out` may equal `inp`. seed, offset: see the file comment;
 * element i uses counter offset + i.
 */
export function dropout_forward(out: usize, inp: usize, mask: usize, n: i32, p: f64, seed: u32, offset: u32): void {
  if (n <= 0) return;
  if (!(p > 0.0)) {
    if (out != inp) memory.copy(out, inp, <usize>n << 2);
    if (mask != 0) memory.fill(mask, 1, <usize>n);
    return;
  }
  const all = p >= 1.0; // handled apart: a draw of 2^32 − 1 is never below any u32 threshold
  const scale = dropoutKeepScale(p);
  const threshold: u32 = all ? 0 : dropoutThreshold(p);
  const k = dropoutKey(seed);
  const scaleV = f32x4.splat(scale);
  const thresholdV = i32x4.splat(threshold);
  const kV = i32x4.splat(k);
  let counters = i32x4.add(i32x4.splat(offset), i32x4(0, 1, 2, 3));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const dropped = all ? i32x4.splat(-1) : droppedLanes(counters, kV, thresholdV);
    v128.store(out + o, f32x4.mul(v128.load(inp + o), v128.andnot(scaleV, dropped)));
    if (mask != 0) {
      const keptLanes = v128.andnot(i32x4.splat(1), dropped); // 1 or 0 per i32 lane
      const bytes = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(keptLanes, keptLanes), keptLanes);
      v128.store32_lane(mask + <usize>i, bytes, 0);
    }
    counters = i32x4.add(counters, i32x4.splat(4));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const keep = !all && !isDropped(offset + <u32>i, k, threshold);
    store<f32>(out + o, load<f32>(inp + o) * (keep ? scale : <f32>0.0));
    if (mask != 0) store<u8>(mask + <usize>i, keep ? 1 : 0);
  }
}

/**
 * dInp[i] = dOut[i] · (kept ? f32(1/(1−p)) : 0) over f32 [n] (written, not
 * accumulated; dInp may equal dOut). The mask comes from `mask` (u8 [n], as
 * dropout_forward wrote it) or, when mask is 0, is regenerated from (seed, offset),
 * which must then be the forward call's. p = 0 copies.
 */
export function dropout_backward(dInp: usize, dOut: usize, mask: usize, n: i32, p: f64, seed: u32, offset: u32): void {
  if (n <= 0) return;
  if (mask == 0) {
    // Forward's arithmetic with dOut in place of inp is exactly the backward product.
    dropout_forward(dInp, dOut, 0, n, p, seed, offset);
    return;
  }
  if (!(p > 0.0)) {
    if (dInp != dOut) memory.copy(dInp, dOut, <usize>n << 2);
    return;
  }
  const scale = dropoutKeepScale(p);
  const scaleV = f32x4.splat(scale);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const bytes = v128.load32_zero(mask + <usize>i);
    const lanes = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes));
    const kept = i32x4.ne(lanes, i32x4.splat(0));
    const o = <usize>i << 2;
    v128.store(dInp + o, f32x4.mul(v128.load(dOut + o), v128.and(scaleV, kept)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dInp + o, load<f32>(dOut + o) * (load<u8>(mask + <usize>i) != 0 ? scale : <f32>0.0));
  }
}
