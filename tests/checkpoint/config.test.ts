import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bertConfigToJson, parseBertConfig } from "../../src/checkpoint/index.js";
import { ConfigError } from "../../src/errors.js";

/** A config.json as transformers 4.x writes it for BertForSequenceClassification. */
const HF_CONFIG = {
  _name_or_path: "bert-base-uncased",
  architectures: ["BertForSequenceClassification"],
  attention_probs_dropout_prob: 0.1,
  classifier_dropout: null,
  gradient_checkpointing: false,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  id2label: { "0": "NEGATIVE", "1": "POSITIVE" },
  initializer_range: 0.02,
  intermediate_size: 3072,
  label2id: { NEGATIVE: 0, POSITIVE: 1 },
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: "bert",
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  position_embedding_type: "absolute",
  problem_type: "single_label_classification",
  torch_dtype: "float32",
  transformers_version: "4.40.0",
  type_vocab_size: 2,
  use_cache: true,
  vocab_size: 30522,
};

/** The smallest config that parses: just the sizes. */
const SIZES = {
  vocab_size: 100,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 32,
  type_vocab_size: 2,
};

const parse = (obj: unknown, file?: string) => parseBertConfig(JSON.stringify(obj), file);

function throwsConfig(fn: () => unknown, code: string, field: string | undefined, ...mentions: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.field, field);
    for (const m of mentions) assert.match(e.message, m);
    return true;
  });
}

