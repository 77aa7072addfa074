// The engine against PyTorch: every fixture model × all 12 (width, depth)
// sub-networks of the paper, logits and hidden states within 1e-4 (goldens
// from scripts/golden/gen_inference.py, an independent implementation).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, before } from "node:test";
import { parseSafetensors } from "../../src/checkpoint/safetensors.js";
import { DynaBert } from "../../src/node.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "golden");
const TOLERANCE = 1e-4;

interface GoldenConfig {
  name: string;
  width: number;
  depth: number;
  heads: number;
  intermediate: number;
  kept_layers: number[];
}

function goldenFloats(dir: string): Map<string, Float32Array> {
  const parsed = parseSafetensors(new Uint8Array(readFileSync(join(dir, "golden.safetensors"))), "golden.safetensors");
  const out = new Map<string, Float32Array>();
  for (const [name, t] of parsed.tensors) {
    const copy = new Uint8Array(t.data); // aligned copy for a Float32Array view
    out.set(name, new Float32Array(copy.buffer, 0, copy.byteLength / 4));
  }
  return out;
}

function maxAbsDiff(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length, "element count");
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

for (const fixture of ["h12", "h6odd", "h6odd_f16", "h6odd_bf16", "h12_bare"]) {
  describe(`golden outputs: ${fixture}`, () => {
    const dir = join(FIXTURES, fixture);
    const meta = JSON.parse(readFileSync(join(dir, "golden.json"), "utf8")) as { configs: GoldenConfig[] };
    const inputs = JSON.parse(readFileSync(join(dir, "inputs.json"), "utf8"));
    const golden = goldenFloats(dir);
    let model: DynaBert;
    before(async () => {
      model = await DynaBert.load(dir);
    });

    it("covers the paper's 12 (width, depth) pairs", () => {
      assert.equal(meta.configs.length, 12);
    });

    for (const cfg of meta.configs) {
      it(`width ${cfg.width}, depth ${cfg.depth}: sizes, hidden states and logits match PyTorch`, () => {
        const result = model.forward(
          { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask, tokenTypeIds: inputs.token_type_ids },
          { width: cfg.width, depth: cfg.depth, hiddenStates: true },
        );
        assert.equal(result.subNetwork.heads, cfg.heads);
        assert.equal(result.subNetwork.intermediate, cfg.intermediate);
        assert.deepEqual(result.subNetwork.keptLayers, cfg.kept_layers);
        const hidden = golden.get(`${cfg.name}.hidden`)!;
        assert.ok(maxAbsDiff(result.hiddenStates!.data, hidden) <= TOLERANCE, `hidden max abs diff ${maxAbsDiff(result.hiddenStates!.data, hidden)}`);
        const logits = golden.get(`${cfg.name}.logits`);
        if (logits) {
          const diff = maxAbsDiff(result.logits!.data, logits);
          assert.ok(diff <= TOLERANCE, `logits max abs diff ${diff}`);
        } else {
          assert.equal(result.logits, undefined, "a bare BertModel has no classifier");
        }
      });
    }
  });
}
