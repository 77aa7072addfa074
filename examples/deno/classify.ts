/**
 * DynaBERT in Deno: load a HuggingFace BERT folder, run texts through one
 * sub-network and print the logits as JSON (f32 values, exact as doubles).
 *
 *   deno run --allow-read examples/deno/classify.ts MODEL_DIR [--width W] [--depth D] [--simd auto|baseline|relaxed] TEXT...
 *   → {"width": W, "depth": D, "wasmVariant": "relaxed" | "baseline", "labels": [...], "logits": [[...], ...]}
 *
 * Deno validates relaxed SIMD, so the default `--simd auto` runs the relaxed
 * build (faster; last-bit differences from the baseline); `--simd baseline`
 * gives the same f32 bits as every other runtime.
 *
 * Deno runs the package's Node entry as is (it reads the folder and the
 * bundled wasm through node:fs).
 */
import { parseArgs } from "node:util";
import { DynaBert } from "../../dist/node.js";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    width: { type: "string", default: "1" },
    depth: { type: "string", default: "1" },
    simd: { type: "string", default: "auto" },
  },
});
const [modelDir, ...texts] = positionals;
if (!modelDir || texts.length === 0) {
  console.error("usage: classify.ts MODEL_DIR [--width W] [--depth D] [--simd auto|baseline|relaxed] TEXT...");
  Deno.exit(2);
}
const width = Number(values.width);
const depth = Number(values.depth);

try {
  // The package validates the value: anything else is an OptionError (SIMD_INVALID), printed below.
  const model = await DynaBert.load(modelDir, { simd: values.simd as "auto" | "baseline" | "relaxed" });
  const { logits } = model.forward(model.tokenize(texts), { width, depth });
  const K = model.config.numLabels;
  const rows = texts.map((_, b) => Array.from(logits!.data.subarray(b * K, (b + 1) * K)));
  const labels = Array.from({ length: K }, (_, i) => model.config.id2label[i] ?? `LABEL_${i}`);
  console.log(JSON.stringify({ width, depth, wasmVariant: model.wasmVariant, labels, logits: rows }));
} catch (e) {
  // The package's typed errors carry a code; print it so callers can tell bad input from a crash.
  const err = e as Error & { code?: string };
  console.error(JSON.stringify({ error: { name: err.name, code: err.code, message: err.message } }));
  Deno.exit(1);
}
