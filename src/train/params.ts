/**
 * The trainable view of a model: every parameter tensor with a gradient of
 * the same layout beside it (packed like its weight, so optimiser steps are
 * elementwise), and the optimiser moments when a trainer asks for them.
 */
import type { Core, Tensor } from "../../bindings/index.js";
import type { Linear, ModelWeights, Norm } from "../model/weights.js";

export interface Parameter {
  /** Canonical (bare HF) name, e.g. `encoder.layer.0.attention.self.query.weight`. */
  readonly name: string;
  readonly value: Tensor;
  /** Same length and layout as `value`. */
  readonly grad: Tensor;
  /** Packed `[ceil(n/PANEL)][k][PANEL]` linear weight (unpack before saving). */
  readonly packed: boolean;
  /** AdamW decays weights, not biases or LayerNorm parameters. */
  readonly decay: boolean;
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
    const list: Parameter[] = [];
    const grad = (name: string, value: Tensor, packed: boolean, decay: boolean): Tensor => {
      const g = core.arena.alloc(`grad:${name}`, "f32", value.shape, value.length);
      list.push({ name, value, grad: g, packed, decay });
      return g;
    };
    const linear = (prefix: string, l: Linear): LinearGrad => ({
      weight: grad(`${prefix}.weight`, l.weight, true, true),
      bias: grad(`${prefix}.bias`, l.bias, false, false),
    });
    const norm = (prefix: string, n: Norm): NormGrad => ({
      gamma: grad(`${prefix}.weight`, n.gamma, false, false),
      beta: grad(`${prefix}.bias`, n.beta, false, false),
    });
    this.grads = {
      wordEmbeddings: grad("embeddings.word_embeddings.weight", weights.wordEmbeddings, false, true),
      positionEmbeddings: grad("embeddings.position_embeddings.weight", weights.positionEmbeddings, false, true),
      tokenTypeEmbeddings: grad("embeddings.token_type_embeddings.weight", weights.tokenTypeEmbeddings, false, true),
      embeddingNorm: norm("embeddings.LayerNorm", weights.embeddingNorm),
      layers: weights.layers.map((layer, l) => {
        const p = `encoder.layer.${l}.`;
        return {
          query: linear(`${p}attention.self.query`, layer.query),
          key: linear(`${p}attention.self.key`, layer.key),
          value: linear(`${p}attention.self.value`, layer.value),
          attentionOutput: linear(`${p}attention.output.dense`, layer.attentionOutput),
          attentionNorm: norm(`${p}attention.output.LayerNorm`, layer.attentionNorm),
          intermediate: linear(`${p}intermediate.dense`, layer.intermediate),
          output: linear(`${p}output.dense`, layer.output),
          outputNorm: norm(`${p}output.LayerNorm`, layer.outputNorm),
        };
      }),
      pooler: weights.pooler ? linear("pooler.dense", weights.pooler) : undefined,
      classifier: weights.classifier ? linear("classifier", weights.classifier) : undefined,
    };
    this.list = list;
    this.zeroGrads();
  }

  zeroGrads(): void {
    for (const p of this.list) this.core.arena.f32(p.grad).fill(0);
  }

  /** √(Σ g²) over every gradient, summed in f64. */
  gradNorm(): number {
    let sum = 0;
    for (const p of this.list) sum += this.core.exports.grad_sum_squares(p.grad.ptr, p.grad.length);
    return Math.sqrt(sum);
  }

  /** A gradient as row-major f32 in HF layout (packed weights unpacked). */
  gradRowMajor(p: Parameter): Float32Array {
    if (!p.packed) return this.core.arena.f32(p.grad).slice();
    const [n, k] = p.value.shape;
    const mark = this.core.arena.mark();
    try {
      const out = this.core.arena.alloc(`${p.name}:unpacked`, "f32", [n, k]);
      this.core.exports.unpack_weight(out.ptr, p.grad.ptr, n, k);
      return this.core.arena.f32(out).slice();
    } finally {
      this.core.arena.release(mark);
    }
  }
}
