/**
 * Model parameters in the arena. Linear weights are packed once at load
 * (assembly/gemm.ts panels) so every width is a prefix and needs no copy;
 * embeddings, biases and LayerNorm parameters stay plain row-major f32.
 */
import type { Core, Tensor } from "../../bindings/index.js";
import type { BertConfig } from "../checkpoint/config.js";
import { CheckpointError } from "../errors.js";

/** A raw tensor as stored in a checkpoint, before conversion to f32. */
export interface SourceTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Little-endian bytes, numel × dtype size. */
  readonly data: Uint8Array;
}

/** Gets a tensor by its bare HF name (`encoder.layer.0.attention.self.query.weight`), or undefined. */
export type TensorLookup = (name: string) => SourceTensor | undefined;

export interface Linear {
  /** Packed `[ceil(outFeatures/PANEL)][inFeatures][PANEL]`. */
  readonly weight: Tensor;
  /** `[outFeatures]`. */
  readonly bias: Tensor;
  readonly outFeatures: number;
  readonly inFeatures: number;
}

export interface Norm {
  /** `[hidden]` each. */
  readonly gamma: Tensor;
  readonly beta: Tensor;
}

export interface LayerWeights {
  readonly query: Linear; // [A][D]
  readonly key: Linear; // [A][D]
  readonly value: Linear; // [A][D]
  readonly attentionOutput: Linear; // [D][A]
  readonly attentionNorm: Norm;
  readonly intermediate: Linear; // [I][D]
  readonly output: Linear; // [D][I]
  readonly outputNorm: Norm;
}

export interface ModelWeights {
  readonly wordEmbeddings: Tensor; // [V][D]
  readonly positionEmbeddings: Tensor; // [P][D]
  readonly tokenTypeEmbeddings: Tensor; // [T][D]
  readonly embeddingNorm: Norm;
  readonly layers: readonly LayerWeights[];
  /** Absent in a BertModel checkpoint saved without its pooler. */
  readonly pooler?: Linear; // [D][D]
  /** Absent in a bare BertModel checkpoint. */
  readonly classifier?: Linear; // [K][D]
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * Writes the row-major f32 values of tensor `name` (shape `shape`) into
 * `scratch`, an arena tensor of that shape; may allocate more scratch.
 */
type ScratchFiller = (name: string, shape: readonly number[], scratch: Tensor) => void;

/** Uploads every tensor of a checked checkpoint into the arena. */
export function loadWeights(core: Core, config: BertConfig, lookup: TensorLookup, fileName: string): ModelWeights {
  const hasPooler = lookup("pooler.dense.weight") !== undefined;
  const hasClassifier = lookup("classifier.weight") !== undefined;
  if (hasClassifier && !hasPooler) {
    throw new CheckpointError("TENSOR_MISSING", "has classifier.weight but no pooler.dense.weight", { file: fileName, tensor: "pooler.dense.weight" });
  }
  const fill: ScratchFiller = (name, shape, scratch) => copyCheckpointTensor(core, lookup(name), name, shape, scratch, fileName);
  return buildWeights(core, config, fill, hasPooler, hasClassifier);
}

/**
 * BERT-initialised random weights (normal(0, 0.02), LayerNorm 1/0, biases 0)
 * from a seed, for benchmarks and tests: the same seed gives the same model.
 */
export function randomWeights(core: Core, config: BertConfig, seed: number): ModelWeights {
  let stream = seed >>> 0;
  const fill: ScratchFiller = (name, _shape, scratch) => {
    const isNormWeight = /LayerNorm\.weight$/.test(name);
    const isZero = name.endsWith(".bias");
    if (isZero) core.arena.f32(scratch).fill(0);
    else if (isNormWeight) core.arena.f32(scratch).fill(1);
    else core.exports.fill_normal(scratch.ptr, scratch.length, (stream = (stream + 0x9e3779b9) >>> 0), 0, 0.02);
  };
  return buildWeights(core, config, fill, true, true);
}

function buildWeights(core: Core, config: BertConfig, fill: ScratchFiller, hasPooler: boolean, hasClassifier: boolean): ModelWeights {
  const D = config.hiddenSize;
  const A = config.numAttentionHeads * config.attentionHeadSize;
  const I = config.intermediateSize;
  const loader = new WeightUploader(core, fill);

  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const p = `encoder.layer.${l}.`;
    layers.push({
      query: loader.linear(`${p}attention.self.query`, A, D),
      key: loader.linear(`${p}attention.self.key`, A, D),
      value: loader.linear(`${p}attention.self.value`, A, D),
      attentionOutput: loader.linear(`${p}attention.output.dense`, D, A),
      attentionNorm: loader.norm(`${p}attention.output.LayerNorm`, D),
      intermediate: loader.linear(`${p}intermediate.dense`, I, D),
      output: loader.linear(`${p}output.dense`, D, I),
      outputNorm: loader.norm(`${p}output.LayerNorm`, D),
    });
  }
  return {
    wordEmbeddings: loader.plain("embeddings.word_embeddings.weight", [config.vocabSize, D]),
    positionEmbeddings: loader.plain("embeddings.position_embeddings.weight", [config.maxPositionEmbeddings, D]),
    tokenTypeEmbeddings: loader.plain("embeddings.token_type_embeddings.weight", [config.typeVocabSize, D]),
    embeddingNorm: loader.norm("embeddings.LayerNorm", D),
    layers,
    pooler: hasPooler ? loader.linear("pooler.dense", D, D) : undefined,
    classifier: hasClassifier ? loader.linear("classifier", config.numLabels, D) : undefined,
  };
}

