/**
 * DynaBERT in Deno: load a HuggingFace BERT folder, run texts through one
 * sub-network and print the logits as JSON (f32 values, exact as doubles).
 *
 *   deno run --allow-read examples/deno/classify.ts MODEL_DIR [--width W] [--depth D] TEXT...
 *   → {"width": W, "depth": D, "labels": [...], "logits": [[...], ...]}
 *
 * Deno runs the package's Node entry as is (it reads the folder and the
 * bundled wasm through node:fs).
 */
import { parseArgs } from "node:util";
import { DynaBert } from "../../dist/node.js";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { width: { type: "string", default: "1" }, depth: { type: "string", default: "1" } },
});
const [modelDir, ...texts] = positionals;
if (!modelDir || texts.length === 0) {
  console.error("usage: classify.ts MODEL_DIR [--width W] [--depth D] TEXT...");
  Deno.exit(2);
}
const width = Number(values.width);
const depth = Number(values.depth);

try {
  const model = await DynaBert.load(modelDir);
  const { logits } = model.forward(model.tokenize(texts), { width, depth });
  const K = model.config.numLabels;
  const rows = texts.map((_, b) => Array.from(logits!.data.subarray(b * K, (b + 1) * K)));
  const labels = Array.from({ length: K }, (_, i) => model.config.id2label[i] ?? `LABEL_${i}`);
  console.log(JSON.stringify({ width, depth, labels, logits: rows }));
} catch (e) {
  // The package's typed errors carry a code; print it so callers can tell bad input from a crash.
  const err = e as Error & { code?: string };
  console.error(JSON.stringify({ error: { name: err.name, code: err.code, message: err.message } }));
  Deno.exit(1);
}
