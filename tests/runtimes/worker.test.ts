// The Cloudflare Worker example in workerd (miniflare) over real HTTP on
// 127.0.0.1: the wrangler bundle, as deployed, answers /classify exactly as
// Node does, since both run the same wasm.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startWorker, type LocalWorker } from "../../examples/cloudflare-worker/start-local.mjs";
import { classifyCases, type ClassifyCase } from "./helpers/classify-cases.js";
import { defineEndpointTests } from "./helpers/endpoint-tests.js";

describe("Cloudflare Worker example (workerd)", () => {
  let worker: LocalWorker;
  let cases: ClassifyCase[];

  before(async () => {
    cases = await classifyCases();
    worker = await startWorker();
  });
  after(async () => worker?.stop());

  it("bundles the core entry without Node built-ins, the wasm and checkpoint as side modules", () => {
    const js = readFileSync(join(worker.bundleDir, "worker.js"), "utf8");
    assert.doesNotMatch(js, /from\s*["']node:|require\(["']node:/, "the Worker bundle imports a Node built-in");
    const files = readdirSync(worker.bundleDir);
    assert.ok(files.some((f) => f.endsWith("release.wasm")), files.join(", "));
    assert.ok(files.some((f) => f.endsWith("model.safetensors")), files.join(", "));
  });

  defineEndpointTests(() => worker.url, () => cases);
});
