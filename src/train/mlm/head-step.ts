/**
 * The MLM loss of one training graph and its backward down to the encoder's
 * last hidden state: only the masked positions are run through the head.
 * Their rows of the last state are gathered into `[R][D]`, transformed
 * (dense → GELU → LayerNorm), decoded against the tied word embeddings, and
 * the gradient is scattered back into `graph.stateGrads[depth]`, ready for
 * `backward` (src/train/graph.ts).
 */
import type { Core, Tensor } from "../../../bindings/index.js";
import type { BertConfig } from "../../checkpoint/config.js";
import type { TrainingGraph } from "../graph.js";
import type { MlmHead, MlmHeadGrads } from "./head.js";
import { IGNORE_LABEL } from "./masking.js";
import { tiedDecoderForwardBackward } from "./tied-decoder.js";

export interface MlmStepTargets {
  /** Word embeddings `[V][D]` (the tied decoder weight) and their gradient, which the decoder adds into. */
  readonly wordEmbeddings: Tensor;
  readonly wordEmbeddingsGrad: Tensor;
}

export interface MlmStepResult {
  /** Mean cross-entropy over the masked positions (0 when none). */
  readonly loss: number;
  /** Masked positions (R). */
  readonly masked: number;
}

/**
 * Adds the gradients of `scale ·` the MLM loss of `graph` (labels `[B·S]`,
 * IGNORE_LABEL where nothing is predicted) into `headGrads`, the word
 * embeddings' gradient and `graph.stateGrads[depth]`. Allocates arena scratch
 * and releases it before returning.
 */
export function mlmHeadStep(
  core: Core,
  config: BertConfig,
  head: MlmHead,
  headGrads: MlmHeadGrads,
  targets: MlmStepTargets,
  graph: TrainingGraph,
  labels: Int32Array,
  scale = 1,
): MlmStepResult {
  const { exports: wasm, arena } = core;
  const D = config.hiddenSize;
  const depth = graph.states.length - 1;
  const M = graph.batch.batch * graph.batch.seq;
  if (labels.length !== M) throw new RangeError(`mlmHeadStep: ${labels.length} labels for ${M} positions`);
  const positions: number[] = [];
  for (let i = 0; i < M; i++) if (labels[i] !== IGNORE_LABEL) positions.push(i);
  const R = positions.length;
  if (R === 0) return { loss: 0, masked: 0 };

  const mark = arena.mark();
  try {
    const f32 = (name: string, ...shape: number[]) => arena.alloc(name, "f32", shape);
    const x = f32("mlm_x", R, D); // gathered last-state rows, the transform's input
    const pre = f32("mlm_dense", R, D); // dense output = GELU input
    const act = f32("mlm_gelu", R, D); // GELU output = LayerNorm input
    const mean = f32("mlm_ln_mean", R);
    const rstd = f32("mlm_ln_rstd", R);
    const h = f32("mlm_h", R, D); // LayerNorm output = decoder input
    const dh = f32("mlm_dh", R, D);
    const dAct = f32("mlm_d_gelu", R, D);
    const dx = f32("mlm_dx", R, D);

    const last = graph.states[depth];
    const xs = arena.f32(x);
    const state = arena.f32(last);
    positions.forEach((p, r) => xs.set(state.subarray(p * D, (p + 1) * D), r * D));

    const t = head.transform;
    wasm.linear_forward(pre.ptr, x.ptr, t.weight.ptr, t.bias.ptr, R, D, D, D, D, D);
    wasm.gelu_forward(act.ptr, pre.ptr, R * D);
    wasm.layernorm_forward(h.ptr, act.ptr, head.transformNorm.gamma.ptr, head.transformNorm.beta.ptr, mean.ptr, rstd.ptr, R, D, config.layerNormEps);

    const rowLabels = Int32Array.from(positions, (p) => labels[p]);
    const loss = tiedDecoderForwardBackward(core, {
      embeddings: targets.wordEmbeddings,
      embeddingsGrad: targets.wordEmbeddingsGrad,
      bias: head.bias,
      biasGrad: headGrads.bias,
      hidden: h,
      hiddenGrad: dh,
      labels: rowLabels,
      rows: R,
      vocab: config.vocabSize,
      dim: D,
      scale,
    });

    wasm.layernorm_backward(dAct.ptr, headGrads.transformNorm.gamma.ptr, headGrads.transformNorm.beta.ptr, dh.ptr, act.ptr, head.transformNorm.gamma.ptr, mean.ptr, rstd.ptr, R, D);
    wasm.gelu_backward(dAct.ptr, pre.ptr, dAct.ptr, R * D);
    wasm.linear_backward_input(dx.ptr, dAct.ptr, t.weight.ptr, R, D, D, D, D, D, 0);
    wasm.linear_backward_weight(headGrads.transform.weight.ptr, headGrads.transform.bias.ptr, dAct.ptr, x.ptr, R, D, D, D, D, D);

    // Scatter-add: other losses may already have put gradient into the last state.
    const grad = arena.f32(graph.stateGrads[depth]);
    const dxs = arena.f32(dx);
    positions.forEach((p, r) => {
      for (let j = 0; j < D; j++) grad[p * D + j] += dxs[r * D + j];
    });
    return { loss, masked: R };
  } finally {
    arena.release(mark);
  }
}
