/**
 * The masked-LM head of HF's BertForMaskedLM / BertForPreTraining
 * (`cls.predictions`): transform = dense D→D → GELU → LayerNorm, then a
 * decoder tied to the word embeddings (logits = h·Eᵀ + bias). Only the
 * transform and the output bias are parameters of their own; the decoder's
 * weight *is* `embeddings.word_embeddings.weight`, so no copy is stored.
 */
import type { Core, Tensor } from "../../../bindings/index.js";
import type { BertConfig } from "../../checkpoint/config.js";
import type { ParsedSafetensors, SafetensorsTensor } from "../../checkpoint/safetensors.js";
import { CheckpointError } from "../../errors.js";
import type { ParameterEntry } from "../../model/parameters.js";
import type { Linear, Norm } from "../../model/weights.js";

export interface MlmHead {
  /** `cls.predictions.transform.dense`: weight packed from `[D][D]`, bias `[D]`. */
  readonly transform: Linear;
  /** `cls.predictions.transform.LayerNorm`: `[D]` each. */
  readonly transformNorm: Norm;
  /** `cls.predictions.bias`: `[V]`, the decoder's output bias. */
  readonly bias: Tensor;
}

/** Gradients laid out like `MlmHead` (the dense weight's packed like the weight). */
export interface MlmHeadGrads {
  readonly transform: { readonly weight: Tensor; readonly bias: Tensor };
  readonly transformNorm: { readonly gamma: Tensor; readonly beta: Tensor };
  readonly bias: Tensor;
}

const DENSE = "cls.predictions.transform.dense";
const NORM = "cls.predictions.transform.LayerNorm";
const BIAS = "cls.predictions.bias";

/** The head's parameters under their HF names, in a fixed order; the decay rule is HF Trainer's (none on biases and LayerNorm). */
export function mlmHeadParameters(head: MlmHead): ParameterEntry[] {
  return [
    { name: `${DENSE}.weight`, value: head.transform.weight, packed: true, decay: true },
    { name: `${DENSE}.bias`, value: head.transform.bias, packed: false, decay: false },
    { name: `${NORM}.weight`, value: head.transformNorm.gamma, packed: false, decay: false },
    { name: `${NORM}.bias`, value: head.transformNorm.beta, packed: false, decay: false },
    { name: BIAS, value: head.bias, packed: false, decay: false },
  ];
}

/** Writes parameter `name`'s row-major f32 values into the arena tensor `dest`. */
type Fill = (name: string, dest: Tensor) => void;

function buildHead(core: Core, config: BertConfig, fill: Fill): MlmHead {
  const { exports: wasm, arena } = core;
  const D = config.hiddenSize;
  const weight = arena.alloc(`${DENSE}.weight`, "f32", [D, D], wasm.packed_weight_floats(D, D));
  const plain = (name: string, n: number) => {
    const t = arena.alloc(name, "f32", [n]);
    fill(name, t);
    return t;
  };
  const head: MlmHead = {
    transform: { weight, bias: plain(`${DENSE}.bias`, D), outFeatures: D, inFeatures: D },
    transformNorm: { gamma: plain(`${NORM}.weight`, D), beta: plain(`${NORM}.bias`, D) },
    bias: plain(BIAS, config.vocabSize),
  };
  // The dense weight goes through a row-major scratch and is packed for the GEMM kernels.
  const mark = arena.mark();
  try {
    const rowMajor = arena.alloc(`${DENSE}.weight:row_major`, "f32", [D, D]);
    fill(`${DENSE}.weight`, rowMajor);
    wasm.pack_weight(weight.ptr, rowMajor.ptr, D, D);
  } finally {
    arena.release(mark);
  }
  return head;
}

/**
 * A freshly initialised head, as HF's `_init_weights` does it: the dense
 * weight normal(0, initializer_range), LayerNorm 1/0, biases 0. Same seed,
 * same head.
 */
export function initMlmHead(core: Core, config: BertConfig, seed: number): MlmHead {
  return buildHead(core, config, (name, dest) => {
    if (name === `${DENSE}.weight`) core.exports.fill_normal(dest.ptr, dest.length, seed >>> 0, 0, config.initializerRange);
    else core.arena.f32(dest).fill(name === `${NORM}.weight` ? 1 : 0);
  });
}

