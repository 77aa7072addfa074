/**
 * Model parameters in the arena. Linear weights are packed once at load
 * (assembly/gemm.ts panels) so every width is a prefix and needs no copy;
 * embeddings, biases and LayerNorm parameters stay plain row-major f32.
 *
 * A Linear the checkpoint stores as int8 (`.weight` I8 + `.weight_scale` F32
 * [out], see linear-int8.ts) is packed in the int8 layout instead and runs on
 * the int8 kernel; int8 embedding tables are widened to f32 here (the int8
 * form saves download bytes, not wasm memory).
 */
import type { Core, Tensor } from "../../bindings/index.js";
import type { BertConfig } from "../checkpoint/config.js";
import { CheckpointError } from "../errors.js";
import { uploadInt8Linear, type Int8Weight } from "./linear-int8.js";

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
  /** Packed `[ceil(outFeatures/PANEL)][inFeatures][PANEL]`. Throws (INT8_INFERENCE_ONLY) on an int8 Linear. */
  readonly weight: Tensor;
  /** `[outFeatures]`. */
  readonly bias: Tensor;
  readonly outFeatures: number;
  readonly inFeatures: number;
  /** Present when the checkpoint stored this layer as int8: forward runs linear_forward_int8 on it. */
  readonly int8?: Int8Weight;
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

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I8: 1 };

/**
 * Writes the row-major f32 values of tensor `name` (shape `shape`) into
 * `scratch`, an arena tensor of that shape; may allocate more scratch.
 */
type ScratchFiller = (name: string, shape: readonly number[], scratch: Tensor) => void;

/** A linear weight's stored int8 rows `[out][in]` and f32 scale bytes `[out]`, or undefined when it is stored as floats. */
type Int8Source = (name: string, shape: readonly number[]) => { q: Uint8Array; scales: Uint8Array } | undefined;

/**
 * Uploads every tensor of a checked checkpoint into the arena. `scales` gets
 * the `_scale` tensor of an I8 weight by the weight's bare name.
 */
