// Bad int8 checkpoints are refused with a CheckpointError naming the tensor at
// fault, and an int8 model refuses everything but inference (training,
// importance, saving, ONNX export) with a typed error instead of reading its
// int8 panels as f32.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { HF_PT_METADATA, mapHfName, parseSafetensors, writeSafetensors, type SafetensorsTensorInput } from "../../src/checkpoint/index.js";
import { CheckpointError } from "../../src/errors.js";
import { buildOnnxModel, checkpointSource } from "../../src/export/onnx/index.js";
import { slicedCheckpointFiles } from "../../src/export/sliced.js";
import { modelToFiles } from "../../src/model/save.js";
import { DynaBert, readBundledWasm } from "../../src/node.js";
import { computeImportance } from "../../src/rewire/importance.js";
import { Trainer } from "../../src/train/trainer.js";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "golden", "h6odd");
const QUERY = "bert.encoder.layer.1.attention.self.query.weight";
const WORDS = "bert.embeddings.word_embeddings.weight";

let wasm: Uint8Array;
let config: string;
let vocab: string;
let tensors: Map<string, SafetensorsTensorInput>;
before(async () => {
  wasm = await readBundledWasm();
  const model = await DynaBert.load(FIXTURE, { wasm });
  const files = slicedCheckpointFiles(model, { dtype: "INT8" }).files;
  config = files["config.json"] as string;
  vocab = files["vocab.txt"] as string;
  tensors = new Map([...parseSafetensors(files["model.safetensors"] as Uint8Array).tensors].map(([name, t]) => [name, { name, ...t }]));
});

/** The int8 export with some tensors replaced (undefined: removed) or added. */
function edited(changes: Record<string, SafetensorsTensorInput | undefined>): Uint8Array {
  const out = new Map(tensors);
  for (const [name, t] of Object.entries(changes)) {
    if (t === undefined) out.delete(name);
    else out.set(name, t);
  }
  return writeSafetensors([...out.values()], HF_PT_METADATA);
}

function f32Tensor(name: string, values: number[]): SafetensorsTensorInput {
  const data = new Float32Array(values);
  return { name, dtype: "F32", shape: [values.length], data: new Uint8Array(data.buffer) };
}

