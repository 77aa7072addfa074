import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  bertConfigFromObject,
  checkpointLayout,
  expectedShapes,
  hfNameFor,
  mapHfName,
  parseSafetensors,
  resolveCheckpointTensors,
  writeSafetensors,
  type BertConfig,
  type SafetensorsDtype,
  type SafetensorsTensorInput,
} from "../../src/checkpoint/index.js";
import { CheckpointError } from "../../src/errors.js";

const FILE = "tiny.safetensors";

// Every size distinct so a swapped dimension cannot go unnoticed.
const CONFIG: BertConfig = bertConfigFromObject({
  vocab_size: 11,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 12,
  max_position_embeddings: 16,
  type_vocab_size: 3,
  num_labels: 5,
});

/** A sliced export: 1 of 2 heads kept (heads·head_size = 4 ≠ hidden 8), FFN halved. */
const SLICED: BertConfig = { ...CONFIG, numAttentionHeads: 1, attentionHeadSize: 4, intermediateSize: 6 };

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Deterministic distinct bytes per tensor, so a mix-up between tensors shows. */
function tensorFor(name: string, shape: number[], dtype: SafetensorsDtype = "F32", seed = 0): SafetensorsTensorInput {
  const bytesPer = dtype === "F32" ? 4 : 2;
  const data = new Uint8Array(numel(shape) * bytesPer);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + name.length * 7 + seed) & 0xff;
  return { name, dtype, shape, data };
}

interface BuildOptions {
  config?: BertConfig;
  pooler?: boolean;
  classifier?: boolean;
  /** Rename or drop (null) tensors by HF name. */
  edit?: (name: string) => string | null;
  dtype?: (name: string) => SafetensorsDtype;
  extra?: SafetensorsTensorInput[];
}

function buildCheckpoint(opts: BuildOptions = {}): { bytes: Uint8Array; inputs: Map<string, SafetensorsTensorInput> } {
  const config = opts.config ?? CONFIG;
  const layout = checkpointLayout(config, { pooler: opts.pooler ?? true, classifier: opts.classifier ?? true });
  const inputs = new Map<string, SafetensorsTensorInput>();
  for (const { hfName, shape } of layout) {
    const name = opts.edit ? opts.edit(hfName) : hfName;
    if (name === null) continue;
    inputs.set(name, tensorFor(name, shape, opts.dtype?.(hfName) ?? "F32"));
  }
  for (const t of opts.extra ?? []) inputs.set(t.name, t);
  return { bytes: writeSafetensors([...inputs.values()]), inputs };
}

function resolve(bytes: Uint8Array, config = CONFIG, options = {}) {
  return resolveCheckpointTensors(parseSafetensors(bytes, FILE), config, FILE, options);
}

function rejects(fn: () => unknown, code: string, tensor: string | undefined, ...mentions: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.file, FILE);
    if (tensor !== undefined) {
      assert.equal(e.tensor, tensor);
      assert.ok(e.message.includes(tensor), `message names ${tensor}: ${e.message}`);
    }
    for (const m of mentions) assert.match(e.message, m);
    return true;
  });
}

