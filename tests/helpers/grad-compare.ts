/**
 * The per-tensor comparison every PyTorch-golden gradient test applies
 * (fine-tuning, masked-LM, distillation): the same bar everywhere, so a
 * loosened tolerance in one test cannot hide.
 */
import assert from "node:assert/strict";

/** A safetensors F32 payload as floats (copied: the payload may be unaligned). */
export function floats(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

export const relClose = (actual: number, expected: number, tol: number): boolean =>
  Math.abs(actual - expected) <= tol * Math.max(Math.abs(expected), 1e-30);

function norm(values: ArrayLike<number>): number {
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += values[i] * values[i];
  return Math.sqrt(sq);
}

/**
 * `g` (engine) against `ref` (float64 autograd, stored as f32): an element the
 * reference has exactly 0 (never reached) must be exactly 0; every other
 * element within 1e-3 of the tensor's largest magnitude; the whole tensor
 * within 1e-3 relative error in norm.
 */
export function assertGradientMatches(name: string, g: Float32Array, ref: Float32Array): void {
  assert.equal(g.length, ref.length, `${name} size`);
  let refMax = 0;
  for (let i = 0; i < ref.length; i++) refMax = Math.max(refMax, Math.abs(ref[i]));
  let diffSq = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = g[i] - ref[i];
    diffSq += d * d;
    if (ref[i] === 0) assert.equal(g[i], 0, `${name}[${i}] must be exactly 0 (not reached), got ${g[i]}`);
    else assert.ok(Math.abs(d) <= 1e-3 * refMax, `${name}[${i}]: ${g[i]} vs ${ref[i]} (tensor max ${refMax})`);
  }
  const refNorm = norm(ref);
  assert.ok(Math.sqrt(diffSq) <= 1e-3 * Math.max(refNorm, 1e-30), `${name}: relative error ${Math.sqrt(diffSq) / refNorm}`);
}

/** A gradient that is zero by analysis (key biases: softmax ignores a shift) must be ~0 next to the global norm. */
export function assertAnalyticallyZero(name: string, g: Float32Array, globalNorm: number): void {
  const gNorm = norm(g);
  assert.ok(gNorm <= 1e-6 * globalNorm, `${name} should be ~0 (softmax ignores a shift), norm ${gNorm}`);
}

/** The gradient's norm against a reference norm, to 1e-3 relative. */
export function assertNormMatches(name: string, g: Float32Array, refNorm: number): void {
  const gNorm = norm(g);
  assert.ok(relClose(gNorm, refNorm, 1e-3), `${name}: |g| ${gNorm} vs ${refNorm}`);
}
