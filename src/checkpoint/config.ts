/**
 * BERT model configuration: read from and written back to a HuggingFace
 * `config.json`.
 *
 * Sizes that fix tensor shapes (vocab_size, hidden_size, num_hidden_layers,
 * num_attention_heads, intermediate_size, max_position_embeddings,
 * type_vocab_size) are required: guessing bert-base defaults for a missing one
 * would only move the error to a confusing shape mismatch later. Everything
 * else defaults as HF's BertConfig does. Fields this engine does not
 * interpret are kept in `extra` and written back unchanged.
 */
import { ConfigError } from "../errors.js";
import { compareCodePoints } from "./compare.js";

export interface BertConfig {
  /** vocab_size: rows of the word-embedding table. */
  vocabSize: number;
  /** hidden_size (D): width of every hidden state, embedding, LayerNorm and the pooler. */
  hiddenSize: number;
  /** num_hidden_layers (L). */
  numHiddenLayers: number;
  /** num_attention_heads (H). */
  numAttentionHeads: number;
  /**
   * attention_head_size (d_head). HF derives it as hidden/heads; a sliced
   * export records it because there heads·d_head ≠ hidden.
   */
  attentionHeadSize: number;
  /** intermediate_size (I): FFN inner width. */
  intermediateSize: number;
  /** max_position_embeddings: rows of the position-embedding table, the longest sequence. */
  maxPositionEmbeddings: number;
  /** type_vocab_size: rows of the token-type (segment) embedding table. */
  typeVocabSize: number;
  /** layer_norm_eps (HF default 1e-12). */
  layerNormEps: number;
  /** hidden_act: only the exact erf GELU is implemented. */
  hiddenAct: "gelu";
  /** pad_token_id (default 0): the word-embedding row that gets no gradient; null = none. */
  padTokenId: number | null;
  /** Classifier outputs: num_labels, else the size of id2label, else 2 (HF's default). */
  numLabels: number;
  /** id2label, indexed by label id (default "LABEL_i"). */
  id2label: string[];
  /** label2id (default: the inverse of id2label). */
  label2id: Record<string, number>;
  /** hidden_dropout_prob (default 0.1): dropout on embeddings, attention output and FFN output. */
  hiddenDropoutProb: number;
  /** attention_probs_dropout_prob (default 0.1). */
  attentionProbsDropoutProb: number;
  /** classifier_dropout (default null: use hidden_dropout_prob). */
  classifierDropout: number | null;
  /** initializer_range (default 0.02): std of the normal init for new weights (e.g. a fresh classifier). */
  initializerRange: number;
  /** Every config.json field not listed above (architectures, torch_dtype, problem_type, …), kept as read. */
  extra: Record<string, unknown>;
}

/** The config.json keys this module interprets; all others go to `extra`. */
const INTERPRETED_KEYS = new Set([
  "model_type",
  "vocab_size",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "attention_head_size",
  "intermediate_size",
  "max_position_embeddings",
  "type_vocab_size",
  "layer_norm_eps",
  "hidden_act",
  "pad_token_id",
  "num_labels",
  "id2label",
  "label2id",
  "hidden_dropout_prob",
  "attention_probs_dropout_prob",
  "classifier_dropout",
  "initializer_range",
]);

export function parseBertConfig(jsonText: string, fileName = "config.json"): BertConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText);
  } catch (e) {
    throw new ConfigError("CONFIG_JSON", `not valid JSON (${(e as Error).message})`, { file: fileName });
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError("CONFIG_JSON", "must be a JSON object", { file: fileName });
  }
  return bertConfigFromObject(raw as Record<string, unknown>, fileName);
}