describe("parseBertConfig", () => {
  it("reads every field of an HF BertForSequenceClassification config", () => {
    const c = parse(HF_CONFIG);
    assert.equal(c.vocabSize, 30522);
    assert.equal(c.hiddenSize, 768);
    assert.equal(c.numHiddenLayers, 12);
    assert.equal(c.numAttentionHeads, 12);
    assert.equal(c.attentionHeadSize, 64);
    assert.equal(c.intermediateSize, 3072);
    assert.equal(c.maxPositionEmbeddings, 512);
    assert.equal(c.typeVocabSize, 2);
    assert.equal(c.layerNormEps, 1e-12);
    assert.equal(c.hiddenAct, "gelu");
    assert.equal(c.padTokenId, 0);
    assert.equal(c.numLabels, 2);
    assert.deepEqual(c.id2label, ["NEGATIVE", "POSITIVE"]);
    assert.deepEqual(c.label2id, { NEGATIVE: 0, POSITIVE: 1 });
    assert.equal(c.classifierDropout, null);
    assert.equal(c.initializerRange, 0.02);
    assert.deepEqual(c.extra.architectures, ["BertForSequenceClassification"]);
    assert.equal(c.extra.problem_type, "single_label_classification");
    assert.equal(c.extra.hidden_size, undefined, "interpreted fields are not duplicated in extra");
  });

  it("applies HF's defaults for optional fields", () => {
    const c = parse(SIZES);
    assert.equal(c.layerNormEps, 1e-12);
    assert.equal(c.padTokenId, 0);
    assert.equal(c.numLabels, 2);
    assert.deepEqual(c.id2label, ["LABEL_0", "LABEL_1"]);
    assert.deepEqual(c.label2id, { LABEL_0: 0, LABEL_1: 1 });
    assert.equal(c.hiddenDropoutProb, 0.1);
    assert.equal(c.attentionProbsDropoutProb, 0.1);
    assert.equal(c.attentionHeadSize, SIZES.hidden_size / SIZES.num_attention_heads);
    assert.deepEqual(c.extra, {});
  });

  it("takes the label count from num_labels, else from id2label", () => {
    const fromNum = parse({ ...SIZES, num_labels: 3 });
    assert.equal(fromNum.numLabels, 3);
    assert.deepEqual(fromNum.id2label, ["LABEL_0", "LABEL_1", "LABEL_2"]);
    const fromMap = parse({ ...SIZES, id2label: { "2": "c", "0": "a", "1": "b" } });
    assert.equal(fromMap.numLabels, 3);
    assert.deepEqual(fromMap.id2label, ["a", "b", "c"]);
    assert.deepEqual(fromMap.label2id, { a: 0, b: 1, c: 2 });
    const one = parse({ ...SIZES, num_labels: 1 });
    assert.equal(one.numLabels, 1);
  });

  it("accepts configs without model_type (pre-2020 BERT configs) and a null pad_token_id", () => {
    assert.equal(parse({ ...SIZES }).hiddenSize, 8);
    assert.equal(parse({ ...SIZES, pad_token_id: null }).padTokenId, null);
  });

  it("records attention_head_size for sliced models where heads·head_size ≠ hidden", () => {
    const c = parse({ ...SIZES, num_attention_heads: 1, attention_head_size: 4 });
    assert.equal(c.attentionHeadSize, 4);
    assert.equal(c.numAttentionHeads * c.attentionHeadSize, 4);
  });

  it("rejects JSON that is not an object, naming the file", () => {
    throwsConfig(() => parseBertConfig("{", "my/config.json"), "CONFIG_JSON", undefined, /^my\/config\.json: not valid JSON/);
    throwsConfig(() => parseBertConfig("[1,2]"), "CONFIG_JSON", undefined, /^config\.json: must be a JSON object/);
    throwsConfig(() => parseBertConfig("null"), "CONFIG_JSON", undefined, /JSON object/);
  });

  it("requires every size that fixes a tensor shape", () => {
    for (const field of Object.keys(SIZES)) {
      const partial: Record<string, unknown> = { ...SIZES };
      delete partial[field];
      throwsConfig(() => parse(partial), "CONFIG_FIELD_MISSING", field, new RegExp(`^config\\.json: ${field} is missing`));
    }
  });

  it("rejects sizes that are not positive integers, quoting the value", () => {
    for (const bad of [0, -3, 2.5, "768", null, true]) {
      throwsConfig(
        () => parse({ ...SIZES, hidden_size: bad }),
        "CONFIG_FIELD_INVALID",
        "hidden_size",
        new RegExp(`hidden_size must be a positive integer, got ${JSON.stringify(bad).replace(/[.]/g, "\\.")}`),
      );
    }
  });

  it("rejects hidden_size not divisible by the head count unless attention_head_size is given", () => {
    throwsConfig(
      () => parse({ ...SIZES, hidden_size: 10, num_attention_heads: 4 }),
      "CONFIG_FIELD_INVALID",
      "hidden_size",
      /hidden_size 10 is not a multiple of num_attention_heads 4/,
    );
    assert.equal(parse({ ...SIZES, hidden_size: 10, num_attention_heads: 4, attention_head_size: 2 }).attentionHeadSize, 2);
  });

  it("refuses activations, model types and attention variants it does not implement", () => {
    throwsConfig(() => parse({ ...SIZES, hidden_act: "relu" }), "CONFIG_UNSUPPORTED", "hidden_act", /"relu"/);
    throwsConfig(() => parse({ ...SIZES, hidden_act: "gelu_new" }), "CONFIG_UNSUPPORTED", "hidden_act", /"gelu_new"/);
    throwsConfig(() => parse({ ...SIZES, model_type: "roberta" }), "CONFIG_UNSUPPORTED", "model_type", /"roberta"/);
    throwsConfig(
      () => parse({ ...SIZES, position_embedding_type: "relative_key" }),
      "CONFIG_UNSUPPORTED",
      "position_embedding_type",
      /relative_key/,
    );
    throwsConfig(() => parse({ ...SIZES, is_decoder: true }), "CONFIG_UNSUPPORTED", "is_decoder");
  });

  it("rejects inconsistent or malformed labels", () => {
    throwsConfig(
      () => parse({ ...SIZES, num_labels: 3, id2label: { "0": "a", "1": "b" } }),
      "CONFIG_FIELD_INVALID",
      "num_labels",
      /num_labels 3 disagrees with id2label, which has 2 entries/,
    );
    throwsConfig(() => parse({ ...SIZES, id2label: { "0": "a", "2": "b" } }), "CONFIG_FIELD_INVALID", "id2label", /"2"/);
    throwsConfig(() => parse({ ...SIZES, id2label: { x: "a" } }), "CONFIG_FIELD_INVALID", "id2label", /"x"/);
    throwsConfig(() => parse({ ...SIZES, id2label: { "0": 5 } }), "CONFIG_FIELD_INVALID", "id2label");
    throwsConfig(() => parse({ ...SIZES, id2label: {} }), "CONFIG_FIELD_INVALID", "id2label", /empty/);
    throwsConfig(() => parse({ ...SIZES, label2id: { a: 7 } }), "CONFIG_FIELD_INVALID", "label2id", /"a"/);
    throwsConfig(() => parse({ ...SIZES, num_labels: 0 }), "CONFIG_FIELD_INVALID", "num_labels");
  });

  it("rejects impossible optional values", () => {
    throwsConfig(() => parse({ ...SIZES, pad_token_id: 100 }), "CONFIG_FIELD_INVALID", "pad_token_id", /not below vocab_size 100/);
    throwsConfig(() => parse({ ...SIZES, pad_token_id: -1 }), "CONFIG_FIELD_INVALID", "pad_token_id");
    throwsConfig(() => parse({ ...SIZES, layer_norm_eps: 0 }), "CONFIG_FIELD_INVALID", "layer_norm_eps");
    throwsConfig(() => parse({ ...SIZES, hidden_dropout_prob: 1 }), "CONFIG_FIELD_INVALID", "hidden_dropout_prob");
  });
});

