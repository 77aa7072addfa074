/**
 * DynaBERT in a Cloudflare Worker. The model files are bundled with the
 * Worker (wrangler.toml rules: .safetensors as Data → ArrayBuffer, .txt as
 * Text, .json through the bundler) and the wasm is imported as a compiled
 * module, since workerd refuses to compile wasm from bytes at run time.
 *
 * The model here is the repository's small test checkpoint; point the four
 * imports at your own HuggingFace folder (config.json, model.safetensors,
 * vocab.txt) to serve it instead.
 */
import { DynaBert } from "../../dist/index.js";
import wasm from "../../build/release.wasm";
import config from "../../tests/fixtures/golden/h12/config.json";
import weights from "../../tests/fixtures/golden/h12/model.safetensors";
import vocab from "../../tests/fixtures/golden/h12/vocab.txt";
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