/** Validates an already-parsed config.json object. */
export function bertConfigFromObject(raw: Record<string, unknown>, fileName = "config.json"): BertConfig {
  const f = new FieldReader(raw, fileName);

  const modelType = raw.model_type;
  // Configs from before HF recorded model_type (DynaBERT's own releases among them) are BERT.
  if (modelType !== undefined && modelType !== "bert") {
    f.unsupported("model_type", `model_type ${JSON.stringify(modelType)} is not supported: only "bert" models load`);
  }
  if (raw.position_embedding_type !== undefined && raw.position_embedding_type !== "absolute") {
    f.unsupported(
      "position_embedding_type",
      `position_embedding_type ${JSON.stringify(raw.position_embedding_type)} is not supported: only "absolute"`,
    );
  }
  if (raw.is_decoder === true) f.unsupported("is_decoder", "is_decoder = true (causal BERT) is not supported");
  if (raw.add_cross_attention === true) {
    f.unsupported("add_cross_attention", "add_cross_attention = true is not supported");
  }

  const vocabSize = f.positiveInteger("vocab_size");
  const hiddenSize = f.positiveInteger("hidden_size");
  const numHiddenLayers = f.positiveInteger("num_hidden_layers");
  const numAttentionHeads = f.positiveInteger("num_attention_heads");
  const intermediateSize = f.positiveInteger("intermediate_size");
  const maxPositionEmbeddings = f.positiveInteger("max_position_embeddings");
  const typeVocabSize = f.positiveInteger("type_vocab_size");

  let attentionHeadSize: number;
  if (raw.attention_head_size !== undefined) {
    attentionHeadSize = f.positiveInteger("attention_head_size");
  } else {
    if (hiddenSize % numAttentionHeads !== 0) {
      f.invalid(
        "hidden_size",
        `hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numAttentionHeads} (give attention_head_size for a sliced model)`,
      );
    }
    attentionHeadSize = hiddenSize / numAttentionHeads;
  }

  const hiddenAct = raw.hidden_act ?? "gelu";
  if (hiddenAct !== "gelu") {
    f.unsupported("hidden_act", `hidden_act ${JSON.stringify(hiddenAct)} is not supported: only "gelu" (exact erf GELU)`);
  }

  const layerNormEps = f.positiveNumber("layer_norm_eps", 1e-12);
  let padTokenId: number | null = 0;
  if (raw.pad_token_id === null) padTokenId = null;
  else if (raw.pad_token_id !== undefined) padTokenId = f.nonNegativeInteger("pad_token_id");
  if (padTokenId !== null && padTokenId >= vocabSize) {
    f.invalid("pad_token_id", `pad_token_id ${padTokenId} is not below vocab_size ${vocabSize}`);
  }

  const { numLabels, id2label, label2id } = readLabels(raw, f);

  const hiddenDropoutProb = f.probability("hidden_dropout_prob", 0.1);
  const attentionProbsDropoutProb = f.probability("attention_probs_dropout_prob", 0.1);
  const classifierDropout =
    raw.classifier_dropout === undefined || raw.classifier_dropout === null ? null : f.probability("classifier_dropout", 0);
  const initializerRange = f.positiveNumber("initializer_range", 0.02);

  const extra = Object.fromEntries(Object.entries(raw).filter(([key]) => !INTERPRETED_KEYS.has(key)));

  return {
    vocabSize,
    hiddenSize,
    numHiddenLayers,
    numAttentionHeads,
    attentionHeadSize,
    intermediateSize,
    maxPositionEmbeddings,
    typeVocabSize,
    layerNormEps,
    hiddenAct: "gelu",
    padTokenId,
    numLabels,
    id2label,
    label2id,
    hiddenDropoutProb,
    attentionProbsDropoutProb,
    classifierDropout,
    initializerRange,
    extra,
  };
}

