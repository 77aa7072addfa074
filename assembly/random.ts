// Seeded random fills for synthetic models (benchmark presets, tests): the same
// seed gives the same tensor in every runtime, and JS never loops over weights.

/** xorshift32 step; state must be non-zero. */
@inline function next(state: u32): u32 {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

/**
 * dst: f32 [n] ← normal(mean, std) by Box–Muller over a xorshift32 stream.
 * Quality is ample for random weights; it is not a statistics-grade generator.
 */
export function fill_normal(dst: usize, n: i32, seed: u32, mean: f32, std: f32): void {
  let state: u32 = seed == 0 ? 0x9e3779b9 : seed;
  for (let i = 0; i < n; i += 2) {
    state = next(state);
    const u1 = (f64(state >>> 8) + 1.0) / 16777217.0; // (0, 1]: log never sees 0
    state = next(state);
    const u2 = f64(state >>> 8) / 16777216.0;
    const r = Math.sqrt(-2.0 * Math.log(u1));
    const a = 2.0 * Math.PI * u2;
    store<f32>(dst + (<usize>i << 2), mean + std * f32(r * Math.cos(a)));
    if (i + 1 < n) store<f32>(dst + (<usize>(i + 1) << 2), mean + std * f32(r * Math.sin(a)));
  }
}
