/**
 * A sub-network's parameters read back from the arena as plain row-major f32
 * arrays, already sliced to the kept heads, neurons and layers (DESIGN.md §2):
 * what an exported graph stores, and nothing more.
 *
 * Linear weights live packed in wasm (assembly/gemm.ts panels); the core's
 * `unpack_weight` turns the first rows back into HF's `[out][in]` layout, and
 * an input-column prefix is cut here. Works the same for a loaded checkpoint
 * (any dtype: the arena holds f32) and for `randomWeights`.
 */
import type { Core, Tensor } from "../../../bindings/index.js";
import type { SubNetwork } from "../../model/subnetwork.js";
import type { Linear, ModelWeights, Norm } from "../../model/weights.js";

export interface LinearSlice {
  /** `[outFeatures][inFeatures]` row-major, HF's layout. */
  readonly weight: Float32Array;
  /** `[outFeatures]`. */
  readonly bias: Float32Array;
  readonly outFeatures: number;
  readonly inFeatures: number;
}

export interface NormSlice {
  /** `[hidden]` each. */
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
}

export interface LayerSlice {
  /** This layer's index in the full model (the name its parameters have in the checkpoint). */
  readonly index: number;
  readonly query: LinearSlice; // [A][D], A = kept heads · head size
  readonly key: LinearSlice; // [A][D]
  readonly value: LinearSlice; // [A][D]
  readonly attentionOutput: LinearSlice; // [D][A]
  readonly attentionNorm: NormSlice;
  readonly intermediate: LinearSlice; // [I'][D], I' = kept neurons
  readonly output: LinearSlice; // [D][I']
  readonly outputNorm: NormSlice;
}

export interface SubNetworkWeights {
  readonly wordEmbeddings: Float32Array; // [V][D]
  readonly positionEmbeddings: Float32Array; // [P][D]
  readonly tokenTypeEmbeddings: Float32Array; // [T][D]
  readonly embeddingNorm: NormSlice;
  /** The kept layers, in the order they run. */
  readonly layers: readonly LayerSlice[];
  readonly pooler?: LinearSlice; // [D][D]
  readonly classifier?: LinearSlice; // [K][D]
}

export function readSubNetworkWeights(core: Core, weights: ModelWeights, sub: SubNetwork): SubNetworkWeights {
  const A = sub.attentionWidth;
  const I = sub.intermediate;
  const plain = (t: Tensor) => core.arena.f32(t).slice();
  const norm = (n: Norm): NormSlice => ({ gamma: plain(n.gamma), beta: plain(n.beta) });
  const linear = (l: Linear, outFeatures: number, inFeatures: number) => readLinear(core, l, outFeatures, inFeatures);
  return {
    wordEmbeddings: plain(weights.wordEmbeddings),
    positionEmbeddings: plain(weights.positionEmbeddings),
    tokenTypeEmbeddings: plain(weights.tokenTypeEmbeddings),
    embeddingNorm: norm(weights.embeddingNorm),
    layers: sub.keptLayers.map((index) => {
      const layer = weights.layers[index];
      const D = layer.query.inFeatures;
      return {
        index,
        query: linear(layer.query, A, D),
        key: linear(layer.key, A, D),
        value: linear(layer.value, A, D),
        attentionOutput: linear(layer.attentionOutput, D, A),
        attentionNorm: norm(layer.attentionNorm),
        intermediate: linear(layer.intermediate, I, D),
        output: linear(layer.output, D, I),
        outputNorm: norm(layer.outputNorm),
      };
    }),
    pooler: weights.pooler && linear(weights.pooler, weights.pooler.outFeatures, weights.pooler.inFeatures),
    classifier: weights.classifier && linear(weights.classifier, weights.classifier.outFeatures, weights.classifier.inFeatures),
  };
}

/** The first `outFeatures` rows and `inFeatures` columns of a packed weight, and its bias prefix. */
function readLinear(core: Core, layer: Linear, outFeatures: number, inFeatures: number): LinearSlice {
  const { arena, exports } = core;
  if (outFeatures > layer.outFeatures || inFeatures > layer.inFeatures) {
    throw new RangeError(`${layer.weight.name}: slice [${outFeatures}][${inFeatures}] exceeds [${layer.outFeatures}][${layer.inFeatures}]`);
  }
  const kFull = layer.inFeatures;
  const mark = arena.mark();
  try {
    // unpack_weight walks rows in order, so asking for the first rows of the full-k layout gives exactly them.
    const rows = arena.alloc(`${layer.weight.name}:unpacked`, "f32", [outFeatures, kFull]);
    exports.unpack_weight(rows.ptr, layer.weight.ptr, outFeatures, kFull);
    const full = arena.f32(rows);
    let weight: Float32Array;
    if (inFeatures === kFull) {
      weight = full.slice();
    } else {
      weight = new Float32Array(outFeatures * inFeatures);
      for (let j = 0; j < outFeatures; j++) weight.set(full.subarray(j * kFull, j * kFull + inFeatures), j * inFeatures);
    }
    return { weight, bias: arena.f32(layer.bias).slice(0, outFeatures), outFeatures, inFeatures };
  } finally {
    arena.release(mark);
  }
}

/**
 * `[in][Σ out]`: the transposes of linears sharing an input size, side by
 * side (one linear: its plain transpose, the `[in][out]` right operand of a
 * MatMul; Q, K, V: onnxruntime's packed Attention weight). A one-off layout
 * change at export time, so it stays in TypeScript rather than the core.
 */
const TILE = 16;

export function transposedColumns(linears: readonly LinearSlice[]): Float32Array {
  const K = linears[0].inFeatures;
  const total = linears.reduce((n, l) => n + l.outFeatures, 0);
  const out = new Float32Array(K * total);
  let offset = 0;
  for (const l of linears) {
    if (l.inFeatures !== K) throw new RangeError(`transposedColumns: input sizes differ (${K} vs ${l.inFeatures})`);
    const { weight, outFeatures: N } = l;
    // Square tiles keep both the strided reads and the strided writes in cache (2–3× faster than a plain double loop at BERT-base sizes).
    for (let t0 = 0; t0 < K; t0 += TILE) {
      const t1 = Math.min(K, t0 + TILE);
      for (let j0 = 0; j0 < N; j0 += TILE) {
        const j1 = Math.min(N, j0 + TILE);
        for (let t = t0; t < t1; t++) {
          const dst = t * total + offset;
          for (let j = j0; j < j1; j++) out[dst + j] = weight[j * K + t];
        }
      }
    }
    offset += N;
  }
  return out;
}

/** Biases side by side, matching `transposedColumns`. */
export function concatBiases(linears: readonly LinearSlice[]): Float32Array {
  const out = new Float32Array(linears.reduce((n, l) => n + l.outFeatures, 0));
  let offset = 0;
  for (const l of linears) {
    out.set(l.bias, offset);
    offset += l.outFeatures;
  }
  return out;
}
