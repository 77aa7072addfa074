/**
 * The distillation loss of a fixed student against its teacher, as terms that
 * add their weighted gradients into a TrainingGraph (the loss kernels
 * accumulate, so terms can share a buffer):
 *
 *   ce     · CE(student logits, labels)                          (task loss)
 *   soft   · T²·softCE(s/T, t/T)                                 (DistilBERT's temperature; classifier logits here,
 *                                                                  MLM logits in vocab-soft.ts)
 *   emb    · MSE(P(s_0), t_0)                                    (embeddings)
 *   hidden · Σ_{j=1..L_s} MSE(P(s_j), t_{g(j)})                  (TinyBERT; g = teacherStateFor)
 *   attn   · Σ_{i<L_s} MSE(A^s_i, A^t_{g(i+1)−1})                (attention maps, head by head)
 *   cos    · (1/c) Σ_{non-pad rows} (1 − cos(P(s_L)_r, t_L_r))   (DistilBERT, last hidden states)
 *
 * P is the learned projection W_p (projection.ts) when the hidden sizes
 * differ, the identity otherwise. MSEs are F.mse_loss means over every element,
 * padded positions included (as TinyBERT); the cosine loss counts only the
 * non-padding positions (as DistilBERT). The masked-LM loss (mlm weight) is
 * the MLM head's (src/train/mlm/head-step.ts).
 *
 * Attention maps: the engine keeps the probabilities (softmax, before dropout
 * and the head mask), the "attention matrices" of TinyBERT's paper. TinyBERT's
 * code compares the masked pre-softmax scores instead (values ≤ −100 zeroed);
 * that needs the scores, which the engine does not keep.
 */
import type { Core, Tensor } from "../../../bindings/index.js";
import { OptionError } from "../../errors.js";
import type { TrainingGraph } from "../graph.js";
import type { LinearGrad } from "../params.js";
import { teacherLayerFor, teacherStateFor } from "./mapping.js";
import { projectBackward, projectForward, type Projection } from "./projection.js";

export interface DistillWeights {
  readonly ce: number;
  readonly soft: number;
  readonly hidden: number;
  readonly emb: number;
  readonly attn: number;
  readonly cos: number;
  readonly mlm: number;
}

export type SoftTarget = "classifier" | "mlm";

export interface DistillLossOptions {
  readonly weights: DistillWeights;
  /** Temperature of the soft loss (default 1). */
  readonly temperature?: number;
  /** What the soft loss compares: classifier logits or MLM logits (default classifier). */
  readonly softTarget?: SoftTarget;
}

/** The teacher's inference outputs for the batch the student sees. */
export interface DistillTeacherOutputs {
  /** `[B][K]`, when the teacher has a classifier. */
  readonly logits?: Float32Array;
  /** `[1 + L_t][M][D_t]`: embeddings, then every layer's output. */
  readonly hiddenStates?: Float32Array;
  /** `[L_t][B][H][S][S]` softmax probabilities. */
  readonly attentions?: Float32Array;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
}

/** Each term's own value (not weighted; soft includes T²), and their weighted sum. */
export interface DistillLosses {
  ce: number;
  soft: number;
  hidden: number;
  emb: number;
  attn: number;
  cos: number;
  mlm: number;
  total: number;
}

export const LOSS_TERMS = ["ce", "soft", "hidden", "emb", "attn", "cos", "mlm"] as const;

export function emptyLosses(): DistillLosses {
  return { ce: 0, soft: 0, hidden: 0, emb: 0, attn: 0, cos: 0, mlm: 0, total: 0 };
}

export interface StudentExtras {
  readonly projection?: Projection;
  readonly projectionGrads?: LinearGrad;
}

/**
 * Adds the gradients of every term above except mlm (and soft on MLM logits)
 * into `graph` (stateGrads, logitGrads, probGrads) and the projection's
 * gradients; returns the terms' values. `labels` `[B]` is needed for ce.
 */
