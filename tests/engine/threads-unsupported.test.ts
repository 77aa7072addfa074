// Where there are no worker threads (Cloudflare Workers, or any runtime that
// loads only the runtime-neutral entry), threads > 1 is a typed OptionError
// naming the option, while threads: 1 (the default) loads as before. This file
// imports only src/index.ts, which never wires up worker threads.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DynaBert, parseBertConfig } from "../../src/index.js";

const BUILD = join(import.meta.dirname, "..", "..", "build");
const config = parseBertConfig(JSON.stringify({
  model_type: "bert", vocab_size: 50, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2,
  intermediate_size: 24, max_position_embeddings: 16, type_vocab_size: 2, num_labels: 2, hidden_act: "gelu",
}));

describe("threads without worker threads", () => {
  it("threads: 2 is an OptionError THREADS_UNSUPPORTED naming the option, even given the threaded wasm", async () => {
    const wasm = readFileSync(join(BUILD, "release-threads.wasm"));
    await assert.rejects(DynaBert.random(config, { threads: 2, wasm }), (e: Error & { code?: string; option?: string }) => {
      assert.equal(e.name, "OptionError");
      assert.equal(e.code, "THREADS_UNSUPPORTED");
      assert.equal(e.option, "threads");
      assert.match(e.message, /worker threads/);
      return true;
    });
  });

  it("threads: 1 loads the single-threaded build as usual", async () => {
    const model = await DynaBert.random(config, { threads: 1, wasm: readFileSync(join(BUILD, "release.wasm")) });
    assert.equal(model.forward({ inputIds: [Int32Array.of(2, 3, 4)] }).logits?.dims.join(), "1,2");
    model.dispose();
  });
});
