/**
 * AdamW over every trainable parameter (decoupled weight decay on weights
 * only, none on biases and LayerNorm parameters), global gradient-norm
 * clipping, and the linear warmup-then-decay schedule of BERT fine-tuning.
 * Moments live in the arena beside the parameters, in the same packed layout.
 */
import type { Core, Tensor } from "../../bindings/index.js";
import type { TrainableParameters } from "./params.js";

export interface AdamWOptions {
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  readonly weightDecay?: number;
  /** Clip the global gradient norm to this before each step (≤ 0: no clipping). */
  readonly maxGradNorm?: number;
}

export interface Schedule {
  readonly totalSteps: number;
  /** Steps of linear warmup from 0 to the peak learning rate. */
  readonly warmupSteps: number;
}

/** Linear warmup to 1 over `warmupSteps`, then linear decay to 0 at `totalSteps` (HF's get_linear_schedule_with_warmup). */
export function scheduleFactor(step: number, schedule: Schedule): number {
  if (step < schedule.warmupSteps) return step / Math.max(1, schedule.warmupSteps);
  return Math.max(0, (schedule.totalSteps - step) / Math.max(1, schedule.totalSteps - schedule.warmupSteps));
}

export interface OptimizerState {
  /** Updates taken so far. */
  step: number;
}

export class AdamW {
  readonly state: OptimizerState = { step: 0 };
  private readonly moments: ReadonlyArray<{ m: Tensor; v: Tensor }>;

  constructor(
    private readonly core: Core,
    private readonly params: TrainableParameters,
    readonly options: AdamWOptions,
    readonly schedule: Schedule,
  ) {
    this.moments = params.list.map((p) => {
      const m = core.arena.alloc(`adam_m:${p.name}`, "f32", p.value.shape, p.value.length);
      const v = core.arena.alloc(`adam_v:${p.name}`, "f32", p.value.shape, p.value.length);
      core.exports.zero_fill(m.ptr, m.length);
      core.exports.zero_fill(v.ptr, v.length);
      return { m, v };
    });
  }

  /** The learning rate the next step will use. */
  get learningRate(): number {
    return this.options.learningRate * scheduleFactor(this.state.step, this.schedule);
  }

  /**
   * Clips the accumulated gradients to `maxGradNorm` (torch's
   * clip_grad_norm_), takes one AdamW step, zeroes the gradients.
   * Returns the norm before clipping.
   */
  step(): number {
    const { exports: wasm } = this.core;
    const norm = this.params.gradNorm();
    const maxNorm = this.options.maxGradNorm ?? 1;
    if (maxNorm > 0) {
      const coef = maxNorm / (norm + 1e-6);
      if (coef < 1) for (const p of this.params.list) wasm.scale_inplace(p.grad.ptr, p.grad.length, coef);
    }
    const lr = this.learningRate;
    this.state.step += 1;
    const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01 } = this.options;
    this.params.list.forEach((p, i) => {
      const { m, v } = this.moments[i];
      wasm.adamw_step(p.value.ptr, p.grad.ptr, m.ptr, v.ptr, p.value.length, lr, beta1, beta2, eps, p.decay ? weightDecay : 0, this.state.step);
    });
    this.params.zeroGrads();
    return norm;
  }

  /** The moments of parameter `i` (for saving and resuming). */
  momentsOf(i: number): { m: Tensor; v: Tensor } {
    return this.moments[i];
  }
}
