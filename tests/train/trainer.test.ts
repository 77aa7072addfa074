// The training loop: it learns, it is reproducible from its seed, and a run
// saved and resumed ends bit-identical to one that never stopped.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DynaBert } from "../../src/node.js";
import { listParameters, readRowMajor } from "../../src/model/parameters.js";
import { modelToFiles } from "../../src/model/save.js";
import { parseLabelledJsonl, type Example } from "../../src/train/data.js";
import { Trainer, type TrainerOptions } from "../../src/train/trainer.js";
import { freshModelFolder, syntheticExamples } from "../helpers/synthetic.js";

async function loadExamples(model: DynaBert, count: number, seed: number): Promise<Example[]> {
  const jsonl = syntheticExamples(count, seed).map((r) => JSON.stringify(r)).join("\n");
  return parseLabelledJsonl(jsonl, "synthetic.jsonl", model.config);
}

function allWeights(model: DynaBert): Float32Array[] {
  return listParameters(model.engine.weights).map((p) => readRowMajor(model.engine.core, p));
}

const FINETUNE: TrainerOptions = { phase: "finetune", widths: [1], depths: [1], epochs: 6, batchSize: 16, learningRate: 1e-3, seed: 7 };

describe("Trainer", () => {
  it("fine-tuning learns a learnable task: loss falls and held-out accuracy reaches ≥ 95%", async () => {
    const model = await DynaBert.load(await freshModelFolder());
    const train = await loadExamples(model, 256, 1);
    const held = await loadExamples(model, 128, 2);
    const before = new Trainer(model, train, FINETUNE).evaluate(held, [{ width: 1, depth: 1 }])[0].accuracy;
    const trainer = new Trainer(model, train, FINETUNE);
    const losses: number[] = [];
    trainer.run((info) => void losses.push(info.loss));
    assert.equal(losses.length, trainer.state.totalSteps);
    const first = losses.slice(0, 8).reduce((a, b) => a + b) / 8;
    const last = losses.slice(-8).reduce((a, b) => a + b) / 8;
    assert.ok(last < first / 3, `mean loss fell from ${first} to ${last}`);
    const after = trainer.evaluate(held, [{ width: 1, depth: 1 }])[0].accuracy;
    assert.ok(before < 0.7, `untrained accuracy ${before} should be near chance`);
    assert.ok(after >= 0.95, `accuracy after training ${after}`);
  });

  it("the same seed gives the same weights; another seed does not", async () => {
    const dir = await freshModelFolder();
    const run = async (seed: number) => {
      const model = await DynaBert.load(dir);
      const train = await loadExamples(model, 64, 3);
      new Trainer(model, train, { ...FINETUNE, epochs: 1, seed }).run(() => {});
      return allWeights(model);
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it("a run saved mid-way and resumed ends bit-identical to an uninterrupted one", async () => {
    const dir = await freshModelFolder();
    const options = { ...FINETUNE, epochs: 2 };
    const straight = await DynaBert.load(dir);
    const train = await loadExamples(straight, 64, 4);
    new Trainer(straight, train, options).run(() => {});

    const first = await DynaBert.load(dir);
    const t1 = new Trainer(first, train, options);
    t1.run((info) => info.step === 5); // stop after 5 of 8 steps
    assert.equal(t1.state.step, 5);
    const snapshot = t1.snapshot();
    const files = modelToFiles(first);
    const resumed = await DynaBert.load({
      config: files["config.json"] as string,
      weights: files["model.safetensors"] as Uint8Array,
      vocab: readFileSync(join(dir, "vocab.txt"), "utf8"),
    });
    const t2 = new Trainer(resumed, train, options);
    t2.restore(snapshot);
    t2.run(() => {});
    assert.equal(t2.state.step, 8);
    assert.deepEqual(allWeights(resumed), allWeights(straight));
  });

  it("DynaBERT_W distillation trains every width towards the teacher: each sub-network's loss falls", async () => {
    const dir = await freshModelFolder();
    const teacher = await DynaBert.load(dir);
    const train = await loadExamples(teacher, 256, 5);
    const held = await loadExamples(teacher, 64, 6);
    const teacherTrainer = new Trainer(teacher, train, FINETUNE);
    teacherTrainer.run(() => {});
    assert.ok(teacherTrainer.evaluate(held, [{ width: 1, depth: 1 }])[0].accuracy >= 0.95, "the teacher learned the task");
    const files = modelToFiles(teacher);
    const load = () =>
      DynaBert.load({ config: files["config.json"] as string, weights: files["model.safetensors"] as Uint8Array, vocab: readFileSync(join(dir, "vocab.txt"), "utf8") });
    const student = await load();
    const fixedTeacher = await load();
    const trainer = new Trainer(student, train, { phase: "width", widths: [1, 0.75, 0.5, 0.25], depths: [1], epochs: 3, batchSize: 16, learningRate: 1e-3, seed: 1 }, fixedTeacher);
    const perWidth: number[][] = [];
    trainer.run((info) => void perWidth.push(info.subnets.map((s) => s.loss)));
    assert.deepEqual(
      perWidth[0].map((_, i) => i),
      [0, 1, 2, 3],
    );
    for (let i = 0; i < 4; i++) {
      const early = perWidth.slice(0, 3).reduce((a, r) => a + r[i], 0) / 3;
      const late = perWidth.slice(-3).reduce((a, r) => a + r[i], 0) / 3;
      assert.ok(late < early, `width #${i}: loss ${early} → ${late}`);
    }
    const acc = trainer.evaluate(held, [{ width: 0.25, depth: 1 }])[0].accuracy;
    assert.ok(acc >= 0.9, `width 0.25 accuracy after DynaBERT_W ${acc}`);
  });
});
