// AdamW updates and the gradient helpers around them (global-norm clipping,
// zeroing). Every pointer is a byte offset to f32 [n]; the update is in place.
//
// Bit-level agreement with PyTorch: the scalars are formed in f64 exactly as
// Python forms them (lr, betas, eps arrive as f64), rounded to f32 where torch's
// kernels round a Python scalar to the tensor's dtype, and the per-element ops
// follow torch's order. torch's CPU kernels built for FMA-capable CPUs (its AVX2
// build, which x86 machines of the last decade run) fuse the multiply-add of
// `add_(g, alpha=a)` and `addcmul_`, so m and v are each rounded once per step;
// fused_multiply_add.ts reproduces that exactly. (A torch running its non-FMA
// default build would round twice and differ in the last bit of m, v.) scripts/golden/gen_adamw_fixture.py records torch's own
// results and the tests match them bit for bit.

import { fma1, fma4 } from "./fused_multiply_add";

// The f32 constants of one step, rounded from the f64 hyper-parameters where torch
// rounds a Python scalar to the tensor's dtype. Module globals rather than an
// object: kernels never allocate (with the stub runtime an allocation would land
// where the TypeScript arena starts).
let beta1F: f32 = 0;
let oneMinusBeta1F: f32 = 0;
let beta2F: f32 = 0;
let oneMinusBeta2F: f32 = 0;
let epsF: f32 = 0;
/** `1 − β^t` for the bias corrections, in f64 (Python floats). */
let biasCorrection1: f64 = 0;
let biasCorrection2: f64 = 0;

function prepareScalars(beta1: f64, beta2: f64, eps: f64, step: i32): void {
  beta1F = <f32>beta1;
  oneMinusBeta1F = <f32>(1.0 - beta1);
  beta2F = <f32>beta2;
  oneMinusBeta2F = <f32>(1.0 - beta2);
  epsF = <f32>eps;
  // torch: `beta1 ** step` with step a Python float (step_t.item()), i.e. C pow.
  biasCorrection1 = 1.0 - Math.pow(beta1, <f64>step);
  biasCorrection2 = 1.0 - Math.pow(beta2, <f64>step);
}

/**
 * m ← fma(1−β1, g, m·β1), v ← fma((1−β2)·g, g, v·β2) for the four f32 lanes at
 * byte offset o (torch's fused `mul_(β).add_(g, alpha=1−β)` and `addcmul_`).
 */
// @ts-ignore: decorator
@inline function updateMoments4(grad: usize, m: usize, v: usize, o: usize): void {
  const g = v128.load(grad + o);
  const mNew = fma4(f32x4.splat(oneMinusBeta1F), g, f32x4.mul(v128.load(m + o), f32x4.splat(beta1F)));
  const vNew = fma4(f32x4.mul(f32x4.splat(oneMinusBeta2F), g), g, f32x4.mul(v128.load(v + o), f32x4.splat(beta2F)));
  v128.store(m + o, mNew);
  v128.store(v + o, vNew);
}

/** One lane of updateMoments4. */
// @ts-ignore: decorator
@inline function updateMoments1(grad: usize, m: usize, v: usize, o: usize): void {
  const g = load<f32>(grad + o);
  store<f32>(m + o, fma1(oneMinusBeta1F, g, load<f32>(m + o) * beta1F));
  store<f32>(v + o, fma1(oneMinusBeta2F * g, g, load<f32>(v + o) * beta2F));
}

/**
 * One torch.optim.AdamW step (PyTorch's `_single_tensor_adamw`, amsgrad off,
 * maximize off) over param, grad, m (exp_avg), v (exp_avg_sq), all f32 [n]:
 *
 *   param ← param · f32(1 − lr·wd)                    (decoupled weight decay first)
 *   m ← fma(f32(1−β1), g, m·f32(β1));  v ← fma(f32(1−β2)·g, g, v·f32(β2))
 *   denom ← √v / f32(√(1−β2^t)) + f32(eps)
 *   param ← param + (f32(−lr/(1−β1^t)) · m) / denom
 *
 * `step` is t, the count *after* this update (1 on the first call), as torch
 * increments before using it. m and v start as zeros. weightDecay 0 leaves the
 * decay a multiplication by 1 (exact), as in torch.
 */
