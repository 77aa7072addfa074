// The MLM head's weights: HF's initialisation for a fresh head, and reading
// `cls.predictions.*` from a checkpoint (spellings HF has used, F16, and
// typed errors for a partial or mis-shaped head).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { instantiateCore } from "../../bindings/index.js";
import { parseBertConfig } from "../../src/checkpoint/config.js";
import { parseSafetensors, writeSafetensors, type SafetensorsTensorInput } from "../../src/checkpoint/safetensors.js";
import { readRowMajor } from "../../src/model/parameters.js";
import { initMlmHead, mlmHeadParameters, readMlmHead } from "../../src/train/mlm/head.js";

const ROOT = join(import.meta.dirname, "..", "..");
const config = parseBertConfig(readFileSync(join(ROOT, "tests", "fixtures", "golden", "h12", "config.json"), "utf8"));
const D = config.hiddenSize;
const V = config.vocabSize;
const core = () => instantiateCore(readFileSync(join(ROOT, "build", "release.wasm")));

function f32(name: string, shape: number[], fill: (i: number) => number): SafetensorsTensorInput {
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i));
  return { name, dtype: "F32", shape, data: new Uint8Array(values.buffer) };
}

const fullHead = () => [
  f32("cls.predictions.transform.dense.weight", [D, D], (i) => Math.sin(i)),
  f32("cls.predictions.transform.dense.bias", [D], (i) => i / 100),
  f32("cls.predictions.transform.LayerNorm.weight", [D], (i) => 1 + i / 1000),
  f32("cls.predictions.transform.LayerNorm.bias", [D], (i) => -i / 1000),
  f32("cls.predictions.bias", [V], (i) => i / 10),
];

const parse = (tensors: SafetensorsTensorInput[]) => parseSafetensors(writeSafetensors(tensors), "model.safetensors");

describe("MLM head weights", () => {
  it("a fresh head is HF's init: dense normal(0, initializer_range), LayerNorm 1/0, biases 0; same seed, same head", async () => {
    const c = await core();
    const head = initMlmHead(c, config, 9);
    const values = new Map(mlmHeadParameters(head).map((p) => [p.name, readRowMajor(c, p)]));
    const w = values.get("cls.predictions.transform.dense.weight")!;
    assert.equal(w.length, D * D);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    assert.ok(Math.abs(mean) < 0.002 && Math.abs(std - config.initializerRange) < 0.002, `mean ${mean}, std ${std}`);
    assert.ok(values.get("cls.predictions.transform.LayerNorm.weight")!.every((x) => x === 1));
    for (const name of ["cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.bias", "cls.predictions.bias"]) {
      assert.ok(values.get(name)!.every((x) => x === 0), name);
    }
    assert.equal(values.get("cls.predictions.bias")!.length, V);
    assert.deepEqual(readRowMajor(c, mlmHeadParameters(initMlmHead(c, config, 9))[0]), w);
    assert.notDeepEqual(readRowMajor(c, mlmHeadParameters(initMlmHead(c, config, 10))[0]), w);
  });

  it("reads a stored head exactly, in HF's current and old spellings, and from F16", async () => {
    const c = await core();
    const tensors = fullHead();
    const head = readMlmHead(c, config, parse(tensors), "model.safetensors")!;
    mlmHeadParameters(head).forEach((p, i) => assert.deepEqual(readRowMajor(c, p), new Float32Array(tensors[i].data.slice().buffer), p.name));

    const old = tensors.map((t) => ({
      ...t,
      name: t.name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta").replace("cls.predictions.bias", "cls.predictions.decoder.bias"),
    }));
    const oldHead = readMlmHead(c, config, parse(old), "model.safetensors")!;
    mlmHeadParameters(oldHead).forEach((p, i) => assert.deepEqual(readRowMajor(c, p), new Float32Array(tensors[i].data.slice().buffer), p.name));

    // F16: 0.5-steps are exact in half precision, so the widened values are the stored ones.
    const halves = tensors.map((t) => {
      const n = t.data.byteLength / 4;
      const bits = new Uint16Array(n).fill(0x3800); // 0.5
      return { ...t, dtype: "F16" as const, data: new Uint8Array(bits.buffer) };
    });
    const halfHead = readMlmHead(c, config, parse(halves), "model.safetensors")!;
    for (const p of mlmHeadParameters(halfHead)) assert.ok(readRowMajor(c, p).every((x) => x === 0.5), p.name);
  });

  it("no cls.predictions tensors: no head; a partial or mis-shaped one: a typed error naming the tensor", async () => {
    const c = await core();
    assert.equal(readMlmHead(c, config, parse([f32("bert.pooler.dense.bias", [D], () => 0)]), "m.safetensors"), undefined);
    assert.throws(
      () => readMlmHead(c, config, parse(fullHead().filter((t) => !t.name.endsWith("dense.bias"))), "m.safetensors"),
      (e: Error & { code?: string; tensor?: string }) => e.code === "TENSOR_MISSING" && e.tensor === "cls.predictions.transform.dense.bias",
    );
    const wrong = fullHead().map((t) => (t.name === "cls.predictions.bias" ? f32(t.name, [V - 1], () => 0) : t));
    assert.throws(
      () => readMlmHead(c, config, parse(wrong), "m.safetensors"),
      (e: Error & { code?: string; tensor?: string }) => e.code === "SHAPE_MISMATCH" && e.tensor === "cls.predictions.bias" && /\[119\].*\[120\]/.test(e.message),
    );
    const untied = { ...config, extra: { ...config.extra, tie_word_embeddings: false } };
    assert.throws(() => readMlmHead(c, untied, parse(fullHead()), "m.safetensors"), /untied/);
  });
});
