// Soak test of the Cloudflare Worker example in workerd over HTTP on 127.0.0.1:
// 1000 sequential then 100 concurrent /classify requests, every answer compared
// exactly with Node's DynaBert.classify, malformed bodies mixed in.
//
//   node --import tsx scripts/worker-soak.mjs [--sequential N] [--concurrent N]
//
// Prints one JSON line: counts, failures, start-up and latency percentiles,
// and memory: workerd's peak RSS after 100 requests and at the end (stable
// memory means the second is not growing with the request count) and the
// model's wasm memory (x-wasm-memory-bytes) on the first and last answers.
import { isDeepStrictEqual, parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { startWorker, workerdPeakRssBytes } from "../examples/cloudflare-worker/start-local.mjs";
import { classifyCases } from "../tests/runtimes/helpers/classify-cases.ts";

const { values } = parseArgs({ options: { sequential: { type: "string", default: "1000" }, concurrent: { type: "string", default: "100" } } });
const sequential = Number(values.sequential);
const concurrent = Number(values.concurrent);

const cases = await classifyCases("demo");
const worker = await startWorker();
const failures = [];
const latencies = [];
const wasmBytes = [];
const peakRss = {};

async function one(i) {
  // Every 10th request is malformed: it must get a JSON 400 and change nothing after it.
  const malformed = i % 10 === 9;
  const c = cases[i % cases.length];
  const t0 = performance.now();
  const response = await fetch(new URL("/classify", worker.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: malformed ? '{"texts": [' : JSON.stringify(c.body),
  });
  const status = response.status;
  const json = await response.json();
  latencies.push(performance.now() - t0);
  if (!malformed) wasmBytes.push(Number(response.headers.get("x-wasm-memory-bytes")));
  if (malformed) {
    if (status !== 400 || json.error?.code !== "BODY_JSON") failures.push({ i, status, json });
    return;
  }
  const { ms: _ms, ...rest } = json;
  if (status !== 200 || !isDeepStrictEqual(rest, c.expected)) failures.push({ i, status, json });
}

try {
  const t0 = performance.now();
  await one(0);
  const firstRequestMs = performance.now() - t0; // includes the lazy model load in the isolate
  for (let i = 1; i < sequential; i++) {
    await one(i);
    if (i === 100 || i % 500 === 0) peakRss[`after${i}`] = workerdPeakRssBytes();
  }
  peakRss.afterSequential = workerdPeakRssBytes();
  const tc = performance.now();
  await Promise.all(Array.from({ length: concurrent }, (_, i) => one(sequential + i)));
  const concurrentWallMs = performance.now() - tc;
  peakRss.atEnd = workerdPeakRssBytes();
  const mb = (b) => (b === undefined ? null : +(b / 1e6).toFixed(1));
  latencies.sort((a, b) => a - b);
  const pct = (p) => +latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(2);
  console.log(
    JSON.stringify({
      sequential,
      concurrent,
      failures: failures.length,
      firstFailures: failures.slice(0, 3),
      bundleMs: +worker.timings.bundleMs.toFixed(0),
      workerdStartMs: +worker.timings.startMs.toFixed(0),
      firstRequestMs: +firstRequestMs.toFixed(1),
      latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: pct(100) },
      concurrentWallMs: +concurrentWallMs.toFixed(0),
      workerdPeakRssMB: Object.fromEntries(Object.entries(peakRss).map(([k, v]) => [k, mb(v)])),
      wasmMemoryMB: { first: mb(wasmBytes[0]), last: mb(wasmBytes.at(-1)) },
    }),
  );
} finally {
  await worker.stop();
}

// The same sequential load on a Worker that only echoes a byte count, in the
// same local workerd: the RSS growth local workerd shows without any model,
// to set the numbers above against (measured: about 10 MB per 1000 requests for both).
const echo = new Miniflare({
  modules: true,
  script: "export default { async fetch(r) { const b = await r.text(); return Response.json({ bytes: b.length }); } }",
  compatibilityDate: "2026-04-01",
  host: "127.0.0.1",
  port: 0,
});
try {
  const url = await echo.ready;
  const echoPeak = {};
  for (let i = 1; i <= sequential; i++) {
    await (await fetch(url, { method: "POST", body: JSON.stringify(cases[i % cases.length].body) })).arrayBuffer();
    if (i === 100 || i % 500 === 0) echoPeak[`after${i}`] = +(workerdPeakRssBytes() / 1e6).toFixed(1);
  }
  console.log(JSON.stringify({ echoWorkerPeakRssMB: echoPeak }));
} finally {
  await echo.dispose();
}
process.exit(failures.length === 0 ? 0 : 1);