/**
 * The `cls.predictions.*` tensors of a checkpoint: the head, or undefined when
 * the checkpoint has none of them (a BertModel or a classifier). A partial
 * head, a wrong shape or dtype is a CheckpointError naming the tensor.
 * Accepted spellings: LayerNorm `weight/bias` or old `gamma/beta`; the output
 * bias as `cls.predictions.bias` or `cls.predictions.decoder.bias` (HF ties
 * the two). `cls.predictions.decoder.weight`, when stored, is the tied copy of
 * the word embeddings and is not read; an untied decoder
 * (`tie_word_embeddings: false`) is refused.
 */
export function readMlmHead(core: Core, config: BertConfig, parsed: ParsedSafetensors, fileName: string): MlmHead | undefined {
  const find = (...names: string[]) => {
    for (const n of names) {
      const t = parsed.tensors.get(n);
      if (t) return { name: n, tensor: t };
    }
    return undefined;
  };
  const D = config.hiddenSize;
  const V = config.vocabSize;
  const wanted = new Map<string, { name: string; tensor: SafetensorsTensor; shape: number[] } | undefined>();
  const want = (canonical: string, shape: number[], ...names: string[]) => {
    const hit = find(...names);
    wanted.set(canonical, hit && { ...hit, shape });
  };
  want(`${DENSE}.weight`, [D, D], `${DENSE}.weight`);
  want(`${DENSE}.bias`, [D], `${DENSE}.bias`);
  want(`${NORM}.weight`, [D], `${NORM}.weight`, `${NORM}.gamma`);
  want(`${NORM}.bias`, [D], `${NORM}.bias`, `${NORM}.beta`);
  want(BIAS, [V], BIAS, "cls.predictions.decoder.bias");
  const missing = [...wanted].filter(([, hit]) => hit === undefined).map(([name]) => name);
  if (missing.length === wanted.size) return undefined;
  if (missing.length > 0) {
    throw new CheckpointError("TENSOR_MISSING", `the masked-LM head is incomplete: ${missing.join(", ")} missing`, { file: fileName, tensor: missing[0] });
  }
  if (config.extra.tie_word_embeddings === false) {
    throw new CheckpointError("TENSOR_UNKNOWN", "tie_word_embeddings is false: an untied masked-LM decoder is not supported", {
      file: fileName,
      tensor: "cls.predictions.decoder.weight",
    });
  }
  return buildHead(core, config, (canonical, dest) => {
    const { name, tensor, shape } = wanted.get(canonical)!;
    uploadF32(core, tensor, name, shape, dest, fileName);
  });
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/** Checks one stored tensor and writes it into `dest` as f32 (F16/BF16 widened in wasm). */
function uploadF32(core: Core, source: SafetensorsTensor, name: string, shape: number[], dest: Tensor, file: string): void {
  const same = source.shape.length === shape.length && source.shape.every((s, i) => s === shape[i]);
  if (!same) {
    throw new CheckpointError("SHAPE_MISMATCH", `tensor "${name}" has shape [${source.shape.join(", ")}] but the config implies [${shape.join(", ")}]`, {
      file,
      tensor: name,
    });
  }
  if (BYTES[source.dtype] === undefined) {
    throw new CheckpointError("DTYPE_UNSUPPORTED", `tensor "${name}" is stored as ${source.dtype}; parameters must be F32, F16 or BF16`, { file, tensor: name });
  }
  const { arena, exports: wasm } = core;
  if (source.dtype === "F32") {
    arena.u8(dest).set(source.data);
    return;
  }
  const mark = arena.mark();
  try {
    const raw = arena.alloc(`${name}:raw`, "u16", shape);
    arena.u8(raw).set(source.data);
    if (source.dtype === "F16") wasm.f16_to_f32(dest.ptr, raw.ptr, raw.length);
    else wasm.bf16_to_f32(dest.ptr, raw.ptr, raw.length);
  } finally {
    arena.release(mark);
  }
}
