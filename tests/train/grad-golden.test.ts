// One accumulated training step (no update, no dropout) against PyTorch
// autograd goldens (scripts/golden/gen_grads.py, float64): the loss of every
// sub-network, the global gradient norm and every parameter's gradient.
import assert from "node:assert/strict";
import { assertAnalyticallyZero, assertGradientMatches, assertNormMatches, floats, relClose } from "../helpers/grad-compare.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { hfNameFor } from "../../src/checkpoint/names.js";
import { parseSafetensors } from "../../src/checkpoint/safetensors.js";
import { DynaBert } from "../../src/node.js";
import { accumulateStep, type Phase } from "../../src/train/accumulate.js";
import { TrainableParameters } from "../../src/train/params.js";

const ROOT = join(import.meta.dirname, "..", "..");
const CASES = join(ROOT, "tests", "fixtures", "grads");

interface Case {
  phase: Phase;
  widths: number[];
  depths: number[];
  lambda_logit: number | null;
  lambda_emb: number | null;
  lambda_hidden: number | null;
  teacher_width: "same" | "full" | null;
  student: string;
  teacher: string | null;
  total_loss: number;
  grad_global_norm: number;
  subnets: Array<{ width: number; depth: number; kept_layers: number[]; loss: number }>;
  grads?: string;
  grad_norms: Record<string, number>;
  analytically_zero: string[];
}


const caseNames = (JSON.parse(readFileSync(join(CASES, "cases.json"), "utf8")) as Array<{ case: string; phase: string }>)
  .map((c) => c.case)
  .filter((name) => !name.startsWith("importance/"));

describe("training step gradients match PyTorch autograd", () => {
  for (const name of caseNames) {
    it(name, async () => {
      const dir = join(CASES, name);
      const c = JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as Case;
      const input = JSON.parse(readFileSync(join(dir, "input.json"), "utf8"));
      const student = await DynaBert.load(join(ROOT, c.student));
      const teacher = c.teacher ? await DynaBert.load(join(ROOT, c.teacher)) : undefined;
      const params = new TrainableParameters(student.engine.core, student.engine.weights);
      const subnets = accumulateStep(
        student,
        params,
        { inputIds: input.input_ids, attentionMask: input.attention_mask, tokenTypeIds: input.token_type_ids, labels: input.labels },
        {
          phase: c.phase,
          widths: c.widths,
          depths: c.depths,
          teacherWidth: c.teacher_width ?? undefined,
          lambdas: { logit: c.lambda_logit ?? undefined, emb: c.lambda_emb ?? undefined, hidden: c.lambda_hidden ?? undefined },
        },
        teacher,
      );

      assert.deepEqual(
        subnets.map((s) => [s.width, s.depth, [...s.keptLayers]]),
        c.subnets.map((s) => [s.width, s.depth, s.kept_layers]),
        "sub-networks in training order",
      );
      subnets.forEach((s, i) => assert.ok(relClose(s.loss, c.subnets[i].loss, 1e-4), `loss of (${s.width}, ${s.depth}): ${s.loss} vs ${c.subnets[i].loss}`));
      const total = subnets.reduce((a, s) => a + s.loss, 0);
      assert.ok(relClose(total, c.total_loss, 1e-4), `total loss ${total} vs ${c.total_loss}`);
      const norm = params.gradNorm();
      assert.ok(relClose(norm, c.grad_global_norm, 1e-4), `global norm ${norm} vs ${c.grad_global_norm}`);

      const layout = { classifier: student.engine.weights.classifier !== undefined };
      const golden = c.grads ? parseSafetensors(new Uint8Array(readFileSync(join(dir, c.grads))), c.grads).tensors : undefined;
      const zeroByAnalysis = new Set(c.analytically_zero);
      for (const p of params.list) {
        const hf = hfNameFor(p.name, layout);
        const g = params.gradRowMajor(p);
        if (zeroByAnalysis.has(hf)) {
          assertAnalyticallyZero(hf, g, c.grad_global_norm);
          continue;
        }
        const refNorm = c.grad_norms[hf];
        assert.ok(refNorm !== undefined, `no reference norm for ${hf}`);
        assertNormMatches(hf, g, refNorm);
        if (golden) assertGradientMatches(hf, g, floats(golden.get(hf)!.data));
      }
    });
  }
});
