// The built `dynabert` bin (dist/cli.js, made by `npm ci`/`npm run build`):
// its JSON contracts and its errors, run as a user would run it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseSafetensors } from "../../src/checkpoint/safetensors.js";
import { DynaBert, BertTokenizer } from "../../src/node.js";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "cli.js");
const H12 = join(ROOT, "tests", "fixtures", "golden", "h12");
const TOKENIZER_VOCAB = join(ROOT, "tests", "fixtures", "tokenizer");
const scratch = mkdtempSync(join(tmpdir(), "dynabert-cli-"));

function run(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function writeJson(name: string, value: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe("dynabert infer", () => {
  it("prints sizes, kept layers, logits and [1 + depth][B][S][D] hidden states equal to the library's", async () => {
    const inputPath = join(H12, "inputs.json");
    const r = run("infer", "--model", H12, "--input", inputPath, "--width", "0.75", "--depth", "0.5", "--hidden-states");
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      { width: out.width, depth: out.depth, heads: out.heads, intermediate: out.intermediate, kept_layers: out.kept_layers },
      { width: 0.75, depth: 0.5, heads: 9, intermediate: 75, kept_layers: [0, 2, 4] },
    );
    const inputs = JSON.parse(readFileSync(inputPath, "utf8"));
    const B = inputs.input_ids.length;
    const S = inputs.input_ids[0].length;
    assert.equal(out.hidden_states.length, 1 + 3);
    assert.equal(out.hidden_states[0].length, B);
    assert.equal(out.hidden_states[0][0].length, S);
    assert.equal(out.hidden_states[0][0][0].length, 48);
    const model = await DynaBert.load(H12);
    const lib = model.forward(
      { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask, tokenTypeIds: inputs.token_type_ids },
      { width: 0.75, depth: 0.5 },
    );
    assert.deepEqual(out.logits.flat(), Array.from(lib.logits!.data));
  });

  it("takes texts and tokenizes them as `tokenize` does", () => {
    const texts = writeJson("texts.json", { texts: ["Hello, world!", "a b"] });
    const r = run("infer", "--model", H12, "--input", texts);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).logits.length, 2);
  });

  it("fails with a typed one-line error, not a stack trace, on bad width, ids or missing flags", () => {
    const inputPath = join(H12, "inputs.json");
    let r = run("infer", "--model", H12, "--input", inputPath, "--width", "1.5");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--width must be a number in \(0, 1\]/);
    r = run("infer", "--model", H12, "--input", writeJson("bad-ids.json", { input_ids: [[2, 99999, 3]] }));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /InputError \[TOKEN_ID_OUT_OF_RANGE\].*99999/);
    r = run("infer", "--input", inputPath);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--model is required/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  });
});

describe("dynabert tokenize", () => {
  const model = join(scratch, "uncased");
  it("prints unpadded ids matching the library, truncating pairs to --max-length", () => {
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, "vocab.txt"), readFileSync(join(TOKENIZER_VOCAB, "vocab-bert-base-uncased.txt")));
    const pairs = writeJson("pairs.json", { pairs: [["The quick brown fox jumps over the lazy dog", "Ångström naïve café"], ["short", "also short"]] });
    const r = run("tokenize", "--model", model, "--input", pairs, "--max-length", "10");
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.input_ids[0].length, 10);
    assert.ok(out.input_ids[1].length < 10, "short pair is not padded");
    const tok = BertTokenizer.fromFiles({ vocab: readFileSync(join(model, "vocab.txt"), "utf8") });
    const lib = tok.encodeBatch([["The quick brown fox jumps over the lazy dog", "Ångström naïve café"], ["short", "also short"]], { maxLength: 10 });
    assert.deepEqual(out, { input_ids: lib.inputIds, token_type_ids: lib.tokenTypeIds, attention_mask: lib.attentionMask });
  });
});

