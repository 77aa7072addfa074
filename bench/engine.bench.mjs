// `npm run bench`: BERT-base shape (12 × 768, 12 heads, FFN 3072, vocab 30522,
// random weights), batch 1 × 128, all 12 (width, depth) sub-networks of the
// paper, timed with benchmark.js. Reports the median, GFLOP/s, the speed-up
// over the full model measured in the same run, and how far each latency is
// from what its FLOPs predict from the full model's. Not a test: no asserts.
//   node bench/engine.bench.mjs [--preset bert-base] [--batch 1] [--seq 128] [--simd auto] [--json FILE]
//
// --simd: which build of the core (LoadOptions.simd): auto (the default: relaxed
// where this runtime validates it), baseline, relaxed, or a comma list such as
// baseline,relaxed, which times every listed build in one process, alternating
// build by build at each sub-network so that load from elsewhere hits both alike.
// Node 20 runs relaxed only with the V8 flag:
//   node --experimental-wasm-relaxed-simd bench/engine.bench.mjs --simd baseline,relaxed
import Benchmark from "benchmark";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DynaBert, presetConfig, syntheticBatch } from "../dist/node.js";

const { values } = parseArgs({
  options: {
    preset: { type: "string", default: "bert-base" },
    batch: { type: "string", default: "1" },
    seq: { type: "string", default: "128" },
    simd: { type: "string", default: "auto" },
    json: { type: "string" },
  },
});
const batch = Number(values.batch);
const seq = Number(values.seq);
const config = presetConfig(values.preset);
// The same seed gives every build the same weights.
const models = [];
for (const simd of values.simd.split(",")) models.push({ simd, model: await DynaBert.random(config, { simd }) });
const model = models[0].model;
const input = syntheticBatch(config.vocabSize, batch, seq);

const widths = [1, 0.75, 0.5, 0.25];
const depths = [1, 0.75, 0.5];
const rows = [];
for (const depth of depths) {
  for (const width of widths) {
    const sub = model.subNetwork({ width, depth });
    const flops = model.flops({ width, depth }, seq) * batch;
    for (const { model: m } of models) {
      const variant = m.wasmVariant;
      const bench = new Benchmark(`w${width} d${depth} ${variant}`, () => m.forward(input, { width, depth }), { minSamples: 8, maxTime: 4, initCount: 1 });
      bench.run();
      const sample = [...bench.stats.sample].sort((a, b) => a - b);
      const mid = sample.length >> 1;
      const medianS = sample.length % 2 ? sample[mid] : (sample[mid - 1] + sample[mid]) / 2;
      rows.push({ simd: variant, width, depth, heads: sub.heads, intermediate: sub.intermediate, layers: sub.keptLayers.length, flops, median_ms: medianS * 1e3, samples: sample.length, rme: bench.stats.rme });
      process.stderr.write(`  ${bench.name}: ${(medianS * 1e3).toFixed(1)} ms median of ${sample.length}\n`);
    }
  }
}
const variants = models.map((m) => m.model.wasmVariant).join(", ");
// Deno runs this file too (`deno run -A bench/engine.bench.mjs`); its process.version is Node's compat version.
const runtime = globalThis.Deno ? `Deno ${globalThis.Deno.version.deno} (V8 ${globalThis.Deno.version.v8})` : `Node ${process.version} (V8 ${process.versions.v8})`;
console.log(`\n${values.preset}, batch ${batch} × seq ${seq}, random weights, ${runtime}, single thread, wasm build: ${variants}\n`);
console.log("| simd | width | depth | heads | FFN | layers | GFLOP | median ms | GFLOP/s | speed-up vs (1,1) | latency / FLOPs-predicted |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  // Speed-up and prediction against the same build's full model.
  const full = rows.find((f) => f.simd === r.simd && f.width === 1 && f.depth === 1);
  const predicted = full.median_ms * (r.flops / full.flops);
  r.gflops = r.flops / (r.median_ms * 1e6);
  r.speedup = full.median_ms / r.median_ms;
  r.vs_predicted = r.median_ms / predicted;
  console.log(
    `| ${r.simd} | ${r.width} | ${r.depth} | ${r.heads} | ${r.intermediate} | ${r.layers} | ${(r.flops / 1e9).toFixed(2)} | ${r.median_ms.toFixed(1)} | ${r.gflops.toFixed(1)} | ${r.speedup.toFixed(2)}× | ${r.vs_predicted.toFixed(2)} |`,
  );
}
if (values.json) writeFileSync(values.json, JSON.stringify({ preset: values.preset, batch, seq, runtime, rows }, null, 2));
