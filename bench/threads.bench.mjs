// LoadOptions.threads on the BERT-base shape (12 × 768, 12 heads, FFN 3072,
// random weights): the full model's forward at batch 1 × 128 and 8 × 128 on
// the single-threaded baseline build and on the threaded build with 1 and 2
// (or --threads) threads, benchmark.js samples interleaved across variants,
// medians, with the CPU other processes used meanwhile. Not a test: no asserts.
//   node bench/threads.bench.mjs [--threads 2] [--batches 1,8] [--seq 128] [--json FILE]
//   node bench/threads.bench.mjs --cutover   the smallest call of each split kernel that 2 threads run faster
//   node bench/threads.bench.mjs --profile [--threads N]   where a forward spends its time, by kernel (default 1 thread)
import Benchmark from "benchmark";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { DynaBert, presetConfig, syntheticBatch } from "../dist/node.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string" },
    batches: { type: "string", default: "1,8" },
    seq: { type: "string", default: "128" },
    json: { type: "string" },
    cutover: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
  },
});
const threads = Number(values.threads ?? 2);
const seq = Number(values.seq);
const config = presetConfig("bert-base");
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}`;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * CPU time other processes used, as a share of the machine, between two
 * calls (Linux /proc; undefined elsewhere): the machine is shared, and a
 * 2-thread timing is only meaningful while nothing else runs.
 */
function foreignCpuMeter() {
  const read = () => {
    try {
      const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
      const busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7];
      const self = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
      return { busy, own: Number(self[11]) + Number(self[12]), at: performance.now() };
    } catch {
      return undefined;
    }
  };
  const start = read();
  return () => {
    const end = read();
    if (!start || !end) return undefined;
    const ticks = ((end.at - start.at) / 1000) * 100 * cpus().length; // USER_HZ = 100
    return Math.max(0, (end.busy - start.busy - (end.own - start.own)) / ticks);
  };
}

/**
 * benchmark.js samples of each variant's forward, interleaved over `rounds`
 * so that a burst of load elsewhere hits every variant alike; the median of
 * all of a variant's samples, in ms.
 */
function benchInterleaved(label, variants, rounds, samplesPerRound) {
  const all = variants.map(() => ({ samples: [], foreign: [] }));
  for (let r = 0; r < rounds; r++) {
    variants.forEach((v, i) => {
      const meter = foreignCpuMeter();
      const bench = new Benchmark(`${v.name}, ${label}`, v.run, { minSamples: samplesPerRound, maxTime: 0.1, initCount: 1, minTime: 0 });
      bench.run();
      all[i].samples.push(...bench.stats.sample);
      const foreign = meter();
      if (foreign !== undefined) all[i].foreign.push(foreign);
    });
  }
  return all.map(({ samples, foreign }, i) => {
    const ms = median(samples) * 1e3;
    const other = foreign.length ? foreign.reduce((a, b) => a + b) / foreign.length : undefined;
    process.stderr.write(`  ${variants[i].name}, ${label}: ${ms.toFixed(1)} ms median of ${samples.length}${other === undefined ? "" : `, other processes ${(100 * other).toFixed(0)}% of the machine`}\n`);
    return { variant: variants[i].name, ms, samples: samples.length, foreignCpu: other };
  });
}

async function fullModel() {
  const variants = [
    { name: "baseline build, 1 thread", options: { simd: "baseline" } },
    { name: "threaded build, 1 thread", options: { threads: 1, wasm: await threadedWasm() } },
    { name: `threaded build, ${threads} threads`, options: { threads } },
  ];
  const rows = [];
  for (const batch of values.batches.split(",").map(Number)) {
    const input = syntheticBatch(config.vocabSize, batch, seq);
    const models = [];
    for (const v of variants) {
      const model = await DynaBert.random(config, v.options);
      model.forward(input); // warm-up; also grows memory to the high-water mark
      models.push(model);
    }
    const results = benchInterleaved(`${batch} × ${seq}`, variants.map((v, i) => ({ name: v.name, run: () => models[i].forward(input) })), batch === 1 ? 4 : 3, batch === 1 ? 3 : 2);
    models.forEach((m) => m.dispose());
    rows.push({ batch, seq, results });
  }
  console.log(`\nBERT-base full model (width 1, depth 1), random weights, ${machine}\n`);
  console.log(`| batch × seq | ${variants.map((v) => v.name).join(" | ")} | speed-up, ${threads} threads vs baseline | other processes' CPU |`);
  console.log(`|---|${variants.map(() => "---:|").join("")}---:|---:|`);
  for (const r of rows) {
    const ms = r.results.map((x) => x.ms);
    const foreign = r.results.map((x) => x.foreignCpu).filter((x) => x !== undefined);
    const other = foreign.length ? `${(100 * Math.max(...foreign)).toFixed(0)}% (max)` : "n/a";
    console.log(`| ${r.batch} × ${r.seq} | ${ms.map((m) => `${m.toFixed(1)} ms`).join(" | ")} | ${(ms[0] / ms[2]).toFixed(2)}× | ${other} |`);
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ machine, threads, rows }, null, 2));
}

async function threadedWasm() {
  const { readFile } = await import("node:fs/promises");
  return new Uint8Array(await readFile(new URL("../build/release-threads.wasm", import.meta.url)));
}

