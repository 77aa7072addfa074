/**
 * The inference forward pass of a (width, depth) sub-network, orchestrated
 * over the wasm kernels. Activations live in arena scratch for the length of
 * one call; inference keeps only the buffers the next op needs.
 */
import type { Core, Tensor } from "../../bindings/index.js";
import type { BertConfig } from "../checkpoint/config.js";
import type { CheckedBatch } from "./inputs.js";
import type { OutputTensor } from "./output.js";
import type { SubNetwork } from "./subnetwork.js";
import type { Linear, ModelWeights, Norm } from "./weights.js";

export interface ForwardOptions {
  /** Return the embeddings' output and every kept layer's output. */
  readonly hiddenStates?: boolean;
  /** Return every kept layer's attention probabilities. */
  readonly attentions?: boolean;
}

export interface ForwardResult {
  readonly subNetwork: SubNetwork;
  /** `[batch][numLabels]`; absent for a checkpoint without a classifier. */
  readonly logits?: OutputTensor;
  /** `[batch][hidden]` tanh-pooled [CLS] state; absent without a pooler. */
  readonly pooled?: OutputTensor;
  /** `[1 + depth][batch][seq][hidden]`. */
  readonly hiddenStates?: OutputTensor;
  /** `[depth][batch][heads][seq][seq]`. */
  readonly attentions?: OutputTensor;
}

