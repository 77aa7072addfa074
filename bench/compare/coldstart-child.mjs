// Cold start of the demo-size model in a fresh process: from the wasm bytes
// and the checkpoint bytes already in memory to the first logits, i.e.
// compile + instantiate + load weights + one forward pass. Prints one JSON line
//   { loadMs, forwardMs, totalMs, importMs }
// importMs (the library's own module import, before the clock starts) is reported, not counted.
//
//   node coldstart-child.mjs DIR SEQ [LOAD_OPTIONS_JSON]
// DIR holds config.json and model.safetensors. Without LOAD_OPTIONS the
// release wasm's bytes are passed in (options.wasm); with them (e.g.
// {"simd":"relaxed"}) the library picks and reads its own build.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const [dir, seqArg, optionsJson] = process.argv.slice(2);
const seq = Number(seqArg);

const importStart = performance.now();
const { DynaBert } = await import("../../dist/node.js");
const importMs = performance.now() - importStart;

const files = { config: readFileSync(join(dir, "config.json"), "utf8"), weights: new Uint8Array(readFileSync(join(dir, "model.safetensors"))) };
const options = optionsJson ? JSON.parse(optionsJson) : { wasm: new Uint8Array(readFileSync(new URL("../../build/release.wasm", import.meta.url))) };
const vocab = JSON.parse(files.config).vocab_size;
let state = 12345;
const inputIds = [Int32Array.from({ length: seq }, () => 5 + ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) % (vocab - 5)))];

const start = performance.now();
const model = await DynaBert.load(files, options);
const loaded = performance.now();
let result = model.forward({ inputIds });
if (typeof result?.then === "function") result = await result;
const end = performance.now();
if (!result.logits || !result.logits.data.every(Number.isFinite)) throw new Error("cold start: no finite logits");
console.log(JSON.stringify({ loadMs: loaded - start, forwardMs: end - loaded, totalMs: end - start, importMs }));
process.exit(0);