/** Times one kernel call inline and split, on the threaded core of a 2-thread model. */
async function cutover() {
  const model = await DynaBert.random({ ...config, numHiddenLayers: 1 }, { threads });
  const core = model.engine.core;
  const { exports: wasm, arena } = core;
  const NEVER = { linear: Infinity, attention: Infinity, layernorm: Infinity, gelu: Infinity, add: Infinity };
  const SPLIT = { linear: 0, attention: 0, layernorm: 0, gelu: 0, add: 0 };
  const buffer = (floats, seed) => {
    const t = arena.alloc(`b${seed}`, "f32", [floats]);
    wasm.fill_normal(t.ptr, floats, seed, 0, 1);
    return t.ptr;
  };
  const time = (fn) => {
    fn();
    let reps = 1;
    for (;;) {
      const start = performance.now();
      for (let i = 0; i < reps; i++) fn();
      const ms = performance.now() - start;
      if (ms > 20) return (ms * 1e3) / reps; // µs per call
      reps *= 2;
    }
  };
  const compare = (fn) => {
    const inline = [];
    const split = [];
    for (let r = 0; r < 5; r++) {
      core.cutover = NEVER;
      inline.push(time(fn));
      core.cutover = SPLIT;
      split.push(time(fn));
    }
    return { inline: median(inline), split: median(split) };
  };
  const cases = [];
  for (const [m, n, k] of [[4, 64, 64], [8, 64, 64], [16, 64, 64], [16, 128, 128], [32, 128, 128], [64, 128, 128], [32, 256, 256], [128, 256, 256], [128, 768, 768]]) {
    const mark = arena.mark();
    const wp = buffer(wasm.packed_weight_floats(n, k), 1);
    const inp = buffer(m * k, 2);
    const out = buffer(m * n, 3);
    cases.push({ kernel: "linear_forward", shape: `${m}×${n}×${k}`, work: m * n * k, ...compare(() => wasm.linear_forward(out, inp, wp, 0, m, n, k, k, k, n)) });
    arena.release(mark);
  }
  for (const [batch, s, heads] of [[1, 8, 2], [1, 16, 4], [1, 32, 12], [1, 64, 12], [1, 128, 12]]) {
    const mark = arena.mark();
    const A = heads * 64;
    const [q, k, v] = [buffer(batch * s * A, 4), buffer(batch * s * A, 5), buffer(batch * s * A, 6)];
    const mask = buffer(batch * s, 0);
    wasm.zero_fill(mask, batch * s);
    const ctx = buffer(batch * s * A, 7);
    const probs = buffer(batch * heads * s * s, 8);
    const fn = () => wasm.attention_forward(ctx, probs, q, k, v, mask, 0, batch, s, heads, 64, A, A, 0, 0, 0);
    cases.push({ kernel: "attention_forward", shape: `${batch}×${heads} heads×${s}`, work: batch * heads * s * s * 64, ...compare(fn) });
    arena.release(mark);
  }
  for (const n of [1024, 4096, 8192, 16384, 32768, 65536, 131072]) {
    const mark = arena.mark();
    // Separate outputs: repeated in-place GELU would drive the inputs into subnormals.
    const [x, y, out] = [buffer(n, 9), buffer(n, 10), buffer(n, 11)];
    const gamma = buffer(768, 12);
    cases.push({ kernel: "gelu_forward", shape: `${n}`, work: n, ...compare(() => wasm.gelu_forward(out, x, n)) });
    cases.push({ kernel: "add_forward", shape: `${n}`, work: n, ...compare(() => wasm.add_forward(out, x, y, n)) });
    const rows = Math.max(1, Math.floor(n / 768));
    cases.push({ kernel: "layernorm_forward", shape: `${rows}×768`, work: rows * 768, ...compare(() => wasm.layernorm_forward(out, x, gamma, gamma, 0, 0, rows, 768, 1e-12)) });
    arena.release(mark);
  }
  model.dispose();
  console.log(`\nInline vs split across ${threads} threads, µs per call (median of 5), ${machine}\n`);
  console.log("| kernel | shape | work | inline µs | split µs | split speed-up |");
  console.log("|---|---|---:|---:|---:|---:|");
  for (const c of cases) console.log(`| ${c.kernel} | ${c.shape} | ${c.work} | ${c.inline.toFixed(1)} | ${c.split.toFixed(1)} | ${(c.inline / c.split).toFixed(2)}× |`);
}

/** Time by kernel in one forward (the threaded build, 1 thread unless --threads), by wrapping the core's exports. */
async function profile() {
  const model = await DynaBert.random(config, { threads: values.threads === undefined ? 1 : threads, wasm: await threadedWasm() });
  const wasm = model.engine.core.exports;
  const spent = new Map();
  for (const [name, fn] of Object.entries(wasm)) {
    if (typeof fn !== "function") continue;
    wasm[name] = (...args) => {
      const start = performance.now();
      const r = fn(...args);
      spent.set(name, (spent.get(name) ?? 0) + performance.now() - start);
      return r;
    };
  }
  for (const batch of values.batches.split(",").map(Number)) {
    const input = syntheticBatch(config.vocabSize, batch, seq);
    model.forward(input);
    spent.clear();
    const runs = 3;
    const start = performance.now();
    for (let r = 0; r < runs; r++) model.forward(input);
    const total = (performance.now() - start) / runs;
    console.log(`\nbatch ${batch} × ${seq}: ${total.toFixed(1)} ms per forward\n\n| kernel | ms | share |\n|---|---:|---:|`);
    const rows = [...spent].map(([k, ms]) => [k, ms / runs]).sort((a, b) => b[1] - a[1]);
    for (const [k, ms] of rows) console.log(`| ${k} | ${ms.toFixed(1)} | ${((100 * ms) / total).toFixed(1)}% |`);
    const kernels = rows.reduce((a, [, ms]) => a + ms, 0);
    console.log(`| (outside kernels) | ${(total - kernels).toFixed(1)} | ${((100 * (total - kernels)) / total).toFixed(1)}% |`);
  }
  model.dispose();
}

if (values.cutover) await cutover();
else if (values.profile) await profile();
else await fullModel();
