/**
 * One sub-network's forward pass that keeps what backward needs, and the
 * backward pass over it (llm.c style: each op's `_forward` saved its inputs,
 * each `_backward` reads them). Gradients reach only the kept heads, neurons
 * and layers; skipped layers get none.
 *
 * Lifetime: everything here is arena scratch allocated after the caller's
 * `mark()`; the caller releases it after `backward`.
 */
import type { Core, Tensor } from "../../bindings/index.js";
import type { BertConfig } from "../checkpoint/config.js";
import type { CheckedBatch } from "../model/inputs.js";
import type { SubNetwork } from "../model/subnetwork.js";
import type { Linear, ModelWeights, Norm } from "../model/weights.js";
import type { LinearGrad, ModelGrads, NormGrad } from "./params.js";

/** What one kept layer saved in the forward pass. All `[M][·]` with M = batch·seq. */
interface LayerActivations {
  readonly layer: number;
  readonly query: Tensor; // [M][A]
  readonly key: Tensor; // [M][A]
  readonly value: Tensor; // [M][A]
  readonly probs: Tensor; // [B][heads][S][S], the softmax (before dropout and the head mask)
  readonly context: Tensor; // [M][A]
  readonly attentionSum: Tensor; // [M][D] dense + residual, LayerNorm input
  readonly attentionMean: Tensor; // [M]
  readonly attentionRstd: Tensor; // [M]
  readonly attentionOut: Tensor; // [M][D] LayerNorm output = FFN input
  readonly geluInput: Tensor; // [M][I]
  readonly geluOutput: Tensor; // [M][I]
  readonly outputSum: Tensor; // [M][D]
  readonly outputMean: Tensor; // [M]
  readonly outputRstd: Tensor; // [M]
}

export interface TrainingGraph {
  readonly batch: CheckedBatch;
  readonly sub: SubNetwork;
  /** `[1 + depth]` of `[M][D]`: the embeddings' output, then each kept layer's. */
  readonly states: readonly Tensor[];
  /** `[1 + depth]` of `[M][D]`: d loss / d state; losses add into these before `backward`. */
  readonly stateGrads: readonly Tensor[];
  /** `[B][K]`, absent without a classifier. */
  readonly logits?: Tensor;
  /** `[B][K]`: d loss / d logits, filled by the losses. */
  readonly logitGrads?: Tensor;
  /** Per kept layer: `[heads]` d loss / d head mask (accumulated by backward). */
  readonly headMaskGrads: readonly Tensor[];
  /**
   * Per kept layer, only with `GraphOptions.probGrads`: `[B][heads][S][S]` d loss / d probs
   * (zeroed; attention-map losses add into it before `backward`, which adds it before the softmax backward).
   */
  readonly probGrads?: readonly Tensor[];
  readonly layers: readonly LayerActivations[];
  readonly ids: Tensor; // [B][S] i32
  readonly types: Tensor; // [B][S] i32
  readonly maskAdd: Tensor; // [B][S]
  readonly embeddingSum: Tensor; // [M][D]
  readonly embeddingMean: Tensor; // [M]
  readonly embeddingRstd: Tensor; // [M]
  readonly pooled?: Tensor; // [B][D] after tanh
  /** `[heads]` of ones: the mask the head-mask gradient is taken at. */
  readonly headMask: Tensor;
  /** `[B][D]`: the pooled output after dropout, the classifier's input (= pooled without dropout). */
  readonly pooledDropped?: Tensor;
  /** Hidden dropout of this forward, replayed by backward from (seed, offsets). */
  readonly dropout?: DropoutSites;
}

/**
 * Hidden-state dropout (embeddings, attention and FFN outputs, pooled output) and
 * attention-probability dropout, as HF BERT applies them in training.
 */