describe("dynabert bench", () => {
  it("prints median, min, GFLOP/s, FLOPs and runs as JSON", () => {
    const r = run("bench", "--preset", "bert-tiny", "--batch", "2", "--seq", "16", "--width", "0.5", "--depth", "0.5", "--runs", "3", "--json");
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out).sort(), ["flops", "gflops", "median_ms", "min_ms", "runs", "simd", "threads"]);
    assert.equal(out.runs, 3);
    assert.equal(out.threads, 1);
    assert.ok(out.simd === "baseline" || out.simd === "relaxed");
    assert.ok(out.min_ms > 0 && out.min_ms <= out.median_ms);
    assert.ok(Math.abs(out.gflops - out.flops / (out.median_ms * 1e6)) < 1e-9);
  });
});

describe("--threads and --simd (bench, infer, eval)", () => {
  it("bench --threads 2 --simd baseline runs the threaded baseline build and says so", () => {
    const r = run("bench", "--preset", "bert-tiny", "--seq", "16", "--runs", "2", "--threads", "2", "--simd", "baseline", "--json");
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.threads, 2);
    assert.equal(out.simd, "baseline");
  });

  it("infer gives the same logits on two threads as on one", () => {
    const inputPath = join(H12, "inputs.json");
    const one = run("infer", "--model", H12, "--input", inputPath, "--simd", "baseline");
    const two = run("infer", "--model", H12, "--input", inputPath, "--simd", "baseline", "--threads", "2");
    assert.equal(one.status, 0, one.stderr);
    assert.equal(two.status, 0, two.stderr);
    assert.deepEqual(JSON.parse(two.stdout).logits, JSON.parse(one.stdout).logits);
  });

  it("a bad --simd or --threads is a clear error naming the flag", () => {
    const simd = run("bench", "--preset", "bert-tiny", "--simd", "fast");
    assert.notEqual(simd.status, 0);
    assert.match(simd.stderr, /--simd must be one of auto, baseline, relaxed, got fast/);
    const threads = run("infer", "--model", H12, "--input", join(H12, "inputs.json"), "--threads", "0");
    assert.notEqual(threads.status, 0);
    assert.match(threads.stderr, /--threads/);
  });

  it("--simd relaxed where this Node cannot run it says what to do", { skip: WebAssembly.validate(readFileSync(join(ROOT, "build", "release-relaxed.wasm"))) && "this Node runs relaxed SIMD" }, () => {
    const r = run("bench", "--preset", "bert-tiny", "--seq", "16", "--runs", "2", "--simd", "relaxed");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--experimental-wasm-relaxed-simd/);
  });
});

describe("dynabert grad", () => {
  it("prints losses and the norm of PyTorch's step and writes every gradient under HF names", () => {
    const caseDir = join(ROOT, "tests", "fixtures", "grads", "depth", "h12_teacher_same");
    const c = JSON.parse(readFileSync(join(caseDir, "case.json"), "utf8"));
    const out = join(scratch, "grads.safetensors");
    const r = run(
      "grad", "--student", join(ROOT, c.student), "--teacher", join(ROOT, c.teacher), "--input", join(caseDir, "input.json"),
      "--phase", "depth", "--widths", c.widths.join(","), "--depths", c.depths.join(","), "--teacher-width", "same", "--out", out,
    );
    assert.equal(r.status, 0, r.stderr);
    const printed = JSON.parse(r.stdout);
    assert.ok(Math.abs(printed.total_loss - c.total_loss) <= 1e-4 * c.total_loss);
    assert.ok(Math.abs(printed.grad_global_norm - c.grad_global_norm) <= 1e-4 * c.grad_global_norm);
    assert.deepEqual(printed.subnets.map((s: { width: number; depth: number }) => [s.width, s.depth]), c.subnets.map((s: { width: number; depth: number }) => [s.width, s.depth]));
    const written = parseSafetensors(new Uint8Array(readFileSync(out)), out);
    assert.deepEqual([...written.tensors.keys()].sort(), Object.keys(c.grad_norms).sort());
  });

  it("refuses a distillation phase without a teacher", () => {
    const caseDir = join(ROOT, "tests", "fixtures", "grads", "depth", "h12_teacher_same");
    const r = run("grad", "--student", H12, "--input", join(caseDir, "input.json"), "--phase", "width", "--out", join(scratch, "x.safetensors"));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--teacher/);
  });
});