export function loadWeights(core: Core, config: BertConfig, lookup: TensorLookup, fileName: string, scales: TensorLookup = () => undefined): ModelWeights {
  const hasPooler = lookup("pooler.dense.weight") !== undefined;
  const hasClassifier = lookup("classifier.weight") !== undefined;
  if (hasClassifier && !hasPooler) {
    throw new CheckpointError("TENSOR_MISSING", "has classifier.weight but no pooler.dense.weight", { file: fileName, tensor: "pooler.dense.weight" });
  }
  const fill: ScratchFiller = (name, shape, scratch) => copyCheckpointTensor(core, lookup(name), scales(name), name, shape, scratch, fileName);
  const int8: Int8Source = (name, shape) => {
    const source = lookup(name);
    if (source?.dtype !== "I8") return undefined;
    checkSource(source, name, shape, fileName);
    const scale = checkScaleSource(scales(name), name, shape[0], fileName);
    return { q: source.data, scales: scale.data };
  };
  return buildWeights(core, config, fill, hasPooler, hasClassifier, int8);
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

function buildWeights(core: Core, config: BertConfig, fill: ScratchFiller, hasPooler: boolean, hasClassifier: boolean, int8: Int8Source = () => undefined): ModelWeights {
  const D = config.hiddenSize;
  const A = config.numAttentionHeads * config.attentionHeadSize;
  const I = config.intermediateSize;
  const loader = new WeightUploader(core, fill, int8);

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
    private readonly int8: Int8Source,
  ) {}

  linear(prefix: string, outFeatures: number, inFeatures: number): Linear {
    const { exports, arena } = this.core;
    const name = `${prefix}.weight`;
    const quantized = this.int8(name, [outFeatures, inFeatures]);
    if (quantized) {
      const bias = this.plain(`${prefix}.bias`, [outFeatures]);
      return uploadInt8Linear(this.core, name, quantized.q, quantized.scales, bias, outFeatures, inFeatures);
    }
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

/**
 * Checks a checkpoint tensor and writes it into `out` as f32 (converting
 * F16/BF16, and I8 with its per-row `scale`, in wasm).
 */
function copyCheckpointTensor(
  core: Core,
  source: SourceTensor | undefined,
  scale: SourceTensor | undefined,
  name: string,
  shape: readonly number[],
  out: Tensor,
  fileName: string,
): void {
  const { exports, arena } = core;
  const checked = checkSource(source, name, shape, fileName);
  const numel = shape.reduce((a, b) => a * b, 1);
  if (checked.dtype === "F32") {
    arena.u8(out).set(checked.data);
    return;
  }
  if (checked.dtype === "I8") {
    // Only 2-D weights are quantizable (names.ts); rows are shape[0].
    const scales = checkScaleSource(scale, name, shape[0], fileName);
    const q = arena.alloc(`${name}:int8`, "u8", shape);
    const s = arena.alloc(`${name}_scale`, "f32", [shape[0]]);
    arena.u8(q).set(checked.data);
    arena.u8(s).set(scales.data);
    exports.dequantize_rows_int8(out.ptr, q.ptr, s.ptr, shape[0], numel / shape[0]);
    return;
  }
  const raw = arena.alloc(`${name}:raw`, "u16", shape);
  arena.u8(raw).set(checked.data);
  if (checked.dtype === "F16") exports.f16_to_f32(out.ptr, raw.ptr, numel);
  else exports.bf16_to_f32(out.ptr, raw.ptr, numel);
}

/** Checks presence, shape, dtype and byte length of a checkpoint tensor, and returns it. */
function checkSource(source: SourceTensor | undefined, name: string, shape: readonly number[], fileName: string): SourceTensor {
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
  const quantizable = shape.length === 2;
  if (size === undefined || (source.dtype === "I8" && !quantizable)) {
    throw new CheckpointError("DTYPE_UNSUPPORTED", `tensor ${name} has dtype ${source.dtype}; supported: F32, F16, BF16 (and I8 with a _scale for 2-D weights)`, { file: fileName, tensor: name });
  }
  if (source.data.byteLength !== numel * size) {
    throw new CheckpointError("BYTE_LENGTH_MISMATCH", `tensor ${name} holds ${source.data.byteLength} bytes, expected ${numel * size}`, {
      file: fileName,
      tensor: name,
    });
  }
  return source;
}

/**
 * The F32 `[rows]` scales of I8 tensor `name`, finite and ≥ 0 (names.ts checks
 * the same when resolving a file; this guards direct callers of loadWeights).
 */
function checkScaleSource(scale: SourceTensor | undefined, name: string, rows: number, fileName: string): SourceTensor {
  const scaleName = `${name}_scale`;
  if (!scale) throw new CheckpointError("TENSOR_MISSING", `tensor ${name} is I8 but ${scaleName} is missing`, { file: fileName, tensor: name });
  if (scale.dtype !== "F32" || scale.shape.length !== 1 || scale.shape[0] !== rows || scale.data.byteLength !== 4 * rows) {
    throw new CheckpointError("SHAPE_MISMATCH", `tensor ${scaleName} must be F32 [${rows}], got ${scale.dtype} [${scale.shape.join(", ")}]`, { file: fileName, tensor: scaleName });
  }
  const view = new DataView(scale.data.buffer, scale.data.byteOffset, scale.data.byteLength);
  for (let i = 0; i < rows; i++) {
    const v = view.getFloat32(4 * i, true);
    if (!Number.isFinite(v) || v < 0) {
      throw new CheckpointError("SCALE_INVALID", `tensor ${scaleName}[${i}] is ${v}; int8 scales must be finite and ≥ 0`, { file: fileName, tensor: scaleName });
    }
  }
  return scale;
}