async function rejectsWith(weights: Uint8Array, code: string, tensor: string, message: RegExp) {
  await assert.rejects(DynaBert.load({ config, weights, vocab }, { wasm }), (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `not a CheckpointError: ${e}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.tensor, tensor, e.message);
    assert.match(e.message, message);
    assert.ok(e.message.includes(tensor), `message does not name ${tensor}: ${e.message}`);
    return true;
  });
}

describe("int8 scale names", () => {
  it("map `<weight>_scale` to the weight's canonical name, with or without bert., and nothing else", () => {
    assert.deepEqual(mapHfName("bert.encoder.layer.3.output.dense.weight_scale"), { kind: "scale", canonical: "encoder.layer.3.output.dense.weight" });
    assert.deepEqual(mapHfName("embeddings.word_embeddings.weight_scale"), { kind: "scale", canonical: "embeddings.word_embeddings.weight" });
    assert.deepEqual(mapHfName("classifier.weight_scale"), { kind: "scale", canonical: "classifier.weight" });
    for (const name of ["bert.encoder.layer.0.output.dense.bias_scale", "bert.encoder.layer.0.output.dense.weight_scales", "cls.predictions.decoder.weight_scale"]) {
      assert.deepEqual(mapHfName(name), { kind: "unknown" }, name);
    }
  });
});

describe("bad int8 checkpoints", () => {
  it("loads the unedited export (the cases below fail for their one edit)", async () => {
    await DynaBert.load({ config, weights: edited({}), vocab }, { wasm });
  });

  it("an I8 weight without its scale", async () => {
    await rejectsWith(edited({ [`${QUERY}_scale`]: undefined }), "TENSOR_MISSING", QUERY, /stored as I8 but its per-row scales .*_scale.* are missing/);
    await rejectsWith(edited({ [`${WORDS}_scale`]: undefined }), "TENSOR_MISSING", WORDS, /missing/);
  });

  it("a scale of the wrong shape, dtype, or with a negative, NaN or infinite entry", async () => {
    const rows = tensors.get(QUERY)!.shape[0];
    const scale = `${QUERY}_scale`;
    const good = Array.from(new Float32Array(tensors.get(scale)!.data.slice().buffer));
    await rejectsWith(edited({ [scale]: f32Tensor(scale, good.slice(1)) }), "SHAPE_MISMATCH", scale, new RegExp(`must be \\[${rows}\\]`));
    const half = { name: scale, dtype: "F16" as const, shape: [rows], data: new Uint8Array(2 * rows) };
    await rejectsWith(edited({ [scale]: half }), "DTYPE_UNSUPPORTED", scale, /int8 scales must be F32/);
    for (const bad of [-0.5, NaN, Infinity]) {
      const values = [...good];
      values[2] = bad;
      await rejectsWith(edited({ [scale]: f32Tensor(scale, values) }), "SCALE_INVALID", scale, /\[2\] is .*finite and ≥ 0/);
    }
  });

  it("I8 where only floats may be (a bias, a LayerNorm weight)", async () => {
    const bias = "bert.encoder.layer.0.intermediate.dense.bias";
    const n = tensors.get(bias)!.shape[0];
    await rejectsWith(edited({ [bias]: { name: bias, dtype: "I8", shape: [n], data: new Uint8Array(n) } }), "DTYPE_UNSUPPORTED", bias, /stored as I8.*only for linear and embedding weights/);
    const gamma = "bert.embeddings.LayerNorm.weight";
    const d = tensors.get(gamma)!.shape[0];
    await rejectsWith(
      edited({ [gamma]: { name: gamma, dtype: "I8", shape: [d], data: new Uint8Array(d) }, [`${gamma}_scale`]: f32Tensor(`${gamma}_scale`, [1]) }),
      "DTYPE_UNSUPPORTED",
      gamma,
      /stored as I8/,
    );
  });

  it("a scale whose weight is stored as floats, or that belongs to no weight", async () => {
    const weight = tensors.get(QUERY)!;
    const [n, k] = weight.shape;
    const floats = { name: QUERY, dtype: "F32" as const, shape: [n, k], data: new Uint8Array(4 * n * k) };
    await rejectsWith(edited({ [QUERY]: floats }), "TENSOR_UNKNOWN", `${QUERY}_scale`, /holds scales for an I8 weight, but .* is stored as F32/);
    const stray = "bert.encoder.layer.0.attention.self.rotary.weight_scale";
    await rejectsWith(edited({ [stray]: f32Tensor(stray, [1]) }), "TENSOR_UNKNOWN", stray, /not a parameter/);
  });
});

describe("an int8 model is for inference only", () => {
  let model: DynaBert;
  const expectInferenceOnly = (e: unknown) => e instanceof CheckpointError && e.code === "INT8_INFERENCE_ONLY" && /int8 checkpoints are for inference only/.test(e.message) && /\.weight/.test(e.tensor ?? "");
  before(async () => {
    model = await DynaBert.load({ config, weights: edited({}), vocab }, { wasm });
  });

  it("classifies", () => {
    const [result] = model.classify("baba zu");
    assert.ok(result.score > 0 && result.score <= 1);
  });

  it("refuses to train", () => {
    const train = [{ input: "baba zu", label: 1 }, { input: "fa fe", label: 0 }];
    assert.throws(() => new Trainer(model, train, { phase: "finetune", widths: [1], depths: [1], epochs: 1, batchSize: 2, learningRate: 1e-4, maxLength: 16, seed: 1 }), expectInferenceOnly);
  });

  it("refuses to compute importance, save as f32, or export to ONNX", async () => {
    const batch = { ...model.tokenize(["baba zu"]), labels: [1] };
    assert.throws(() => computeImportance(model, [batch]), expectInferenceOnly);
    assert.throws(() => modelToFiles(model), expectInferenceOnly);
    const source = await checkpointSource({ config, weights: edited({}), vocab }, wasm);
    assert.throws(() => buildOnnxModel(source), expectInferenceOnly);
  });
});
