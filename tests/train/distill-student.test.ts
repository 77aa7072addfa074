// Building and saving the fixed student of a distillation run, the layer
// mapping, and the checks that refuse an impossible run.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseSafetensors } from "../../src/checkpoint/safetensors.js";
import { OptionError } from "../../src/errors.js";
import { listParameters, readRowMajor } from "../../src/model/parameters.js";
import { DynaBert } from "../../src/node.js";
import { loadStudent, studentFiles } from "../../src/train/distill/checkpoint.js";
import { Distiller } from "../../src/train/distill/distiller.js";
import { everyOtherLayer, teacherLayerFor, teacherStateFor } from "../../src/train/distill/mapping.js";
import { PROJECTION_FILE, PROJECTION_WEIGHT, projectionParameters } from "../../src/train/distill/projection.js";
import { distilbertStudent, tinybertStudent } from "../../src/train/distill/student.js";
import { initMlmHead } from "../../src/train/mlm/head.js";
import { SYLLABLES } from "../helpers/synthetic.js";

const ROOT = join(import.meta.dirname, "..", "..");
const H12 = join(ROOT, "tests", "fixtures", "golden", "h12");
const H12_BARE = join(ROOT, "tests", "fixtures", "golden", "h12_bare");
const INPUT = {
  inputIds: [
    [2, 87, 64, 113, 3, 72, 114, 116, 3],
    [2, 89, 7, 63, 3, 0, 0, 0, 0],
  ],
  attentionMask: [
    [1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 0, 0, 0, 0],
  ],
  tokenTypeIds: [
    [0, 0, 0, 0, 0, 1, 1, 1, 1],
    [0, 0, 0, 0, 0, 0, 0, 0, 0],
  ],
};

function parameters(model: DynaBert): Map<string, Float32Array> {
  const { core, weights } = model.engine;
  return new Map(listParameters(weights).map((p) => [p.name, readRowMajor(core, p)]));
}

