// Peak RSS of BERT-base inference and cold start of the demo-size model, both
// measured in fresh child processes (rss-child.mjs, coldstart-child.mjs).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runChild } from "./child.mjs";
import { median } from "./sampling.mjs";

const MIB = 1024 * 1024;

/** Writes a model's HF files (config.json, model.safetensors) to dir. */
export function writeFolder(dir, files) {
  mkdirSync(dir, { recursive: true });
  for (const [name, contents] of Object.entries(files)) writeFileSync(join(dir, name), contents);
  return dir;
}

/**
 * Peak RSS at batch 1 × seq for each way of running BERT-base. `weightsBytes`
 * is the f32 parameter bytes; excess = maxRss − weights (the target is ≤ 64 MiB),
 * and excess over baseline also subtracts what the bare process (Node and the
 * imports) held before any model existed.
 */
export async function measureRss({ seq, weightsBytes, engineDir, onnxFile }) {
  const cases = [
    ["engine, random weights generated in wasm", ["engine-random", String(seq)]],
    ["engine, DynaBert.load(model.safetensors)", ["engine-load", engineDir, String(seq)]],
    ["onnxruntime-web 1T (.onnx bytes in JS)", ["ort-web", onnxFile, String(seq)]],
    ["onnxruntime-node 1T (.onnx bytes in JS)", ["ort-node", onnxFile, String(seq)]],
  ];
  const out = [];
  for (const [label, args] of cases) {
    try {
      const r = await runChild("./rss-child.mjs", args);
      out.push({
        label,
        ...r,
        weightsBytes,
        excessMiB: (r.maxRss - weightsBytes) / MIB,
        excessOverBaselineMiB: (r.maxRss - r.baselineMaxRss - weightsBytes) / MIB,
      });
    } catch (e) {
      out.push({ label, error: e.message.split("\n")[0] });
    }
  }
  return out;
}

/**
 * Cold start (compile + instantiate + load + first forward at 1 × seq) of the
 * demo model in `dir`, median of `runs` fresh processes, for the default build
 * and each extra LoadOptions variant given.
 */
export async function measureColdStart({ dir, seq, runs, variants }) {
  const out = [];
  for (const [label, options] of [["engine 1T (release.wasm bytes passed in)", undefined], ...variants]) {
    const args = [dir, String(seq), ...(options ? [JSON.stringify(options)] : [])];
    const samples = [];
    try {
      for (let i = 0; i < runs; i++) samples.push(await runChild("./coldstart-child.mjs", args));
    } catch (e) {
      out.push({ label, options, error: e.message.split("\n")[0] });
      continue;
    }
    out.push({
      label,
      options,
      runs,
      totalMs: median(samples.map((s) => s.totalMs)),
      loadMs: median(samples.map((s) => s.loadMs)),
      forwardMs: median(samples.map((s) => s.forwardMs)),
      importMs: median(samples.map((s) => s.importMs)),
      samplesTotalMs: samples.map((s) => s.totalMs),
    });
  }
  return out;
}