describe("expectedShapes", () => {
  it("lists every BertForSequenceClassification parameter with its HF shape", () => {
    const s = expectedShapes(CONFIG);
    const D = CONFIG.hiddenSize;
    const A = CONFIG.numAttentionHeads * CONFIG.attentionHeadSize;
    const I = CONFIG.intermediateSize;
    assert.equal(s.size, 5 + 16 * CONFIG.numHiddenLayers + 2 + 2);
    assert.deepEqual(s.get("embeddings.word_embeddings.weight"), [CONFIG.vocabSize, D]);
    assert.deepEqual(s.get("embeddings.position_embeddings.weight"), [CONFIG.maxPositionEmbeddings, D]);
    assert.deepEqual(s.get("embeddings.token_type_embeddings.weight"), [CONFIG.typeVocabSize, D]);
    assert.deepEqual(s.get("embeddings.LayerNorm.bias"), [D]);
    for (let l = 0; l < CONFIG.numHiddenLayers; l++) {
      const p = `encoder.layer.${l}`;
      for (const m of ["query", "key", "value"]) {
        assert.deepEqual(s.get(`${p}.attention.self.${m}.weight`), [A, D]);
        assert.deepEqual(s.get(`${p}.attention.self.${m}.bias`), [A]);
      }
      assert.deepEqual(s.get(`${p}.attention.output.dense.weight`), [D, A]);
      assert.deepEqual(s.get(`${p}.attention.output.dense.bias`), [D]);
      assert.deepEqual(s.get(`${p}.attention.output.LayerNorm.weight`), [D]);
      assert.deepEqual(s.get(`${p}.intermediate.dense.weight`), [I, D]);
      assert.deepEqual(s.get(`${p}.intermediate.dense.bias`), [I]);
      assert.deepEqual(s.get(`${p}.output.dense.weight`), [D, I]);
      assert.deepEqual(s.get(`${p}.output.dense.bias`), [D]);
      assert.deepEqual(s.get(`${p}.output.LayerNorm.bias`), [D]);
    }
    assert.deepEqual(s.get("pooler.dense.weight"), [D, D]);
    assert.deepEqual(s.get("classifier.weight"), [CONFIG.numLabels, D]);
    assert.deepEqual(s.get("classifier.bias"), [CONFIG.numLabels]);
  });

  it("uses heads·head_size, not hidden, for the attention slices of a sliced export", () => {
    const s = expectedShapes(SLICED);
    assert.deepEqual(s.get("encoder.layer.1.attention.self.key.weight"), [4, 8]);
    assert.deepEqual(s.get("encoder.layer.1.attention.output.dense.weight"), [8, 4]);
    assert.deepEqual(s.get("encoder.layer.1.intermediate.dense.weight"), [6, 8]);
    assert.deepEqual(s.get("encoder.layer.1.output.dense.weight"), [8, 6]);
  });
});

describe("mapHfName", () => {
  it("strips the bert. prefix, keeps classifier names, and renames gamma/beta", () => {
    assert.deepEqual(mapHfName("bert.encoder.layer.3.output.dense.weight"), { kind: "parameter", canonical: "encoder.layer.3.output.dense.weight" });
    assert.deepEqual(mapHfName("encoder.layer.3.output.dense.weight"), { kind: "parameter", canonical: "encoder.layer.3.output.dense.weight" });
    assert.deepEqual(mapHfName("classifier.bias"), { kind: "parameter", canonical: "classifier.bias" });
    assert.deepEqual(mapHfName("bert.embeddings.LayerNorm.gamma"), { kind: "parameter", canonical: "embeddings.LayerNorm.weight" });
    assert.deepEqual(mapHfName("encoder.layer.0.attention.output.LayerNorm.beta"), { kind: "parameter", canonical: "encoder.layer.0.attention.output.LayerNorm.bias" });
  });

  it("marks buffers and pre-training heads as ignored", () => {
    assert.deepEqual(mapHfName("bert.embeddings.position_ids"), { kind: "ignored", reason: "buffer" });
    assert.deepEqual(mapHfName("embeddings.token_type_ids"), { kind: "ignored", reason: "buffer" });
    assert.deepEqual(mapHfName("cls.predictions.transform.LayerNorm.gamma"), { kind: "ignored", reason: "pretraining-head" });
    assert.deepEqual(mapHfName("cls.seq_relationship.weight"), { kind: "ignored", reason: "pretraining-head" });
  });

  it("calls everything else unknown", () => {
    for (const name of [
      "bert.classifier.weight",
      "bert.cls.predictions.bias",
      "encoder.layer.01.output.dense.weight",
      "encoder.layer.x.output.dense.weight",
      "encoder.layer.0.output.dense.gamma",
      "pooler.dense.gamma",
      "roberta.embeddings.word_embeddings.weight",
      "embeddings.word_embeddings.weight.extra",
      "",
    ]) {
      assert.deepEqual(mapHfName(name), { kind: "unknown" }, name);
    }
  });

  it("is inverted by hfNameFor for every parameter, with and without a classifier", () => {
    for (const classifier of [true, false]) {
      for (const { canonical, hfName } of checkpointLayout(CONFIG, { pooler: true, classifier })) {
        assert.equal(hfName, hfNameFor(canonical, { classifier }));
        assert.deepEqual(mapHfName(hfName), { kind: "parameter", canonical });
        const prefixed = hfName.startsWith("bert.");
        assert.equal(prefixed, classifier && !canonical.startsWith("classifier."), hfName);
      }
    }
  });
});

