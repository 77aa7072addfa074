// int8 export and inference: the file layout (I8 linear and embedding weights
// with F32 per-row scales, floats elsewhere), the engine against a scalar
// emulation of the int8 scheme, the deviation from the f32 model against what
// the rounding-noise model predicts, width/depth slices against exports of
// the slices, re-export without re-quantization, mixed checkpoints, vocab
// trimming, and the CLI.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { exportCommand } from "../../src/cli/export.js";
import { HF_PT_METADATA, parseBertConfig, parseSafetensors, writeSafetensors, type SafetensorsTensorInput } from "../../src/checkpoint/index.js";
import { slicedCheckpointFiles, type ExportDtype } from "../../src/export/sliced.js";
import { trimVocab } from "../../src/export/vocab-trim.js";
import type { FolderContents } from "../../src/model/save.js";
import { parametersUsed } from "../../src/model/subnetwork.js";
import { DynaBert, readBundledWasm } from "../../src/node.js";
import { seededRandom } from "../../src/train/data.js";
import { readRefModel, refForward, rowStep, withWeightNoise, type RefBatch } from "./int8-emulation.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "golden");
const SUBNETWORKS: Array<[number, number]> = [
  [1, 1],
  [0.75, 1],
  [0.5, 0.75],
  [0.25, 0.5],
  [0.75, 0.25],
  [0.4, 0.6],
];
const LINEARS = /(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense|pooler\.dense|classifier)\.weight$/;
const EMBEDDINGS = /embeddings\.(word|position|token_type)_embeddings\.weight$/;

let wasm: Uint8Array;
before(async () => {
  wasm = await readBundledWasm();
});

function fixtureInputs(name: string): RefBatch {
  const raw = JSON.parse(readFileSync(join(FIXTURES, name, "inputs.json"), "utf8"));
  return { inputIds: raw.input_ids, attentionMask: raw.attention_mask, tokenTypeIds: raw.token_type_ids };
}

function loadFiles(files: FolderContents): Promise<DynaBert> {
  return DynaBert.load(
    {
      config: files["config.json"] as string,
      weights: files["model.safetensors"] as Uint8Array,
      vocab: files["vocab.txt"] as string | undefined,
      tokenizerConfig: files["tokenizer_config.json"] as string | undefined,
    },
    { wasm },
  );
}

function exportFiles(model: DynaBert, dtype: ExportDtype, width = 1, depth = 1): FolderContents {
  return slicedCheckpointFiles(model, { dtype, width, depth }).files;
}

