// Importance against PyTorch autograd (scripts/golden/gen_grads.py) and the
// rewiring invariant: at full width, permuting heads and neurons changes no output.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DynaBert } from "../../src/node.js";
import { computeImportance } from "../../src/rewire/importance.js";
import { descendingOrder, rewire } from "../../src/rewire/rewire.js";

const ROOT = join(import.meta.dirname, "..", "..");
const H12 = join(ROOT, "tests", "fixtures", "golden", "h12");
const CASE = join(ROOT, "tests", "fixtures", "grads", "importance", "h12");

function maxAbs(rows: number[][]): number {
  return Math.max(...rows.flat().map(Math.abs));
}

describe("importance", () => {
  it("head and neuron importance match PyTorch within 1e-3 of the largest value", async () => {
    const golden = JSON.parse(readFileSync(join(CASE, "case.json"), "utf8"));
    const input = JSON.parse(readFileSync(join(CASE, "input.json"), "utf8"));
    const model = await DynaBert.load(H12);
    const imp = computeImportance(model, [
      { inputIds: input.input_ids, attentionMask: input.attention_mask, tokenTypeIds: input.token_type_ids, labels: input.labels },
    ]);
    for (const [ours, ref] of [
      [imp.headImportance, golden.head_importance as number[][]],
      [imp.neuronImportance, golden.neuron_importance as number[][]],
    ] as const) {
      assert.equal(ours.length, ref.length);
      const scale = maxAbs(ref);
      ours.forEach((row, l) => row.forEach((v, j) => assert.ok(Math.abs(v - ref[l][j]) <= 1e-3 * scale, `[${l}][${j}] ${v} vs ${ref[l][j]}`)));
    }
  });

  it("adds per batch: two copies of a batch give twice the importance of one", async () => {
    const input = JSON.parse(readFileSync(join(CASE, "input.json"), "utf8"));
    const batch = { inputIds: input.input_ids, attentionMask: input.attention_mask, tokenTypeIds: input.token_type_ids, labels: input.labels };
    const model = await DynaBert.load(H12);
    const once = computeImportance(model, [batch]);
    const twice = computeImportance(model, [batch, batch]);
    twice.headImportance.forEach((row, l) => row.forEach((v, h) => assert.ok(Math.abs(v - 2 * once.headImportance[l][h]) <= 1e-6 * (1 + v))));
  });
});

describe("rewiring", () => {
  it("sorts descending, ties in original order", () => {
    assert.deepEqual(descendingOrder([0.1, 0.5, 0.5, 0.3]), [1, 2, 3, 0]);
  });

  it("leaves logits and every hidden state unchanged at full width (≤ 1e-5) and puts important heads first", async () => {
    const inputs = JSON.parse(readFileSync(join(H12, "inputs.json"), "utf8"));
    const batch = { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask, tokenTypeIds: inputs.token_type_ids };
    const model = await DynaBert.load(H12);
    const before = model.forward(batch, { hiddenStates: true });
    const beforeHalf = model.forward(batch, { width: 0.5 });
    const imp = computeImportance(model, [{ ...batch, labels: [2, 0, 1] }]);
    const { headOrder } = rewire(model, imp);
    assert.ok(headOrder.some((order) => order.some((h, i) => h !== i)), "the fixture's importance is not already sorted");
    const after = model.forward(batch, { hiddenStates: true });
    const diff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    assert.ok(diff(after.logits!.data, before.logits!.data) <= 1e-5);
    assert.ok(diff(after.hiddenStates!.data, before.hiddenStates!.data) <= 1e-5);
    // Narrower sub-networks now keep different heads, so their outputs move.
    assert.ok(diff(model.forward(batch, { width: 0.5 }).logits!.data, beforeHalf.logits!.data) > 1e-3);
    // And importance recomputed after rewiring is sorted in every layer.
    const again = computeImportance(model, [{ ...batch, labels: [2, 0, 1] }]);
    for (const row of again.headImportance) for (let h = 1; h < row.length; h++) assert.ok(row[h - 1] >= row[h] - 1e-6 * row[0]);
    for (const row of again.neuronImportance) for (let j = 1; j < row.length; j++) assert.ok(row[j - 1] >= row[j] - 1e-4 * row[0]);
  });
});