describe("resolveCheckpointTensors", () => {
  it("resolves a bert.-prefixed BertForSequenceClassification checkpoint to the right bytes", () => {
    const { bytes, inputs } = buildCheckpoint();
    const r = resolve(bytes);
    assert.equal(r.hasClassifier, true);
    assert.equal(r.hasPooler, true);
    assert.deepEqual([...r.tensors.keys()], [...expectedShapes(CONFIG).keys()], "all parameters, in model order");
    for (const [canonical, tensor] of r.tensors) {
      const source = r.sourceNames.get(canonical)!;
      assert.equal(source, hfNameFor(canonical, { classifier: true }));
      assert.deepEqual([...tensor.data], [...inputs.get(source)!.data], canonical);
    }
  });

  it("resolves a bare BertModel checkpoint, classifier absent", () => {
    const { bytes } = buildCheckpoint({ classifier: false });
    const r = resolve(bytes);
    assert.equal(r.hasClassifier, false);
    assert.equal(r.tensors.has("classifier.weight"), false);
    assert.equal(r.sourceNames.get("embeddings.word_embeddings.weight"), "embeddings.word_embeddings.weight");
    rejects(() => resolve(bytes, CONFIG, { requireClassifier: true }), "TENSOR_MISSING", "classifier.weight", /2 of 2 parameters of the classifier are missing/);
  });

  it("accepts old LayerNorm.gamma/beta names", () => {
    const { bytes } = buildCheckpoint({ edit: (n) => n.replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(/LayerNorm\.bias$/, "LayerNorm.beta") });
    const r = resolve(bytes);
    assert.equal(r.sourceNames.get("encoder.layer.1.output.LayerNorm.weight"), "bert.encoder.layer.1.output.LayerNorm.gamma");
    assert.equal(r.sourceNames.get("embeddings.LayerNorm.bias"), "bert.embeddings.LayerNorm.beta");
  });

  it("skips position_ids and cls.* heads but reports them", () => {
    const { bytes } = buildCheckpoint({
      extra: [
        { name: "bert.embeddings.position_ids", dtype: "I64", shape: [1, 16], data: new Uint8Array(128) },
        tensorFor("cls.predictions.bias", [CONFIG.vocabSize]),
        tensorFor("cls.predictions.transform.dense.weight", [8, 8]),
      ],
    });
    const r = resolve(bytes);
    const ignored = new Map(r.ignored.map((x) => [x.name, x.reason]));
    assert.equal(ignored.get("bert.embeddings.position_ids"), "buffer");
    assert.equal(ignored.get("cls.predictions.bias"), "pretraining-head");
    assert.equal(ignored.get("cls.predictions.transform.dense.weight"), "pretraining-head");
    assert.equal(r.ignored.length, 3);
  });

  it("accepts F16 and BF16 parameters and rejects other dtypes, naming tensor and dtype", () => {
    const { bytes } = buildCheckpoint({ dtype: (n) => (n.includes("query") ? "F16" : n.includes("key") ? "BF16" : "F32") });
    const r = resolve(bytes);
    assert.equal(r.tensors.get("encoder.layer.0.attention.self.query.weight")!.dtype, "F16");
    assert.equal(r.tensors.get("encoder.layer.0.attention.self.key.weight")!.dtype, "BF16");

    const bad = "bert.encoder.layer.1.intermediate.dense.bias";
    const { bytes: withI32 } = buildCheckpoint({
      edit: (n) => (n === bad ? null : n),
      extra: [{ name: bad, dtype: "I32", shape: [CONFIG.intermediateSize], data: new Uint8Array(4 * CONFIG.intermediateSize) }],
    });
    rejects(() => resolve(withI32), "DTYPE_UNSUPPORTED", bad, /stored as I32; parameters must be F32, F16 or BF16/);
  });

  it("rejects an unknown tensor, naming it", () => {
    const { bytes } = buildCheckpoint({ extra: [tensorFor("bert.encoder.layer.0.attention.self.distance_embedding.weight", [4, 4])] });
    rejects(() => resolve(bytes), "TENSOR_UNKNOWN", "bert.encoder.layer.0.attention.self.distance_embedding.weight", /is not a parameter of BertModel/);
  });

  it("rejects layers beyond num_hidden_layers, saying so", () => {
    const { bytes } = buildCheckpoint({ config: { ...CONFIG, numHiddenLayers: 3 } });
    rejects(() => resolve(bytes), "TENSOR_UNKNOWN", undefined, /tensor "bert\.encoder\.layer\.2\.[a-zA-Z.]+" belongs to layer 2, but the config has num_hidden_layers = 2/);
  });

  it("rejects two names for one parameter, naming both", () => {
    const dupes: Array<[string, string]> = [
      ["bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.gamma"],
      ["bert.pooler.dense.bias", "pooler.dense.bias"],
    ];
    for (const [kept, extra] of dupes) {
      const { bytes } = buildCheckpoint({ extra: [tensorFor(extra, [CONFIG.hiddenSize])] });
      const parsed = parseSafetensors(bytes, FILE);
      const names = [...parsed.tensors.keys()];
      const second = names.indexOf(kept) < names.indexOf(extra) ? extra : kept;
      rejects(() => resolveCheckpointTensors(parsed, CONFIG, FILE), "TENSOR_DUPLICATE", second, new RegExp(`"${kept.replace(/\./g, "\\.")}"`), new RegExp(`"${extra.replace(/\./g, "\\.")}"`));
    }
  });

  it("rejects a missing encoder tensor, naming it", () => {
    const gone = "bert.encoder.layer.1.attention.self.value.bias";
    const { bytes } = buildCheckpoint({ edit: (n) => (n === gone ? null : n) });
    rejects(() => resolve(bytes), "TENSOR_MISSING", "encoder.layer.1.attention.self.value.bias", /1 of \d+ parameters of the encoder are missing/);
  });

  it("requires the pooler unless told otherwise, and never accepts half of it", () => {
    const { bytes } = buildCheckpoint({ pooler: false });
    rejects(() => resolve(bytes), "TENSOR_MISSING", "pooler.dense.weight", /of the pooler are missing/);
    assert.equal(resolve(bytes, CONFIG, { requirePooler: false }).hasPooler, false);
    const { bytes: half } = buildCheckpoint({ edit: (n) => (n === "bert.pooler.dense.bias" ? null : n) });
    rejects(() => resolve(half, CONFIG, { requirePooler: false }), "TENSOR_MISSING", "pooler.dense.bias", /1 of 2 parameters of the pooler/);
  });

  it("detects a shape mismatch, naming tensor, expected and actual shapes", () => {
    // A full-width checkpoint against the sliced config: the first mismatch is a query weight.
    const { bytes } = buildCheckpoint();
    rejects(
      () => resolve(bytes, SLICED),
      "SHAPE_MISMATCH",
      "bert.encoder.layer.0.attention.self.query.weight",
      /has shape \[8, 8\] but the config implies \[4, 8\] \(num_attention_heads·attention_head_size × hidden_size\)/,
    );
    // A transposed weight.
    const name = "bert.encoder.layer.1.intermediate.dense.weight";
    const { bytes: transposed } = buildCheckpoint({
      edit: (n) => (n === name ? null : n),
      extra: [tensorFor(name, [CONFIG.hiddenSize, CONFIG.intermediateSize])],
    });
    rejects(() => resolve(transposed), "SHAPE_MISMATCH", name, /shape \[8, 12\] but the config implies \[12, 8\]/);
    // A classifier for another label count.
    rejects(() => resolve(bytes, { ...CONFIG, numLabels: 2 }), "SHAPE_MISMATCH", "classifier.weight", /\[5, 8\] but the config implies \[2, 8\] \(num_labels × hidden_size\)/);
  });

  it("resolves a sliced export written with the sliced config", () => {
    const { bytes } = buildCheckpoint({ config: SLICED });
    const r = resolve(bytes, SLICED);
    assert.deepEqual(r.tensors.get("encoder.layer.0.attention.output.dense.weight")!.shape, [8, 4]);
  });
});
