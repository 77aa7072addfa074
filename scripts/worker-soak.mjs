// Soak test of the Cloudflare Worker example in workerd over HTTP on 127.0.0.1:
// 1000 sequential then 100 concurrent /classify requests, every answer compared
// exactly with Node's DynaBert.classify, malformed bodies mixed in.
//
//   node --import tsx scripts/worker-soak.mjs [--sequential N] [--concurrent N]
//
// Prints one JSON line: counts, failures, start-up and latency percentiles.
import { isDeepStrictEqual, parseArgs } from "node:util";
import { startWorker } from "../examples/cloudflare-worker/start-local.mjs";
import { classifyCases, postClassify } from "../tests/runtimes/helpers/classify-cases.ts";

const { values } = parseArgs({ options: { sequential: { type: "string", default: "1000" }, concurrent: { type: "string", default: "100" } } });
const sequential = Number(values.sequential);
const concurrent = Number(values.concurrent);

const cases = await classifyCases();
const worker = await startWorker();
const failures = [];
const latencies = [];

async function one(i) {
  // Every 10th request is malformed: it must get a JSON 400 and change nothing after it.
  const malformed = i % 10 === 9;
  const c = cases[i % cases.length];
  const t0 = performance.now();
  const { status, json } = await postClassify(worker.url, malformed ? '{"texts": [' : c.body);
  latencies.push(performance.now() - t0);
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
  for (let i = 1; i < sequential; i++) await one(i);
  const tc = performance.now();
  await Promise.all(Array.from({ length: concurrent }, (_, i) => one(sequential + i)));
  const concurrentWallMs = performance.now() - tc;
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
    }),
  );
} finally {
  await worker.stop();
}
process.exit(failures.length === 0 ? 0 : 1);
