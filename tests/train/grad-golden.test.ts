// One accumulated training step (no update, no dropout) against PyTorch
// autograd goldens (scripts/golden/gen_grads.py, float64): the loss of every
// sub-network, the global gradient norm and every parameter's gradient.
import assert from "node:assert/strict";
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

function floats(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

const relClose = (actual: number, expected: number, tol: number) => Math.abs(actual - expected) <= tol * Math.max(Math.abs(expected), 1e-30);

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
        let sq = 0;
        for (const x of g) sq += x * x;
        const gNorm = Math.sqrt(sq);
        if (zeroByAnalysis.has(hf)) {
          assert.ok(gNorm <= 1e-6 * c.grad_global_norm, `${hf} should be ~0 (softmax ignores a shift), norm ${gNorm}`);
          continue;
        }
        const refNorm = c.grad_norms[hf];
        assert.ok(refNorm !== undefined, `no reference norm for ${hf}`);
        assert.ok(Math.abs(gNorm - refNorm) <= 1e-3 * Math.max(refNorm, 1e-30) + (refNorm === 0 ? 0 : 0), `${hf}: |g| ${gNorm} vs ${refNorm}`);
        if (!golden) continue;
        const ref = floats(golden.get(hf)!.data);
        assert.equal(ref.length, g.length, `${hf} size`);
        let diffSq = 0;
        let refMax = 0;
        for (let i = 0; i < ref.length; i++) refMax = Math.max(refMax, Math.abs(ref[i]));
        for (let i = 0; i < ref.length; i++) {
          const d = g[i] - ref[i];
          diffSq += d * d;
          if (ref[i] === 0) assert.equal(g[i], 0, `${hf}[${i}] must be exactly 0 (not reached), got ${g[i]}`);
          else assert.ok(Math.abs(d) <= 1e-3 * refMax, `${hf}[${i}]: ${g[i]} vs ${ref[i]} (tensor max ${refMax})`);
        }
        assert.ok(Math.sqrt(diffSq) <= 1e-3 * Math.max(refNorm, 1e-30), `${hf}: relative error ${Math.sqrt(diffSq) / refNorm}`);
      }
    });
  }
});