export interface DropoutOptions {
  /** Hidden drop probability (config hidden_dropout_prob in training); 0 turns it off. */
  readonly p: number;
  /** Attention-probability drop probability (config attention_probs_dropout_prob); default `p`. */
  readonly attentionP?: number;
  /** Seed of this forward's masks (the trainer derives one per step and sub-network). */
  readonly seed: number;
}

/** What forwardTrain keeps beyond what backward always needs. */
export interface GraphOptions {
  /** Allocate `probGrads` (for attention-map distillation). */
  readonly probGrads?: boolean;
}

interface DropoutSites {
  readonly p: number;
  readonly attentionP: number;
  readonly seed: number;
  /** Counter offset of each site's mask: `embeddings`, then per kept layer `probs`/`attention`/`output`, then `pooled`. */
  readonly offsets: Map<string, number>;
}

export function forwardTrain(
  core: Core,
  config: BertConfig,
  weights: ModelWeights,
  input: CheckedBatch,
  sub: SubNetwork,
  dropoutOptions?: DropoutOptions,
  graphOptions: GraphOptions = {},
): TrainingGraph {
  const { exports: wasm, arena } = core;
  const { batch: B, seq: S } = input;
  const M = B * S;
  const D = config.hiddenSize;
  const A = sub.attentionWidth;
  const I = sub.intermediate;
  const H = sub.heads;
  const eps = config.layerNormEps;
  const f32 = (name: string, ...shape: number[]) => arena.alloc(name, "f32", shape);

  const ids = arena.alloc("input_ids", "i32", [B, S]);
  const types = arena.alloc("token_type_ids", "i32", [B, S]);
  const mask = arena.alloc("attention_mask", "i32", [B, S]);
  const maskAdd = f32("mask_additive", B, S);
  arena.i32(ids).set(input.inputIds);
  arena.i32(types).set(input.tokenTypeIds);
  arena.i32(mask).set(input.attentionMask);
  wasm.attention_mask_additive(maskAdd.ptr, mask.ptr, M);
  const headMask = f32("head_mask", H);
  arena.f32(headMask).fill(1);

  const linear = (out: Tensor, inp: Tensor, layer: Linear, n: number, k: number) =>
    wasm.linear_forward(out.ptr, inp.ptr, layer.weight.ptr, layer.bias.ptr, M, n, k, layer.inFeatures, k, n);
  const norm = (out: Tensor, inp: Tensor, n: Norm, mean: Tensor, rstd: Tensor) =>
    wasm.layernorm_forward(out.ptr, inp.ptr, n.gamma.ptr, n.beta.ptr, mean.ptr, rstd.ptr, M, D, eps);
  const dropout: DropoutSites | undefined =
    dropoutOptions && (dropoutOptions.p > 0 || (dropoutOptions.attentionP ?? 0) > 0)
      ? { p: dropoutOptions.p, attentionP: dropoutOptions.attentionP ?? dropoutOptions.p, seed: dropoutOptions.seed >>> 0, offsets: new Map() }
      : undefined;
  let nextOffset = 0;
  /** Gives `site` the next `n` counters and returns its offset (0 without dropout). */
  const reserve = (site: string, n: number) => {
    if (!dropout) return 0;
    const offset = nextOffset;
    dropout.offsets.set(site, offset);
    nextOffset = (nextOffset + n) >>> 0;
    return offset;
  };
  /** In-place dropout of `t` (no-op without dropout); each site draws from its own counter range. */
  const drop = (site: string, t: Tensor, n: number) => {
    if (!dropout) return;
    wasm.dropout_forward(t.ptr, t.ptr, 0, n, dropout.p, dropout.seed, reserve(site, n));
  };

  const states: Tensor[] = [];
  const embeddingSum = f32("embedding_sum", M, D);
  const embeddingMean = f32("embedding_mean", M);
  const embeddingRstd = f32("embedding_rstd", M);
  const state0 = f32("state_0", M, D);
  wasm.embedding_forward(embeddingSum.ptr, ids.ptr, types.ptr, weights.wordEmbeddings.ptr, weights.positionEmbeddings.ptr, weights.tokenTypeEmbeddings.ptr, B, S, D);
  norm(state0, embeddingSum, weights.embeddingNorm, embeddingMean, embeddingRstd);
  drop("embeddings", state0, M * D);
  states.push(state0);

  const layers: LayerActivations[] = [];
  sub.keptLayers.forEach((l, j) => {
    const w = weights.layers[l];
    const x = states[j];
    const act: LayerActivations = {
      layer: l,
      query: f32(`l${l}.query`, M, A),
      key: f32(`l${l}.key`, M, A),
      value: f32(`l${l}.value`, M, A),
      probs: f32(`l${l}.probs`, B, H, S, S),
      context: f32(`l${l}.context`, M, A),
      attentionSum: f32(`l${l}.attention_sum`, M, D),
      attentionMean: f32(`l${l}.attention_mean`, M),
      attentionRstd: f32(`l${l}.attention_rstd`, M),
      attentionOut: f32(`l${l}.attention_out`, M, D),
      geluInput: f32(`l${l}.gelu_input`, M, I),
      geluOutput: f32(`l${l}.gelu_output`, M, I),
      outputSum: f32(`l${l}.output_sum`, M, D),
      outputMean: f32(`l${l}.output_mean`, M),
      outputRstd: f32(`l${l}.output_rstd`, M),
    };
    const out = f32(`state_${j + 1}`, M, D);
    linear(act.query, x, w.query, A, D);
    linear(act.key, x, w.key, A, D);
    linear(act.value, x, w.value, A, D);
    // Attention-probability dropout happens inside the kernel (probs keep the softmax).
    const probsOffset = reserve(`probs.${j}`, B * H * S * S);
    wasm.attention_forward(
      act.context.ptr, act.probs.ptr, act.query.ptr, act.key.ptr, act.value.ptr, maskAdd.ptr, headMask.ptr,
      B, S, H, config.attentionHeadSize, A, A, dropout?.attentionP ?? 0, dropout?.seed ?? 0, probsOffset,
    );
    linear(act.attentionSum, act.context, w.attentionOutput, D, A);
    drop(`attention.${j}`, act.attentionSum, M * D);
    wasm.add_forward(act.attentionSum.ptr, act.attentionSum.ptr, x.ptr, M * D);
    norm(act.attentionOut, act.attentionSum, w.attentionNorm, act.attentionMean, act.attentionRstd);
    linear(act.geluInput, act.attentionOut, w.intermediate, I, D);
    wasm.gelu_forward(act.geluOutput.ptr, act.geluInput.ptr, M * I);
    linear(act.outputSum, act.geluOutput, w.output, D, I);
    drop(`output.${j}`, act.outputSum, M * D);
    wasm.add_forward(act.outputSum.ptr, act.outputSum.ptr, act.attentionOut.ptr, M * D);
    norm(out, act.outputSum, w.outputNorm, act.outputMean, act.outputRstd);
    layers.push(act);
    states.push(out);
  });

  let pooled: Tensor | undefined;
  let pooledDropped: Tensor | undefined;
  let logits: Tensor | undefined;
  if (weights.pooler) {
    const last = states[states.length - 1];
    pooled = f32("pooled", B, D);
    // [CLS] rows: a row stride of S·D picks position 0 of every sequence.
    wasm.linear_forward(pooled.ptr, last.ptr, weights.pooler.weight.ptr, weights.pooler.bias.ptr, B, D, D, D, S * D, D);
    wasm.tanh_forward(pooled.ptr, pooled.ptr, B * D);
    if (weights.classifier) {
      const K = config.numLabels;
      pooledDropped = pooled;
      if (dropout) {
        pooledDropped = f32("pooled_dropped", B, D);
        arena.f32(pooledDropped).set(arena.f32(pooled));
        drop("pooled", pooledDropped, B * D);
      }
      logits = f32("logits", B, K);
      wasm.linear_forward(logits.ptr, pooledDropped.ptr, weights.classifier.weight.ptr, weights.classifier.bias.ptr, B, K, D, D, D, K);
    }
  }
  const stateGrads = states.map((_, j) => f32(`d_state_${j}`, M, D));
  for (const g of stateGrads) arena.f32(g).fill(0);
  const logitGrads = logits ? f32("d_logits", B, config.numLabels) : undefined;
  if (logitGrads) arena.f32(logitGrads).fill(0);
  const headMaskGrads = layers.map((a) => f32(`l${a.layer}.d_head_mask`, H));
  for (const g of headMaskGrads) arena.f32(g).fill(0);
  const probGrads = graphOptions.probGrads ? layers.map((a) => f32(`l${a.layer}.d_probs`, B, H, S, S)) : undefined;
  for (const g of probGrads ?? []) arena.f32(g).fill(0);

  return {
    batch: input,
    sub,
    states,
    stateGrads,
    logits,
    logitGrads,
    headMaskGrads,
    probGrads,
    layers,
    ids,
    types,
    maskAdd,
    embeddingSum,
    embeddingMean,
    embeddingRstd,
    pooled,
    headMask,
    pooledDropped,
    dropout,
  };
}

