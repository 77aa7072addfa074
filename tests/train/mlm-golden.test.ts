// The masked-LM step (head forward/backward, tied decoder, encoder backward)
// against PyTorch autograd goldens (scripts/golden/gen_mlm.py, float64): the
// loss and every trained parameter's gradient, full width and a sub-network.
import assert from "node:assert/strict";
import { assertAnalyticallyZero, assertGradientMatches, floats, relClose } from "../helpers/grad-compare.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { hfNameFor } from "../../src/checkpoint/names.js";
import { parseSafetensors } from "../../src/checkpoint/safetensors.js";
import { checkBatch } from "../../src/model/inputs.js";
import { DynaBert } from "../../src/node.js";
import { readMlmHead } from "../../src/train/mlm/head.js";
import { encoderOnly, PretrainParameters } from "../../src/train/mlm/params.js";
import { accumulateMlmStep } from "../../src/train/mlm/pretrainer.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DIR = join(ROOT, "tests", "fixtures", "mlm");

interface Case {
  width: number;
  depth: number;
  kept_layers: number[];
  loss: number;
  grad_global_norm: number;
  grads: string;
  pad_row: { tensor: string; row: number };
  analytically_zero: string[];
}

const index = JSON.parse(readFileSync(join(DIR, "cases.json"), "utf8")) as { model: string; head: string; input: string; cases: Array<{ case: string }> };
const input = JSON.parse(readFileSync(join(DIR, index.input), "utf8")) as Record<string, number[][]>;


describe("masked-LM gradients match PyTorch autograd", () => {
  for (const { case: name } of index.cases) {
    it(name, async () => {
      const c = JSON.parse(readFileSync(join(DIR, "cases", name, "case.json"), "utf8")) as Case;
      const model = await DynaBert.load(join(ROOT, index.model));
      const { core, weights } = model.engine;
      const headFile = join(DIR, index.head);
      const head = readMlmHead(core, model.config, parseSafetensors(new Uint8Array(readFileSync(headFile)), headFile), headFile);
      assert.ok(head, "head.safetensors holds a head");
      const params = new PretrainParameters(core, encoderOnly(weights), head);
      const batch = checkBatch(model.config, { inputIds: input.input_ids, attentionMask: input.attention_mask, tokenTypeIds: input.token_type_ids });
      const labels = Int32Array.from(input.labels.flat());
      const [result, ...rest] = accumulateMlmStep(model, params, batch, labels, { widths: [c.width], depths: [c.depth] });
      assert.equal(rest.length, 0);
      assert.deepEqual([...result.keptLayers], c.kept_layers);
      assert.ok(relClose(result.loss, c.loss, 1e-4), `loss ${result.loss} vs ${c.loss}`);
      const norm = params.gradNorm();
      assert.ok(relClose(norm, c.grad_global_norm, 1e-4), `global norm ${norm} vs ${c.grad_global_norm}`);

      const golden = parseSafetensors(new Uint8Array(readFileSync(join(DIR, "cases", name, c.grads))), c.grads).tensors;
      const zeroByAnalysis = new Set(c.analytically_zero);
      const seen = new Set<string>();
      for (const p of params.list) {
        const hf = p.name.startsWith("cls.") ? p.name : hfNameFor(p.name, { classifier: true });
        seen.add(hf);
        const g = params.gradRowMajor(p);
        const ref = golden.get(hf);
        assert.ok(ref, `no golden gradient for ${hf}`);
        if (zeroByAnalysis.has(hf)) {
          assertAnalyticallyZero(hf, g, c.grad_global_norm);
          continue;
        }
        const r = floats(ref.data);
        assertGradientMatches(hf, g, r);
        if (hf === c.pad_row.tensor) {
          // The tied decoder's gradient reaches the pad row (padding_idx only drops the lookup's): compared on its own.
          const D = model.config.hiddenSize;
          const at = c.pad_row.row * D;
          let rowD = 0;
          let rowR = 0;
          for (let j = at; j < at + D; j++) {
            rowD += (g[j] - r[j]) ** 2;
            rowR += r[j] ** 2;
          }
          assert.ok(rowR > 0 && Math.sqrt(rowD) <= 1e-3 * Math.sqrt(rowR), `pad row: relative error ${Math.sqrt(rowD / rowR)}`);
        }
      }
      assert.deepEqual([...seen].sort(), [...golden.keys()].sort(), "the engine trains exactly the golden's parameters");
    });
  }
});
