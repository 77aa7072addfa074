// `npm run bench:compare`: this engine against onnxruntime-web (wasm backend)
// and onnxruntime-node, side by side, on BERT-base (12 × 768, 12 heads, FFN
// 3072, vocab 30522, seeded random weights) at batch 1 × 32, 1 × 128 and
// 8 × 128, all 12 (width, depth) sub-networks; plus the machine's wasm SIMD
// peak, peak RSS at 1 × 128 and the demo-size model's cold start.
//
//   node --import tsx --experimental-wasm-relaxed-simd bench/compare.bench.mjs [--quick [--shape 1x32]] [--out DIR] [--no-footprint]
//   … bench/compare.bench.mjs --from DIR/compare.json [--out DIR]   re-render the tables and plot only
//     [--remeasure-peak]   first measure the peak again and keep, per loop, the higher of that and the run's
//   --configs 1:1,0.5:0.75   only these (width:depth); with --replace-in DIR/compare.json each re-timed row
//   replaces that run's if other processes disturbed it less (bench/compare/merge.mjs; the earlier run's
//   export choice, peak, RSS and cold start are kept) and the merged run is written to --out;  --retries N   re-time a cell other processes disturbed (default 2)
//
// Runtimes: engine 1 thread; engine relaxed SIMD, engine 2 threads and both together when
// this dynabert has those LoadOptions (else "n/a" and why); onnxruntime-web
// wasm 1 and 2 threads (each in its own worker thread: ort-web's thread count
// is global to its module instance); onnxruntime-node CPU, 1 and 2 intra-op
// threads. ORT runs the faster of the plain and the com.microsoft-fused
// export, chosen per ORT package at the full model, 1 × 128.
//
// Every runtime's logits are checked against the engine's (≤ 1e-3) on every
// cell before anything is timed; a mismatch aborts the run. Timing is
// interleaved (bench/compare/sampling.mjs). Needs dist/ built (npm run build);
// tsx is only for the ONNX exporter and the SVG helper, which live in src/.
// Writes DIR/compare.json, compare.md and compare.svg (default bench/results).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DynaBert, parametersUsed, parseBertConfig, presetConfig, syntheticBatch } from "../dist/node.js";
import { exportOnnxBytes } from "../src/export/onnx/index.ts";
import { modelToFiles } from "../src/model/save.ts";
import { measureColdStart, measureRss, writeFolder } from "./compare/footprint.mjs";
import { startLoadMeter } from "./compare/machine-load.mjs";
import { replaceRows } from "./compare/merge.mjs";
import { higherPeak, measurePeak, peakRecord } from "./compare/peak.mjs";
import { markdownReport, plotSvg, summarize, summaryMarkdown } from "./compare/report.mjs";
import { engineRuntime, engineVariant, optionImplemented, ortNodeRuntime, ortWebRuntime, shareBytes } from "./compare/runtimes.mjs";
import { CrossCheckError, crossCheck, median, sampleInterleaved } from "./compare/sampling.mjs";

const { values: flags } = parseArgs({
  options: { quick: { type: "boolean" }, out: { type: "string", default: "bench/results" }, "no-footprint": { type: "boolean" }, from: { type: "string" }, shape: { type: "string" }, configs: { type: "string" }, "replace-in": { type: "string" }, "remeasure-peak": { type: "boolean" }, retries: { type: "string", default: "2" } },
});
if (flags.from) {
  // Re-render compare.md / compare.svg from a saved compare.json, measuring nothing.
  const saved = JSON.parse(readFileSync(flags.from, "utf8"));
  if (flags["remeasure-peak"]) {
    // The run's own start-of-run peak, and one measured now, merged as a run's two measurements are.
    const { measurements, ...first } = saved.peak;
    saved.peak = { ...peakRecord(higherPeak(first, await measurePeak())), second_measured_at: new Date().toISOString() };
  }
  writeOutputs(saved);
  process.exit(0);
}
const SEED = 1;
const WIDTHS = [1, 0.75, 0.5, 0.25];
const DEPTHS = [1, 0.75, 0.5];
/** Rounds per cell: at least minRounds, then more until `seconds` have passed or maxRounds. */
const quickShape = (flags.shape ?? "1x32").split("x").map(Number);
const SHAPES = flags.quick
  ? [{ batch: quickShape[0], seq: quickShape[1], minRounds: 3, maxRounds: 3, seconds: 0 }]
  : [
      { batch: 1, seq: 32, minRounds: 7, maxRounds: 15, seconds: 6 },
      { batch: 1, seq: 128, minRounds: 7, maxRounds: 11, seconds: 25 },
      { batch: 8, seq: 128, minRounds: 3, maxRounds: 3, seconds: 0 },
    ];
