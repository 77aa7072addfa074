// Training memory is planned: parameters + gradients + two AdamW moments
// (4 × 110M floats) plus the activations backward needs for one BERT-base
// step at batch 8 × 128 fit in wasm32's 4 GiB. This runs the real step
// (forward with dropout, loss, backward, AdamW) once; it takes ~30–60 s.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { presetConfig, syntheticBatch } from "../../src/index.js";
import { DynaBert } from "../../src/node.js";
import { accumulateStep } from "../../src/train/accumulate.js";
import { AdamW } from "../../src/train/optimizer.js";
import { TrainableParameters } from "../../src/train/params.js";

describe("BERT-base fine-tuning step at batch 8 × 128", () => {
  it("fits in 4 GiB of wasm memory and yields a finite loss", async () => {
    const config = presetConfig("bert-base");
    const model = await DynaBert.random(config, { seed: 5 });
    const ids = syntheticBatch(config.vocabSize, 8, 128).inputIds.map((r) => Array.from(r));
    // Gradients and moments allocated as the Trainer allocates them.
    const params = new TrainableParameters(model.engine.core, model.engine.weights);
    const optimizer = new AdamW(model.engine.core, params, { learningRate: 2e-5 }, { totalSteps: 10, warmupSteps: 1 });
    const [result] = accumulateStep(model, params, { inputIds: ids, labels: [0, 1, 0, 1, 0, 1, 0, 1] }, {
      phase: "finetune",
      widths: [1],
      depths: [1],
      dropout: { p: 0.1, seed: 1 },
    });
    optimizer.step();
    const gib = model.memoryBytes / 2 ** 30;
    console.log(`wasm memory after one BERT-base step at 8 × 128: ${gib.toFixed(2)} GiB`);
    assert.ok(Number.isFinite(result.loss));
    assert.ok(gib < 4, `${gib} GiB`);
  });
});
