/**
 * Every parameter tensor of a loaded model with its canonical (bare HF) name,
 * in checkpoint order — the one table that saving, training and exports walk.
 */
import type { Core, Tensor } from "../../bindings/index.js";
import type { Linear, ModelWeights, Norm } from "./weights.js";

export interface ParameterEntry {
  /** e.g. `encoder.layer.0.attention.self.query.weight`. */
  readonly name: string;
  readonly value: Tensor;
  /** A packed linear weight `[ceil(n/PANEL)][k][PANEL]`; unpack before saving. */
  readonly packed: boolean;
  /** AdamW decays weights and embeddings, not biases or LayerNorm parameters. */
  readonly decay: boolean;
}

export function listParameters(weights: ModelWeights): ParameterEntry[] {
  const out: ParameterEntry[] = [];
  const linear = (prefix: string, l: Linear) => {
    out.push({ name: `${prefix}.weight`, value: l.weight, packed: true, decay: true });
    out.push({ name: `${prefix}.bias`, value: l.bias, packed: false, decay: false });
  };
  const norm = (prefix: string, n: Norm) => {
    out.push({ name: `${prefix}.weight`, value: n.gamma, packed: false, decay: false });
    out.push({ name: `${prefix}.bias`, value: n.beta, packed: false, decay: false });
  };
  out.push({ name: "embeddings.word_embeddings.weight", value: weights.wordEmbeddings, packed: false, decay: true });
  out.push({ name: "embeddings.position_embeddings.weight", value: weights.positionEmbeddings, packed: false, decay: true });
  out.push({ name: "embeddings.token_type_embeddings.weight", value: weights.tokenTypeEmbeddings, packed: false, decay: true });
  norm("embeddings.LayerNorm", weights.embeddingNorm);
  weights.layers.forEach((layer, l) => {
    const p = `encoder.layer.${l}.`;
    linear(`${p}attention.self.query`, layer.query);
    linear(`${p}attention.self.key`, layer.key);
    linear(`${p}attention.self.value`, layer.value);
    linear(`${p}attention.output.dense`, layer.attentionOutput);
    norm(`${p}attention.output.LayerNorm`, layer.attentionNorm);
    linear(`${p}intermediate.dense`, layer.intermediate);
    linear(`${p}output.dense`, layer.output);
    norm(`${p}output.LayerNorm`, layer.outputNorm);
  });
  if (weights.pooler) linear("pooler.dense", weights.pooler);
  if (weights.classifier) linear("classifier", weights.classifier);
  return out;
}

/** A tensor (value, gradient or moment laid out like `entry`) as row-major f32 in HF layout. */
export function readRowMajor(core: Core, entry: ParameterEntry, tensor: Tensor = entry.value): Float32Array {
  if (!entry.packed) return core.arena.f32(tensor).slice(0, shapeSize(entry.value.shape));
  const [n, k] = entry.value.shape;
  const mark = core.arena.mark();
  try {
    const out = core.arena.alloc(`${entry.name}:unpacked`, "f32", [n, k]);
    core.exports.unpack_weight(out.ptr, tensor.ptr, n, k);
    return core.arena.f32(out).slice();
  } finally {
    core.arena.release(mark);
  }
}

/** Writes row-major f32 values into a tensor laid out like `entry` (packing linear weights). */
export function writeRowMajor(core: Core, entry: ParameterEntry, values: Float32Array, tensor: Tensor = entry.value): void {
  if (!entry.packed) {
    core.arena.f32(tensor).set(values);
    return;
  }
  const [n, k] = entry.value.shape;
  const mark = core.arena.mark();
  try {
    const tmp = core.arena.alloc(`${entry.name}:row_major`, "f32", [n, k]);
    core.arena.f32(tmp).set(values);
    core.exports.pack_weight(tensor.ptr, tmp.ptr, n, k);
  } finally {
    core.arena.release(mark);
  }
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
