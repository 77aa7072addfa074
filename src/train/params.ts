/**
 * The trainable view of a model: every parameter tensor with a gradient of
 * the same layout beside it (packed like its weight, so optimiser steps are
 * elementwise), mirrored into the ModelWeights shape for the backward pass.
 */
import type { Core, Tensor } from "../../bindings/index.js";
import { listParameters, readRowMajor, type ParameterEntry } from "../model/parameters.js";
import type { Linear, ModelWeights, Norm } from "../model/weights.js";

export interface Parameter extends ParameterEntry {
  /** Same length and layout as `value`. */
  readonly grad: Tensor;
}

export interface LinearGrad {
  readonly weight: Tensor;
  readonly bias: Tensor;
}

export interface NormGrad {
  readonly gamma: Tensor;
  readonly beta: Tensor;
}

export interface LayerGrads {
  readonly query: LinearGrad;
  readonly key: LinearGrad;
  readonly value: LinearGrad;
  readonly attentionOutput: LinearGrad;
  readonly attentionNorm: NormGrad;
  readonly intermediate: LinearGrad;
  readonly output: LinearGrad;
  readonly outputNorm: NormGrad;
}

/** Gradients mirroring `ModelWeights` field by field. */
export interface ModelGrads {
  readonly wordEmbeddings: Tensor;
  readonly positionEmbeddings: Tensor;
  readonly tokenTypeEmbeddings: Tensor;
  readonly embeddingNorm: NormGrad;
  readonly layers: readonly LayerGrads[];
  readonly pooler?: LinearGrad;
  readonly classifier?: LinearGrad;
}

export class TrainableParameters {
  readonly grads: ModelGrads;
  readonly list: readonly Parameter[];

  constructor(
    private readonly core: Core,
    weights: ModelWeights,
  ) {
    const gradOf = new Map<Tensor, Tensor>();
    this.list = listParameters(weights).map((entry) => {
      const grad = core.arena.alloc(`grad:${entry.name}`, "f32", entry.value.shape, entry.value.length);
      gradOf.set(entry.value, grad);
      return { ...entry, grad };
    });
    const g = (t: Tensor) => gradOf.get(t)!;
    const linear = (l: Linear): LinearGrad => ({ weight: g(l.weight), bias: g(l.bias) });
    const norm = (n: Norm): NormGrad => ({ gamma: g(n.gamma), beta: g(n.beta) });
    this.grads = {
      wordEmbeddings: g(weights.wordEmbeddings),
      positionEmbeddings: g(weights.positionEmbeddings),
      tokenTypeEmbeddings: g(weights.tokenTypeEmbeddings),
      embeddingNorm: norm(weights.embeddingNorm),
      layers: weights.layers.map((layer) => ({
        query: linear(layer.query),
        key: linear(layer.key),
        value: linear(layer.value),
        attentionOutput: linear(layer.attentionOutput),
        attentionNorm: norm(layer.attentionNorm),
        intermediate: linear(layer.intermediate),
        output: linear(layer.output),
        outputNorm: norm(layer.outputNorm),
      })),
      pooler: weights.pooler ? linear(weights.pooler) : undefined,
      classifier: weights.classifier ? linear(weights.classifier) : undefined,
    };
    this.zeroGrads();
  }

  zeroGrads(): void {
    for (const p of this.list) this.core.exports.zero_fill(p.grad.ptr, p.grad.length);
  }

  /** √(Σ g²) over every gradient, summed in f64. */
  gradNorm(): number {
    let sum = 0;
    for (const p of this.list) sum += this.core.exports.grad_sum_squares(p.grad.ptr, p.grad.length);
    return Math.sqrt(sum);
  }

  /** A gradient as row-major f32 in HF layout (packed weights unpacked). */
  gradRowMajor(p: Parameter): Float32Array {
    return readRowMajor(this.core, p, p.grad);
  }
}
