// The Cloudflare Worker example in workerd (miniflare) over real HTTP on
// 127.0.0.1: the wrangler bundle, as deployed, answers /classify exactly as
// Node does, since both run the same wasm.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bundleSizes, startWorker, workerdPeakRssBytes, type LocalWorker } from "../../examples/cloudflare-worker/start-local.mjs";
import { classifyCases, generousChoice, postClassify, type ClassifyCase } from "./helpers/classify-cases.js";
import { defineEndpointTests } from "./helpers/endpoint-tests.js";

describe("Cloudflare Worker example (workerd)", () => {
  let worker: LocalWorker;
  let cases: ClassifyCase[];
  let generous: [number, number];

  before(async () => {
    cases = await classifyCases("demo");
    generous = await generousChoice("demo");
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

  defineEndpointTests(() => worker.url, () => cases, undefined, () => generous);

  // Cloudflare's limits: 128 MB per isolate (JS heap + wasm memory), a bundle of
  // 10 MB compressed on paid plans (1 MB free). Checked after the load test above.
  const MB = 1e6;
  it("stays inside the Workers limits: bundle size, wasm memory, process peak", async () => {
    const { raw, gzip } = bundleSizes(worker.bundleDir);
    const res = await fetch(new URL("/classify", worker.url), { method: "POST", body: JSON.stringify(cases[0].body) });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    const wasmBytes = Number(res.headers.get("x-wasm-memory-bytes"));
    const peak = workerdPeakRssBytes();
    console.log(
      `  Worker bundle ${(raw / MB).toFixed(2)} MB, ${(gzip / MB).toFixed(2)} MB gzip (limit 1 MB free, 10 MB paid); ` +
        `wasm memory ${(wasmBytes / MB).toFixed(1)} MB; workerd peak RSS ${peak === undefined ? "n/a" : (peak / MB).toFixed(1) + " MB"} ` +
        "(the whole workerd process, an upper bound on the isolate's JS heap + wasm)",
    );
    assert.ok(gzip < 10 * MB, `bundle ${gzip} bytes gzip is over the paid plan's 10 MB`);
    assert.ok(Number.isInteger(wasmBytes) && wasmBytes > 0 && wasmBytes < 128 * MB, `wasm memory ${wasmBytes}`);
    if (peak !== undefined) assert.ok(peak < 128 * MB, `workerd peak RSS ${peak} bytes is over 128 MB`);
    assert.equal((await postClassify(worker.url, cases[0].body)).status, 200, "still serving");
  });
});
