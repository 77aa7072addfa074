/**
 * A (width, depth) sub-network as a standalone HF-style checkpoint folder:
 * only the kept heads, neurons and layers are stored (DESIGN.md §2 — the kept
 * heads and neurons are prefixes, the kept layers are renumbered 0…depth−1),
 * so the files are physically smaller and the folder, run at width 1 and
 * depth 1, computes exactly what the full model computes at (width, depth).
 *
 * config.json records the new sizes (num_attention_heads = kept heads, with
 * attention_head_size since heads·d_head ≠ hidden; intermediate_size; layers)
 * and a `dynabert_export` record of where it came from. HF's BertModel cannot
 * load a width-sliced folder; this engine can.
 */
import type { Core } from "../../bindings/index.js";
import { bertConfigToJson, type BertConfig } from "../checkpoint/config.js";
import { hfNameFor } from "../checkpoint/names.js";
import { HF_PT_METADATA, writeSafetensors, type SafetensorsTensorInput } from "../checkpoint/safetensors.js";
import type { DynaBert } from "../dynabert.js";
import { OptionError } from "../errors.js";
import type { FolderContents } from "../model/save.js";
import { readSubNetworkWeights, type LayerSlice, type LinearSlice, type NormSlice } from "./onnx/sliced-weights.js";
import type { VocabTrim } from "./vocab-trim.js";

export type ExportDtype = "F32" | "F16";

export interface SlicedExportOptions {
  readonly width?: number;
  readonly depth?: number;
  /** Storage type of every tensor (default F32). F16 rounds to nearest even. */
  readonly dtype?: ExportDtype;
  /** Keep only these word-embedding rows and write this vocab (see vocab-trim.ts). */
  readonly vocab?: VocabTrim;
}

export interface SlicedExport {
  readonly files: FolderContents;
  readonly config: BertConfig;
  /** Parameters stored (all tensors' elements). */
  readonly parameters: number;
}

/** The sliced checkpoint's files; nothing is written here. */
export function slicedCheckpointFiles(model: DynaBert, options: SlicedExportOptions = {}): SlicedExport {
  const { core, weights } = model.engine;
  const source = model.config;
  const sub = model.subNetwork({ width: options.width, depth: options.depth });
  const dtype = options.dtype ?? "F32";
  const sliced = readSubNetworkWeights(core, weights, sub);
  const D = source.hiddenSize;
  const trim = options.vocab;

  let wordEmbeddings = sliced.wordEmbeddings;
  if (trim) {
    if (source.padTokenId !== null && !trim.newId.has(source.padTokenId)) {
      throw new OptionError("BAD_VOCAB_TRIM", `the trimmed vocab drops pad_token_id ${source.padTokenId}`);
    }
    wordEmbeddings = gatherRows(sliced.wordEmbeddings, trim.keptIds, D, source.vocabSize);
  }

  const layout = { classifier: sliced.classifier !== undefined };
  const tensors: SafetensorsTensorInput[] = [];
  const add = (canonical: string, values: Float32Array, shape: number[]) =>
    tensors.push({ name: hfNameFor(canonical, layout), dtype, shape, data: encode(core, values, dtype) });
  const linear = (prefix: string, l: LinearSlice) => {
    add(`${prefix}.weight`, l.weight, [l.outFeatures, l.inFeatures]);
    add(`${prefix}.bias`, l.bias, [l.outFeatures]);
  };
  const norm = (prefix: string, n: NormSlice) => {
    add(`${prefix}.weight`, n.gamma, [D]);
    add(`${prefix}.bias`, n.beta, [D]);
  };

  const vocabSize = trim ? trim.keptIds.length : source.vocabSize;
  add("embeddings.word_embeddings.weight", wordEmbeddings, [vocabSize, D]);
  add("embeddings.position_embeddings.weight", sliced.positionEmbeddings, [source.maxPositionEmbeddings, D]);
  add("embeddings.token_type_embeddings.weight", sliced.tokenTypeEmbeddings, [source.typeVocabSize, D]);
  norm("embeddings.LayerNorm", sliced.embeddingNorm);
  sliced.layers.forEach((layer: LayerSlice, l) => {
    // Renumbered: the l-th kept layer is layer l of the export, whatever its index in the source.
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
  if (sliced.pooler) linear("pooler.dense", sliced.pooler);
  if (sliced.classifier) linear("classifier", sliced.classifier);

  // A table measured on the full model (dynabert eval) says nothing about this one.
  const { dynabert_subnetworks: _dropped, dynabert_export: earlier, ...extra } = source.extra;
  const record: Record<string, unknown> = {
    width: sub.width,
    depth: sub.depth,
    kept_layers: [...sub.keptLayers],
    source_heads: source.numAttentionHeads,
    source_intermediate_size: source.intermediateSize,
    source_num_hidden_layers: source.numHiddenLayers,
    source_vocab_size: source.vocabSize,
    dtype,
    vocab_trimmed: trim !== undefined,
  };
  if (earlier !== undefined) record.source_export = earlier;
  const config: BertConfig = {
    ...source,
    vocabSize,
    numHiddenLayers: sub.keptLayers.length,
    numAttentionHeads: sub.heads,
    attentionHeadSize: source.attentionHeadSize,
    intermediateSize: sub.intermediate,
    padTokenId: trim && source.padTokenId !== null ? trim.newId.get(source.padTokenId)! : source.padTokenId,
    extra: { ...extra, torch_dtype: dtype === "F16" ? "float16" : "float32", dynabert_export: record },
  };

  const files: FolderContents = {
    "config.json": bertConfigToJson(config),
    "model.safetensors": writeSafetensors(tensors, HF_PT_METADATA),
  };
  const vocab = trim ? trim.vocabText : model.tokenizerFiles.vocab;
  const tokenizerConfig = trim ? trim.tokenizerConfig : model.tokenizerFiles.tokenizerConfig;
  if (vocab !== undefined) files["vocab.txt"] = vocab;
  if (tokenizerConfig !== undefined) files["tokenizer_config.json"] = tokenizerConfig;
  const parameters = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  return { files, config, parameters };
}

/** `[ids.length][dim]`: rows `ids` of `table` (`[rows][dim]`). */
function gatherRows(table: Float32Array, ids: readonly number[], dim: number, rows: number): Float32Array {
  const out = new Float32Array(ids.length * dim);
  ids.forEach((id, i) => {
    if (!(id >= 0 && id < rows)) throw new RangeError(`gatherRows: id ${id} outside [0, ${rows})`);
    out.set(table.subarray(id * dim, (id + 1) * dim), i * dim);
  });
  return out;
}

/** Little-endian bytes of `values` as `dtype` (F16 through the core's round-to-nearest-even converter). */
function encode(core: Core, values: Float32Array, dtype: ExportDtype): Uint8Array {
  if (dtype === "F32") return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const { arena, exports } = core;
  const mark = arena.mark();
  try {
    const src = arena.alloc("export:f32", "f32", [values.length]);
    const dst = arena.alloc("export:f16", "u16", [values.length]);
    arena.f32(src).set(values);
    exports.f32_to_f16(dst.ptr, src.ptr, values.length);
    return arena.u8(dst).slice();
  } finally {
    arena.release(mark);
  }
}
