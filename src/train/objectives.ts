/**
 * The training objectives of DESIGN.md §2, as loss terms written into a
 * TrainingGraph's gradient buffers (each kernel adds its scaled gradient):
 * - task:    cross-entropy of the logits against labels (fine-tuning, final phase);
 * - distill: λ_logit·soft-CE(student, teacher) + λ_emb·MSE(embeddings)
 *            + λ_hidden·Σ_j MSE(student state j, teacher state index[j]).
 */
import type { Core, Tensor } from "../../bindings/index.js";
import { InputError } from "../errors.js";
import type { TrainingGraph } from "./graph.js";

export interface Lambdas {
  readonly logit: number;
  readonly emb: number;
  readonly hidden: number;
}

/** The paper's weights: DynaBERT_W (width) 1, 0.1, 1; DynaBERT (depth) 1, 1, 1. */
export const DEFAULT_LAMBDAS: Readonly<Record<"width" | "depth", Lambdas>> = {
  width: { logit: 1, emb: 0.1, hidden: 1 },
  depth: { logit: 1, emb: 1, hidden: 1 },
};

/** What the teacher produced for the same batch (full depth). */
export interface TeacherOutputs {
  /** `[B][K]`. */
  readonly logits: Float32Array;
  /** `[1 + L][B][S][D]`: embeddings, then every layer's output. */
  readonly hiddenStates: Float32Array;
  readonly layers: number;
}

export function taskLoss(core: Core, graph: TrainingGraph, labels: Int32Array): number {
  const { exports: wasm, arena } = core;
  if (!graph.logits || !graph.logitGrads) throw new Error("task loss needs a classifier head");
  const B = graph.batch.batch;
  const K = graph.logits.shape[1];
  const mark = arena.mark();
  try {
    const labelTensor = arena.alloc("labels", "i32", [B]);
    arena.i32(labelTensor).set(labels);
    return wasm.cross_entropy_forward_backward(graph.logitGrads.ptr, graph.logits.ptr, labelTensor.ptr, B, K, 1);
  } finally {
    arena.release(mark);
  }
}

/**
 * Teacher state matched with student state j: `[...kept, L][j]` indexes the
 * teacher's `[emb, layer 0, …, layer L−1]` list, so embeddings meet
 * embeddings (kept[0] = 0) and the last student output meets the teacher's last.
 */
export function teacherStateIndex(keptLayers: readonly number[], teacherLayers: number, j: number): number {
  return j === 0 ? 0 : [...keptLayers, teacherLayers][j];
}

export function distillationLoss(core: Core, graph: TrainingGraph, teacher: TeacherOutputs, lambdas: Lambdas): number {
  const { exports: wasm, arena } = core;
  if (!graph.logits || !graph.logitGrads) throw new Error("distillation needs a classifier head on the student");
  const B = graph.batch.batch;
  const K = graph.logits.shape[1];
  const stateSize = graph.states[0].length;
  const mark = arena.mark();
  try {
    const upload = (name: string, values: Float32Array, shape: number[]): Tensor => {
      const t = arena.alloc(name, "f32", shape);
      arena.f32(t).set(values);
      return t;
    };
    let loss = 0;
    if (lambdas.logit !== 0) {
      const t = upload("teacher_logits", teacher.logits, [B, K]);
      loss += lambdas.logit * wasm.soft_cross_entropy_forward_backward(graph.logitGrads.ptr, graph.logits.ptr, t.ptr, B, K, lambdas.logit);
    }
    const teacherState = arena.alloc("teacher_state", "f32", [stateSize]); // reused by every hidden term
    graph.states.forEach((state, j) => {
      const lambda = j === 0 ? lambdas.emb : lambdas.hidden;
      if (lambda === 0) return;
      const index = teacherStateIndex(graph.sub.keptLayers, teacher.layers, j);
      arena.f32(teacherState).set(teacher.hiddenStates.subarray(index * stateSize, (index + 1) * stateSize));
      loss += lambda * wasm.mse_forward_backward(graph.stateGrads[j].ptr, state.ptr, teacherState.ptr, stateSize, lambda);
    });
    return loss;
  } finally {
    arena.release(mark);
  }
}

/** Labels as i32, each an integer class id in [0, classes). */
export function checkLabels(labels: ArrayLike<number> | undefined, batch: number, classes: number): Int32Array {
  if (!labels || typeof labels.length !== "number") throw new InputError("LABELS_MISSING", "a labelled batch needs \"labels\": one class id per row");
  if (labels.length !== batch) throw new InputError("RAGGED_BATCH", `labels has ${labels.length} entries, the batch has ${batch} rows`);
  const out = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new InputError("LABEL_OUT_OF_RANGE", `label ${v} at row ${i} is out of range: the model has ${classes} labels (0…${classes - 1})`);
    }
    out[i] = v;
  }
  return out;
}