export function adamw_step(
  param: usize, grad: usize, m: usize, v: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, weightDecay: f64, step: i32,
): void {
  prepareScalars(beta1, beta2, eps, step);
  const decay = <f32>(1.0 - lr * weightDecay);
  const negStepSize = <f32>-(lr / biasCorrection1);
  const biasCorrection2Sqrt = <f32>Math.sqrt(biasCorrection2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    updateMoments4(grad, m, v, o);
    const p = f32x4.mul(v128.load(param + o), f32x4.splat(decay));
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(v128.load(v + o)), f32x4.splat(biasCorrection2Sqrt)), f32x4.splat(epsF));
    const update = f32x4.div(f32x4.mul(f32x4.splat(negStepSize), v128.load(m + o)), denom);
    v128.store(param + o, f32x4.add(p, update));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    updateMoments1(grad, m, v, o);
    const p = load<f32>(param + o) * decay;
    const denom = Mathf.sqrt(load<f32>(v + o)) / biasCorrection2Sqrt + epsF;
    store<f32>(param + o, p + (negStepSize * load<f32>(m + o)) / denom);
  }
}

/**
 * One step of the AdamW in transformers 2.x (`transformers.AdamW`,
 * correct_bias=True), which DynaBERT's official run_glue.py uses. It differs
 * from torch's in two places: eps is added to √v before the bias correction
 * (folded into the step size), and weight decay comes after the update, from the
 * updated param:
 *
 *   m, v as in adamw_step;  denom ← √v + f32(eps)
 *   param ← param + (f32(−lr·√(1−β2^t)/(1−β1^t)) · m) / denom
 *   if wd > 0: param ← fma(f32(−lr·wd), param, param)
 *
 * Same buffers, shapes and `step` convention as adamw_step.
 */
export function adamw_step_hf(
  param: usize, grad: usize, m: usize, v: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, weightDecay: f64, step: i32,
): void {
  prepareScalars(beta1, beta2, eps, step);
  // Python evaluates `step_size * math.sqrt(bc2) / bc1` left to right.
  const negStepSize = <f32>-((lr * Math.sqrt(biasCorrection2)) / biasCorrection1);
  const decays = weightDecay > 0.0;
  const negDecay = <f32>(-lr * weightDecay);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    updateMoments4(grad, m, v, o);
    const denom = f32x4.add(f32x4.sqrt(v128.load(v + o)), f32x4.splat(epsF));
    let p = f32x4.add(v128.load(param + o), f32x4.div(f32x4.mul(f32x4.splat(negStepSize), v128.load(m + o)), denom));
    if (decays) p = fma4(f32x4.splat(negDecay), p, p);
    v128.store(param + o, p);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    updateMoments1(grad, m, v, o);
    const denom = Mathf.sqrt(load<f32>(v + o)) + epsF;
    let p = load<f32>(param + o) + (negStepSize * load<f32>(m + o)) / denom;
    if (decays) p = fma1(negDecay, p, p);
    store<f32>(param + o, p);
  }
}

/**
 * Σ grad[i]² over f32 [n], accumulated in f64 (for global-norm clipping: the
 * caller adds the sums of all tensors and takes one square root). Squares are
 * exact in f64, so the only error is f64 summation rounding (relative ≲ n·2^-53,
 * far below f32 resolution). NaN/inf propagate.
 */
export function grad_sum_squares(grad: usize, n: i32): f64 {
  let acc0 = f64x2.splat(0.0);
  let acc1 = f64x2.splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const g = v128.load(grad + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(g);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<i64>(g, g, 1, 1));
    acc0 = f64x2.add(acc0, f64x2.mul(lo, lo));
    acc1 = f64x2.add(acc1, f64x2.mul(hi, hi));
  }
  const acc = f64x2.add(acc0, acc1);
  let sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) {
    const g = <f64>load<f32>(grad + (<usize>i << 2));
    sum += g * g;
  }
  return sum;
}

/**
 * x[i] ← x[i] · s over f32 [n] (gradient clipping: torch multiplies every
 * gradient by the f32 clip coefficient; s = 1 is exact).
 */
export function scale_inplace(x: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.mul(v128.load(x + o), sv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, load<f32>(x + o) * s);
  }
}

/** x[i] ← +0 over f32 [n] (gradient accumulators between optimiser steps). */
export function zero_fill(x: usize, n: i32): void {
  if (n > 0) memory.fill(x, 0, <usize>n << 2);
}