export function distillationTerms(
  core: Core,
  graph: TrainingGraph,
  teacher: DistillTeacherOutputs,
  options: DistillLossOptions,
  extras: StudentExtras,
  labels?: Int32Array,
): DistillLosses {
  const { exports: wasm, arena } = core;
  const w = options.weights;
  const T = options.temperature ?? 1;
  const losses = emptyLosses();
  const B = graph.batch.batch;
  const S = graph.batch.seq;
  const M = B * S;
  const depth = graph.states.length - 1;
  const D = graph.states[0].shape[1];
  const Dt = teacher.hidden;
  const { projection, projectionGrads } = extras;
  if (D !== Dt && !projection && (w.hidden || w.emb || w.cos)) {
    throw new OptionError("BAD_FLAG", `the student's hidden size ${D} differs from the teacher's ${Dt}: matching hidden states needs the projection W_p`);
  }
  const mark = arena.mark();
  try {
    const f32 = (name: string, ...shape: number[]) => arena.alloc(name, "f32", shape);
    const upload = (name: string, values: Float32Array, shape: number[]): Tensor => {
      const t = f32(name, ...shape);
      arena.f32(t).set(values);
      return t;
    };

    if (w.ce) {
      if (!graph.logits || !graph.logitGrads) throw new OptionError("NO_CLASSIFIER", "--alpha-ce needs a student with a classifier");
      if (!labels) throw new OptionError("LABELS_MISSING", "--alpha-ce is the task loss: it needs labelled data (--train FILE.jsonl)", { option: "--alpha-ce" });
      const t = arena.alloc("distill_labels", "i32", [B]);
      arena.i32(t).set(labels);
      losses.ce = wasm.cross_entropy_forward_backward(graph.logitGrads.ptr, graph.logits.ptr, t.ptr, B, graph.logits.shape[1], w.ce);
    }

    if (w.soft && (options.softTarget ?? "classifier") === "classifier") {
      if (!graph.logits || !graph.logitGrads) throw new OptionError("NO_CLASSIFIER", "--alpha-soft on classifier logits needs a student with a classifier (or --soft-target mlm)");
      if (!teacher.logits) throw new OptionError("NO_CLASSIFIER", "--alpha-soft on classifier logits needs a teacher with a classifier (or --soft-target mlm)");
      const K = graph.logits.shape[1];
      if (teacher.logits.length !== B * K) throw new OptionError("BAD_FLAG", `the teacher has ${teacher.logits.length / B} labels, the student ${K}`);
      const s = f32("soft_student", B, K);
      arena.f32(s).set(arena.f32(graph.logits));
      const t = upload("soft_teacher", teacher.logits, [B, K]);
      const ds = f32("soft_d_student", B, K);
      wasm.zero_fill(ds.ptr, B * K);
      if (T !== 1) {
        wasm.scale_inplace(s.ptr, B * K, 1 / T);
        wasm.scale_inplace(t.ptr, B * K, 1 / T);
      }
      losses.soft = T * T * wasm.soft_cross_entropy_forward_backward(ds.ptr, s.ptr, t.ptr, B, K, w.soft * T * T);
      if (T !== 1) wasm.scale_inplace(ds.ptr, B * K, 1 / T); // chain rule through s/T
      wasm.add_forward(graph.logitGrads.ptr, graph.logitGrads.ptr, ds.ptr, B * K);
    }

    if (w.attn) {
      const probGrads = graph.probGrads;
      if (!probGrads) throw new Error("attention distillation needs forwardTrain(…, { probGrads: true })");
      if (!teacher.attentions) throw new Error("attention distillation needs the teacher's attention maps");
      const H = graph.layers[0]?.probs.shape[1] ?? teacher.heads;
      if (H !== teacher.heads) {
        throw new OptionError("BAD_FLAG", `attention maps are matched head by head: the student has ${H} heads, the teacher ${teacher.heads}`, { option: "--alpha-attn" });
      }
      const n = B * H * S * S;
      const target = f32("attn_teacher", n);
      graph.layers.forEach((act, i) => {
        const l = teacherLayerFor(i, depth, teacher.layers);
        arena.f32(target).set(teacher.attentions!.subarray(l * n, (l + 1) * n));
        losses.attn += wasm.mse_forward_backward(probGrads[i].ptr, act.probs.ptr, target.ptr, n, w.attn);
      });
    }

    if (w.hidden || w.emb || w.cos) {
      if (!teacher.hiddenStates) throw new Error("hidden-state distillation needs the teacher's hidden states");
      const size = M * Dt;
      const target = f32("hidden_teacher", M, Dt);
      const projected = projection ? f32("hidden_projected", M, Dt) : undefined;
      const dProjected = projection ? f32("hidden_d_projected", M, Dt) : undefined;
      let rowMask: Tensor | undefined;
      graph.states.forEach((state, j) => {
        const weight = j === 0 ? w.emb : w.hidden;
        const cos = j === depth && w.cos !== 0;
        if (!weight && !cos) return;
        // The student side of state j: P(s_j) with its gradient buffer, or s_j itself.
        let a = state;
        let dA = graph.stateGrads[j];
        if (projection && projected && dProjected) {
          projectForward(core, projection, projected, state, M);
          wasm.zero_fill(dProjected.ptr, size);
          a = projected;
          dA = dProjected;
        }
        if (weight) {
          const index = teacherStateFor(j, depth, teacher.layers);
          arena.f32(target).set(teacher.hiddenStates!.subarray(index * size, (index + 1) * size));
          const value = wasm.mse_forward_backward(dA.ptr, a.ptr, target.ptr, size, weight);
          if (j === 0) losses.emb = value;
          else losses.hidden += value;
        }
        if (cos) {
          // DistilBERT: the last states, student's last against teacher's last, non-padding rows only.
          const last = teacher.layers;
          arena.f32(target).set(teacher.hiddenStates!.subarray(last * size, (last + 1) * size));
          rowMask ??= upload32(core, "cos_rows", graph.batch.attentionMask);
          losses.cos = wasm.cosine_embedding_forward_backward(dA.ptr, a.ptr, target.ptr, rowMask.ptr, M, Dt, w.cos);
        }
        if (projection && projectionGrads && dProjected) projectBackward(core, projection, projectionGrads, graph.stateGrads[j], dProjected, state, M);
      });
    }
  } finally {
    arena.release(mark);
  }
  losses.total = weightedTotal(losses, w);
  return losses;
}

function upload32(core: Core, name: string, values: Int32Array): Tensor {
  const t = core.arena.alloc(name, "i32", [values.length]);
  core.arena.i32(t).set(values);
  return t;
}

export function weightedTotal(l: DistillLosses, w: DistillWeights): number {
  return w.ce * l.ce + w.soft * l.soft + w.hidden * l.hidden + w.emb * l.emb + w.attn * l.attn + w.cos * l.cos + w.mlm * l.mlm;
}
