/**
 * DynaBERT in a Cloudflare Worker. The model files are bundled with the
 * Worker (wrangler.toml rules: .safetensors as Data → ArrayBuffer, .txt as
 * Text, .json through the bundler) and the wasm is imported as a compiled
 * module, since workerd refuses to compile wasm from bytes at run time.
 *
 * The model here is the demo's DynaBERT spam classifier exported whole as
 * int8 (examples/models/spam-demo-int8: `dynabert export --width 1 --depth 1
 * --dtype int8`, 0.87 MiB, all 12 sub-networks and their accuracy table);
 * point the three model imports at your own HuggingFace folder to serve it
 * instead.
 */
import { DynaBert } from "../../dist/index.js";
import wasm from "../../build/release.wasm";
import config from "../models/spam-demo-int8/config.json";
import weights from "../models/spam-demo-int8/model.safetensors";
import vocab from "../models/spam-demo-int8/vocab.txt";
import { handleClassify } from "../shared/classify-endpoint.mjs";

// Loaded once per isolate, lazily: module scope may not run async work, so
// the first request starts the load and every later one reuses the promise.
let model;

function getModel() {
  model ??= DynaBert.load({ config, weights: new Uint8Array(weights), vocab }, { wasm }).catch((e) => {
    model = undefined; // a failed load is retried by the next request rather than cached
    throw e;
  });
  return model;
}

export default {
  async fetch(request) {
    return handleClassify(request, getModel());
  },
};
