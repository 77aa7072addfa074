/**
 * The whole BERT graph of one (width, depth) sub-network: inputs, embeddings,
 * the kept encoder layers (plain ONNX or onnxruntime-fused), pooler and
 * classifier, with the engine's semantics (DESIGN.md §2).
 *
 * Inputs: input_ids, attention_mask, token_type_ids — int64 [batch, sequence].
 * Outputs: logits [batch, num_labels] when the checkpoint has a classifier;
 * last_hidden_state [batch, sequence, hidden] on request or when it has none
 * (plus pooler_output [batch, hidden] for a BertModel with a pooler).
 */
import type { BertConfig } from "../../checkpoint/config.js";
import type { SubNetwork } from "../../model/subnetwork.js";
import { CONTRIB_DOMAIN, fusedLayer } from "./encoder-fused.js";
import { layerNorm, plainLayer } from "./encoder-plain.js";
import { GraphBuilder } from "./graph-builder.js";
import { attr, DataType, type OnnxModel, type OnnxValueInfo } from "./onnx-proto.js";
import type { LinearSlice, SubNetworkWeights } from "./sliced-weights.js";

/** ONNX opset 17 (the first with LayerNormalization) goes with IR version 8. */
export const OPSET = 17;
const IR_VERSION = 8;
/** Masked keys get this added to their score (DESIGN.md §2; onnxruntime's Attention default too). */
const MASK_VALUE = -10000;

export interface BertGraphOptions {
  /** onnxruntime contrib ops (Attention, SkipLayerNormalization, BiasGelu) instead of plain ONNX. */
  readonly fused?: boolean;
  /** Also output last_hidden_state. */
  readonly lastHiddenState?: boolean;
}

export function buildBertGraph(config: BertConfig, sub: SubNetwork, weights: SubNetworkWeights, options: BertGraphOptions = {}): OnnxModel {
  const g = new GraphBuilder();
  const D = config.hiddenSize;
  const eps = config.layerNormEps;
  const batchSeq = ["batch", "sequence"];
  const inputs: OnnxValueInfo[] = ["input_ids", "attention_mask", "token_type_ids"].map((name) => ({
    name: g.claim(name),
    elemType: DataType.INT64,
    dims: batchSeq,
  }));

  // Embeddings: (word[id] + type[type id]) + position[s], s = 0 … seq−1, then LayerNorm.
  const wordTable = g.weight("embeddings.word_embeddings.weight", weights.wordEmbeddings, [config.vocabSize, D]);
  const posTable = g.weight("embeddings.position_embeddings.weight", weights.positionEmbeddings, [config.maxPositionEmbeddings, D]);
  const typeTable = g.weight("embeddings.token_type_embeddings.weight", weights.tokenTypeEmbeddings, [config.typeVocabSize, D]);
  const word = g.op("Gather", [wordTable, "input_ids"], undefined, { name: "embeddings.word" });
  const type = g.op("Gather", [typeTable, "token_type_ids"], undefined, { name: "embeddings.token_type" });
  const seqLen = g.op("Gather", [g.op("Shape", ["input_ids"], undefined, { name: "input_shape" }), g.int64([1], true)], undefined, { name: "sequence_length" });
  const positionIds = g.op("Range", [g.int64([0], true), seqLen, g.int64([1], true)], undefined, { name: "position_ids" });
  const position = g.op("Gather", [posTable, positionIds], undefined, { name: "embeddings.position" }); // [S, D], broadcast over batch
  const summed = g.op("Add", [g.op("Add", [word, type], undefined, { name: "embeddings.word_type" }), position], undefined, { name: "embeddings.sum" });
  let x = layerNorm(g, summed, weights.embeddingNorm, "embeddings.LayerNorm", eps); // [B, S, D]

  if (options.fused) {
    const maskIndex = g.op("Cast", ["attention_mask"], { to: attr.int(DataType.INT32) }, { name: "attention_mask_int32" });
    for (const layer of weights.layers) x = fusedLayer(g, x, layer, { heads: sub.heads, maskIndex, eps });
  } else {
    const maskFloat = g.op("Cast", ["attention_mask"], { to: attr.int(DataType.FLOAT) }, { name: "attention_mask_float" });
    const mask4d = g.op("Unsqueeze", [maskFloat, g.int64([1, 2])], undefined, { name: "attention_mask_4d" }); // [B, 1, 1, S]
    const inverted = g.op("Sub", [g.float(1), mask4d], undefined, { name: "attention_mask_inverted" });
    const maskAdd = g.op("Mul", [inverted, g.float(MASK_VALUE)], undefined, { name: "attention_mask_additive" });
    for (const layer of weights.layers) x = plainLayer(g, x, layer, { heads: sub.heads, headSize: config.attentionHeadSize, maskAdd, eps });
  }

  const outputs: OnnxValueInfo[] = [];
  const publish = (value: string, name: string, dims: (number | string)[]) => {
    g.output(value, name);
    outputs.push({ name, elemType: DataType.FLOAT, dims });
  };

  let pooled: string | undefined;
  if (weights.pooler) {
    // The [CLS] (first) position of each sequence.
    const first = g.op("Gather", [x, g.int64([0], true)], { axis: attr.int(1) }, { name: "pooler.first_token" }); // [B, D]
    pooled = g.op("Tanh", [gemm(g, first, weights.pooler, "pooler.dense")], undefined, { name: "pooler" });
  }
  if (weights.classifier && pooled) {
    publish(gemm(g, pooled, weights.classifier, "classifier"), "logits", ["batch", config.numLabels]);
  }
  if (options.lastHiddenState || !weights.classifier) publish(x, "last_hidden_state", [...batchSeq, D]);
  if (!weights.classifier && pooled) publish(pooled, "pooler_output", ["batch", D]);

  return {
    irVersion: IR_VERSION,
    opsets: options.fused ? [{ domain: "", version: OPSET }, { domain: CONTRIB_DOMAIN, version: 1 }] : [{ domain: "", version: OPSET }],
    producerName: "dynabert",
    docString: `DynaBERT sub-network: width ${sub.width}, depth ${sub.depth} (${sub.heads} heads, ${sub.intermediate} FFN neurons, layers ${sub.keptLayers.join(",")})`,
    metadata: {
      "dynabert.width": String(sub.width),
      "dynabert.depth": String(sub.depth),
      "dynabert.heads": String(sub.heads),
      "dynabert.intermediate": String(sub.intermediate),
      "dynabert.kept_layers": JSON.stringify(sub.keptLayers),
      "dynabert.graph": options.fused ? "onnxruntime-fused" : "plain",
      id2label: JSON.stringify(Object.fromEntries(config.id2label.map((label, i) => [String(i), label]))),
    },
    graph: { name: "dynabert", nodes: g.nodes, initializers: g.initializers, inputs, outputs },
  };
}

/** `inp [B, in] · Wᵀ + b` with W kept in HF's `[out][in]` layout (transB). */
function gemm(g: GraphBuilder, inp: string, l: LinearSlice, param: string): string {
  const w = g.weight(`${param}.weight`, l.weight, [l.outFeatures, l.inFeatures]);
  const b = g.weight(`${param}.bias`, l.bias, [l.outFeatures]);
  return g.op("Gemm", [inp, w, b], { transB: attr.int(1) }, { name: param });
}
