// With dropout on (p = 0.5, fixed seed) the loss is a deterministic function
// of the weights, so backward must match its central finite differences: a
// backward that forgot a mask or its 1/(1−p) scale is off by far more than
// the tolerance, which covers f32 rounding of the loss at step 1e-2.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DynaBert } from "../../src/node.js";
import { listParameters, readRowMajor, writeRowMajor } from "../../src/model/parameters.js";
import { accumulateStep, type StepOptions } from "../../src/train/accumulate.js";
import { seededRandom } from "../../src/train/data.js";
import { TrainableParameters } from "../../src/train/params.js";

const H6 = join(import.meta.dirname, "..", "fixtures", "golden", "h6odd");

describe("backward with dropout", () => {
  for (const [width, depth] of [[1, 1], [0.5, 0.75], [0.25, 0.5]]) it(`matches central finite differences of the dropped-out loss at width ${width}, depth ${depth}`, async () => {
    const model = await DynaBert.load(H6);
    const inputs = JSON.parse(readFileSync(join(H6, "inputs.json"), "utf8"));
    const batch = { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask, tokenTypeIds: inputs.token_type_ids, labels: [1, 0, 1] };
    const options: StepOptions = { phase: "finetune", widths: [width], depths: [depth], dropout: { p: 0.5, seed: 1234 } };
    const params = new TrainableParameters(model.engine.core, model.engine.weights);
    const loss = () => {
      params.zeroGrads();
      return accumulateStep(model, params, batch, options)[0].loss;
    };
    loss();
    const entries = listParameters(model.engine.weights);
    const grads = params.list.map((p) => params.gradRowMajor(p));
    const withoutDropout = (() => {
      params.zeroGrads();
      accumulateStep(model, params, batch, { ...options, dropout: undefined });
      return params.list.map((p) => params.gradRowMajor(p));
    })();
    assert.notDeepEqual(grads, withoutDropout, "dropout changes the gradients");

    const random = seededRandom(99);
    let checked = 0;
    for (let trial = 0; checked < 24 && trial < 500; trial++) {
      const i = Math.floor(random() * entries.length);
      // Key biases shift every score of a query row alike, which softmax ignores: their true
      // gradient is 0 and both sides are rounding noise (the PyTorch goldens list them as such).
      if (entries[i].name.endsWith("attention.self.key.bias")) continue;
      const values = readRowMajor(model.engine.core, entries[i]);
      const j = Math.floor(random() * values.length);
      const g = grads[i][j];
      if (g === 0) continue; // unreached by this sub-network
      const scale = Math.max(...grads[i].map(Math.abs));
      const h = 1e-2;
      const original = values[j];
      values[j] = original + h;
      writeRowMajor(model.engine.core, entries[i], values);
      const up = loss();
      values[j] = original - h;
      writeRowMajor(model.engine.core, entries[i], values);
      const down = loss();
      values[j] = original;
      writeRowMajor(model.engine.core, entries[i], values);
      const fd = (up - down) / (2 * h);
      assert.ok(Math.abs(fd - g) <= 2e-2 * Math.abs(g) + 2e-3 * scale, `${entries[i].name}[${j}]: backward ${g}, finite difference ${fd}`);
      checked++;
    }
    assert.equal(checked, 24);
  });
});