const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe("layer mapping", () => {
  it("TinyBERT's uniform map: student state j meets teacher state ⌊j·L_t/L_s⌋, attention of layer i meets teacher layer ⌊(i+1)·L_t/L_s⌋ − 1", () => {
    assert.deepEqual([0, 1, 2, 3].map((j) => teacherStateFor(j, 3, 6)), [0, 2, 4, 6]);
    assert.deepEqual([0, 1, 2].map((i) => teacherLayerFor(i, 3, 6)), [1, 3, 5]);
    assert.deepEqual([0, 1, 2, 3, 4].map((j) => teacherStateFor(j, 4, 12)), [0, 3, 6, 9, 12]);
    assert.deepEqual([0, 1, 2, 3].map((i) => teacherLayerFor(i, 4, 12)), [2, 5, 8, 11]);
    // Not a divisor: the last student output still meets the teacher's last.
    assert.deepEqual([0, 1, 2, 3, 4].map((j) => teacherStateFor(j, 4, 6)), [0, 1, 3, 4, 6]);
  });

  it("DistilBERT copies every other layer: 0, 2, 4, …", () => {
    assert.deepEqual(everyOtherLayer(6, 12), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(everyOtherLayer(3, 6), [0, 2, 4]);
    assert.deepEqual(everyOtherLayer(6, 6), [0, 1, 2, 3, 4, 5]);
    assert.throws(() => everyOtherLayer(7, 6), (e: unknown) => e instanceof OptionError && e.option === "--student-layers");
    assert.throws(() => everyOtherLayer(0, 6), OptionError);
  });
});

describe("distilbertStudent", () => {
  it("copies teacher layers 0, 2, 4 and everything around them bit for bit", async () => {
    const teacher = await DynaBert.load(H12);
    const { model, copiedLayers, projection } = await distilbertStudent(teacher, { layers: 3 });
    assert.deepEqual(copiedLayers, [0, 2, 4]);
    assert.equal(projection, undefined, "same hidden size: no projection");
    assert.equal(model.config.numHiddenLayers, 3);
    assert.equal(model.config.hiddenSize, teacher.config.hiddenSize);
    assert.deepEqual(model.config.id2label, teacher.config.id2label);
    const t = parameters(teacher);
    const s = parameters(model);
    assert.equal(s.size, t.size - 3 * 16, "three layers of 16 tensors fewer");
    for (const [name, values] of s) {
      const m = /^encoder\.layer\.(\d+)\.(.*)$/.exec(name);
      const source = m ? `encoder.layer.${copiedLayers![Number(m[1])]}.${m[2]}` : name;
      assert.ok(sameBits(values, t.get(source)!), `${name} is the teacher's ${source}`);
    }
  });

  it("its embeddings and first layer give the teacher's outputs exactly", async () => {
    const teacher = await DynaBert.load(H12);
    const { model } = await distilbertStudent(teacher, { layers: 3 });
    const tOut = teacher.forward(INPUT, { hiddenStates: true }).hiddenStates!;
    const sOut = model.forward(INPUT, { hiddenStates: true }).hiddenStates!;
    const stateSize = 2 * 9 * 48;
    assert.ok(sameBits(sOut.data.subarray(0, stateSize), tOut.data.subarray(0, stateSize)), "embedding output");
    assert.ok(sameBits(sOut.data.subarray(stateSize, 2 * stateSize), tOut.data.subarray(stateSize, 2 * stateSize)), "layer 0 output");
    assert.ok(!sameBits(sOut.data.subarray(2 * stateSize, 3 * stateSize), tOut.data.subarray(2 * stateSize, 3 * stateSize)), "student layer 1 is teacher layer 2, fed layer 0's output");
  });

  it("copies an explicit layer list and the teacher's MLM head; refuses a bad list", async () => {
    const teacher = await DynaBert.load(H12);
    const teacherHead = initMlmHead(teacher.engine.core, teacher.config, 5);
    const { model, head, copiedLayers } = await distilbertStudent(teacher, { layers: 3, copyLayers: [0, 2, 5], teacherHead });
    assert.deepEqual(copiedLayers, [0, 2, 5]);
    assert.ok(sameBits(parameters(model).get("encoder.layer.2.output.dense.weight")!, parameters(teacher).get("encoder.layer.5.output.dense.weight")!));
    assert.ok(head, "the head came along");
    const tDense = readRowMajor(teacher.engine.core, { name: "d", value: teacherHead.transform.weight, packed: true, decay: true });
    const sDense = readRowMajor(model.engine.core, { name: "d", value: head!.transform.weight, packed: true, decay: true });
    assert.ok(sameBits(sDense, tDense));
    await assert.rejects(distilbertStudent(teacher, { layers: 3, copyLayers: [0, 4, 2] }), (e: unknown) => e instanceof OptionError && e.option === "--copy-layers");
    await assert.rejects(distilbertStudent(teacher, { layers: 2, copyLayers: [0, 2, 4] }), OptionError);
  });
});

describe("tinybertStudent", () => {
  it("is a fresh BERT of its own size with W_p [D_t][D_s] (normal(0, 0.02), bias 0)", async () => {
    const teacher = await DynaBert.load(H12);
    const { model, projection } = await tinybertStudent(teacher, { layers: 3, hidden: 36, intermediate: 64, seed: 9 });
    const c = model.config;
    assert.deepEqual([c.numHiddenLayers, c.hiddenSize, c.numAttentionHeads, c.attentionHeadSize, c.intermediateSize], [3, 36, 12, 3, 64]);
    assert.equal(c.vocabSize, teacher.config.vocabSize);
    assert.ok(model.tokenizer, "the teacher's vocabulary");
    assert.ok(model.engine.weights.classifier, "a classifier like the teacher's");
    assert.ok(projection);
    assert.deepEqual(projection.weight.shape, [48, 36]);
    const [w, b] = projectionParameters(projection).map((p) => readRowMajor(model.engine.core, p));
    assert.ok(b.every((x) => x === 0));
    const std = Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length);
    assert.ok(std > 0.017 && std < 0.023, `W_p std ${std}`);
    const again = await tinybertStudent(teacher, { layers: 3, hidden: 36, intermediate: 64, seed: 9 });
    assert.ok(sameBits(parameters(again.model).get("encoder.layer.2.attention.self.query.weight")!, parameters(model).get("encoder.layer.2.attention.self.query.weight")!), "same seed, same student");
  });

  it("has no classifier when the teacher has none, no W_p at the teacher's size, and refuses heads that do not divide the hidden size", async () => {
    const bare = await DynaBert.load(H12_BARE);
    const { model, projection } = await tinybertStudent(bare, { layers: 2, hidden: 48 });
    assert.equal(model.engine.weights.classifier, undefined);
    assert.equal(projection, undefined);
    assert.equal(model.config.intermediateSize, 4 * 48);
    await assert.rejects(tinybertStudent(bare, { layers: 2, hidden: 40 }), (e: unknown) => e instanceof OptionError && /multiple of its 12 attention heads/.test((e as Error).message));
  });

  it("saves as an HF folder plus distill_projection.safetensors, and loads back the same", async () => {
    const teacher = await DynaBert.load(H12);
    const { model, projection } = await tinybertStudent(teacher, { layers: 2, hidden: 24, intermediate: 50 });
    const head = initMlmHead(model.engine.core, model.config, 3);
    const files = studentFiles(model, projection, head);
    assert.deepEqual(Object.keys(files).sort(), ["config.json", "model.safetensors", PROJECTION_FILE, "vocab.txt"].sort());
    const names = [...parseSafetensors(files["model.safetensors"] as Uint8Array).tensors.keys()];
    assert.ok(names.includes("bert.encoder.layer.1.output.dense.weight") && names.includes("cls.predictions.bias"));
    assert.ok(!names.some((n) => n.startsWith("fit_dense")), "W_p is training-only, not in the model file");
    const back = await loadStudent(
      { config: files["config.json"] as string, weights: files["model.safetensors"] as Uint8Array, vocab: files["vocab.txt"] as string },
      files[PROJECTION_FILE] as Uint8Array,
      48,
    );
    assert.deepEqual(back.model.forward(INPUT).logits!.data, model.forward(INPUT).logits!.data);
    assert.ok(back.head && back.projection);
    const read = (m: DynaBert, t: typeof projection) => readRowMajor(m.engine.core, { name: PROJECTION_WEIGHT, value: t!.weight, packed: true, decay: true });
    assert.ok(sameBits(read(back.model, back.projection), read(model, projection)));
    await assert.rejects(
      loadStudent({ config: files["config.json"] as string, weights: files["model.safetensors"] as Uint8Array }, files[PROJECTION_FILE] as Uint8Array, 60),
      (e: unknown) => e instanceof Error && /SHAPE_MISMATCH|shape/.test(String((e as { code?: string }).code) + (e as Error).message),
    );
  });
});