class WeightUploader {
  constructor(
    private readonly core: Core,
    private readonly fill: ScratchFiller,
  ) {}

  linear(prefix: string, outFeatures: number, inFeatures: number): Linear {
    const { exports, arena } = this.core;
    const name = `${prefix}.weight`;
    const packedLength = exports.packed_weight_floats(outFeatures, inFeatures);
    const weight = arena.alloc(name, "f32", [outFeatures, inFeatures], packedLength);
    const bias = this.plain(`${prefix}.bias`, [outFeatures]);
    const mark = arena.mark();
    const rowMajor = arena.alloc(`${name}:row_major`, "f32", [outFeatures, inFeatures]);
    this.fill(name, rowMajor.shape, rowMajor);
    exports.pack_weight(weight.ptr, rowMajor.ptr, outFeatures, inFeatures);
    arena.release(mark);
    return { weight, bias, outFeatures, inFeatures };
  }

  norm(prefix: string, dim: number): Norm {
    return { gamma: this.plain(`${prefix}.weight`, [dim]), beta: this.plain(`${prefix}.bias`, [dim]) };
  }

  /** A row-major f32 tensor in the arena. */
  plain(name: string, shape: number[]): Tensor {
    const dest = this.core.arena.alloc(name, "f32", shape);
    const mark = this.core.arena.mark();
    this.fill(name, shape, dest);
    this.core.arena.release(mark);
    return dest;
  }
}

/** Checks a checkpoint tensor and writes it into `out` as f32 (converting F16/BF16 in wasm). */
function copyCheckpointTensor(
  core: Core,
  source: SourceTensor | undefined,
  name: string,
  shape: readonly number[],
  out: Tensor,
  fileName: string,
): void {
  const { exports, arena } = core;
  if (!source) throw new CheckpointError("TENSOR_MISSING", `missing tensor ${name}`, { file: fileName, tensor: name });
  const numel = shape.reduce((a, b) => a * b, 1);
  const same = source.shape.length === shape.length && source.shape.every((s, i) => s === shape[i]);
  if (!same) {
    throw new CheckpointError("SHAPE_MISMATCH", `tensor ${name} has shape [${source.shape.join(", ")}], expected [${shape.join(", ")}]`, {
      file: fileName,
      tensor: name,
    });
  }
  const size = DTYPE_BYTES[source.dtype];
  if (size === undefined) {
    throw new CheckpointError("DTYPE_UNSUPPORTED", `tensor ${name} has dtype ${source.dtype}; supported: F32, F16, BF16`, { file: fileName, tensor: name });
  }
  if (source.data.byteLength !== numel * size) {
    throw new CheckpointError("BYTE_LENGTH_MISMATCH", `tensor ${name} holds ${source.data.byteLength} bytes, expected ${numel * size}`, {
      file: fileName,
      tensor: name,
    });
  }
  if (source.dtype === "F32") {
    arena.u8(out).set(source.data);
    return;
  }
  const raw = arena.alloc(`${name}:raw`, "u16", shape);
  arena.u8(raw).set(source.data);
  if (source.dtype === "F16") exports.f16_to_f32(out.ptr, raw.ptr, numel);
  else exports.bf16_to_f32(out.ptr, raw.ptr, numel);
}
