// `dynabert train --phase distill`, run in-process as the CLI runs it: the
// DistilBERT recipe on a corpus and TinyBERT's two stages on labelled text
// write loadable HF folders (W_p beside the TinyBERT student), and --resume
// refuses a run that would not continue the saved one.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseSafetensors } from "../../src/checkpoint/safetensors.js";
import { train } from "../../src/cli/train.js";
import { OptionError } from "../../src/errors.js";
import { DynaBert } from "../../src/node.js";
import { PROJECTION_FILE } from "../../src/train/distill/projection.js";
import { mlmModelFiles } from "../../src/train/mlm/checkpoint.js";
import { readMlmHead } from "../../src/train/mlm/head.js";
import { syntheticExamples, writeJsonl } from "../helpers/synthetic.js";

const ROOT = join(import.meta.dirname, "..", "..");
const H12 = join(ROOT, "tests", "fixtures", "golden", "h12");
const HEAD = join(ROOT, "tests", "fixtures", "mlm", "head.safetensors");
const scratch = mkdtempSync(join(tmpdir(), "dynabert-distill-cli-"));

/** h12 with the MLM fixture's head, as `dynabert pretrain` would save it. */
async function teacherWithHead(): Promise<string> {
  const dir = join(scratch, "teacher");
  const model = await DynaBert.load(H12);
  const head = readMlmHead(model.engine.core, model.config, parseSafetensors(new Uint8Array(readFileSync(HEAD)), HEAD), HEAD)!;
  const files = mlmModelFiles(model, head);
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return dir;
}

function state(dir: string): { kind: string; step: number; totalSteps: number; history: Array<{ loss?: number }> } {
  return JSON.parse(readFileSync(join(dir, "trainer_state.json"), "utf8"));
}

const quiet = async (f: () => Promise<void>) => {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await f();
  } finally {
    process.stderr.write = write;
  }
};

describe("dynabert train --phase distill", () => {
  it("DistilBERT: --student-layers 3 --alpha-soft 5 --alpha-mlm 2 --alpha-cos 1 on a corpus writes a 3-layer student with its MLM head", async () => {
    const teacher = await teacherWithHead();
    const corpus = join(scratch, "corpus.txt");
    writeFileSync(corpus, syntheticExamples(40, 1).map((e) => e.text).join("\n") + "\n");
    const out = join(scratch, "distilbert");
    await quiet(() =>
      train(["--phase", "distill", "--model", teacher, "--student-layers", "3", "--corpus", corpus, "--out", out,
        "--alpha-soft", "5", "--alpha-mlm", "2", "--alpha-cos", "1", "--temperature", "2", "--epochs", "1", "--batch-size", "8", "--lr", "1e-3", "--seed", "3"]),
    );
    const s = state(out);
    assert.equal(s.kind, "distillation");
    assert.equal(s.step, 5);
    assert.ok(s.history.every((h) => h.loss === undefined || Number.isFinite(h.loss)));
    const student = await DynaBert.load(out);
    assert.equal(student.config.numHiddenLayers, 3);
    const names = [...parseSafetensors(new Uint8Array(readFileSync(join(out, "model.safetensors")))).tensors.keys()];
    assert.ok(names.includes("cls.predictions.transform.dense.weight"), "the MLM head is saved with the student");
    assert.ok(!existsSync(join(out, PROJECTION_FILE)), "same hidden size: no W_p");
  });

  it("TinyBERT: intermediate layers through W_p, then the prediction layer from the saved student", async () => {
    const data = writeJsonl(scratch, "task.jsonl", syntheticExamples(24, 2));
    const stage1 = join(scratch, "tinybert-1");
    await quiet(() =>
      train(["--phase", "distill", "--model", H12, "--student-layers", "2", "--student-hidden", "24", "--student-intermediate", "48", "--train", data, "--out", stage1,
        "--alpha-hidden", "1", "--alpha-emb", "1", "--alpha-attn", "1", "--epochs", "1", "--batch-size", "8", "--lr", "1e-3"]),
    );
    assert.ok(existsSync(join(stage1, PROJECTION_FILE)), "W_p is saved beside the student");
    const w = parseSafetensors(new Uint8Array(readFileSync(join(stage1, PROJECTION_FILE)))).tensors.get("fit_dense.weight")!;
    assert.deepEqual(w.shape, [48, 24]);
    const first = await DynaBert.load(stage1);
    assert.deepEqual([first.config.hiddenSize, first.config.intermediateSize, first.config.numHiddenLayers, first.config.numAttentionHeads], [24, 48, 2, 12]);

    const stage2 = join(scratch, "tinybert-2");
    await quiet(() =>
      train(["--phase", "distill", "--model", H12, "--student", stage1, "--train", data, "--out", stage2, "--alpha-soft", "1", "--epochs", "1", "--batch-size", "8", "--lr", "1e-3"]),
    );
    const second = await DynaBert.load(stage2);
    assert.equal(second.config.hiddenSize, 24);
    assert.notDeepEqual(second.forward({ inputIds: [[2, 7, 3]] }).logits!.data, first.forward({ inputIds: [[2, 7, 3]] }).logits!.data, "stage 2 trained the classifier path");

    // --resume reads the saved state and refuses other loss weights.
    await assert.rejects(
      quiet(() => train(["--phase", "distill", "--model", H12, "--train", data, "--out", stage2, "--alpha-soft", "2", "--epochs", "1", "--batch-size", "8", "--lr", "1e-3", "--resume"])),
      (e: unknown) => e instanceof OptionError && e.code === "RESUME_MISMATCH",
    );
  });

  it("names the flag at fault", async () => {
    const data = writeJsonl(scratch, "one.jsonl", syntheticExamples(2, 3));
    const run = (...extra: string[]) => quiet(() => train(["--phase", "distill", "--model", H12, "--train", data, "--out", join(scratch, "x"), ...extra]));
    await assert.rejects(run("--student-layers", "3"), (e: unknown) => e instanceof OptionError && /at least one loss term/.test((e as Error).message));
    await assert.rejects(run("--student-layers", "9", "--alpha-hidden", "1"), (e: unknown) => e instanceof OptionError && e.option === "--student-layers");
    await assert.rejects(run("--student-layers", "3", "--student-intermediate", "40", "--alpha-hidden", "1"), (e: unknown) => e instanceof OptionError && e.option === "--student-intermediate");
    await assert.rejects(run("--student-layers", "3", "--alpha-soft", "1", "--soft-target", "mlm"), (e: unknown) => e instanceof OptionError && e.option === "--soft-target");
    await assert.rejects(run("--alpha-hidden", "1"), (e: unknown) => e instanceof OptionError && e.option === "--student-layers");
    await assert.rejects(run("--student", H12, "--student-hidden", "24", "--alpha-hidden", "1"), (e: unknown) => e instanceof OptionError && e.option === "--student-hidden");
  });
});
