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
 *
 * dtype INT8 stores every linear weight (Q, K, V, attention output, FFN
 * intermediate and output, pooler, classifier) and every embedding table as
 * I8 `[rows][cols]` plus `<name>_scale` F32 `[rows]` (symmetric per row, the
 * core's quantize_rows_int8); LayerNorm parameters and biases stay F32. Rows
 * are quantized over all of the source's input columns *before* the columns
 * are cut, so a sliced int8 export holds exactly the prefixes of the full
 * int8 export: it computes what the full int8 model computes at (width,
 * depth), bit for bit. A model loaded from an int8 checkpoint is re-exported
 * from its stored integers, never re-quantized (its embeddings, widened at
 * load, are re-quantized: that gives back the stored rows exactly when their
 * scales came from this quantizer — f32(127·s)/127 rounds back to s — and
 * may move a foreign scale by an ulp).
 */
import type { Core } from "../../bindings/index.js";
import { bertConfigToJson, type BertConfig } from "../checkpoint/config.js";
import { SCALE_SUFFIX } from "../checkpoint/dtypes.js";
import { hfNameFor } from "../checkpoint/names.js";
import { HF_PT_METADATA, writeSafetensors, type SafetensorsTensorInput } from "../checkpoint/safetensors.js";
import type { DynaBert } from "../dynabert.js";
import { OptionError } from "../errors.js";
import { dequantizeRows, quantizeRows, readInt8Rows, type QuantizedRows } from "../model/linear-int8.js";
import type { FolderContents } from "../model/save.js";
import type { Linear, Norm } from "../model/weights.js";
import type { VocabTrim } from "./vocab-trim.js";

/** F32 and F16 store every tensor so; INT8 is the mixed int8 scheme above. */
export type ExportDtype = "F32" | "F16" | "INT8";

export interface SlicedExportOptions {
  readonly width?: number;
  readonly depth?: number;
  /** Storage type (default F32). F16 rounds to nearest even; INT8 as described above. */
  readonly dtype?: ExportDtype;
  /** Keep only these word-embedding rows and write this vocab (see vocab-trim.ts). */
  readonly vocab?: VocabTrim;
}

export interface SlicedExport {
  readonly files: FolderContents;
  readonly config: BertConfig;
  /** Parameters stored (all tensors' elements, int8 scales not counted). */
  readonly parameters: number;
}

/** The sliced checkpoint's files; nothing is written here. */
export function slicedCheckpointFiles(model: DynaBert, options: SlicedExportOptions = {}): SlicedExport {
  const { core, weights } = model.engine;
  const source = model.config;
  const sub = model.subNetwork({ width: options.width, depth: options.depth });
  const dtype = options.dtype ?? "F32";
  const D = source.hiddenSize;
  const A = sub.attentionWidth;
  const I = sub.intermediate;
  const trim = options.vocab;
  const arena = core.arena;

  let wordEmbeddings: Float32Array = arena.f32(weights.wordEmbeddings).slice();
  if (trim) {
    if (source.padTokenId !== null && !trim.newId.has(source.padTokenId)) {
      throw new OptionError("BAD_VOCAB_TRIM", `the trimmed vocab drops pad_token_id ${source.padTokenId}`);
    }
    wordEmbeddings = gatherRows(wordEmbeddings, trim.keptIds, D, source.vocabSize);
  }

  const layout = { classifier: weights.classifier !== undefined };
  const tensors: SafetensorsTensorInput[] = [];
  let parameters = 0;
  /** A tensor stored as floats (biases and LayerNorms always): F16 in an F16 export, else F32. */
  const addFloat = (canonical: string, values: Float32Array, shape: number[]) => {
    const stored = dtype === "F16" ? "F16" : "F32";
    tensors.push({ name: hfNameFor(canonical, layout), dtype: stored, shape, data: encode(core, values, stored) });
    parameters += values.length;
  };
  const addInt8 = (canonical: string, rows: QuantizedRows, shape: number[]) => {
    const name = hfNameFor(canonical, layout);
    tensors.push({ name, dtype: "I8", shape, data: new Uint8Array(rows.q.buffer, rows.q.byteOffset, rows.q.byteLength) });
    tensors.push({ name: `${name}${SCALE_SUFFIX}`, dtype: "F32", shape: [shape[0]], data: bytesOf(rows.scales) });
    parameters += rows.q.length;
  };
  /** A 2-D weight (embedding table) given as f32 rows: quantized per row for INT8. */
  const addTable = (canonical: string, values: Float32Array, rows: number) => {
    if (dtype === "INT8") addInt8(canonical, quantizeRows(core, values, rows, D), [rows, D]);
    else addFloat(canonical, values, [rows, D]);
  };
  /** The first n outputs of `l` over its first k inputs, and their biases. */
  const linear = (prefix: string, l: Linear, n: number, k: number) => {
    const kFull = l.inFeatures;
    if (n > l.outFeatures || k > kFull) throw new RangeError(`${prefix}: slice [${n}][${k}] exceeds [${l.outFeatures}][${kFull}]`);
    if (dtype === "INT8") {
      // Scales over the full rows, then the column cut: the full int8 model's prefixes.
      const rows = l.int8 ? readInt8Rows(core, l, n) : quantizeRows(core, readF32Rows(core, l, n), n, kFull);
      addInt8(`${prefix}.weight`, { q: columns(rows.q, n, kFull, k), scales: rows.scales }, [n, k]);
    } else {
      const rows = l.int8 ? dequantizeRows(core, readInt8Rows(core, l, n), kFull) : readF32Rows(core, l, n);
      addFloat(`${prefix}.weight`, columns(rows, n, kFull, k), [n, k]);
    }
    addFloat(`${prefix}.bias`, arena.f32(l.bias).slice(0, n), [n]);
  };
  const norm = (prefix: string, n: Norm) => {
    addFloat(`${prefix}.weight`, arena.f32(n.gamma).slice(), [D]);
    addFloat(`${prefix}.bias`, arena.f32(n.beta).slice(), [D]);
  };

  const vocabSize = trim ? trim.keptIds.length : source.vocabSize;
  addTable("embeddings.word_embeddings.weight", wordEmbeddings, vocabSize);
  addTable("embeddings.position_embeddings.weight", arena.f32(weights.positionEmbeddings).slice(), source.maxPositionEmbeddings);
  addTable("embeddings.token_type_embeddings.weight", arena.f32(weights.tokenTypeEmbeddings).slice(), source.typeVocabSize);
  norm("embeddings.LayerNorm", weights.embeddingNorm);
  sub.keptLayers.forEach((index, l) => {
    const layer = weights.layers[index];
    // Renumbered: the l-th kept layer is layer l of the export, whatever its index in the source.
    const p = `encoder.layer.${l}.`;
    linear(`${p}attention.self.query`, layer.query, A, D);
    linear(`${p}attention.self.key`, layer.key, A, D);
    linear(`${p}attention.self.value`, layer.value, A, D);
    linear(`${p}attention.output.dense`, layer.attentionOutput, D, A);
    norm(`${p}attention.output.LayerNorm`, layer.attentionNorm);
    linear(`${p}intermediate.dense`, layer.intermediate, I, D);
    linear(`${p}output.dense`, layer.output, D, I);
    norm(`${p}output.LayerNorm`, layer.outputNorm);
  });
  if (weights.pooler) linear("pooler.dense", weights.pooler, D, D);
  if (weights.classifier) linear("classifier", weights.classifier, weights.classifier.outFeatures, D);

  // A table measured on the full model (dynabert eval) says nothing about a
  // slice; a whole-model export (width 1, depth 1) still holds all of those
  // sub-networks, so it keeps the table — measured on the source, which
  // selection only uses to rank them (the record says so).
  const { dynabert_subnetworks: table, dynabert_export: earlier, ...extra } = source.extra;
  const wholeModel = sub.width === 1 && sub.depth === 1;
  if (wholeModel && table !== undefined) extra.dynabert_subnetworks = table;
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
  if (wholeModel && table !== undefined) record.subnetwork_table = "measured on the source model";
  if (earlier !== undefined) record.source_export = earlier;
  const config: BertConfig = {
    ...source,
    vocabSize,
    numHiddenLayers: sub.keptLayers.length,
    numAttentionHeads: sub.heads,
    attentionHeadSize: source.attentionHeadSize,
    intermediateSize: sub.intermediate,
    padTokenId: trim && source.padTokenId !== null ? trim.newId.get(source.padTokenId)! : source.padTokenId,
    // int8 weights are widened or scaled to f32 in the engine: f32 is what it computes in.
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
  return { files, config, parameters };
}

/** The first `rows` rows, all input columns, of an f32 Linear: `[rows][inFeatures]`. */
function readF32Rows(core: Core, layer: Linear, rows: number): Float32Array {
  const { arena, exports } = core;
  const mark = arena.mark();
  try {
    // unpack_weight walks rows in order, so asking for the first rows of the full-k layout gives exactly them.
    const out = arena.alloc("export:unpacked", "f32", [rows, layer.inFeatures]);
    exports.unpack_weight(out.ptr, layer.weight.ptr, rows, layer.inFeatures);
    return arena.f32(out).slice();
  } finally {
    arena.release(mark);
  }
}

/** `[n][k]`: the first k columns of `values` (`[n][kFull]`). */
function columns<T extends Float32Array | Int8Array>(values: T, n: number, kFull: number, k: number): T {
  if (k === kFull) return values;
  const out = new (values.constructor as new (length: number) => T)(n * k);
  for (let j = 0; j < n; j++) out.set(values.subarray(j * kFull, j * kFull + k), j * k);
  return out;
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

function bytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Little-endian bytes of `values` as `dtype` (F16 through the core's round-to-nearest-even converter). */
function encode(core: Core, values: Float32Array, dtype: "F32" | "F16"): Uint8Array {
  if (dtype === "F32") return bytesOf(values);
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