function refOf(files: FolderContents) {
  return readRefModel(files["config.json"] as string, files["model.safetensors"] as Uint8Array);
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Engine outputs against the emulation: within 1e-4 of the reference's scale (f32 vs f64 float work, same integers). */
function assertMatchesEmulation(got: { logits?: { data: Float32Array }; hiddenStates?: { data: Float32Array } }, ref: ReturnType<typeof refForward>, what: string) {
  const logitScale = Math.max(1, maxAbs(ref.logits));
  assert.ok(maxAbsDiff(got.logits!.data, ref.logits) <= 1e-4 * logitScale, `${what}: logits differ from the emulation by ${maxAbsDiff(got.logits!.data, ref.logits)}`);
  const hidden = Float64Array.from(ref.hidden.flatMap((h) => Array.from(h)));
  const hiddenScale = Math.max(1, maxAbs(hidden));
  assert.ok(maxAbsDiff(got.hiddenStates!.data, hidden) <= 1e-4 * hiddenScale, `${what}: hidden states differ from the emulation by ${maxAbsDiff(got.hiddenStates!.data, hidden)}`);
}

for (const fixture of ["h12", "h6odd", "h6odd_f16"]) {
  describe(`int8 export of ${fixture}`, () => {
    let model: DynaBert;
    let int8Files: FolderContents;
    let int8: DynaBert;
    const inputs = fixtureInputs(fixture);
    before(async () => {
      model = await DynaBert.load(join(FIXTURES, fixture), { wasm });
      int8Files = exportFiles(model, "INT8");
      int8 = await loadFiles(int8Files);
    });

    it("stores linear and embedding weights as I8 with F32 [rows] scales, biases and LayerNorms as F32", () => {
      const tensors = parseSafetensors(int8Files["model.safetensors"] as Uint8Array).tensors;
      let weights = 0;
      let stored = 0;
      for (const [name, t] of tensors) {
        if (name.endsWith("_scale")) {
          const weight = tensors.get(name.slice(0, -"_scale".length));
          assert.ok(weight, `${name} has no weight`);
          assert.equal(t.dtype, "F32", name);
          assert.deepEqual(t.shape, [weight.shape[0]], name);
          continue;
        }
        stored += t.shape.reduce((a, b) => a * b, 1);
        if (LINEARS.test(name) || EMBEDDINGS.test(name)) {
          assert.equal(t.dtype, "I8", name);
          assert.ok(tensors.has(`${name}_scale`), `${name}_scale`);
          weights++;
        } else {
          assert.equal(t.dtype, "F32", name);
        }
      }
      assert.equal(weights, 3 + 6 * model.config.numHiddenLayers + 2);
      // Every parameter stored exactly once (scales are not parameters).
      assert.equal(stored, parametersUsed(model.config, model.subNetwork()));
      const config = parseBertConfig(int8Files["config.json"] as string);
      assert.equal((config.extra.dynabert_export as Record<string, unknown>).dtype, "INT8");
    });

    it("quantizes each weight row symmetrically: scale = max|row|/127, q = the nearest step", () => {
      const f32 = parseSafetensors(exportFiles(model, "F32")["model.safetensors"] as Uint8Array).tensors;
      const tensors = parseSafetensors(int8Files["model.safetensors"] as Uint8Array).tensors;
      for (const name of ["bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.0.output.dense.weight", "classifier.weight", "bert.embeddings.word_embeddings.weight"]) {
        const w = new Float32Array(f32.get(name)!.data.slice().buffer);
        const q = new Int8Array(tensors.get(name)!.data.slice().buffer);
        const scales = new Float32Array(tensors.get(`${name}_scale`)!.data.slice().buffer);
        const cols = tensors.get(name)!.shape[1];
        for (let r = 0; r < scales.length; r++) {
          const row = w.subarray(r * cols, (r + 1) * cols);
          assert.equal(scales[r], rowStep(row), `${name} row ${r} scale`);
          for (let c = 0; c < cols; c++) {
            // Nearest: within half a step (plus the f32 rounding of x / scale).
            assert.ok(Math.abs(q[r * cols + c] * scales[r] - row[c]) <= scales[r] * (0.5 + 1e-6), `${name}[${r}][${c}]`);
          }
          if (scales[r] > 0) assert.equal(Math.max(...Array.from(q.subarray(r * cols, (r + 1) * cols), Math.abs)), 127, `${name} row ${r} reaches ±127`);
        }
      }
    });

    it("loads, and computes what a scalar emulation of the int8 scheme computes", () => {
      assertMatchesEmulation(int8.forward(inputs, { hiddenStates: true }), refForward(refOf(int8Files), inputs), fixture);
    });

    it("moves the logits from the f32 model's by no more than the rounding-noise model allows", () => {
      const reference = model.forward(inputs).logits!.data;
      const deviation = maxAbsDiff(int8.forward(inputs).logits!.data, reference);
      // Quantization error modelled as independent uniform noise of each row's
      // int8 step on every weight, embedding and linear-layer input (the
      // standard model of rounding). The int8 deviation is then one more draw
      // of what these draws measure; twice the largest of 8 allows for it
      // landing in the tail without admitting a broken scheme (a wrong scale,
      // sign or layout moves logits by their own size).
      const float = refOf(exportFiles(model, "F32"));
      const exact = refForward(float, inputs).logits;
      const draws = Array.from({ length: 8 }, (_, i) => {
        const random = seededRandom(1000 + i);
        return maxAbsDiff(refForward(withWeightNoise(float, random), inputs, { kind: "noise", random }).logits, exact);
      });
      const bound = 2 * Math.max(...draws);
      console.log(`# ${fixture}: int8 vs f32 max |Δlogit| = ${deviation.toExponential(2)} (max |logit| ${maxAbs(reference).toFixed(3)}); noise-model draws ${draws.map((d) => d.toExponential(1)).join(" ")}; bound ${bound.toExponential(2)}`);
      assert.ok(deviation > 0, "int8 must change something: is the export really int8?");
      assert.ok(deviation <= bound, `int8 logits deviate by ${deviation}, more than the noise model's ${bound}`);
    });

    for (const [width, depth] of SUBNETWORKS) {
      it(`width ${width}, depth ${depth}: the int8 model equals the int8 export of the slice, bit for bit, and the emulation of that file`, async () => {
        const slicedFiles = exportFiles(model, "INT8", width, depth);
        const sliced = await loadFiles(slicedFiles);
        const full = int8.forward(inputs, { width, depth, hiddenStates: true });
        const small = sliced.forward(inputs, { hiddenStates: true });
        assert.deepEqual(small.logits!.data, full.logits!.data, "logits differ");
        assert.deepEqual(small.hiddenStates!.data, full.hiddenStates!.data, "hidden states differ");
        assertMatchesEmulation(full, refForward(refOf(slicedFiles), inputs), `${fixture} (${width}, ${depth})`);
      });
    }

    it("re-exports an int8-loaded model, whole or sliced, to the same bytes as the export from the float model", () => {
      for (const [width, depth] of [[1, 1], [0.5, 0.5]]) {
        const again = exportFiles(int8, "INT8", width, depth)["model.safetensors"] as Uint8Array;
        const first = exportFiles(model, "INT8", width, depth)["model.safetensors"] as Uint8Array;
        assert.ok(Buffer.from(again).equals(Buffer.from(first)), `(${width}, ${depth}) re-export differs`);
      }
    });

    it("exports an int8-loaded model as F32 with each weight f32(q · scale)", () => {
      const f32 = parseSafetensors(exportFiles(int8, "F32")["model.safetensors"] as Uint8Array).tensors;
      const tensors = parseSafetensors(int8Files["model.safetensors"] as Uint8Array).tensors;
      for (const name of ["bert.encoder.layer.0.attention.output.dense.weight", "bert.pooler.dense.weight", "bert.embeddings.position_embeddings.weight"]) {
        const got = new Float32Array(f32.get(name)!.data.slice().buffer);
        const q = new Int8Array(tensors.get(name)!.data.slice().buffer);
        const scales = new Float32Array(tensors.get(`${name}_scale`)!.data.slice().buffer);
        const cols = tensors.get(name)!.shape[1];
        assert.deepEqual(got, Float32Array.from(q, (v, i) => Math.fround(v * scales[Math.floor(i / cols)])), name);
      }
    });
  });
}

describe("int8 with F16 export and vocab trimming", () => {
  it("--dtype f16 still stores every tensor as F16", async () => {
    const model = await DynaBert.load(join(FIXTURES, "h6odd"), { wasm });
    const tensors = parseSafetensors(exportFiles(model, "F16")["model.safetensors"] as Uint8Array).tensors;
    for (const [name, t] of tensors) assert.equal(t.dtype, "F16", name);
  });

  it("a trimmed-vocab int8 export gives the corpus the same logits as the untrimmed int8 model", async () => {
    const model = await DynaBert.load(join(FIXTURES, "h12"), { wasm });
    const corpus = ["baba bada ba", "zo zu be, babu!", "fa fe fi"];
    const trim = trimVocab(model.tokenizer!, corpus, { padTokenId: model.config.padTokenId });
    const int8 = await loadFiles(exportFiles(model, "INT8"));
    const trimmed = await loadFiles(slicedCheckpointFiles(model, { dtype: "INT8", width: 0.5, depth: 0.5, vocab: trim }).files);
    assert.equal(trimmed.config.vocabSize, trim.keptIds.length);
    const full = int8.forward(model.tokenize(corpus), { width: 0.5, depth: 0.5 }).logits!.data;
    assert.deepEqual(trimmed.forward(trimmed.tokenize(corpus)).logits!.data, full);
  });
});

describe("mixed checkpoints", () => {
  it("I8 linears in one layer, F16 everywhere else: loads, and each linear runs on its own kernel", async () => {
    const model = await DynaBert.load(join(FIXTURES, "h6odd"), { wasm });
    const inputs = fixtureInputs("h6odd");
    const int8 = parseSafetensors(exportFiles(model, "INT8")["model.safetensors"] as Uint8Array).tensors;
    const f16 = parseSafetensors(exportFiles(model, "F16")["model.safetensors"] as Uint8Array).tensors;
    const layer1 = (name: string) => name.startsWith("bert.encoder.layer.1.") && (LINEARS.test(name) || name.endsWith(".weight_scale"));
    const tensors: SafetensorsTensorInput[] = [];
    for (const [name, t] of int8) if (layer1(name)) tensors.push({ name, ...t });
    for (const [name, t] of f16) if (!layer1(name)) tensors.push({ name, ...t });
    const files = exportFiles(model, "F16");
    files["model.safetensors"] = writeSafetensors(tensors, HF_PT_METADATA);
    const mixed = await loadFiles(files);
    const got = mixed.forward(inputs, { hiddenStates: true });
    assertMatchesEmulation(got, refForward(refOf(files), inputs), "mixed");
    // Not the all-F16 model: layer 1's linears really ran in int8.
    const allF16 = (await loadFiles(exportFiles(model, "F16"))).forward(inputs).logits!.data;
    assert.notDeepEqual(got.logits!.data, allF16);
  });
});

describe("dynabert export --dtype int8 (CLI)", () => {
  it("writes an int8 folder that loads and equals the in-memory export, at about a quarter of the F32 bytes", async () => {
    const dir = join(FIXTURES, "h12");
    const tmp = mkdtempSync(join(tmpdir(), "dynabert-int8-"));
    const out = join(tmp, "int8");
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    try {
      await exportCommand(["--model", dir, "--width", "0.5", "--depth", "0.5", "--out", out, "--dtype", "int8"]);
    } finally {
      console.log = log;
    }
    assert.match(lines.join("\n"), /INT8/);
    for (const f of ["config.json", "model.safetensors", "vocab.txt"]) assert.ok(existsSync(join(out, f)), f);
    const model = await DynaBert.load(dir, { wasm });
    const expected = slicedCheckpointFiles(model, { dtype: "INT8", width: 0.5, depth: 0.5 }).files;
    assert.ok(readFileSync(join(out, "model.safetensors")).equals(Buffer.from(expected["model.safetensors"] as Uint8Array)));
    const f32Bytes = (slicedCheckpointFiles(model, { width: 0.5, depth: 0.5 }).files["model.safetensors"] as Uint8Array).byteLength;
    const ratio = readFileSync(join(out, "model.safetensors")).byteLength / f32Bytes;
    // 1 byte per weight plus F32 biases, LayerNorms and scales (a few % of the parameters at these tiny sizes).
    assert.ok(ratio > 0.25 && ratio < 0.4, `int8 / f32 bytes = ${ratio}`);
    const inputs = fixtureInputs("h12");
    const loaded = await DynaBert.load(out, { wasm });
    assert.deepEqual(loaded.forward(inputs).logits!.data, (await loadFiles(expected)).forward(inputs).logits!.data);
  });
});
