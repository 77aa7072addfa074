// Sliced HF export: the physically sliced folder, loaded back, must compute
// bit for bit what the full model computes at (width, depth); its tensors are
// the source file's row/column prefixes of the kept layers; F16 stores each
// value as the nearest half; vocabulary trimming keeps logits identical on the
// corpus. The CLI writes the folder and still routes --format onnx.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { exportCommand } from "../../src/cli/export.js";
import { parseSafetensors, resolveCheckpointTensors, parseBertConfig } from "../../src/checkpoint/index.js";
import { OptionError } from "../../src/errors.js";
import { slicedCheckpointFiles } from "../../src/export/sliced.js";
import { corpusTexts, trimVocab } from "../../src/export/vocab-trim.js";
import { parametersUsed } from "../../src/model/subnetwork.js";
import { BertTokenizer } from "../../src/tokenizer/index.js";
import { DynaBert, readBundledWasm, readModelFolder } from "../../src/node.js";
import type { FolderContents } from "../../src/model/save.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "golden");
const SUBNETWORKS: Array<[number, number]> = [
  [1, 1],
  [0.75, 1],
  [0.5, 0.75],
  [0.25, 0.5],
  [0.75, 0.25],
  [0.4, 0.6],
];

let wasm: Uint8Array;
before(async () => {
  wasm = await readBundledWasm();
});

interface Inputs {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
}