/**
 * Backpropagates `graph.logitGrads` and `graph.stateGrads` (set by the losses)
 * into `grads`, accumulating (+=) so several sub-networks can share one step.
 * Consumes `stateGrads` (they are overwritten on the way down).
 */
export function backward(core: Core, config: BertConfig, weights: ModelWeights, grads: ModelGrads, graph: TrainingGraph): void {
  const { exports: wasm, arena } = core;
  const { batch: B, seq: S } = graph.batch;
  const M = B * S;
  const D = config.hiddenSize;
  const A = graph.sub.attentionWidth;
  const I = graph.sub.intermediate;
  const H = graph.sub.heads;
  const f32 = (name: string, ...shape: number[]) => arena.alloc(name, "f32", shape);
  const depth = graph.layers.length;

  /** dOut [rows][n] through `layer` (first n outputs, first k inputs): dInp (+)= dOut·W, dW += dOutᵀ·inp, db += Σ dOut. */
  const linearBack = (
    dInp: Tensor | undefined,
    accumulate: boolean,
    dOut: Tensor,
    inp: Tensor,
    layer: Linear,
    g: LinearGrad,
    rows: number,
    n: number,
    k: number,
    ldInp = k,
  ) => {
    if (dInp) wasm.linear_backward_input(dInp.ptr, dOut.ptr, layer.weight.ptr, rows, n, k, layer.inFeatures, ldInp, n, accumulate ? 1 : 0);
    wasm.linear_backward_weight(g.weight.ptr, g.bias.ptr, dOut.ptr, inp.ptr, rows, n, k, layer.inFeatures, ldInp, n);
  };
  const normBack = (dInp: Tensor, dOut: Tensor, inp: Tensor, n: Norm, g: NormGrad, mean: Tensor, rstd: Tensor) =>
    wasm.layernorm_backward(dInp.ptr, g.gamma.ptr, g.beta.ptr, dOut.ptr, inp.ptr, n.gamma.ptr, mean.ptr, rstd.ptr, M, D);

  const dropout = graph.dropout;
  /** Replays a forward dropout site on a gradient, in place. */
  const undrop = (site: string, t: Tensor, n: number) => {
    if (dropout) wasm.dropout_backward(t.ptr, t.ptr, 0, n, dropout.p, dropout.seed, dropout.offsets.get(site)!);
  };
  const last = graph.states[depth];
  if (graph.logits && graph.logitGrads && graph.pooled && graph.pooledDropped && weights.classifier && weights.pooler && grads.classifier && grads.pooler) {
    const K = config.numLabels;
    const dPooled = f32("d_pooled", B, D);
    linearBack(dPooled, false, graph.logitGrads, graph.pooledDropped, weights.classifier, grads.classifier, B, K, D);
    undrop("pooled", dPooled, B * D);
    wasm.tanh_backward(dPooled.ptr, graph.pooled.ptr, dPooled.ptr, B * D);
    // Into the [CLS] rows of the last state: row stride S·D on both sides.
    wasm.linear_backward_input(graph.stateGrads[depth].ptr, dPooled.ptr, weights.pooler.weight.ptr, B, D, D, D, S * D, D, 1);
    wasm.linear_backward_weight(grads.pooler.weight.ptr, grads.pooler.bias.ptr, dPooled.ptr, last.ptr, B, D, D, D, S * D, D);
  }

  const dSum = f32("d_sum", M, D); // gradient at a LayerNorm input
  const dX1 = f32("d_attention_out", M, D);
  const dInter = f32("d_intermediate", M, I);
  const dCtx = f32("d_context", M, A);
  const dq = f32("d_query", M, A);
  const dk = f32("d_key", M, A);
  const dv = f32("d_value", M, A);
  const attentionScratch = f32("attention_scratch", wasm.attention_backward_scratch_floats(S));
  for (let j = depth - 1; j >= 0; j--) {
    const act = graph.layers[j];
    const w = weights.layers[act.layer];
    const g = grads.layers[act.layer];
    const x = graph.states[j];
    const dx = graph.stateGrads[j]; // holds the loss's own gradient at state j; the layer's adds to it
    // Output LayerNorm, FFN output dense (residual: dX1 starts as dSum).
    normBack(dSum, graph.stateGrads[j + 1], act.outputSum, w.outputNorm, g.outputNorm, act.outputMean, act.outputRstd);
    arena.f32(dX1).set(arena.f32(dSum));
    undrop(`output.${j}`, dSum, M * D);
    linearBack(dInter, false, dSum, act.geluOutput, w.output, g.output, M, D, I);
    wasm.gelu_backward(dInter.ptr, act.geluInput.ptr, dInter.ptr, M * I);
    linearBack(dX1, true, dInter, act.attentionOut, w.intermediate, g.intermediate, M, I, D);
    // Attention LayerNorm, output dense (residual into dx), attention, Q/K/V.
    normBack(dSum, dX1, act.attentionSum, w.attentionNorm, g.attentionNorm, act.attentionMean, act.attentionRstd);
    wasm.add_forward(dx.ptr, dx.ptr, dSum.ptr, M * D);
    undrop(`attention.${j}`, dSum, M * D);
    linearBack(dCtx, false, dSum, act.context, w.attentionOutput, g.attentionOutput, M, D, A);
    wasm.attention_backward(
      dq.ptr, dk.ptr, dv.ptr, graph.headMaskGrads[j].ptr, dCtx.ptr, act.probs.ptr,
      act.query.ptr, act.key.ptr, act.value.ptr, graph.headMask.ptr,
      B, S, H, config.attentionHeadSize, A, A,
      attentionScratch.ptr, dropout?.attentionP ?? 0, dropout?.seed ?? 0, dropout?.offsets.get(`probs.${j}`) ?? 0,
      graph.probGrads?.[j].ptr ?? 0,
    );
    linearBack(dx, true, dq, x, w.query, g.query, M, A, D);
    linearBack(dx, true, dk, x, w.key, g.key, M, A, D);
    linearBack(dx, true, dv, x, w.value, g.value, M, A, D);
  }
  undrop("embeddings", graph.stateGrads[0], M * D);
  normBack(dSum, graph.stateGrads[0], graph.embeddingSum, weights.embeddingNorm, grads.embeddingNorm, graph.embeddingMean, graph.embeddingRstd);
  wasm.embedding_backward(
    grads.wordEmbeddings.ptr, grads.positionEmbeddings.ptr, grads.tokenTypeEmbeddings.ptr,
    dSum.ptr, graph.ids.ptr, graph.types.ptr, B, S, D, config.padTokenId ?? -1,
  );
}