export function forward(
  core: Core,
  config: BertConfig,
  weights: ModelWeights,
  input: CheckedBatch,
  sub: SubNetwork,
  options: ForwardOptions = {},
): ForwardResult {
  const { exports: wasm, arena } = core;
  const { batch: B, seq: S } = input;
  const M = B * S;
  const D = config.hiddenSize;
  const dHead = config.attentionHeadSize;
  const A = sub.attentionWidth;
  const I = sub.intermediate;
  const depth = sub.keptLayers.length;
  const eps = config.layerNormEps;

  const mark = arena.mark();
  try {
    const ids = arena.alloc("input_ids", "i32", [B, S]);
    const types = arena.alloc("token_type_ids", "i32", [B, S]);
    const mask = arena.alloc("attention_mask", "i32", [B, S]);
    const maskAdd = arena.alloc("mask_additive", "f32", [B, S]);
    const x = arena.alloc("hidden", "f32", [M, D]); // layer input and output
    const x1 = arena.alloc("hidden_attn", "f32", [M, D]); // after attention + LayerNorm
    const sum = arena.alloc("residual_sum", "f32", [M, D]); // dense output + residual, pre-LayerNorm
    const q = arena.alloc("query", "f32", [M, A]);
    const k = arena.alloc("key", "f32", [M, A]);
    const v = arena.alloc("value", "f32", [M, A]);
    const ctx = arena.alloc("context", "f32", [M, A]);
    const probs = arena.alloc("attention_probs", "f32", [B, sub.heads, S, S]);
    const inter = arena.alloc("intermediate", "f32", [M, I]);
    // int8 Linears quantize their input rows here: at most M rows of the widest input.
    const int8Scratch = hasInt8Linear(weights) ? arena.alloc("int8_scratch", "u8", [wasm.linear_int8_scratch_bytes(M, Math.max(D, A, I))]) : undefined;
    arena.i32(ids).set(input.inputIds);
    arena.i32(types).set(input.tokenTypeIds);
    arena.i32(mask).set(input.attentionMask);

    const hidden = options.hiddenStates ? new Float32Array((1 + depth) * M * D) : undefined;
    const attn = options.attentions ? new Float32Array(depth * B * sub.heads * S * S) : undefined;

    // out [m][ldOut] = the first n outputs of `layer` over the first k of its input features, f32 or int8 kernel per layer.
    const dense = (out: Tensor, inp: Tensor, layer: Linear, m: number, n: number, k: number, ldInp: number, ldOut: number) => {
      if (layer.int8) {
        wasm.linear_forward_int8(out.ptr, inp.ptr, layer.int8.packed.ptr, layer.int8.scales.ptr, layer.bias.ptr, m, n, k, layer.inFeatures, ldInp, ldOut, int8Scratch!.ptr);
      } else {
        wasm.linear_forward(out.ptr, inp.ptr, layer.weight.ptr, layer.bias.ptr, m, n, k, layer.inFeatures, ldInp, ldOut);
      }
    };
    // Row-major [M][n] output of a layer reading the first k of its input features.
    const linear = (out: Tensor, inp: Tensor, layer: Linear, n: number, k: number) => dense(out, inp, layer, M, n, k, k, n);
    const norm = (out: Tensor, inp: Tensor, n: Norm) => wasm.layernorm_forward(out.ptr, inp.ptr, n.gamma.ptr, n.beta.ptr, 0, 0, M, D, eps);

    wasm.attention_mask_additive(maskAdd.ptr, mask.ptr, M);
    wasm.embedding_forward(
      sum.ptr, ids.ptr, types.ptr,
      weights.wordEmbeddings.ptr, weights.positionEmbeddings.ptr, weights.tokenTypeEmbeddings.ptr,
      B, S, D,
    );
    norm(x, sum, weights.embeddingNorm);
    hidden?.set(arena.f32(x), 0);

    sub.keptLayers.forEach((l, j) => {
      const layer = weights.layers[l];
      linear(q, x, layer.query, A, D);
      linear(k, x, layer.key, A, D);
      linear(v, x, layer.value, A, D);
      wasm.attention_forward(ctx.ptr, probs.ptr, q.ptr, k.ptr, v.ptr, maskAdd.ptr, 0, B, S, sub.heads, dHead, A, A, 0, 0, 0);
      if (attn) attn.set(arena.f32(probs), j * B * sub.heads * S * S);
      // Attention output dense reads the first A of its input columns.
      linear(sum, ctx, layer.attentionOutput, D, A);
      wasm.add_forward(sum.ptr, sum.ptr, x.ptr, M * D);
      norm(x1, sum, layer.attentionNorm);
      linear(inter, x1, layer.intermediate, I, D);
      wasm.gelu_forward(inter.ptr, inter.ptr, M * I);
      // FFN output dense reads the first I of its input columns.
      linear(sum, inter, layer.output, D, I);
      wasm.add_forward(sum.ptr, sum.ptr, x1.ptr, M * D);
      norm(x, sum, layer.outputNorm);
      hidden?.set(arena.f32(x), (1 + j) * M * D);
    });

    let pooledOut: OutputTensor | undefined;
    let logitsOut: OutputTensor | undefined;
    if (weights.pooler) {
      const pooled = arena.alloc("pooled", "f32", [B, D]);
      // The [CLS] row of each sequence: a row stride of S·D picks position 0.
      dense(pooled, x, weights.pooler, B, D, D, S * D, D);
      wasm.tanh_forward(pooled.ptr, pooled.ptr, B * D);
      pooledOut = { dims: [B, D], data: arena.f32(pooled).slice() };
      if (weights.classifier) {
        const K = config.numLabels;
        const logits = arena.alloc("logits", "f32", [B, K]);
        dense(logits, pooled, weights.classifier, B, K, D, D, K);
        logitsOut = { dims: [B, K], data: arena.f32(logits).slice() };
      }
    }
    return {
      subNetwork: sub,
      logits: logitsOut,
      pooled: pooledOut,
      hiddenStates: hidden ? { dims: [1 + depth, B, S, D], data: hidden } : undefined,
      attentions: attn ? { dims: [depth, B, sub.heads, S, S], data: attn } : undefined,
    };
  } finally {
    arena.release(mark);
  }
}

function hasInt8Linear(weights: ModelWeights): boolean {
  const layers = weights.layers.flatMap((l) => [l.query, l.key, l.value, l.attentionOutput, l.intermediate, l.output]);
  return [...layers, weights.pooler, weights.classifier].some((l) => l?.int8 !== undefined);
}
