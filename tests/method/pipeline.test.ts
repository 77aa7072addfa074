// The DynaBERT pipeline end to end on a small learnable task: after
// rewiring, DynaBERT_W and DynaBERT, every one of the 12 sub-networks stays
// close to the teacher; the report files have the promised shape.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseBertConfig } from "../../src/checkpoint/config.js";
import { DynaBert } from "../../src/node.js";
import { freshModel } from "../../src/method/models.js";
import { pretrainTeacher, runMethod, teacherAccuracy, trainTeacher, type PipelineSettings, type Reporter, type Task } from "../../src/method/pipeline.js";
import { resultsJson, resultsMarkdown, resultsSvg } from "../../src/method/report.js";
import { parseLabelledJsonl } from "../../src/train/data.js";
import { parseSafetensors } from "../../src/checkpoint/safetensors.js";
import { modelToFiles } from "../../src/model/save.js";
import { syntheticExamples } from "../helpers/synthetic.js";

const VOCAB = readFileSync(join(import.meta.dirname, "..", "fixtures", "golden", "h12", "vocab.txt"), "utf8");
const quiet: Reporter = { stage() {}, step() {}, evalRow() {} };

describe("DynaBERT pipeline", () => {
  it("keeps all 12 sub-networks within 5 points of the teacher on a learnable task, and reports them", async () => {
    const config = parseBertConfig(
      JSON.stringify({
        vocab_size: 120, hidden_size: 48, num_hidden_layers: 4, num_attention_heads: 12, intermediate_size: 96,
        max_position_embeddings: 40, type_vocab_size: 2, num_labels: 2, hidden_act: "gelu",
      }),
    );
    const examples = (n: number, seed: number) => parseLabelledJsonl(syntheticExamples(n, seed).map((e) => JSON.stringify(e)).join("\n"), "synthetic", config);
    const task: Task = { name: "synthetic", train: examples(256, 1), dev: examples(64, 2), test: examples(128, 3) };
    const settings: PipelineSettings = {
      batchSize: 16, maxLength: 16, seed: 3, latencyRuns: 1,
      teacher: { epochs: 6, learningRate: 1e-3 }, width: { epochs: 2, learningRate: 5e-4 }, depth: { epochs: 2, learningRate: 5e-4 },
    };
    const teacher: DynaBert = await freshModel(config, VOCAB, 3);
    trainTeacher(teacher, task, settings, quiet);
    const teacherAcc = teacherAccuracy(teacher, task, settings);
    assert.ok(teacherAcc >= 0.95, `teacher ${teacherAcc}`);
    const { rows } = await runMethod("dynabert", teacher, task, settings, quiet);
    assert.deepEqual(
      rows.map((r) => [r.width, r.depth]),
      [1, 0.75, 0.5].flatMap((d) => [1, 0.75, 0.5, 0.25].map((w) => [w, d])),
    );
    for (const r of rows) assert.ok(r.accuracy >= teacherAcc - 0.05, `(${r.width}, ${r.depth}): ${r.accuracy} vs teacher ${teacherAcc}`);
    // FLOPs fall with width and depth; the full model is the largest.
    assert.ok(rows.every((r) => r.flops <= rows[0].flops && r.params <= rows[0].params));

    const results = resultsJson("synthetic", { accuracy: teacherAcc, flops: rows[0].flops }, { dynabert: rows });
    const json = JSON.parse(JSON.stringify(results));
    assert.deepEqual(Object.keys(json.methods.dynabert[0]).sort(), ["accuracy", "depth", "f1", "flops", "latency_ms", "params", "width"]);
    assert.equal(json.teacher.accuracy, teacherAcc);
    assert.equal(resultsMarkdown(results).split("\n").filter((l) => l.startsWith("| ")).length, 1 + 12);
    assert.match(resultsSvg(results), /^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  });
});

describe("teacher pre-training (PipelineSettings.pretrain)", () => {
  const config = parseBertConfig(
    JSON.stringify({
      vocab_size: 120, hidden_size: 24, num_hidden_layers: 2, num_attention_heads: 12, intermediate_size: 48,
      max_position_embeddings: 40, type_vocab_size: 2, num_labels: 2, hidden_act: "gelu",
    }),
  );
  const examples = parseLabelledJsonl(syntheticExamples(96, 5).map((e) => JSON.stringify(e)).join("\n"), "synthetic", config);
  const task: Task = { name: "synthetic", train: examples, dev: examples, test: examples };
  const base: PipelineSettings = {
    batchSize: 16, maxLength: 16, seed: 3, latencyRuns: 1,
    teacher: { epochs: 1, learningRate: 1e-3 }, width: { epochs: 1, learningRate: 5e-4 }, depth: { epochs: 1, learningRate: 5e-4 },
  };
  const tensors = (model: DynaBert) => {
    const parsed = parseSafetensors(modelToFiles(model)["model.safetensors"] as Uint8Array, "model");
    return new Map([...parsed.tensors].map(([name, t]) => [name, Buffer.from(t.data)]));
  };

  it("masked-LM trains the encoder on the training texts and leaves the pooler and classifier as they were", async () => {
    const model = await freshModel(config, VOCAB, 3);
    const before = tensors(model);
    const stages: string[] = [];
    const steps: { step: number; totalSteps: number; loss: number }[] = [];
    pretrainTeacher(model, task, { ...base, pretrain: { epochs: 2, learningRate: 1e-3 } }, {
      stage: (name) => stages.push(name),
      step: (_, info) => steps.push(info),
      evalRow() {},
    });
    assert.deepEqual(stages, ["pretrain"]);
    assert.equal(steps.length, 2 * Math.ceil(examples.length / 16));
    assert.equal(steps.at(-1)!.step, steps.at(-1)!.totalSteps);
    assert.ok(steps.every((s) => Number.isFinite(s.loss) && s.loss > 0));
    const after = tensors(model);
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), "pre-training added or dropped a tensor (the MLM head must not be saved)");
    for (const [name, bytes] of after) {
      const changed = !bytes.equals(before.get(name)!);
      if (name.startsWith("bert.pooler.") || name.startsWith("classifier.")) assert.ok(!changed, `${name} changed`);
      else if (/word_embeddings|attention\.self\.query\.weight|intermediate\.dense\.weight/.test(name)) assert.ok(changed, `${name} did not change`);
    }
  });

  it("does nothing without a schedule or with 0 epochs", async () => {
    for (const pretrain of [undefined, { epochs: 0, learningRate: 1e-3 }]) {
      const model = await freshModel(config, VOCAB, 3);
      const before = tensors(model);
      const stages: string[] = [];
      pretrainTeacher(model, task, { ...base, pretrain }, { stage: (name) => stages.push(name), step() {}, evalRow() {} });
      assert.deepEqual(stages, []);
      assert.deepEqual(tensors(model), before);
    }
  });
});