function readLabels(
  raw: Record<string, unknown>,
  f: FieldReader,
): { numLabels: number; id2label: string[]; label2id: Record<string, number> } {
  let id2label: string[] | null = null;
  if (raw.id2label !== undefined) {
    const map = raw.id2label;
    if (map === null || typeof map !== "object" || Array.isArray(map)) {
      f.invalid("id2label", "id2label must be an object mapping label ids to names");
    }
    const entries = Object.entries(map as Record<string, unknown>);
    id2label = new Array<string>(entries.length);
    for (const [key, name] of entries) {
      const id = /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : NaN;
      if (!(id < entries.length)) {
        f.invalid("id2label", `id2label key ${JSON.stringify(key)} is not a label id in 0…${entries.length - 1}`);
      }
      if (typeof name !== "string") {
        f.invalid("id2label", `id2label[${key}] must be a string, got ${JSON.stringify(name)}`);
      }
      id2label[id] = name;
    }
  }

  let numLabels: number;
  if (raw.num_labels !== undefined) {
    numLabels = f.positiveInteger("num_labels");
    if (id2label !== null && id2label.length !== numLabels) {
      f.invalid("num_labels", `num_labels ${numLabels} disagrees with id2label, which has ${id2label.length} entries`);
    }
  } else {
    numLabels = id2label?.length ?? 2;
    if (numLabels === 0) f.invalid("id2label", "id2label is empty: a classifier needs at least one label");
  }
  id2label ??= Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`);

  let label2id: Record<string, number>;
  if (raw.label2id !== undefined) {
    const map = raw.label2id;
    if (map === null || typeof map !== "object" || Array.isArray(map)) {
      f.invalid("label2id", "label2id must be an object mapping label names to ids");
    }
    for (const [name, id] of Object.entries(map as Record<string, unknown>)) {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= numLabels) {
        f.invalid("label2id", `label2id[${JSON.stringify(name)}] = ${JSON.stringify(id)} is not a label id in 0…${numLabels - 1}`);
      }
    }
    label2id = Object.fromEntries(Object.entries(map as Record<string, number>));
  } else {
    label2id = Object.fromEntries(id2label.map((name, id) => [name, id]));
  }
  return { numLabels, id2label, label2id };
}

/**
 * HF-compatible config.json text: `extra` passed through, keys sorted and
 * indented as HF's `to_json_string` does. attention_head_size is written only
 * when it differs from hidden/heads (a sliced export), which HF's BertModel
 * cannot load but this engine can.
 */
export function bertConfigToJson(config: BertConfig): string {
  const own: Array<[string, unknown]> = [
    ["model_type", "bert"],
    ["vocab_size", config.vocabSize],
    ["hidden_size", config.hiddenSize],
    ["num_hidden_layers", config.numHiddenLayers],
    ["num_attention_heads", config.numAttentionHeads],
    ["intermediate_size", config.intermediateSize],
    ["max_position_embeddings", config.maxPositionEmbeddings],
    ["type_vocab_size", config.typeVocabSize],
    ["layer_norm_eps", config.layerNormEps],
    ["hidden_act", config.hiddenAct],
    ["pad_token_id", config.padTokenId],
    // Written beside id2label for loaders that predate id2label (DynaBERT's own code reads num_labels).
    ["num_labels", config.numLabels],
    ["id2label", Object.fromEntries(config.id2label.map((name, id) => [String(id), name]))],
    ["label2id", config.label2id],
    ["hidden_dropout_prob", config.hiddenDropoutProb],
    ["attention_probs_dropout_prob", config.attentionProbsDropoutProb],
    ["classifier_dropout", config.classifierDropout],
    ["initializer_range", config.initializerRange],
  ];
  if (config.numAttentionHeads * config.attentionHeadSize !== config.hiddenSize) {
    own.push(["attention_head_size", config.attentionHeadSize]);
  }
  const ownKeys = new Set(own.map(([key]) => key));
  const passed = Object.entries(config.extra).filter(([key]) => !ownKeys.has(key) && !INTERPRETED_KEYS.has(key));
  const sorted = [...own, ...passed].sort(([a], [b]) => compareCodePoints(a, b));
  return `${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`;
}

/** Reads typed fields from the raw object, throwing ConfigError naming the field. */
class FieldReader {
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly file: string,
  ) {}

  invalid(field: string, message: string): never {
    throw new ConfigError("CONFIG_FIELD_INVALID", message, { file: this.file, field });
  }

  unsupported(field: string, message: string): never {
    throw new ConfigError("CONFIG_UNSUPPORTED", message, { file: this.file, field });
  }

  private present(field: string): unknown {
    const value = this.raw[field];
    if (value === undefined) {
      throw new ConfigError("CONFIG_FIELD_MISSING", `${field} is missing`, { file: this.file, field });
    }
    return value;
  }

  positiveInteger(field: string): number {
    const value = this.present(field);
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
      this.invalid(field, `${field} must be a positive integer, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  nonNegativeInteger(field: string): number {
    const value = this.present(field);
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      this.invalid(field, `${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  positiveNumber(field: string, fallback: number): number {
    const value = this.raw[field] ?? fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      this.invalid(field, `${field} must be a positive number, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  probability(field: string, fallback: number): number {
    const value = this.raw[field] ?? fallback;
    if (typeof value !== "number" || !(value >= 0 && value < 1)) {
      this.invalid(field, `${field} must be a probability in [0, 1), got ${JSON.stringify(value)}`);
    }
    return value;
  }
}
