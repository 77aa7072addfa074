// int8 GEMM (linear_forward_int8) against the f32 one (linear_forward) at
// BERT-base shapes, seq 128.
//
//   node bench/gemm_int8.bench.mjs [module.wasm]
//
// Without an argument the module is compiled here from assembly/index.ts with
// the release options (so build/ is neither needed nor touched). The int8 time
// includes quantizing the input rows (done inside every call). Prints, per
// case, the fastest benchmark.js sample (the steadier figure on a shared
// machine) and the mean, as effective GFLOP/s (2·m·n·k / time) for both
// kernels, and the int8 speed-up from the fastest samples; then, per shape,
// the int8 output's RMS error relative to the f32 output's RMS (random data, no bias).
import Benchmark from "benchmark";
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROUNDS = 3;

/** [label, m, n, k]: what one BERT-base layer multiplies at seq 128. */
const CASES = [
  ["attention q/k/v/out  768×768", 128, 768, 768],
  ["ffn intermediate    3072×768", 128, 3072, 768],
  ["ffn output          768×3072", 128, 768, 3072],
];

async function loadModule() {
  let bytes;
  if (process.argv[2]) {
    bytes = readFileSync(process.argv[2]);
  } else {
    const { error } = await asc.main(
      [join(root, "assembly/index.ts"), "-O3", "--converge", "--noAssert", "--runtime", "stub", "--use", "abort=",
        "--enable", "simd", "--initialMemory", "2", "--outFile", "core.wasm"],
      { writeFile: (_name, contents) => { bytes = contents; }, stdout: { write() {} }, stderr: process.stderr },
    );
    if (error) throw error;
  }
  return (await WebAssembly.instantiate(bytes, {})).instance.exports;
}

/** Byte offsets of every case's buffers, 64-byte aligned above the module's static data, filled. */
function layout(ex) {
  let top = ex.heap_base();
  const take = (bytes) => { const at = top; top += Math.ceil(bytes / 64) * 64; return at; };
  const bufs = CASES.map(([, m, n, k]) => ({
    out: take(m * n * 4),
    inp: take(m * k * 4),
    w: take(n * k * 4),
    wp: take(ex.packed_weight_floats(n, k) * 4),
    wq: take(ex.packed_int8_bytes(n, k)),
    ws: take(n * 4),
    bias: take(n * 4),
    scratch: take(ex.linear_int8_scratch_bytes(m, k)),
  }));
  const mem = ex.memory;
  if (top > mem.buffer.byteLength) mem.grow(Math.ceil((top - mem.buffer.byteLength) / 65536));
  const f32 = new Float32Array(mem.buffer);
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
  for (const [i, [, m, n, k]] of CASES.entries()) {
    const b = bufs[i];
    for (let j = 0; j < m * k; j++) f32[b.inp / 4 + j] = rand();
    for (let j = 0; j < n * k; j++) f32[b.w / 4 + j] = rand() * 0.05;
    for (let j = 0; j < n; j++) f32[b.bias / 4 + j] = rand();
    ex.pack_weight(b.wp, b.w, n, k);
    ex.quantize_weight_int8(b.wq, b.ws, b.w, n, k);
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

/** Every entry through benchmark.js ROUNDS times over; each entry's per-cycle seconds, pooled. */
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

const ex = await loadModule();
const bufs = layout(ex);
const entries = [];
for (const [i, [name, m, n, k]] of CASES.entries()) {
  const b = bufs[i];
  entries.push({ name: `f32   ${name}`, flops: 2 * m * n * k, fn: () => ex.linear_forward(b.out, b.inp, b.wp, b.bias, m, n, k, k, k, n) });
  entries.push({
    name: `int8  ${name}`, flops: 2 * m * n * k,
    fn: () => ex.linear_forward_int8(b.out, b.inp, b.wq, b.ws, b.bias, m, n, k, k, k, n, b.scratch),
  });
}
for (const e of entries) await warm(e.fn);
const samples = await runRounds(entries);

const gflops = (flops, seconds) => flops / seconds / 1e9;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const best = (xs) => Math.min(...xs);
const fmt = (x) => x.toFixed(1).padStart(6);
console.log(`${"case (m = 128)".padEnd(36)} mean GF/s  best GF/s  best ms   int8 speed-up`);
for (let i = 0; i < entries.length; i++) {
  const e = entries[i];
  const t = best(samples[i]);
  const speedup = i % 2 === 1 ? `${(best(samples[i - 1]) / t).toFixed(2)}×` : "";
  console.log(`${e.name.padEnd(36)} ${fmt(gflops(e.flops, mean(samples[i])))}     ${fmt(gflops(e.flops, t))}   ${(t * 1e3).toFixed(3).padStart(7)}   ${speedup}`);
}

// Accuracy on this (uniform random) data: one call of each without bias (which\n// would only dilute the error), compared.
for (const [i, [name, m, n, k]] of CASES.entries()) {
  const b = bufs[i];
  ex.linear_forward(b.out, b.inp, b.wp, 0, m, n, k, k, k, n);
  const ref = new Float32Array(ex.memory.buffer, b.out, m * n).slice();
  ex.linear_forward_int8(b.out, b.inp, b.wq, b.ws, 0, m, n, k, k, k, n, b.scratch);
  const got = new Float32Array(ex.memory.buffer, b.out, m * n);
  let err = 0, mag = 0;
  for (let j = 0; j < m * n; j++) { err += (got[j] - ref[j]) ** 2; mag += ref[j] ** 2; }
  console.log(`int8 vs f32  ${name.padEnd(30)} relative RMS error ${(Math.sqrt(err / mag) * 100).toFixed(3)}%`);
}
