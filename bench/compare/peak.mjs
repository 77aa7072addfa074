// The machine's wasm SIMD multiply-add peak, the ceiling the engine's GFLOP/s
// is shown against. assembly/peak.ts (bench-only, not in the product module)
// holds the loops: independent f32x4 accumulator chains on operands that stay
// in L1, i.e. the GEMM tile's arithmetic with no memory traffic. Every exported
// loop is measured in a baseline compile, and in a relaxed-SIMD compile too
// when peak.ts has the mulAdd loop and this Node can run relaxed SIMD.
import Benchmark from "benchmark";
import asc from "assemblyscript/asc";
import { fileURLToPath } from "node:url";

const PEAK_SOURCE = fileURLToPath(new URL("../../assembly/peak.ts", import.meta.url));
const ITERS = 200_000;

async function compilePeak(features) {
  let bytes;
  const stderr = [];
  const { error } = await asc.main(
    [PEAK_SOURCE, "-O3", "--noAssert", "--runtime", "stub", "--use", "abort=", "--enable", features, "--outFile", "peak.wasm"],
    { writeFile: (_name, contents) => void (bytes = contents), stdout: { write() {} }, stderr: { write: (s) => void stderr.push(String(s)) } },
  );
  if (error) throw new Error(`asc assembly/peak.ts --enable ${features}: ${error.message}\n${stderr.join("")}`);
  return bytes;
}

async function timeLoop(label, fn, flopsPerCall) {
  for (let i = 0; i < 100; i++) fn(); // let TurboFan finish before timing
  await new Promise((r) => setTimeout(r, 50));
  const samples = [];
  for (let round = 0; round < 3; round++) {
    const bench = new Benchmark(label, fn, { minSamples: 20, maxTime: 1 });
    bench.run();
    samples.push(...bench.stats.sample);
  }
  const gflops = samples.map((s) => flopsPerCall / s / 1e9).sort((a, b) => a - b);
  return { name: label, median_gflops: gflops[gflops.length >> 1], best_gflops: gflops[gflops.length - 1], samples: samples.length };
}

/**
 * { loops: [{ name, median_gflops, best_gflops, samples }], notes: [] }:
 * peak_mul_add from a baseline-SIMD compile ("baseline") and, when peak.ts has
 * peak_build_mul_add (multiply_add.ts's mulAdd, f32x4.relaxed_madd in a
 * relaxed compile), the same loop compiled with relaxed SIMD ("relaxed"),
 * which only instantiates where relaxed SIMD is enabled. Each loop is sampled
 * by benchmark.js in 3 rounds (outside load spoils a round, not the figure).
 */
export async function measurePeak() {
  const loops = [];
  const notes = [];
  let baseline;
  try {
    baseline = (await WebAssembly.instantiate(await compilePeak("simd"), {})).instance.exports;
  } catch (e) {
    return { loops, notes: [`peak module unavailable: ${e.message}`] };
  }
  loops.push(await timeLoop("baseline", () => baseline.peak_mul_add(ITERS), ITERS * baseline.peak_flops_per_iter()));
  if (typeof baseline.peak_build_mul_add !== "function") {
    notes.push("assembly/peak.ts has no peak_build_mul_add: no relaxed-SIMD peak");
    return { loops, notes };
  }
  try {
    const relaxed = (await WebAssembly.instantiate(await compilePeak("simd,relaxed-simd"), {})).instance.exports;
    if (relaxed.peak_is_relaxed?.() === 0) notes.push("peak_build_mul_add compiled without relaxed SIMD");
    else loops.push(await timeLoop("relaxed", () => relaxed.peak_build_mul_add(ITERS), ITERS * relaxed.peak_flops_per_iter()));
  } catch (e) {
    notes.push(`relaxed-SIMD peak unavailable here: ${e.message.split("\n")[0]}`);
  }
  return { loops, notes };
}

/**
 * Two measurements of the peak (the run's start and its end) as one: per loop
 * the one with the higher median, since a ceiling the machine reached once is
 * the ceiling; both are kept under `measurements`. (On the AMD host the start
 * of one run measured 35.9 GFLOP/s where every later measurement gave 55,
 * and the engine itself ran at 45 in that run.)
 */
export function higherPeak(first, second) {
  const names = [...new Set([...first.loops, ...second.loops].map((l) => l.name))];
  const loops = names.map((name) => {
    const candidates = [first, second].map((p) => p.loops.find((l) => l.name === name)).filter(Boolean);
    return candidates.reduce((a, b) => (b.median_gflops > a.median_gflops ? b : a));
  });
  return { loops, notes: [...new Set([...first.notes, ...second.notes])], measurements: [first.loops, second.loops] };
}

/** The peak as compare.json stores it: the loops plus the two ceilings the report divides by. */
export function peakRecord(peak) {
  const median = (name) => peak.loops.find((l) => l.name === name)?.median_gflops ?? null;
  return { ...peak, baseline_gflops: median("baseline"), relaxed_gflops: median("relaxed") };
}
