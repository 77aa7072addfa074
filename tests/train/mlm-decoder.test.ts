// The tied decoder (logits = h·Eᵀ + b, cross-entropy, and the gradients of h,
// E and b) against a plain float64 scalar reference, at sizes that cross its
// row chunks (256) and vocabulary chunks (1024) with ragged ends.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { instantiateCore } from "../../bindings/index.js";
import { seededRandom } from "../../src/train/data.js";
import { tiedDecoderForwardBackward } from "../../src/train/mlm/tied-decoder.js";

const WASM = join(import.meta.dirname, "..", "..", "build", "release.wasm");

function reference(h: Float32Array, E: Float32Array, b: Float32Array, labels: Int32Array, R: number, V: number, D: number, scale: number) {
  const dh = new Float64Array(R * D);
  const dE = new Float64Array(V * D);
  const db = new Float64Array(V);
  let loss = 0;
  const z = new Float64Array(V);
  for (let r = 0; r < R; r++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) {
      let s = b[v];
      for (let t = 0; t < D; t++) s += h[r * D + t] * E[v * D + t];
      z[v] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(z[v] - max);
    loss += max + Math.log(sum) - z[labels[r]];
    for (let v = 0; v < V; v++) {
      const g = ((Math.exp(z[v] - max) / sum - (v === labels[r] ? 1 : 0)) * scale) / R;
      db[v] += g;
      for (let t = 0; t < D; t++) {
        dh[r * D + t] += g * E[v * D + t];
        dE[v * D + t] += g * h[r * D + t];
      }
    }
  }
  return { loss: loss / R, dh, dE, db };
}

function assertClose(actual: Float32Array, expected: Float64Array, what: string, tol = 1e-4) {
  let max = 0;
  for (const x of expected) max = Math.max(max, Math.abs(x));
  assert.ok(max > 0, `${what}: reference is all zero`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * max, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (max ${max})`);
  }
}

describe("tied MLM decoder", () => {
  for (const [R, V, D] of [
    [3, 37, 13],
    [300, 1100, 9],
    [513, 70, 20],
  ]) {
    it(`matches the scalar reference at rows ${R}, vocab ${V}, dim ${D}`, async () => {
      const core = await instantiateCore(readFileSync(WASM));
      const { arena } = core;
      const random = seededRandom(R * 31 + V);
      const normal = () => (random() + random() + random() - 1.5) * 1.4;
      const E = arena.alloc("E", "f32", [V, D]);
      const dE = arena.alloc("dE", "f32", [V, D]);
      const b = arena.alloc("b", "f32", [V]);
      const db = arena.alloc("db", "f32", [V]);
      const h = arena.alloc("h", "f32", [R, D]);
      const dh = arena.alloc("dh", "f32", [R, D]);
      arena.f32(E).forEach((_, i, a) => (a[i] = normal()));
      arena.f32(b).forEach((_, i, a) => (a[i] = normal()));
      arena.f32(h).forEach((_, i, a) => (a[i] = normal()));
      // Gradients accumulate: start from nonzero values and check the sum.
      const dE0 = Float32Array.from({ length: V * D }, () => normal());
      const db0 = Float32Array.from({ length: V }, () => normal());
      arena.f32(dE).set(dE0);
      arena.f32(db).set(db0);
      arena.f32(dh).fill(NaN); // overwritten
      const labels = Int32Array.from({ length: R }, () => Math.floor(random() * V));
      const scale = 0.75;
      const want = reference(arena.f32(h).slice(), arena.f32(E).slice(), arena.f32(b).slice(), labels, R, V, D, scale);
      const loss = tiedDecoderForwardBackward(core, {
        embeddings: E,
        embeddingsGrad: dE,
        bias: b,
        biasGrad: db,
        hidden: h,
        hiddenGrad: dh,
        labels,
        rows: R,
        vocab: V,
        dim: D,
        scale,
      });
      assert.ok(Math.abs(loss - want.loss) <= 1e-5 * want.loss, `loss ${loss} vs ${want.loss}`);
      assertClose(arena.f32(dh), want.dh, "dh");
      assertClose(arena.f32(dE).map((x, i) => x - dE0[i]), want.dE, "dE (accumulated)", 1e-3);
      assertClose(arena.f32(db).map((x, i) => x - db0[i]), want.db, "db (accumulated)", 1e-3);
    });
  }

  it("refuses a label outside the vocabulary instead of producing NaN", async () => {
    const core = await instantiateCore(readFileSync(WASM));
    const t = (n: string, ...s: number[]) => core.arena.alloc(n, "f32", s);
    const args = { embeddings: t("E", 5, 2), embeddingsGrad: t("dE", 5, 2), bias: t("b", 5), biasGrad: t("db", 5), hidden: t("h", 1, 2), hiddenGrad: t("dh", 1, 2), rows: 1, vocab: 5, dim: 2, scale: 1 };
    assert.throws(() => tiedDecoderForwardBackward(core, { ...args, labels: Int32Array.of(5) }), { code: "LABEL_OUT_OF_RANGE" });
    assert.throws(() => tiedDecoderForwardBackward(core, { ...args, labels: Int32Array.of(-100) }), { code: "LABEL_OUT_OF_RANGE" });
  });
});
