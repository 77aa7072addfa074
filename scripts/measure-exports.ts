// Measures the sliced exports of a trained SpamAssassin model: file sizes,
// test accuracy at every (width, depth), and forward latency f32 vs int8.
//
//   node --import tsx scripts/measure-exports.ts [--model demo-output/dynabert] [--out exports.md] [--runs 15]
//
// The model must be a `dynabert demo` model (2 classes, vocab learned from the
// training split, seq 64): the test split and the vocab-trimming corpus (the
// training split) come from src/task exactly as the demo builds them.
import { writeFileSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { slicedCheckpointFiles, type ExportDtype, type SlicedExportOptions } from "../src/export/sliced.js";
import { trimVocab } from "../src/export/vocab-trim.js";
import type { FolderContents } from "../src/model/save.js";
import { DynaBert, readBundledWasm } from "../src/node.js";
import { timeForward } from "../src/bench/timing.js";
import { loadSpamAssassinSplits } from "../src/task/spam-assassin.js";
import { evaluate } from "../src/train/evaluate.js";
import { batchIndices, encodeExamples, type Example } from "../src/train/data.js";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: "demo-output/dynabert" },
    out: { type: "string", default: "exports.md" },
    runs: { type: "string", default: "15" },
  },
});
const SEQ = 64;
const WIDTHS = [1, 0.75, 0.5, 0.25];
const DEPTHS = [1, 0.75, 0.5];
const SLICE = { width: 0.25, depth: 0.5 };
const runs = Number(args.runs);

const wasm = await readBundledWasm();
const model = await DynaBert.load(args.model!, { wasm });
const splits = await loadSpamAssassinSplits({ classes: 2 });
const test: Example[] = splits.test.map((r) => ({ input: r.text, label: r.label }));
const trim = trimVocab(model.tokenizer!, splits.train.map((r) => r.text), { tokenizerConfig: model.tokenizerFiles.tokenizerConfig, padTokenId: model.config.padTokenId });

interface Variant {
  readonly name: string;
  readonly dtype: ExportDtype;
  readonly trimmed: boolean;
}
const VARIANTS: Variant[] = [
  { name: "f32", dtype: "F32", trimmed: false },
  { name: "f16", dtype: "F16", trimmed: false },
  { name: "int8", dtype: "INT8", trimmed: false },
  { name: "f32 + vocab trim", dtype: "F32", trimmed: true },
  { name: "int8 + vocab trim", dtype: "INT8", trimmed: true },
];

function exportOf(v: Variant, extra: SlicedExportOptions = {}): FolderContents {
  return slicedCheckpointFiles(model, { dtype: v.dtype, vocab: v.trimmed ? trim : undefined, ...extra }).files;
}

function bytes(files: FolderContents, name?: string): number {
  const sizeOf = (x: string | Uint8Array) => (typeof x === "string" ? Buffer.byteLength(x) : x.byteLength);
  return name ? sizeOf(files[name]) : Object.values(files).reduce((n, x) => n + sizeOf(x), 0);
}

function load(files: FolderContents): Promise<DynaBert> {
  return DynaBert.load(
    { config: files["config.json"] as string, weights: files["model.safetensors"] as Uint8Array, vocab: files["vocab.txt"] as string, tokenizerConfig: files["tokenizer_config.json"] as string | undefined },
    { wasm },
  );
}