describe("Distiller refuses runs that cannot work", () => {
  const examples = [{ input: `${SYLLABLES[0]} ${SYLLABLES[1]}`, label: 1 }];
  const base = { epochs: 1, batchSize: 1, learningRate: 1e-3 };
  const zero = { ce: 0, soft: 0, hidden: 0, emb: 0, attn: 0, cos: 0, mlm: 0 };

  it("no loss term, attention maps with other head counts, task loss without labels, MLM soft loss without a teacher head", async () => {
    const teacher = await DynaBert.load(H12);
    const { model } = await tinybertStudent(teacher, { layers: 2, hidden: 24, heads: 6 });
    const make = (weights: typeof zero, data: ConstructorParameters<typeof Distiller>[2] = { kind: "examples", examples }, softTarget?: "mlm") =>
      () => new Distiller(model, { model: teacher }, data, { ...base, weights, softTarget });
    assert.throws(make(zero), (e: unknown) => e instanceof OptionError && /at least one loss term/.test((e as Error).message));
    assert.throws(make({ ...zero, attn: 1 }), (e: unknown) => e instanceof OptionError && e.option === "--alpha-attn");
    assert.throws(make({ ...zero, ce: 1 }, { kind: "sequences", sequences: [[2, 7, 3]] }), (e: unknown) => e instanceof OptionError && e.option === "--alpha-ce");
    assert.throws(make({ ...zero, soft: 1 }, undefined, "mlm"), (e: unknown) => e instanceof OptionError && e.option === "--soft-target");
    assert.throws(make({ ...zero, hidden: -1 }), (e: unknown) => e instanceof OptionError && e.option === "--alpha-hidden");
    // A valid one builds W_p (hidden 24 ≠ 48) and no head.
    const ok = new Distiller(model, { model: teacher }, { kind: "examples", examples }, { ...base, weights: { ...zero, hidden: 1 } });
    assert.deepEqual(ok.projection?.weight.shape, [48, 24]);
    assert.equal(ok.head, undefined);
  });
});
