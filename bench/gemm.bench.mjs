// GEMM throughput (linear_forward) at BERT-base shapes, against the machine's
// wasm SIMD mul+add peak (assembly/peak.ts, compiled here on its own).
//
//   node bench/gemm.bench.mjs [module.wasm]     default: build/release.wasm
//   node --experimental-wasm-relaxed-simd bench/gemm.bench.mjs build/release-relaxed.wasm
//
// A relaxed-SIMD module (its simd_relaxed() is 1) is measured against the
// relaxed madd peak as well (peak.ts compiled with relaxed SIMD): its "% of
// peak" column is relative to that one.
//
// Also times linear_backward_input / linear_backward_weight at the full-size
// shapes. Prints, per case, GFLOP/s from benchmark.js's mean and from its fastest
// sample, and the fastest as a share of the fastest peak sample. On a shared
// machine the fastest sample is the steadier figure (interference only ever
// slows a run down); the mean is printed so nobody mistakes one for the other.
import Benchmark from "benchmark";
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modulePath = process.argv[2] ?? join(root, "build/release.wasm");
const ROUNDS = 3;

/** [label, m, n, k, nFull, kFull]: what one BERT-base layer multiplies at seq 128. */
const CASES = [
  ["attention q/k/v/out  768×768", 128, 768, 768, 768, 768],
  ["ffn intermediate    3072×768", 128, 3072, 768, 3072, 768],
  ["ffn output          768×3072", 128, 768, 3072, 768, 3072],
  ["width .25 q/k/v  n=192 of 768", 128, 192, 768, 768, 768],
  ["width .25 out    k=192 of 768", 128, 768, 192, 768, 768],
  ["batch 8×128      768×768", 1024, 768, 768, 768, 768],
];

async function compilePeak(relaxed) {
  let bytes;
  const { error } = await asc.main(
    [join(root, "assembly/peak.ts"), "-O3", "--noAssert", "--runtime", "stub", "--use", "abort=", "--enable", relaxed ? "simd,relaxed-simd" : "simd", "--outFile", "peak.wasm"],
    { writeFile: (_name, contents) => { bytes = contents; }, stdout: { write() {} }, stderr: process.stderr },
  );
  if (error) throw error;
  return (await WebAssembly.instantiate(bytes, {})).instance.exports;
}

/** Bytes → floats for one run of every case, 64-byte aligned, above the module's static data. */
function layout(ex) {
  let top = ex.heap_base();
  const take = (floats) => { const at = top; top += Math.ceil((floats * 4) / 64) * 64; return at; };
  const bufs = CASES.map(([, m, , , nFull, kFull]) => ({
    out: take(m * nFull),
    inp: take(m * kFull),
    w: take(nFull * kFull),
    wp: take(ex.packed_weight_floats(nFull, kFull)),
    dinp: take(m * kFull),
    dwp: take(ex.packed_weight_floats(nFull, kFull)),
    bias: take(nFull),
  }));
  const mem = ex.memory;
  if (top > mem.buffer.byteLength) mem.grow(Math.ceil((top - mem.buffer.byteLength) / 65536));
  const f32 = new Float32Array(mem.buffer);
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
  for (const [i, [, m, , , nFull, kFull]] of CASES.entries()) {
    const b = bufs[i];
    for (let j = 0; j < m * kFull; j++) f32[b.inp / 4 + j] = rand();
    for (let j = 0; j < nFull * kFull; j++) f32[b.w / 4 + j] = rand() * 0.05;
    for (let j = 0; j < nFull; j++) f32[b.bias / 4 + j] = rand();
    ex.pack_weight(b.wp, b.w, nFull, kFull);
  }
  return bufs;
}

/** Runs fn often enough for V8 to finish its background TurboFan compile before timing starts. */
async function warm(fn) {
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 20; i++) fn();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs every entry through benchmark.js, ROUNDS times over (so a burst of
 * load from elsewhere spoils one round of a case, not all of them), and
 * returns each entry's per-cycle times in seconds, all rounds pooled.
 */
async function runRounds(entries) {
  const samples = entries.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    const done = await new Promise((resolve) => {
      const suite = new Benchmark.Suite();
      for (const { name, fn } of entries) suite.add(name, fn, { minSamples: 20, maxTime: 1 });
      suite.on("complete", function () { resolve(this.map((b) => b.stats.sample)); }).run();
    });
    done.forEach((s, i) => samples[i].push(...s));
  }
  return samples;
}

const { instance } = await WebAssembly.instantiate(readFileSync(modulePath), {});
const ex = instance.exports;
const relaxed = ex.simd_relaxed?.() === 1;

const peakEx = await compilePeak(relaxed);
const PEAK_ITERS = 200_000;
const peakFlops = PEAK_ITERS * peakEx.peak_flops_per_iter();
const peakFn = () => peakEx.peak_mul_add(PEAK_ITERS);
const peaks = [{ name: "wasm SIMD mul+add peak", fn: peakFn }];
if (relaxed) peaks.push({ name: "relaxed madd peak", fn: () => peakEx.peak_build_mul_add(PEAK_ITERS) });
const bufs = layout(ex);
const entries = CASES.map(([name, m, n, k, , kFull], i) => {
  const b = bufs[i];
  const fn = () => ex.linear_forward(b.out, b.inp, b.wp, b.bias, m, n, k, kFull, kFull, n);
  return { name, fn, flops: 2 * m * n * k };
});
// The trainer's two backward GEMMs at the three full-size shapes, reusing the
// forward's: out as dOut, inp as the input; dInp and dWp have their own (dWp
// keeps accumulating, harmlessly: it is never read by anything timed).
for (const [i, [label, m, n, k, , kFull]] of CASES.slice(0, 3).entries()) {
  const b = bufs[i];
  const shape = label.slice(label.lastIndexOf(" ") + 1);
  entries.push({
    name: `backward input   ${shape}`,
    fn: () => ex.linear_backward_input(b.dinp, b.out, b.wp, m, n, k, kFull, kFull, n, 0),
    flops: 2 * m * n * k,
  });
  entries.push({
    name: `backward weight  ${shape}`,
    fn: () => ex.linear_backward_weight(b.dwp, 0, b.out, b.inp, m, n, k, kFull, kFull, n),
    flops: 2 * m * n * k,
  });
}

for (const p of peaks) await warm(p.fn);
for (const e of entries) await warm(e.fn);
const samples = await runRounds([...peaks, ...entries]);

const gflops = (flops, seconds) => flops / seconds / 1e9;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const best = (xs) => Math.min(...xs);
// The module's own ceiling: the madd peak for a relaxed module, else mul+add.
const peakBest = gflops(peakFlops, best(samples[peaks.length - 1]));
const fmt = (x) => x.toFixed(1).padStart(6);
console.log(`panel width ${ex.gemm_panel_width()}, module ${modulePath}`);
console.log(`${"case".padEnd(32)} mean GF/s  best GF/s  best % of peak`);
for (const [i, p] of peaks.entries()) {
  console.log(`${p.name.padEnd(32)} ${fmt(gflops(peakFlops, mean(samples[i])))}     ${fmt(gflops(peakFlops, best(samples[i])))}`);
}
for (const [i, e] of entries.entries()) {
  const s = samples[i + peaks.length];
  const g = gflops(e.flops, best(s));
  console.log(`${e.name.padEnd(32)} ${fmt(gflops(e.flops, mean(s)))}     ${fmt(g)}     ${fmt((100 * g) / peakBest)}%`);
}