/** [test.length][numLabels] logits at full width and depth, batches of 32 as evaluate() runs them. */
function testLogits(m: DynaBert): Float32Array {
  const K = m.config.numLabels;
  const all = new Float32Array(test.length * K);
  for (const idx of batchIndices(test.length, 32)) {
    const encoded = encodeExamples(m.tokenizer!, idx.map((i) => test[i]), SEQ);
    const logits = m.forward(encoded).logits!.data;
    idx.forEach((i, b) => all.set(logits.subarray(b * K, (b + 1) * K), i * K));
  }
  return all;
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const pct = (x: number) => (100 * x).toFixed(2);
const started = new Date();
const lines: string[] = [];
const out = (s = "") => {
  lines.push(s);
  console.log(s);
};

out(`## Exports of the demo model: f32, f16, int8, vocab trimming (${args.model})`);
out();
const c = model.config;
out(
  `Model: hidden ${c.hiddenSize}, ${c.numHiddenLayers} layers, ${c.numAttentionHeads} heads, intermediate ${c.intermediateSize}, vocab ${c.vocabSize}; ` +
    `test split ${test.length} examples, seq ${SEQ}; vocab trimmed to the ${trim.keptIds.length} entries the training split (${splits.train.length} bodies) uses.`,
);
out();
out("### File sizes");
out();
out("| export | model.safetensors (full) | folder (full) | model.safetensors (.25, .5) | folder (.25, .5) |");
out("|---|---:|---:|---:|---:|");
const loaded = new Map<string, DynaBert>();
for (const v of VARIANTS) {
  const full = exportOf(v);
  const slice = exportOf(v, SLICE);
  out(`| ${v.name} | ${kib(bytes(full, "model.safetensors"))} | ${kib(bytes(full))} | ${kib(bytes(slice, "model.safetensors"))} | ${kib(bytes(slice))} |`);
  loaded.set(v.name, await load(full));
}
out();

out("### Test accuracy (%) of the full-model exports at every (width, depth)");
out();
out(`| width | depth | source | ${VARIANTS.map((v) => v.name).join(" | ")} | int8 − f32 |`);
out(`|---:|---:|---:|${VARIANTS.map(() => "---:").join("|")}|---:|`);
let worstGap = 0;
for (const depth of DEPTHS) {
  for (const width of WIDTHS) {
    const source = evaluate(model, test, { width, depth, maxLength: SEQ }).accuracy;
    const acc = VARIANTS.map((v) => evaluate(loaded.get(v.name)!, test, { width, depth, maxLength: SEQ }).accuracy);
    const gap = acc[2] - acc[0];
    worstGap = Math.max(worstGap, Math.abs(gap));
    out(`| ${width} | ${depth} | ${pct(source)} | ${acc.map(pct).join(" | ")} | ${(100 * gap).toFixed(2)} |`);
  }
}
out();
out(`Largest |int8 − f32| accuracy gap over the 12 sub-networks: ${(100 * worstGap).toFixed(2)} points (${Math.round(worstGap * test.length)} of ${test.length} test examples).`);
out();
out("Logits over the whole test split against the source model's, full width and depth:");
out();
out("| export | max abs Δlogit | mean abs Δlogit | max abs logit (source) |");
out("|---|---:|---:|---:|");
const sourceLogits = testLogits(model);
for (const v of VARIANTS) {
  const got = testLogits(loaded.get(v.name)!);
  let worst = 0;
  let sum = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - sourceLogits[i]);
    worst = Math.max(worst, d);
    sum += d;
  }
  out(`| ${v.name} | ${worst.toExponential(2)} | ${(sum / got.length).toExponential(2)} | ${Math.max(...Array.from(sourceLogits, Math.abs)).toFixed(2)} |`);
}
out();

out(`### Forward latency, f32 vs int8 (median of ${runs} runs × 3 interleaved rounds, synthetic ids, full attention mask)`);
out();
out("| batch × seq | width | depth | f32 ms | int8 ms | f32 / int8 |");
out("|---|---:|---:|---:|---:|---:|");
const f32Model = loaded.get("f32")!;
const int8Model = loaded.get("int8")!;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[(s.length >> 1) - 1] + s[s.length >> 1]) / 2;
};
for (const batch of [1, 8]) {
  for (const [width, depth] of [
    [1, 1],
    [0.5, 1],
    [0.25, 0.5],
  ]) {
    const f32Times: number[] = [];
    const int8Times: number[] = [];
    for (let round = 0; round < 3; round++) {
      const options = { batch, seq: SEQ, width, depth, runs, warmup: 3 };
      f32Times.push(timeForward(f32Model, options).median_ms);
      int8Times.push(timeForward(int8Model, options).median_ms);
    }
    const a = median(f32Times);
    const b = median(int8Times);
    out(`| ${batch} × ${SEQ} | ${width} | ${depth} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(2)} |`);
  }
}
out();
const finished = new Date();
out(
  `Measured ${started.toISOString().slice(0, 16)}–${finished.toISOString().slice(11, 16)} UTC on ${os.cpus()[0]?.model ?? "unknown CPU"} (${os.cpus().length} cores), Node ${process.version}, single thread` +
    (finished.getUTCHours() < 5 ? "; before 05:00 UTC another job shared the second core, so timings are noisy" : "") +
    ". Command: `node --import tsx scripts/measure-exports.ts`.",
);
writeFileSync(args.out!, lines.join("\n") + "\n");
console.error(`wrote ${args.out}`);
