// The distillation loop: it lowers the distillation loss (TinyBERT's
// intermediate-layer recipe on labelled text, DistilBERT's on a corpus), and a
// run saved mid-way and resumed from its files ends bit-identical to one that
// never stopped — student, W_p and MLM head alike.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DynaBert } from "../../src/node.js";
import { checkBatch, type CheckedBatch } from "../../src/model/inputs.js";
import { readRowMajor } from "../../src/model/parameters.js";
import { OPTIMIZER_FILE, TRAINER_STATE_FILE } from "../../src/train/checkpoint.js";
import { encodeExamples, parseLabelledJsonl, type Example } from "../../src/train/data.js";
import { distillCheckpointFiles, loadStudent, parseDistillSnapshot } from "../../src/train/distill/checkpoint.js";
import { Distiller, type DistillData, type DistillOptions } from "../../src/train/distill/distiller.js";
import type { DistillWeights } from "../../src/train/distill/objective.js";
import { PROJECTION_FILE } from "../../src/train/distill/projection.js";
import { distillStep } from "../../src/train/distill/step.js";
import { distilbertStudent, tinybertStudent } from "../../src/train/distill/student.js";
import { initMlmHead } from "../../src/train/mlm/head.js";
import { maskTokens } from "../../src/train/mlm/masking.js";
import { syntheticExamples } from "../helpers/synthetic.js";

const ROOT = join(import.meta.dirname, "..", "..");
const H12 = join(ROOT, "tests", "fixtures", "golden", "h12");
const ZERO: DistillWeights = { ce: 0, soft: 0, hidden: 0, emb: 0, attn: 0, cos: 0, mlm: 0 };

function examplesFor(model: DynaBert, count: number, seed: number): Example[] {
  return parseLabelledJsonl(syntheticExamples(count, seed).map((r) => JSON.stringify(r)).join("\n"), "synthetic.jsonl", model.config);
}

/** The weighted distillation loss of the current student on one fixed batch (no dropout; gradients discarded). */
function lossOn(d: Distiller, batch: CheckedBatch, labels: Int32Array, mlmLabels?: Int32Array): number {
  const losses = distillStep(d.student, d.params, d.teacher, { batch, labels, mlmLabels }, { weights: d.options.weights, temperature: d.options.temperature, softTarget: d.options.softTarget });
  d.params.zeroGrads();
  return losses.total;
}

function trainedValues(d: Distiller): Float32Array[] {
  return d.params.list.map((p) => readRowMajor(d.student.engine.core, p));
}

