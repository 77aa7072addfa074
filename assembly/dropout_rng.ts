// The counter-based generator behind dropout (dropout.ts), for every kernel that drops
// elements (attention-probability dropout can import these rather than copy them, so
// the masks stay identical by construction). Not re-exported by index.ts.
//
// Element with counter c (u32, wrapping) under seed s draws
//   h = fmix(fmix(c ^ k) + k),  k = fmix(s),
// fmix = MurmurHash3's 32-bit finaliser (a bijection with full avalanche). For a fixed
// seed, c ↦ h is a bijection of u32, so over 2^32 counters every h occurs once. The
// element is dropped iff h < round(p·2^32), a drop probability within 2^-33 of p.
// Not a cryptographic generator; ample for dropout masks.

const FMIX_MUL1: u32 = 0x85ebca6b;
const FMIX_MUL2: u32 = 0xc2b2ae35;
const TWO_POW_32: f64 = 4294967296.0;

// @ts-ignore: decorator
@inline function fmix(x: u32): u32 {
  x ^= x >>> 16;
  x *= FMIX_MUL1;
  x ^= x >>> 13;
  x *= FMIX_MUL2;
  x ^= x >>> 16;
  return x;
}

/** fmix on four u32 lanes: the same arithmetic as `fmix`, lane by lane. */
// @ts-ignore: decorator
@inline function fmix4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(FMIX_MUL1));
  x = v128.xor(x, i32x4.shr_u(x, 13));
  x = i32x4.mul(x, i32x4.splat(FMIX_MUL2));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/** The generator's key k for a seed. */
// @ts-ignore: decorator
@inline export function dropoutKey(seed: u32): u32 {
  return fmix(seed);
}

/** The u32 drawn for counter c under key k. */
// @ts-ignore: decorator
@inline export function dropoutDraw(counter: u32, key: u32): u32 {
  return fmix(fmix(counter ^ key) + key);
}

/** dropoutDraw on four counters. */
// @ts-ignore: decorator
@inline export function dropoutDraw4(counters: v128, key: v128): v128 {
  return fmix4(i32x4.add(fmix4(v128.xor(counters, key)), key));
}

/**
 * round(p·2^32), at most 2^32 − 1: elements drawing below it are dropped. For 0 < p < 1
 * (at p ≥ 1 a draw of 2^32 − 1 would escape: callers drop everything themselves).
 */
// @ts-ignore: decorator
@inline export function dropoutThreshold(p: f64): u32 {
  return <u32>min<f64>(Math.round(p * TWO_POW_32), TWO_POW_32 - 1.0);
}

/** The factor kept elements are multiplied by: f32(1/(1−p)), rounded once from f64; 0 for p ≥ 1. */
// @ts-ignore: decorator
@inline export function dropoutKeepScale(p: f64): f32 {
  return p >= 1.0 ? 0 : <f32>(1.0 / (1.0 - p));
}

/** All ones in the lanes whose counter draws a dropped element, zero elsewhere. */
// @ts-ignore: decorator
@inline export function droppedLanes(counters: v128, key: v128, threshold: v128): v128 {
  return i32x4.lt_u(dropoutDraw4(counters, key), threshold);
}

/** Whether the element with this counter is dropped. */
// @ts-ignore: decorator
@inline export function isDropped(counter: u32, key: u32, threshold: u32): bool {
  return dropoutDraw(counter, key) < threshold;
}
