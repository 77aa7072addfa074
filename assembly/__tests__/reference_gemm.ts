// Test-only helpers for the GEMM and elementwise specs: a deterministic PRNG,
// typed-buffer pointers, and the plain scalar linear layer the kernels are
// checked against.

/** Byte offset of a StaticArray's first element, for passing to kernels. */
export function ptr<T>(a: StaticArray<T>): usize {
  return changetype<usize>(a);
}

/** xorshift32: the same seed gives the same data on every run and engine. */
export class Prng {
  private s: u32;
  constructor(seed: u32) {
    this.s = seed == 0 ? 0x9e3779b9 : seed;
  }
  nextU32(): u32 {
    let x = this.s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    this.s = x;
    return x;
  }
  /** Uniform in [-1, 1), 24 random bits. */
  nextF32(): f32 {
    return <f32>(<f64>(this.nextU32() >> 8) / <f64>(1 << 23) - 1.0);
  }
}

/** a [len] ← uniform [-1, 1) values. */
export function fillRandom(a: StaticArray<f32>, rng: Prng): void {
  for (let i = 0; i < a.length; i++) a[i] = rng.nextF32();
}

/** Every element ← value. */
export function fillWith(a: StaticArray<f32>, value: f32): void {
  for (let i = 0; i < a.length; i++) a[i] = value;
}

/**
 * The linear layer by definition, in f64, over the unpacked weight:
 *   ref[i*n + j] = bias[j] + Σ_{t<k} inp[i*ldInp + t] · w[j*kFull + t]
 *   mag[i*n + j] = |bias[j]| + Σ_{t<k} |inp[i*ldInp + t] · w[j*kFull + t]|
 * w [nFull][kFull] (only rows < n, columns < k used); bias [≥ n] or null;
 * ref, mag [m][n]. mag scales the rounding error bound of an f32 kernel.
 */
export function referenceLinear(
  ref: StaticArray<f64>, mag: StaticArray<f64>,
  inp: StaticArray<f32>, w: StaticArray<f32>, bias: StaticArray<f32> | null,
  m: i32, n: i32, k: i32, kFull: i32, ldInp: i32,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum: f64 = 0;
      let abs: f64 = 0;
      if (bias !== null) {
        sum = <f64>bias[j];
        abs = Math.abs(sum);
      }
      for (let t = 0; t < k; t++) {
        const p = <f64>inp[i * ldInp + t] * <f64>w[j * kFull + t];
        sum += p;
        abs += Math.abs(p);
      }
      ref[i * n + j] = sum;
      mag[i * n + j] = abs;
    }
  }
}

/**
 * Largest rounding error an f32 evaluation of one output may carry, whatever
 * its summation order: k products (each within a relative 2^-24) and k + 1
 * terms summed in f32 give |error| ≤ γ_{k+1}·Σ|terms| with
 * γ_j = j·u/(1 − j·u), u = 2^-24 (Higham, Accuracy and Stability of Numerical
 * Algorithms, §3.1 and §4.2). (k + 2)·u·Σ|terms| covers it for every k used
 * here (j·u < 1/2). The f64 reference's own error (≈ k·2^-53·Σ|terms|) is
 * negligible beside it. A missing, repeated or wrong term is an error of the
 * size of one term, far above this bound once Σ|terms| spans several terms.
 */
export function errorBound(k: i32, mag: f64): f64 {
  return <f64>(k + 2) * Math.pow(2, -24) * mag;
}

/**
 * Gradient of the input by definition, in f64:
 *   ref[i*k + t] = Σ_{j<n} dOut[i*ldDOut + j] · w[j*kFull + t],  mag = Σ|terms|.
 * w [nFull][kFull]; ref, mag [m][k].
 */
export function referenceBackwardInput(
  ref: StaticArray<f64>, mag: StaticArray<f64>,
  dOut: StaticArray<f32>, w: StaticArray<f32>,
  m: i32, n: i32, k: i32, kFull: i32, ldDOut: i32,
): void {
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < k; t++) {
      let sum: f64 = 0;
      let abs: f64 = 0;
      for (let j = 0; j < n; j++) {
        const p = <f64>dOut[i * ldDOut + j] * <f64>w[j * kFull + t];
        sum += p;
        abs += Math.abs(p);
      }
      ref[i * k + t] = sum;
      mag[i * k + t] = abs;
    }
  }
}

/**
 * Gradients of weight and bias by definition, in f64:
 *   refW[j*k + t] = Σ_{i<m} dOut[i*ldDOut + j] · inp[i*ldInp + t],  magW = Σ|terms|,
 *   refB[j] = Σ_{i<m} dOut[i*ldDOut + j],                           magB = Σ|terms|.
 * refW, magW [n][k]; refB, magB [n].
 */
export function referenceBackwardWeight(
  refW: StaticArray<f64>, magW: StaticArray<f64>, refB: StaticArray<f64>, magB: StaticArray<f64>,
  dOut: StaticArray<f32>, inp: StaticArray<f32>,
  m: i32, n: i32, k: i32, ldInp: i32, ldDOut: i32,
): void {
  for (let j = 0; j < n; j++) {
    let bSum: f64 = 0;
    let bAbs: f64 = 0;
    for (let i = 0; i < m; i++) {
      const g = <f64>dOut[i * ldDOut + j];
      bSum += g;
      bAbs += Math.abs(g);
    }
    refB[j] = bSum;
    magB[j] = bAbs;
    for (let t = 0; t < k; t++) {
      let sum: f64 = 0;
      let abs: f64 = 0;
      for (let i = 0; i < m; i++) {
        const p = <f64>dOut[i * ldDOut + j] * <f64>inp[i * ldInp + t];
        sum += p;
        abs += Math.abs(p);
      }
      refW[j * k + t] = sum;
      magW[j * k + t] = abs;
    }
  }
}

/**
 * Copies `a` into fresh memory that ends exactly where linear memory ends, so
 * a kernel reading even one byte past its last element traps. The pages are
 * grown by hand, outside the allocator's heap (which only ever adds pages it
 * grew itself), so later allocations never reuse them.
 */
export function copyToMemoryEnd(a: StaticArray<f32>): usize {
  const bytes = <usize>a.length << 2;
  const pages = <i32>((bytes + 0xffff) >> 16);
  const before = memory.grow(pages);
  assert(before >= 0, "memory.grow failed");
  const at = (<usize>(before + pages) << 16) - bytes;
  memory.copy(at, ptr(a), bytes);
  return at;
}