describe("bertConfigToJson", () => {
  it("round-trips through parseBertConfig, unknown fields included", () => {
    const c = parse(HF_CONFIG);
    const again = parseBertConfig(bertConfigToJson(c));
    assert.deepEqual(again, c);
  });

  it("writes HF key names, sorted, two-space indented, with a trailing newline", () => {
    const text = bertConfigToJson(parse(HF_CONFIG));
    assert.ok(text.endsWith("}\n"));
    const obj = JSON.parse(text) as Record<string, unknown>;
    const keys = Object.keys(obj);
    assert.deepEqual(keys, [...keys].sort());
    assert.match(text, /\n {2}"architectures": \[/);
    assert.equal(obj.model_type, "bert");
    assert.equal(obj.hidden_size, 768);
    assert.deepEqual(obj.id2label, { "0": "NEGATIVE", "1": "POSITIVE" });
    assert.equal(obj.num_labels, 2);
    assert.equal(obj.transformers_version, "4.40.0");
    assert.equal("attention_head_size" in obj, false, "not written when it equals hidden/heads");
  });

  it("writes attention_head_size and the sliced sizes of a sliced export", () => {
    const c = parse(HF_CONFIG);
    const sliced = { ...c, numAttentionHeads: 6, intermediateSize: 1536, numHiddenLayers: 6 };
    const obj = JSON.parse(bertConfigToJson(sliced)) as Record<string, unknown>;
    assert.equal(obj.attention_head_size, 64);
    assert.equal(obj.num_attention_heads, 6);
    assert.equal(obj.intermediate_size, 1536);
    assert.equal(obj.num_hidden_layers, 6);
    assert.deepEqual(parseBertConfig(bertConfigToJson(sliced)), sliced);
  });

  it("keeps a __proto__ key in extra as plain data", () => {
    const c = parseBertConfig(`{"vocab_size":100,"hidden_size":8,"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":16,"max_position_embeddings":32,"type_vocab_size":2,"__proto__":{"x":1}}`);
    assert.deepEqual(Object.getOwnPropertyDescriptor(c.extra, "__proto__")?.value, { x: 1 });
    const obj = JSON.parse(bertConfigToJson(c)) as Record<string, unknown>;
    assert.deepEqual(Object.getOwnPropertyDescriptor(obj, "__proto__")?.value, { x: 1 });
  });
});