function fixtureInputs(name: string): Inputs {
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

/** Bytes of the safetensors data buffer (header excluded). */
function dataBytes(file: Uint8Array): number {
  return file.byteLength - parseSafetensors(file).dataStart;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** IEEE binary16 bits → number, written independently of the wasm converter. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

for (const fixture of ["h12", "h6odd", "h6odd_f16"]) {
  describe(`sliced F32 export of ${fixture}`, () => {
    let model: DynaBert;
    const inputs = fixtureInputs(fixture);
    before(async () => {
      model = await DynaBert.load(join(FIXTURES, fixture), { wasm });
    });

    for (const [width, depth] of SUBNETWORKS) {
      it(`width ${width}, depth ${depth}: loads, is exactly the sliced parameter count, and computes bit-identical logits and hidden states`, async () => {
        const sub = model.subNetwork({ width, depth });
        const exported = slicedCheckpointFiles(model, { width, depth });
        const config = parseBertConfig(exported.files["config.json"] as string);
        assert.equal(config.numAttentionHeads, sub.heads);
        assert.equal(config.attentionHeadSize, model.config.attentionHeadSize);
        assert.equal(config.intermediateSize, sub.intermediate);
        assert.equal(config.numHiddenLayers, sub.keptLayers.length);
        const record = config.extra.dynabert_export as Record<string, unknown>;
        assert.deepEqual(record.kept_layers, sub.keptLayers);
        assert.equal(record.source_heads, model.config.numAttentionHeads);
        assert.equal(record.width, width);
        assert.equal(record.depth, depth);

        const weightsFile = exported.files["model.safetensors"] as Uint8Array;
        assert.equal(dataBytes(weightsFile), 4 * parametersUsed(model.config, sub));
        assert.equal(exported.parameters, parametersUsed(model.config, sub));
        // Against the full model stored as F32 (a fixture may be stored as F16).
        if (width < 1 || depth < 1) assert.ok(exported.parameters < parametersUsed(model.config, model.subNetwork()));

        const small = await loadFiles(exported.files);
        const full = model.forward(inputs, { width, depth, hiddenStates: true });
        const sliced = small.forward(inputs, { hiddenStates: true });
        assert.deepEqual(sliced.subNetwork.keptLayers, Array.from({ length: sub.keptLayers.length }, (_, i) => i));
        assert.deepEqual(sliced.logits!.dims, full.logits!.dims);
        assert.deepEqual(sliced.logits!.data, full.logits!.data, "logits differ");
        assert.deepEqual(sliced.hiddenStates!.dims, full.hiddenStates!.dims);
        assert.deepEqual(sliced.hiddenStates!.data, full.hiddenStates!.data, "hidden states differ");
      });
    }
  });
}

describe("sliced export tensors against the source file", () => {
  it("holds the kept layers' Q/K/V and FFN-in row prefixes and attention-out/FFN-out column prefixes, renumbered", async () => {
    const dir = join(FIXTURES, "h6odd");
    const model = await DynaBert.load(dir, { wasm });
    // L = 3 at depth 0.5 keeps layers 0 and 2: layer 2 becomes layer 1.
    const [width, depth] = [0.5, 0.5];
    const sub = model.subNetwork({ width, depth });
    const exported = slicedCheckpointFiles(model, { width, depth });
    const src = resolveCheckpointTensors(parseSafetensors(new Uint8Array(readFileSync(join(dir, "model.safetensors")))), model.config).tensors;
    const dst = resolveCheckpointTensors(parseSafetensors(exported.files["model.safetensors"] as Uint8Array), exported.config).tensors;
    const f32 = (t: { data: Uint8Array }) => new Float32Array(t.data.slice().buffer);
    const D = model.config.hiddenSize;
    const A = sub.attentionWidth;
    const I = sub.intermediate;
    const rows = (values: Float32Array, n: number, k: number) => values.slice(0, n * k);
    const columns = (values: Float32Array, n: number, kFull: number, k: number) => {
      const out = new Float32Array(n * k);
      for (let j = 0; j < n; j++) out.set(values.subarray(j * kFull, j * kFull + k), j * k);
      return out;
    };
    assert.ok(sub.keptLayers.some((l, i) => l !== i), "this case must renumber at least one layer");
    sub.keptLayers.forEach((from, to) => {
      const s = (name: string) => f32(src.get(`encoder.layer.${from}.${name}`)!);
      const d = (name: string) => f32(dst.get(`encoder.layer.${to}.${name}`)!);
      for (const qkv of ["query", "key", "value"]) {
        assert.deepEqual(d(`attention.self.${qkv}.weight`), rows(s(`attention.self.${qkv}.weight`), A, D));
        assert.deepEqual(d(`attention.self.${qkv}.bias`), s(`attention.self.${qkv}.bias`).slice(0, A));
      }
      assert.deepEqual(d("attention.output.dense.weight"), columns(s("attention.output.dense.weight"), D, model.config.numAttentionHeads * model.config.attentionHeadSize, A));
      assert.deepEqual(d("attention.output.dense.bias"), s("attention.output.dense.bias"));
      assert.deepEqual(d("intermediate.dense.weight"), rows(s("intermediate.dense.weight"), I, D));
      assert.deepEqual(d("intermediate.dense.bias"), s("intermediate.dense.bias").slice(0, I));
      assert.deepEqual(d("output.dense.weight"), columns(s("output.dense.weight"), D, model.config.intermediateSize, I));
      for (const n of ["attention.output.LayerNorm", "output.LayerNorm"]) assert.deepEqual(d(`${n}.weight`), s(`${n}.weight`));
    });
    for (const name of ["embeddings.word_embeddings.weight", "embeddings.LayerNorm.weight", "pooler.dense.weight", "classifier.weight"]) {
      assert.deepEqual(f32(dst.get(name)!), f32(src.get(name)!), name);
    }
    assert.equal(dst.has(`encoder.layer.${sub.keptLayers.length}.output.dense.weight`), false);
  });
});

describe("sliced F16 export", () => {
  for (const fixture of ["h12", "h6odd"]) {
    it(`${fixture}: half the bytes, every value the nearest half, logits close`, async () => {
      const model = await DynaBert.load(join(FIXTURES, fixture), { wasm });
      const inputs = fixtureInputs(fixture);
      const [width, depth] = [0.5, 0.75];
      const f32 = slicedCheckpointFiles(model, { width, depth });
      const f16 = slicedCheckpointFiles(model, { width, depth, dtype: "F16" });
      const f32File = f32.files["model.safetensors"] as Uint8Array;
      const f16File = f16.files["model.safetensors"] as Uint8Array;
      assert.equal(dataBytes(f16File) * 2, dataBytes(f32File));
      assert.equal(parseBertConfig(f16.files["config.json"] as string).extra.torch_dtype, "float16");

      const wide = parseSafetensors(f32File).tensors;
      for (const [name, t] of parseSafetensors(f16File).tensors) {
        assert.equal(t.dtype, "F16", name);
        const exact = new Float32Array(wide.get(name)!.data.slice().buffer);
        const halves = new Uint16Array(t.data.slice().buffer);
        for (let i = 0; i < exact.length; i++) {
          const x = exact[i];
          const h = halfToNumber(halves[i]);
          // Nearest: neither neighbour of the stored half is closer to x.
          const up = halfToNumber(halves[i] + 1);
          const down = halves[i] & 0x7fff ? halfToNumber(halves[i] - 1) : h;
          assert.ok(Math.abs(x - h) <= Math.abs(x - up) && Math.abs(x - h) <= Math.abs(x - down), `${name}[${i}]: ${x} stored as ${h}`);
        }
      }

      const reference = model.forward(inputs, { width, depth }).logits!.data;
      const half = (await loadFiles(f16.files)).forward(inputs).logits!.data;
      const deviation = maxAbsDiff(half, reference);
      const scale = Math.max(...Array.from(reference, Math.abs));
      console.log(`# ${fixture} F16 export at (${width}, ${depth}): max |Δlogit| = ${deviation.toExponential(2)} (max |logit| ${scale.toFixed(3)})`);
      assert.ok(deviation > 0, "F16 rounding should change something: is the export really F16?");
      // binary16 keeps 11 significant bits (relative step 2^-11 ≈ 4.9e-4); a few layers of such errors stay well under 1% of the logit scale.
      assert.ok(deviation < 1e-2 * Math.max(1, scale), `F16 logits deviate by ${deviation}`);
    });
  }
});

describe("vocabulary trimming", () => {
  const fixture = "h12";
  const corpus = ["baba bada ba", "zo zu be, babu!", "fa fe fi"];
  let model: DynaBert;
  before(async () => {
    model = await DynaBert.load(join(FIXTURES, fixture), { wasm });
  });

  it("keeps the corpus's pieces and the specials, renumbered in their original order", () => {
    const trim = trimVocab(model.tokenizer!, corpus, { padTokenId: model.config.padTokenId });
    const tokens = trim.vocabText.trimEnd().split("\n");
    const used = new Set(corpus.flatMap((t) => model.tokenizer!.tokenize(t)));
    for (const t of ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...used]) assert.ok(tokens.includes(t), t);
    assert.equal(tokens.length, new Set([...used, "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]).size);
    assert.ok(tokens.length < model.config.vocabSize);
    assert.deepEqual(trim.keptIds, [...trim.keptIds].sort((a, b) => a - b));
    trim.keptIds.forEach((id, i) => assert.equal(tokens[i], model.tokenizer!.vocab.idToToken(id)));
  });

  for (const [width, depth] of [
    [1, 1],
    [0.5, 0.5],
  ]) {
    it(`width ${width}, depth ${depth}: the corpus gives other ids but the same logits and hidden states`, async () => {
      const trim = trimVocab(model.tokenizer!, corpus, { padTokenId: model.config.padTokenId });
      const exported = slicedCheckpointFiles(model, { width, depth, vocab: trim });
      assert.equal(exported.config.vocabSize, trim.keptIds.length);
      const small = await loadFiles(exported.files);
      const before = model.tokenize(corpus);
      const after = small.tokenize(corpus);
      assert.notDeepEqual(after.inputIds, before.inputIds);
      assert.deepEqual(after.attentionMask, before.attentionMask);
      const full = model.forward(before, { width, depth, hiddenStates: true });
      const trimmed = small.forward(after, { hiddenStates: true });
      assert.deepEqual(trimmed.logits!.data, full.logits!.data);
      assert.deepEqual(trimmed.hiddenStates!.data, full.hiddenStates!.data);
    });
  }

  it("turns a word outside the corpus whose pieces were dropped into [UNK]", async () => {
    const trim = trimVocab(model.tokenizer!, corpus, { padTokenId: model.config.padTokenId });
    const small = await loadFiles(slicedCheckpointFiles(model, { vocab: trim }).files);
    assert.deepEqual(model.tokenizer!.tokenize("ku"), ["ku"]);
    assert.deepEqual(small.tokenizer!.tokenize("ku"), ["[UNK]"]);
  });

  it("segments the corpus the same with a trimmed bert-base-uncased vocab (## pieces, punctuation, accents)", () => {
    const vocabText = readFileSync(join(import.meta.dirname, "..", "fixtures", "tokenizer", "vocab-bert-base-uncased.txt"), "utf8");
    const original = BertTokenizer.fromFiles({ vocab: vocabText });
    const texts = ["The unaffable tokenizers re-tokenized Zürich's hyperparameters!", "Transformers embeddings; DynaBERT's widths, 3.14159 and naïveté."];
    const trim = trimVocab(original, texts, { padTokenId: 0 });
    const trimmed = BertTokenizer.fromFiles({ vocab: trim.vocabText });
    assert.ok(original.tokenize(texts.join(" ")).some((t) => t.startsWith("##")), "the corpus must exercise ## continuations");
    for (const text of texts) {
      const before = original.encode(text).inputIds;
      const after = trimmed.encode(text).inputIds;
      assert.deepEqual(after.map((id) => trim.keptIds[id]), before, text);
    }
    assert.ok(trim.keptIds.length < 100, `kept ${trim.keptIds.length} of ${original.vocab.size}`);
    assert.deepEqual(trimmed.tokenize("unrelated words"), ["[UNK]", "[UNK]"]);
  });

  it("renumbers tokenizer_config.json's added_tokens_decoder", () => {
    const tokenizerConfig = JSON.stringify({
      do_lower_case: true,
      added_tokens_decoder: { "0": { content: "[PAD]", special: true }, "4": { content: "[MASK]", special: true }, "99": { content: "bamo", special: true } },
    });
    const trim = trimVocab(model.tokenizer!, ["zu"], { padTokenId: 0, tokenizerConfig });
    const tokens = trim.vocabText.trimEnd().split("\n");
    const decoder = JSON.parse(trim.tokenizerConfig!).added_tokens_decoder as Record<string, { content: string }>;
    for (const [id, entry] of Object.entries(decoder)) assert.equal(tokens[Number(id)], entry.content);
    assert.ok(tokens.includes("bamo"), "a declared added token is kept");
  });

  it("reads JSONL and plain-text corpora, and names a bad JSONL line", () => {
    assert.deepEqual(corpusTexts('{"text": "a b", "label": 1}\n\n{"text_a": "c", "text_b": "d"}\n', "x.jsonl"), ["a b", "c", "d"]);
    assert.deepEqual(corpusTexts("one line\r\n\ntwo\n", "x.txt"), ["one line", "two"]);
    assert.throws(() => corpusTexts('{"text": "a"}\n{"label": 1}\n', "x.jsonl"), (e: unknown) => e instanceof OptionError && /x\.jsonl line 2/.test(e.message));
    assert.throws(() => corpusTexts("not json\n", "x.jsonl"), (e: unknown) => e instanceof OptionError && /line 1: not valid JSON/.test(e.message));
  });
});

describe("dynabert export (CLI)", () => {
  const dir = join(FIXTURES, "h6odd");
  const tmp = mkdtempSync(join(tmpdir(), "dynabert-export-"));
  const quiet = async (argv: string[]) => {
    const log = console.log;
    console.log = () => {};
    try {
      await exportCommand(argv);
    } finally {
      console.log = log;
    }
  };

  it("writes a sliced f16 folder with a trimmed vocab that loads and agrees with the full model", async () => {
    const corpusPath = join(tmp, "corpus.jsonl");
    writeFileSync(corpusPath, '{"text": "baba ba be", "label": 0}\n{"text": "zo zu", "label": 1}\n');
    const out = join(tmp, "sliced");
    await quiet(["--model", dir, "--width", "0.5", "--depth", "0.75", "--out", out, "--dtype", "f16", "--vocab-from", corpusPath]);
    for (const f of ["config.json", "model.safetensors", "vocab.txt"]) assert.ok(existsSync(join(out, f)), f);
    const small = await DynaBert.load(out, { wasm });
    assert.equal(small.config.numAttentionHeads, 3);
    assert.equal(small.config.vocabSize, readFileSync(join(out, "vocab.txt"), "utf8").trimEnd().split("\n").length);
    const model = await DynaBert.load(dir, { wasm });
    const texts = ["baba ba be", "zo zu"];
    const reference = model.forward(model.tokenize(texts), { width: 0.5, depth: 0.75 }).logits!.data;
    const got = small.forward(small.tokenize(texts)).logits!.data;
    assert.ok(maxAbsDiff(got, reference) < 1e-2, `f16 + trimmed logits deviate by ${maxAbsDiff(got, reference)}`);
    const files = await readModelFolder(out);
    assert.equal(parseSafetensors(files.weights).tensors.get("bert.embeddings.word_embeddings.weight")!.dtype, "F16");
  });

  it("still sends --format onnx to the ONNX exporter", async () => {
    const out = join(tmp, "model.onnx");
    await quiet(["--model", dir, "--format", "onnx", "--out", out, "--width", "0.5"]);
    assert.ok(statSync(out).size > 0);
  });

  it("rejects an unknown --format or --dtype, or --out onto --model, with an OptionError naming the flag", async () => {
    const out = join(tmp, "never");
    await assert.rejects(exportCommand(["--model", dir, "--out", out, "--format", "tflite"]), (e: unknown) => e instanceof OptionError && /--format/.test(e.message));
    await assert.rejects(exportCommand(["--model", dir, "--out", out, "--dtype", "int4"]), (e: unknown) => e instanceof OptionError && /--dtype/.test(e.message));
    await assert.rejects(exportCommand(["--model", dir, "--out", dir]), (e: unknown) => e instanceof OptionError && /overwrite/.test(e.message));
    assert.equal(existsSync(out), false);
  });
});

describe("the sub-network accuracy table (dynabert eval's) in an export", () => {
  it("is kept by a whole-model export, with a note, and dropped by a slice", async () => {
    const files = await readModelFolder(join(FIXTURES, "h12"));
    const table = { seq: 32, examples: 10, rows: [{ width: 1, depth: 1, accuracy: 0.9 }, { width: 0.5, depth: 0.5, accuracy: 0.8 }] };
    const config = { ...(typeof files.config === "string" ? JSON.parse(files.config) : files.config), dynabert_subnetworks: table };
    const model = await DynaBert.load({ ...files, config: JSON.stringify(config) }, { wasm });
    for (const dtype of ["F32", "INT8"] as const) {
      const whole = JSON.parse(slicedCheckpointFiles(model, { dtype }).files["config.json"] as string);
      assert.deepEqual(whole.dynabert_subnetworks, table, dtype);
      assert.equal(whole.dynabert_export.subnetwork_table, "measured on the source model");
      const slice = JSON.parse(slicedCheckpointFiles(model, { width: 0.5, depth: 1, dtype }).files["config.json"] as string);
      assert.equal(slice.dynabert_subnetworks, undefined, `${dtype} slice`);
      assert.equal(slice.dynabert_export.subnetwork_table, undefined);
    }
  });
});
