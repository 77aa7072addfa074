// The latency model: the least-squares fit on exact and degenerate points, and
// a real probe on the demo-size model (4 × 96, 12 heads, FFN 384) whose fit
// must be physical: positive slope, predictions increasing with FLOPs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DynaBert, parseBertConfig } from "../../src/node.js";
import { OptionError } from "../../src/errors.js";
import { calibrateLatency, checkLatencyModel, fitLatency, predictLatencyMs } from "../../src/select/latency-model.js";
import { candidateCosts } from "../../src/select/select.js";

const DEMO_CONFIG = parseBertConfig(
  JSON.stringify({
    model_type: "bert",
    vocab_size: 4000,
    hidden_size: 96,
    num_hidden_layers: 4,
    num_attention_heads: 12,
    intermediate_size: 384,
    max_position_embeddings: 128,
    type_vocab_size: 2,
    num_labels: 2,
  }),
);

describe("fitLatency", () => {
  it("recovers a and b from points on a line", () => {
    const points = [1e6, 3e6, 7e6, 2e7].map((flops, i) => ({ width: 1, depth: 1 / (i + 1), flops, ms: 0.4 + 2.5e-7 * flops }));
    const m = fitLatency(points);
    assert.equal(m.fit, "least-squares");
    assert.ok(Math.abs(m.interceptMs - 0.4) < 1e-9, `a = ${m.interceptMs}`);
    assert.ok(Math.abs(m.msPerFlop - 2.5e-7) < 1e-15, `b = ${m.msPerFlop}`);
    assert.ok(Math.abs(predictLatencyMs(m, 1e7) - 2.9) < 1e-9);
  });

  it("falls back to a fit through the origin when noise tilts the slope negative", () => {
    const points = [
      { width: 1, depth: 1, flops: 1e6, ms: 1.2 },
      { width: 0.5, depth: 1, flops: 2e6, ms: 1.0 },
    ];
    const m = fitLatency(points);
    assert.equal(m.fit, "through-origin");
    assert.equal(m.interceptMs, 0);
    // Σxt / Σx² = (1.2e6 + 2e6) / (1e12 + 4e12)
    assert.ok(Math.abs(m.msPerFlop - 3.2e6 / 5e12) < 1e-18);
  });

  it("refuses a probe that measured no time (a frozen clock, as in Workers)", () => {
    const points = [1e6, 2e6].map((flops) => ({ width: 1, depth: 1, flops, ms: 0 }));
    assert.throws(() => fitLatency(points), (e: unknown) => e instanceof OptionError && e.code === "CLOCK_UNRESOLVED");
  });

  it("validates an injected model", () => {
    assert.throws(() => checkLatencyModel({ interceptMs: 0.1, msPerFlop: 0 }), (e: unknown) => e instanceof OptionError && e.code === "LATENCY_MODEL_INVALID");
    assert.throws(() => checkLatencyModel({ interceptMs: -1, msPerFlop: 1e-9 }), OptionError);
    assert.throws(() => checkLatencyModel(null), OptionError);
    assert.deepEqual(checkLatencyModel({ interceptMs: 0.1, msPerFlop: 1e-9, fit: "least-squares" }), { interceptMs: 0.1, msPerFlop: 1e-9, fit: "least-squares" });
  });
});

describe("calibrateLatency on the demo-size model", () => {
  it("fits a positive slope and predicts latency increasing with FLOPs", async (t) => {
    const model = await DynaBert.random(DEMO_CONFIG, { seed: 7 });
    const m = calibrateLatency(model);
    t.diagnostic(
      `probe ${m.probe!.elapsedMs.toFixed(1)} ms at ${m.probe!.batch}×${m.probe!.seq}; a = ${m.interceptMs.toFixed(4)} ms, ` +
        `b = ${(m.msPerFlop * 1e9).toFixed(4)} ms/GFLOP (${m.fit}); points ${m.probe!.points.map((p) => `(${p.width},${p.depth}) ${p.ms.toFixed(3)}`).join(" ")}`,
    );
    assert.equal(m.probe!.seq, 64);
    assert.equal(m.probe!.points.length, 5);
    assert.ok(m.msPerFlop > 0 && Number.isFinite(m.msPerFlop));
    assert.ok(m.interceptMs >= 0);
    const costs = candidateCosts(model.config, m, { seq: 64 }).sort((a, b) => a.flops - b.flops);
    for (let i = 1; i < costs.length; i++) {
      if (costs[i].flops > costs[i - 1].flops) assert.ok(costs[i].predictedLatencyMs > costs[i - 1].predictedLatencyMs);
      else assert.equal(costs[i].predictedLatencyMs, costs[i - 1].predictedLatencyMs);
    }
    // Later calls use the cached model; calibrate({ force }) re-probes.
    const cached = model.calibrate();
    assert.equal(model.calibrate(), cached);
    assert.notEqual(model.calibrate({ force: true }), cached);
  });

  it("rejects bad probe options", async () => {
    const model = await DynaBert.random(DEMO_CONFIG, { seed: 7 });
    assert.throws(() => calibrateLatency(model, { seq: 129 }), (e: unknown) => e instanceof OptionError && e.option === "seq");
    assert.throws(() => calibrateLatency(model, { batch: 0 }), (e: unknown) => e instanceof OptionError && e.option === "batch");
    assert.throws(() => calibrateLatency(model, { budgetMs: -5 }), (e: unknown) => e instanceof OptionError && e.option === "budgetMs");
  });
});
