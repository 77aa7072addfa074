/** Model shapes for benchmarks, as HF config.json would give them. */
import type { BertConfig } from "../checkpoint/config.js";
import { parseBertConfig } from "../checkpoint/config.js";

const SHAPES = {
  /** BERT-base: 12 × 768, 12 heads, FFN 3072, vocab 30522 (22.35 GFLOP at 1 × 128). */
  "bert-base": { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072 },
  /** Google's BERT-small (L=4, H=512). */
  "bert-small": { hidden_size: 512, num_hidden_layers: 4, num_attention_heads: 8, intermediate_size: 2048 },
  /** Google's BERT-tiny (L=2, H=128). */
  "bert-tiny": { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 512 },
} as const;

export type PresetName = keyof typeof SHAPES;
export const PRESET_NAMES = Object.keys(SHAPES) as PresetName[];

export function presetConfig(name: PresetName, numLabels = 2): BertConfig {
  const shape = SHAPES[name];
  return parseBertConfig(
    JSON.stringify({
      model_type: "bert",
      architectures: ["BertForSequenceClassification"],
      vocab_size: 30522,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      hidden_act: "gelu",
      layer_norm_eps: 1e-12,
      num_labels: numLabels,
      ...shape,
    }),
    `preset ${name}`,
  );
}
