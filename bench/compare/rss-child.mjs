// Peak resident memory of one BERT-base inference, in a fresh process so
// nothing else the bench holds is counted. Prints one JSON line:
//   { mode, baselineMaxRss, maxRss, rss, wasmBytes? }   (bytes)
// baselineMaxRss is the process after its imports, before any model exists.
//
//   node rss-child.mjs engine-random SEQ            DynaBert.random(bert-base), weights generated in wasm
//   node rss-child.mjs engine-load DIR SEQ          DynaBert.load(DIR): model.safetensors read into JS, then copied into wasm
//   node rss-child.mjs ort-web FILE.onnx SEQ        onnxruntime-web, 1 thread
//   node rss-child.mjs ort-node FILE.onnx SEQ       onnxruntime-node, 1 intra-op thread
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const [mode, arg, seqArg] = process.argv.slice(2);
const seq = Number(mode === "engine-random" ? arg : seqArg);
// VmHWM, the peak RSS of this process image. Not resourceUsage().maxRSS: Linux
// carries ru_maxrss across fork + exec, so a child of the (GiB-sized) bench
// would report its parent's peak.
const maxRss = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))[1]) * 1024;

function ids(vocab) {
  // Same generator as syntheticBatch: deterministic ids in [5, vocab).
  let state = 12345;
  return Int32Array.from({ length: seq }, () => 5 + ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) % (vocab - 5)));
}

async function run() {
  if (mode === "engine-random" || mode === "engine-load") {
    const { DynaBert, presetConfig } = await import("../../dist/node.js");
    const baselineMaxRss = maxRss();
    const model = mode === "engine-random" ? await DynaBert.random(presetConfig("bert-base"), { seed: 1 }) : await DynaBert.load(arg);
    model.forward({ inputIds: [ids(model.config.vocabSize)] });
    return { baselineMaxRss, wasmBytes: model.memoryBytes };
  }
  if (mode === "ort-web" || mode === "ort-node") {
    const ort = mode === "ort-web" ? await import("onnxruntime-web") : createRequire(import.meta.url)("onnxruntime-node");
    if (mode === "ort-web") {
      ort.env.wasm.numThreads = 1;
      ort.env.logLevel = "error";
    }
    const baselineMaxRss = maxRss();
    const options = mode === "ort-web" ? { executionProviders: ["wasm"] } : { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1 };
    const session = await ort.InferenceSession.create(readFileSync(arg), options);
    const dims = [1, seq];
    const all = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids(30522), (v) => BigInt(v)), dims),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(seq).fill(1n), dims),
      token_type_ids: new ort.Tensor("int64", new BigInt64Array(seq), dims),
    };
    await session.run(Object.fromEntries(session.inputNames.map((n) => [n, all[n]])));
    return { baselineMaxRss };
  }
  throw new Error(`unknown mode ${mode}`);
}

const extra = await run();
console.log(JSON.stringify({ mode, ...extra, maxRss: maxRss(), rss: process.memoryUsage().rss }));
process.exit(0);