// --configs 1:1,0.5:0.75 times only those (width:depth) pairs.
const CONFIGS = flags.configs
  ? flags.configs.split(",").map((pair) => pair.split(":").map(Number))
  : flags.quick
    ? [[1, 1], [0.5, 0.75], [0.25, 0.5]]
    : DEPTHS.flatMap((depth) => WIDTHS.map((width) => [width, depth]));
/** A cell timed while other processes kept more than BUSY_CORES busy is re-timed (after a pause) up to this many times. */
const RETRIES = Number(flags.retries);
const BUSY_CORES = 0.2;
/** The plain-vs-fused choice: full model, 1 × 128, this many interleaved samples of each. */
const CHOICE_ROUNDS = flags.quick ? 2 : 4;
const DEMO_CONFIG = parseBertConfig(
  JSON.stringify({
    model_type: "bert",
    architectures: ["BertForSequenceClassification"],
    vocab_size: 4000,
    hidden_size: 96,
    num_hidden_layers: 4,
    num_attention_heads: 12,
    intermediate_size: 384,
    max_position_embeddings: 128,
    type_vocab_size: 2,
    hidden_act: "gelu",
    num_labels: 2,
  }),
  "demo config",
);

const t0 = performance.now();
const log = (msg) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const root = new URL("..", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const ortWebVersion = JSON.parse(readFileSync(new URL("node_modules/onnxruntime-web/package.json", root), "utf8")).version;
const relaxedFlag = process.execArgv.includes("--experimental-wasm-relaxed-simd");

const config = presetConfig("bert-base");
const scratch = mkdtempSync(join(tmpdir(), "dynabert-compare-"));
const runtimes = [];
let exitCode = 0;
try {
  log("peak: assembly/peak.ts loops");
  let peak = await measurePeak();
  logPeakLoops(peak);
  for (const n of peak.notes) log(`  ${n}`);

  log("engine: BERT-base, random weights");
  const probeConfig = presetConfig("bert-tiny");
  const hasSimd = await optionImplemented(DynaBert, probeConfig, "simd", "not-a-simd-mode");
  const hasThreads = await optionImplemented(DynaBert, probeConfig, "threads", 0.5);
  // Where the simd option exists its default ("auto") takes the relaxed build whenever this
  // process can run it, so the baseline columns must ask for "baseline".
  const baseline = hasSimd ? { simd: "baseline" } : {};
  const engine = await DynaBert.random(config, { seed: SEED, ...baseline });
  const variant = (id, label, options, implemented) => engineVariant({ DynaBert, config, seed: SEED, id, label, options, implemented });
  runtimes.push(
    engineRuntime("engine-1t", "engine 1T", engine),
    await variant("engine-relaxed", "engine relaxed 1T", { simd: "relaxed" }, hasSimd),
    await variant("engine-2t", "engine 2T", { threads: 2, ...baseline }, hasThreads),
    await variant("engine-relaxed-2t", "engine relaxed 2T", { threads: 2, simd: "relaxed" }, hasThreads && hasSimd),
    ortWebRuntime(1),
    ortWebRuntime(2),
    ortNodeRuntime(1),
    ortNodeRuntime(2),
  );
  const byId = (id) => runtimes.find((r) => r.id === id);
  const live = () => runtimes.filter((r) => r.available);
  for (const id of ["engine-relaxed", "engine-relaxed-2t"]) {
    if (!relaxedFlag && !byId(id).available) byId(id).reason += " (this process was started without --experimental-wasm-relaxed-simd)";
  }

  // Plain vs fused export, per ORT package, at the full model and 1 × 128.
  const exportFor = (width, depth, fused) => exportOnnxBytes({ core: engine.engine.core, config, weights: engine.engine.weights }, { width, depth, fused });
  const choiceCell = cellFor(1, 1, 1, 128);
  const full = { plain: exportFor(1, 1, false), fused: exportFor(1, 1, true) };
  const sharedFull = { plain: shareBytes(full.plain), fused: shareBytes(full.fused) };
  writeFileSync(join(scratch, "full-plain.onnx"), full.plain);
  writeFileSync(join(scratch, "full-fused.onnx"), full.fused);
  const choice = {};
  // Rows that replace an earlier run's must run the exports that run chose.
  const earlierChoice = flags["replace-in"] ? JSON.parse(readFileSync(flags["replace-in"], "utf8")).export_choice : {};
  for (const family of ["ort-web", "ort-node"]) {
    const rt = byId(`${family}-1t`);
    if (!rt.available) continue;
    if (earlierChoice[family]) {
      const v = earlierChoice[family].variant;
      log(`${rt.label}: ${v} export, as in ${flags["replace-in"]}`);
      await rt.prepare({ [v]: family === "ort-web" ? sharedFull[v] : full[v] });
      choice[family] = earlierChoice[family];
      continue;
    }
    log(`${rt.label}: plain vs fused export at the full model, 1 × 128`);
    const create = await rt.prepare(family === "ort-web" ? sharedFull : full);
    const ms = { plain: [], fused: [] };
    for (let round = 0; round <= CHOICE_ROUNDS; round++) {
      for (const v of round % 2 ? ["fused", "plain"] : ["plain", "fused"]) {
        rt.use(v);
        if (round === 0) await crossCheck([byId("engine-1t"), rt], choiceCell);
        else ms[v].push((await rt.run(choiceCell)).ms);
      }
    }
    const plain = median(ms.plain);
    const fused = median(ms.fused);
    const winner = fused < plain ? "fused" : "plain";
    choice[family] = { variant: winner, plain_median_ms: plain, fused_median_ms: fused, create_ms: create, samples: ms };
    log(`  plain ${plain.toFixed(0)} ms, fused ${fused.toFixed(0)} ms → ${winner}`);
    await rt.drop(winner === "fused" ? "plain" : "fused");
    rt.use(winner);
  }
  let webInfo;

  const rows = [];
  for (const [ci, [width, depth]] of CONFIGS.entries()) {
    const sub = engine.subNetwork({ width, depth });
    // ONNX sessions for this sub-network (the full model's 1T sessions exist from the choice above).
    const bytes = {};
    const shared = {};
    for (const rt of live().filter((r) => r.family !== "engine")) {
      const v = choice[rt.family]?.variant ?? "plain";
      if (ci === 0 && width === 1 && depth === 1 && rt.threads === 1) continue;
      bytes[v] ??= width === 1 && depth === 1 ? full[v] : exportFor(width, depth, v === "fused");
      const given = rt.family === "ort-web" ? (shared[v] ??= shareBytes(bytes[v])) : bytes[v];
      try {
        await rt.prepare({ [v]: given });
      } catch (e) {
        rt.available = false;
        rt.reason = `session creation failed: ${e.message.split("\n")[0]}`;
      }
    }
    // ort-web resets numThreads to 1 at its first session when the wasm threads it needs are missing.
    if (ci === 0 && byId("ort-web-2t").available) webInfo = await byId("ort-web-2t").info();
    if (webInfo && webInfo.numThreads !== 2 && byId("ort-web-2t").available) {
      Object.assign(byId("ort-web-2t"), { available: false, reason: `onnxruntime-web fell back to ${webInfo.numThreads} thread(s) (no SharedArrayBuffer/worker support)` });
    }
    for (const shape of SHAPES) {
      const cell = cellFor(width, depth, shape.batch, shape.seq);
      const checked = await crossCheck(live(), cell);
      // The machine is shared: keep the attempt that other processes disturbed least.
      let samples;
      let otherCores = null;
      let attempts = 0;
      for (let attempt = 0; attempt <= RETRIES; attempt++) {
        if (attempt > 0) {
          log(`  w${width} d${depth} ${shape.batch}×${shape.seq}: other processes used ${otherCores.toFixed(2)} cores; re-timing in 30 s (attempt ${attempt + 1} of ${RETRIES + 1})`);
          await new Promise((r) => setTimeout(r, 30_000));
        }
        attempts++;
        const otherLoad = startLoadMeter();
        const attemptSamples = await sampleInterleaved(live(), cell, shape);
        const attemptCores = otherLoad();
        if (samples === undefined || attemptCores < otherCores) [samples, otherCores] = [attemptSamples, attemptCores];
        if (otherCores === null || otherCores <= BUSY_CORES) break;
      }
      const flops = engine.flops({ width, depth }, shape.seq) * shape.batch;
      const row = { width, depth, batch: shape.batch, seq: shape.seq, heads: sub.heads, intermediate: sub.intermediate, layers: sub.keptLayers.length, flops, other_processes_cores: otherCores, timing_attempts: attempts, ort_exports: Object.fromEntries(Object.entries(choice).map(([f, c]) => [f, c.variant])), runtimes: {} };
      for (const rt of live()) {
        const s = samples[rt.id];
        const med = median(s.ms);
        row.runtimes[rt.id] = {
          median_ms: med,
          min_ms: Math.min(...s.ms),
          max_ms: Math.max(...s.ms),
          gflops: flops / (med * 1e6),
          cores_used: median(s.cpuMs.map((c, i) => c / s.ms[i])),
          max_abs_diff_vs_engine: checked[rt.id].maxAbsDiff,
          max_abs_logit: checked[rt.id].maxAbsLogit,
          samples_ms: s.ms,
        };
      }
      rows.push(row);
      const e = row.runtimes["engine-1t"];
      const w = row.runtimes["ort-web-1t"];
      log(`w${width} d${depth} ${shape.batch}×${shape.seq}: ` + live().map((rt) => `${rt.label} ${row.runtimes[rt.id].median_ms.toFixed(1)}`).join(", ") + (w ? ` | ort-web/engine ${(w.median_ms / e.median_ms).toFixed(2)}×` : "") + (otherCores === null ? "" : ` | other processes ${otherCores.toFixed(2)} cores`));
    }
    for (const rt of live()) await rt.release();
  }
  for (const rt of runtimes) rt.terminate?.();

  let rss = [];
  let coldStart = [];
  if (!flags["no-footprint"]) {
    log("peak RSS, BERT-base 1 × 128, fresh processes");
    const engineDir = writeFolder(join(scratch, "bert-base"), modelToFiles(engine));
    const weightsBytes = readFileSync(join(engineDir, "model.safetensors")).byteLength;
    const paramsBytes = 4 * parametersUsed(config, engine.subNetwork());
    rss = await measureRss({ seq: 128, weightsBytes: paramsBytes, engineDir, onnxFile: join(scratch, `full-${choice["ort-web"]?.variant ?? "plain"}.onnx`) });
    for (const r of rss) log(`  ${r.label}: ${r.error ?? `max RSS ${(r.maxRss / 2 ** 20).toFixed(0)} MiB = weights ${(paramsBytes / 2 ** 20).toFixed(0)} MiB + ${r.excessMiB.toFixed(0)} MiB`}`);
    log(`  (model.safetensors ${(weightsBytes / 2 ** 20).toFixed(1)} MiB)`);
    log("cold start, demo-size model, fresh processes");
    const demo = await DynaBert.random(DEMO_CONFIG, { seed: SEED });
    const demoDir = writeFolder(join(scratch, "demo"), modelToFiles(demo));
    const variants = [];
    if (byId("engine-relaxed").available) variants.push(["engine relaxed 1T", { simd: "relaxed" }]);
    if (byId("engine-2t").available) variants.push(["engine 2T", { threads: 2, simd: "baseline" }]);
    if (byId("engine-relaxed-2t").available) variants.push(["engine relaxed 2T", { threads: 2, simd: "relaxed" }]);
    coldStart = await measureColdStart({ dir: demoDir, seq: 64, runs: flags.quick ? 3 : 9, variants });
    for (const c of coldStart) log(`  ${c.label}: ${c.error ?? `${c.totalMs.toFixed(0)} ms (load ${c.loadMs.toFixed(0)} + forward ${c.forwardMs.toFixed(1)}), median of ${c.runs}`}`);
  }

  log("peak again, after the cells (the higher median of the two measurements is the ceiling)");
  peak = higherPeak(peak, await measurePeak());
  logPeakLoops(peak);
  const results = {
    date: new Date().toISOString(),
    command: `node ${process.execArgv.join(" ")} bench/compare.bench.mjs ${process.argv.slice(2).join(" ")}`.replace(/\s+/g, " ").trim(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memory_gib: +(totalmem() / 2 ** 30).toFixed(1) },
    versions: { node: process.version, dynabert: pkg.version, onnxruntime_web: ortWebVersion, onnxruntime_node: byId("ort-node-1t").version ?? null },
    model: { preset: "bert-base", seed: SEED, parameters: parametersUsed(config, engine.subNetwork()) },
    quick: !!flags.quick,
    shapes: SHAPES.map(({ batch, seq, minRounds, maxRounds, seconds }) => ({ batch, seq, minRounds, maxRounds, seconds })),
    runtimes: runtimes.map(({ id, label, available, reason, family, threads, wasmVariant }) => ({ id, label, family, threads, wasmVariant, available, reason })),
    ort_web_threads: webInfo ?? null,
    export_choice: choice,
    peak: peakRecord(peak),
    rows,
    rss,
    cold_start: coldStart,
  };
  writeOutputs(flags["replace-in"] ? replaceRows(JSON.parse(readFileSync(flags["replace-in"], "utf8")), results) : results);
} catch (e) {
  exitCode = 1;
  if (e instanceof CrossCheckError) console.error(`\ncross-check failed: ${e.message}`);
  else console.error(e);
  for (const rt of runtimes) rt.terminate?.();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);

/** One cell's inputs: the engine's batch and the same ids flattened for ORT. */
function cellFor(width, depth, batch, seq) {
  const input = syntheticBatch(config.vocabSize, batch, seq);
  const ids = new Int32Array(batch * seq);
  input.inputIds.forEach((row, b) => ids.set(row, b * seq));
  return { width, depth, batch, seq, input, ids };
}

function logPeakLoops(peak) {
  for (const l of peak.loops) log(`  ${l.name}: ${l.median_gflops.toFixed(1)} GFLOP/s median, ${l.best_gflops.toFixed(1)} best`);
}

/** compare.json, compare.md, compare.svg in --out; the markdown also to stdout. */
function writeOutputs(results) {
  results.summary = summarize(results);
  const head = `BERT-base (random weights, seed ${results.model.seed}), ${results.machine.cpu} × ${results.machine.cores}, Node ${results.versions.node}, onnxruntime-web ${results.versions.onnxruntime_web}, onnxruntime-node ${results.versions.onnxruntime_node ?? "n/a"}, ${results.date.slice(0, 16)}Z\n`;
  const md = `${head}\n${markdownReport(results)}\n${summaryMarkdown(results)}`;
  mkdirSync(flags.out, { recursive: true });
  writeFileSync(join(flags.out, "compare.json"), JSON.stringify(results, null, 1));
  writeFileSync(join(flags.out, "compare.md"), md);
  writeFileSync(join(flags.out, "compare.svg"), plotSvg(results));
  console.log(`\n${md}`);
  process.stderr.write(`wrote ${join(flags.out, "compare.{json,md,svg}")}\n`);
}
