/** Models the DynaBERT pipeline makes: a fresh teacher, and copies of a model to train. */
import { parseBertConfig, type BertConfig } from "../checkpoint/config.js";
import { DynaBert } from "../dynabert.js";
import { modelToFiles } from "../model/save.js";
import type { WasmSource } from "../../bindings/index.js";

export interface TeacherShape {
  readonly layers: number;
  readonly hidden: number;
  /** 12 so the paper's widths (12, 9, 6, 3 heads) apply exactly. */
  readonly heads: number;
  readonly intermediate: number;
  readonly maxPositions: number;
}

export function teacherConfig(shape: TeacherShape, vocabSize: number, labels: readonly string[]): BertConfig {
  return parseBertConfig(
    JSON.stringify({
      model_type: "bert",
      architectures: ["BertForSequenceClassification"],
      vocab_size: vocabSize,
      hidden_size: shape.hidden,
      num_hidden_layers: shape.layers,
      num_attention_heads: shape.heads,
      intermediate_size: shape.intermediate,
      max_position_embeddings: shape.maxPositions,
      type_vocab_size: 2,
      hidden_act: "gelu",
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
      layer_norm_eps: 1e-12,
      pad_token_id: 0,
      id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    }),
    "teacher config",
  );
}

/** A BERT-initialised model with a vocabulary, ready to train. */
export async function freshModel(config: BertConfig, vocab: string, seed: number, wasm?: WasmSource): Promise<DynaBert> {
  const random = await DynaBert.random(config, { seed, wasm });
  return copyModel(random, vocab, wasm);
}

/** An independent copy (its own wasm memory), through the HF files a save would write. */
export async function copyModel(model: DynaBert, vocab = model.tokenizerFiles.vocab, wasm?: WasmSource): Promise<DynaBert> {
  const files = modelToFiles(model);
  return DynaBert.load(
    {
      config: files["config.json"] as string,
      weights: files["model.safetensors"] as Uint8Array,
      vocab,
      tokenizerConfig: model.tokenizerFiles.tokenizerConfig,
    },
    { wasm },
  );
}