describe("Distiller", () => {
  it("TinyBERT's intermediate-layer distillation (hidden, embeddings, attention through W_p) lowers the loss on held-out text", async () => {
    const teacher = await DynaBert.load(H12);
    const { model, projection } = await tinybertStudent(teacher, { layers: 2, hidden: 24, intermediate: 48, seed: 1 });
    const train = examplesFor(model, 96, 11);
    const held = examplesFor(model, 16, 12);
    const options: DistillOptions = { weights: { ...ZERO, hidden: 1, emb: 1, attn: 1 }, epochs: 8, batchSize: 16, learningRate: 3e-3, warmupRatio: 0, dropout: 0, seed: 3 };
    const d = new Distiller(model, { model: teacher }, { kind: "examples", examples: train }, options, { projection });
    const enc = encodeExamples(model.tokenizer!, held, 64);
    const batch = checkBatch(model.config, enc);
    const labels = Int32Array.from(enc.labels);
    const before = lossOn(d, batch, labels);
    const perStep: number[] = [];
    d.run((info) => void perStep.push(info.loss));
    const after = lossOn(d, batch, labels);
    assert.equal(perStep.length, 48);
    assert.ok(after < 0.5 * before, `held-out distillation loss ${before} → ${after}`);
  });

  it("DistilBERT's recipe on a corpus (soft MLM logits at T = 2, MLM, cosine) lowers the loss", async () => {
    const teacher = await DynaBert.load(H12);
    const teacherHead = initMlmHead(teacher.engine.core, teacher.config, 77);
    const { model, head } = await distilbertStudent(teacher, { layers: 3, teacherHead });
    const tok = model.tokenizer!;
    const sequences = syntheticExamples(64, 21).map((e) => [tok.clsTokenId, ...tok.convertTokensToIds(tok.tokenize(e.text)), tok.sepTokenId]);
    const data: DistillData = { kind: "sequences", sequences };
    const options: DistillOptions = { weights: { ...ZERO, soft: 5, mlm: 2, cos: 1 }, temperature: 2, softTarget: "mlm", epochs: 4, batchSize: 16, learningRate: 2e-3, warmupRatio: 0, dropout: 0, seed: 5 };
    const d = new Distiller(model, { model: teacher, head: teacherHead }, data, options, { head });
    assert.equal(d.head, head, "the copied teacher head is the student's");
    // A fixed masked held-out batch.
    const heldSeqs = syntheticExamples(16, 22).map((e) => [tok.clsTokenId, ...tok.convertTokensToIds(tok.tokenize(e.text)), tok.sepTokenId]);
    const S = Math.max(...heldSeqs.map((s) => s.length));
    const padded = checkBatch(model.config, {
      inputIds: heldSeqs.map((s) => [...s, ...new Array(S - s.length).fill(0)]),
      attentionMask: heldSeqs.map((s) => [...new Array(s.length).fill(1), ...new Array(S - s.length).fill(0)]),
    });
    let state = 7;
    const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296);
    const masked = maskTokens(padded.inputIds, padded.attentionMask, padded.batch, S, { probability: 0.15, maskTokenId: tok.maskTokenId!, randomVocab: 120, specialIds: new Set([0, 1, 2, 3, 4]) }, random);
    const batch = { ...padded, inputIds: masked.inputIds };
    const before = lossOn(d, batch, new Int32Array(0), masked.labels);
    d.run(() => {});
    const after = lossOn(d, batch, new Int32Array(0), masked.labels);
    assert.ok(after < 0.7 * before, `held-out distillation loss ${before} → ${after}`);
  });

  it("a run saved mid-way and resumed from its files ends bit-identical to an uninterrupted one (student, W_p, head, with dropout and masking)", async () => {
    const teacher = await DynaBert.load(H12);
    const teacherSetup = { model: teacher };
    const build = () => tinybertStudent(teacher, { layers: 2, hidden: 24, intermediate: 40, seed: 8 });
    const first = await build();
    const examples = examplesFor(first.model, 40, 31);
    const data: DistillData = { kind: "examples", examples };
    const options: DistillOptions = {
      weights: { ce: 0.5, soft: 1, hidden: 1, emb: 1, attn: 1, cos: 0.5, mlm: 1 },
      temperature: 2,
      softTarget: "classifier",
      epochs: 2,
      batchSize: 8,
      learningRate: 1e-3,
      seed: 13,
    };

    const straight = new Distiller(first.model, teacherSetup, data, options, { projection: first.projection });
    assert.ok(straight.head && straight.projection, "the run trains a head and W_p");
    straight.run(() => {});
    assert.equal(straight.state.step, 10);

    const second = await build();
    const stopped = new Distiller(second.model, teacherSetup, data, options, { projection: second.projection });
    stopped.run((info) => info.step === 4);
    assert.equal(stopped.state.step, 4);
    const files = distillCheckpointFiles(stopped, [{ step: 4 }]);
    assert.ok(files[PROJECTION_FILE], "W_p is saved beside the student");

    const back = await loadStudent(
      { config: files["config.json"] as string, weights: files["model.safetensors"] as Uint8Array, vocab: files["vocab.txt"] as string },
      files[PROJECTION_FILE] as Uint8Array,
      teacher.config.hiddenSize,
    );
    assert.ok(back.head, "the MLM head is in model.safetensors");
    const resumed = new Distiller(back.model, teacherSetup, data, options, { projection: back.projection, head: back.head });
    const snapshot = parseDistillSnapshot(files[TRAINER_STATE_FILE] as string, files[OPTIMIZER_FILE] as Uint8Array, "memory");
    assert.deepEqual(snapshot.history, [{ step: 4 }]);
    resumed.restore(snapshot);
    resumed.run(() => {});
    assert.equal(resumed.state.step, 10);
    const a = trainedValues(straight);
    const b = trainedValues(resumed);
    assert.deepEqual(resumed.params.list.map((p) => p.name), straight.params.list.map((p) => p.name));
    a.forEach((values, i) => assert.ok(Buffer.from(values.buffer).equals(Buffer.from(b[i].buffer)), `${straight.params.list[i].name} differs after resuming`));

    // Resuming with other loss weights would not continue the saved run.
    const other = new Distiller((await build()).model, teacherSetup, data, { ...options, weights: { ...options.weights, attn: 2 } });
    assert.throws(() => other.restore(snapshot), /--alpha-attn/);
  });
});
