// One distillation step (no update, no dropout) against PyTorch autograd
// goldens (scripts/golden/gen_distill.py, float64): every loss term's value,
// the weighted total, the global gradient norm, every trained tensor's
// gradient (student, W_p, MLM head), and each term's own per-tensor gradient
// norms — for a TinyBERT-style student (other hidden size, W_p, soft loss on
// classifier logits) and a DistilBERT-style one (every other layer copied,
// soft loss on MLM logits).
import assert from "node:assert/strict";
import { assertAnalyticallyZero, assertGradientMatches, floats, relClose } from "../helpers/grad-compare.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { hfNameFor } from "../../src/checkpoint/names.js";
import { parseSafetensors } from "../../src/checkpoint/safetensors.js";
import { checkBatch } from "../../src/model/inputs.js";
import { DynaBert, readModelFolder } from "../../src/node.js";
import { loadStudent } from "../../src/train/distill/checkpoint.js";
import { LOSS_TERMS, type DistillWeights, type SoftTarget } from "../../src/train/distill/objective.js";
import { DistillParameters } from "../../src/train/distill/params.js";
import { PROJECTION_FILE } from "../../src/train/distill/projection.js";
import { distillStep } from "../../src/train/distill/step.js";
import { distilbertStudent, type StudentParts } from "../../src/train/distill/student.js";
import { readMlmHead } from "../../src/train/mlm/head.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DIR = join(ROOT, "tests", "fixtures", "distill");

interface Case {
  student: string | { build: "distilbert"; from: string; copy_layers: number[] };
  teacher: string;
  teacher_head: string;
  weights: DistillWeights;
  temperature: number;
  soft_target: SoftTarget;
  student_layers: number;
  terms: Record<string, number>;
  total_loss: number;
  grad_global_norm: number;
  grads: string;
  grad_norms: Record<string, number>;
  term_grad_norms: Record<string, Record<string, number>>;
  analytically_zero: string[];
}

const index = JSON.parse(readFileSync(join(DIR, "cases.json"), "utf8")) as { cases: Array<{ case: string }> };
const input = JSON.parse(readFileSync(join(DIR, "input.json"), "utf8")) as Record<string, number[][] | number[]>;


async function headOf(model: DynaBert, file: string) {
  const path = join(ROOT, file);
  const head = readMlmHead(model.engine.core, model.config, parseSafetensors(new Uint8Array(readFileSync(path)), path), path);
  assert.ok(head, `${file} holds a head`);
  return head;
}

async function studentOf(c: Case): Promise<StudentParts> {
  if (typeof c.student === "string") {
    const dir = join(ROOT, c.student);
    return loadStudent(await readModelFolder(dir), new Uint8Array(readFileSync(join(dir, PROJECTION_FILE))), 48);
  }
  const source = await DynaBert.load(join(ROOT, c.student.from));
  const parts = await distilbertStudent(source, { layers: c.student_layers, teacherHead: await headOf(source, c.teacher_head) });
  assert.deepEqual(parts.copiedLayers, c.student.copy_layers, "DistilBERT copies every other layer");
  return parts;
}

/** The golden's name for a trained tensor. */
const goldenName = (name: string) => (name.startsWith("cls.") || name.startsWith("fit_dense.") ? name : hfNameFor(name, { classifier: true }));

describe("a distillation step matches PyTorch autograd", () => {
  for (const { case: name } of index.cases) {
    it(name, async () => {
      const c = JSON.parse(readFileSync(join(DIR, "cases", name, "case.json"), "utf8")) as Case;
      const teacher = await DynaBert.load(join(ROOT, c.teacher));
      const teacherHead = await headOf(teacher, c.teacher_head);
      const parts = await studentOf(c);
      const student = parts.model;
      const { core, weights } = student.engine;
      const params = new DistillParameters(core, weights, true, parts.projection, parts.head);
      const batch = checkBatch(student.config, { inputIds: input.input_ids as number[][], attentionMask: input.attention_mask as number[][], tokenTypeIds: input.token_type_ids as number[][] });
      const step = (w: DistillWeights) =>
        distillStep(
          student,
          params,
          { model: teacher, head: teacherHead },
          { batch, labels: Int32Array.from(input.labels as number[]), mlmLabels: Int32Array.from((input.mlm_labels as number[][]).flat()) },
          { weights: w, temperature: c.temperature, softTarget: c.soft_target },
        );

      const losses = step(c.weights);
      for (const term of LOSS_TERMS) assert.ok(relClose(losses[term], c.terms[term], 1e-4), `${term}: ${losses[term]} vs ${c.terms[term]}`);
      assert.ok(relClose(losses.total, c.total_loss, 1e-4), `total ${losses.total} vs ${c.total_loss}`);
      const norm = params.gradNorm();
      assert.ok(relClose(norm, c.grad_global_norm, 1e-4), `global norm ${norm} vs ${c.grad_global_norm}`);

      const golden = parseSafetensors(new Uint8Array(readFileSync(join(DIR, "cases", name, c.grads))), c.grads).tensors;
      const zeroByAnalysis = new Set(c.analytically_zero);
      const seen = new Set<string>();
      for (const p of params.list) {
        const hf = goldenName(p.name);
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
      }
      assert.deepEqual([...seen].sort(), [...golden.keys()].sort(), "the engine trains exactly the golden's tensors");

      // Each term alone: its own per-tensor gradient norms (a wrong small term cannot hide in the sum).
      for (const term of LOSS_TERMS) {
        params.zeroGrads();
        const only = Object.fromEntries(LOSS_TERMS.map((t) => [t, t === term ? c.weights[t] : 0])) as unknown as DistillWeights;
        const alone = step(only);
        assert.ok(relClose(alone[term], c.terms[term], 1e-4), `${term} alone: ${alone[term]} vs ${c.terms[term]}`);
        const refNorms = c.term_grad_norms[term];
        let termNorm = 0;
        for (const v of Object.values(refNorms)) termNorm += v * v;
        termNorm = Math.sqrt(termNorm);
        for (const p of params.list) {
          const hf = goldenName(p.name);
          const g = params.gradRowMajor(p);
          let sq = 0;
          for (const x of g) sq += x * x;
          const gNorm = Math.sqrt(sq);
          if (zeroByAnalysis.has(hf)) {
            assert.ok(gNorm <= 1e-6 * termNorm, `${term}: ${hf} should be ~0, norm ${gNorm}`);
            continue;
          }
          const ref = refNorms[hf];
          if (ref === 0) assert.equal(gNorm, 0, `${term}: ${hf} gets no gradient from this term, got norm ${gNorm}`);
          else assert.ok(relClose(gNorm, ref, 1e-3), `${term}: |∂/∂${hf}| ${gNorm} vs ${ref}`);
        }
      }
    });
  }
});
