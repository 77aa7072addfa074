// One onnxruntime-web (wasm backend) instance in its own worker thread.
// ort-web fixes its thread count (env.wasm.numThreads) when its wasm module
// is first initialised and has no per-session setting, so a 1-thread and a
// 2-thread ort-web can only coexist in one bench process as two module
// instances: one per worker. The worker times its own calls, so the message
// round trip to the main thread is never inside a sample.
//
// Messages in: { id, op: "create", key, bytes (Uint8Array, may be SAB-backed) }
//              { id, op: "run", key, batch, seq, ids (Int32Array, batch × seq row-major) }
//              { id, op: "release", key }
// Messages out: { id, ok: true, ...result } or { id, ok: false, error }
import { parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-web";

ort.env.wasm.numThreads = workerData.numThreads;
ort.env.wasm.simd = true;
ort.env.wasm.proxy = false;
ort.env.logLevel = "error";

/** key → InferenceSession */
const sessions = new Map();
/** `${key} ${batch}×${seq}` → feeds, so tensor construction is never timed. */
const feedCache = new Map();

function feedsFor(session, key, batch, seq, ids) {
  const cacheKey = `${key} ${batch}×${seq}`;
  let feeds = feedCache.get(cacheKey);
  if (!feeds) {
    const dims = [batch, seq];
    const all = {
      // input_ids, attention_mask, token_type_ids: int64 [batch, seq].
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, (v) => BigInt(v)), dims),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(batch * seq).fill(1n), dims),
      token_type_ids: new ort.Tensor("int64", new BigInt64Array(batch * seq), dims),
    };
    feeds = Object.fromEntries(session.inputNames.map((name) => [name, all[name]]));
    feedCache.set(cacheKey, feeds);
  }
  return feeds;
}

const handlers = {
  async create({ key, bytes }) {
    const start = performance.now();
    sessions.set(key, await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" }));
    return { createMs: performance.now() - start };
  },
  async run({ key, batch, seq, ids }) {
    const session = sessions.get(key);
    if (!session) throw new Error(`no session ${key}`);
    const feeds = feedsFor(session, key, batch, seq, ids);
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const out = await session.run(feeds);
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    // Process-wide CPU time: the main thread idles while it waits for this reply.
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, logits: out.logits.data };
  },
  async release({ key }) {
    await sessions.get(key)?.release();
    sessions.delete(key);
    for (const k of [...feedCache.keys()]) if (k.startsWith(`${key} `)) feedCache.delete(k);
    return {};
  },
  async info() {
    return { numThreads: ort.env.wasm.numThreads, versions: { ...ort.env.versions } };
  },
};

parentPort.on("message", async (msg) => {
  try {
    parentPort.postMessage({ id: msg.id, ok: true, ...(await handlers[msg.op](msg)) });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: String(e?.stack ?? e) });
  }
});
