// The runtimes the comparison races, behind one interface:
//   runtime.run(cell) → { ms, cpuMs, logits }   one timed forward pass
//   runtime.prepare(variants) / runtime.release()  ONNX sessions per (width, depth)
// where cell = { width, depth, batch, seq, input (engine batch), ids (Int32Array, batch × seq) }
// and variants = { plain?: Uint8Array, fused?: Uint8Array } (ONNX bytes of the sub-network).
// A runtime that cannot run here is returned with `available: false` and the
// reason, so its column reads "n/a" instead of the bench failing.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const unavailable = (id, label, reason) => ({ id, label, available: false, reason });

function cpuNow() {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** This engine: one DynaBert per build (baseline 1 thread, threads, relaxed SIMD); width/depth chosen per call. */
export function engineRuntime(id, label, model) {
  return {
    id,
    label,
    family: "engine",
    available: true,
    model,
    // The build the model runs on, as the module reports it (where this dynabert can say).
    wasmVariant: model.wasmVariant,
    async prepare() {},
    async release() {},
    async run(cell) {
      const cpu0 = cpuNow();
      const start = performance.now();
      let result = model.forward(cell.input, { width: cell.width, depth: cell.depth });
      // A threaded build may hand back a promise; awaiting it is part of the call.
      if (typeof result?.then === "function") result = await result;
      const ms = performance.now() - start;
      return { ms, cpuMs: cpuNow() - cpu0, logits: result.logits.data };
    },
    // A threaded model's workers (dispose() exists only where LoadOptions.threads does).
    terminate: () => model.dispose?.(),
  };
}

/**
 * Whether DynaBert's LoadOptions knows `option`: a build that implements it
 * rejects a nonsense value; one that does not ignores the unknown key.
 */
export async function optionImplemented(DynaBert, probeConfig, option, nonsense) {
  try {
    await DynaBert.random(probeConfig, { [option]: nonsense });
    return false;
  } catch {
    return true;
  }
}

/**
 * An engine build selected by LoadOptions (threads, simd), or n/a with the
 * reason: `implemented` false (the option does not exist yet), or the load
 * rejected here (missing build, missing --experimental-wasm-relaxed-simd, ...).
 */
export async function engineVariant({ DynaBert, config, seed, id, label, options, implemented }) {
  const shown = JSON.stringify(options);
  if (!implemented) return unavailable(id, label, `LoadOptions ${shown} is not implemented in this dynabert (an invalid value is silently accepted)`);
  try {
    return engineRuntime(id, label, await DynaBert.random(config, { seed, ...options }));
  } catch (e) {
    return unavailable(id, label, `DynaBert.random(…, ${shown}) failed: ${e?.message ?? e}`);
  }
}

/** Feeds for an exported graph: int64 [batch, seq] ids, mask of ones, token types 0; only the inputs the graph has. */
function ortFeeds(ort, session, cell) {
  const dims = [cell.batch, cell.seq];
  const n = cell.batch * cell.seq;
  const all = {
    input_ids: new ort.Tensor("int64", BigInt64Array.from(cell.ids, (v) => BigInt(v)), dims),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(n).fill(1n), dims),
    token_type_ids: new ort.Tensor("int64", new BigInt64Array(n), dims),
  };
  return Object.fromEntries(session.inputNames.map((name) => [name, all[name]]));
}

/** onnxruntime-node, CPU execution provider, `threads` intra-op threads. */
export function ortNodeRuntime(threads) {
  const id = `ort-node-${threads}t`;
  const label = `ort-node ${threads}T`;
  let ort;
  try {
    ort = createRequire(import.meta.url)("onnxruntime-node");
  } catch (e) {
    return unavailable(id, label, `onnxruntime-node is not installed (${e?.code ?? e})`);
  }
  let session;
  let variant;
  const feedCache = new Map();
  const sessionOptions = { executionProviders: ["cpu"], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" };
  return {
    id,
    label,
    family: "ort-node",
    threads,
    available: true,
    version: ort.env.versions?.node ?? ort.env.versions?.common,
    /** A session per variant given; `use(variant)` picks which one run() times. */
    sessions: new Map(),
    async prepare(variants) {
      const times = {};
      for (const [name, bytes] of Object.entries(variants)) {
        const start = performance.now();
        this.sessions.set(name, await ort.InferenceSession.create(bytes, sessionOptions));
        times[name] = performance.now() - start;
      }
      this.use(Object.keys(variants)[0]);
      return times;
    },
    use(name) {
      variant = name;
      session = this.sessions.get(name);
    },
    async drop(name) {
      await this.sessions.get(name)?.release();
      this.sessions.delete(name);
      for (const k of [...feedCache.keys()]) if (k.startsWith(`${name} `)) feedCache.delete(k);
    },
    async release() {
      for (const name of [...this.sessions.keys()]) await this.drop(name);
      session = undefined;
    },
    async run(cell) {
      const key = `${variant} ${cell.batch}×${cell.seq}`;
      let feeds = feedCache.get(key);
      if (!feeds) feedCache.set(key, (feeds = ortFeeds(ort, session, cell)));
      const cpu0 = cpuNow();
      const start = performance.now();
      const out = await session.run(feeds);
      const ms = performance.now() - start;
      return { ms, cpuMs: cpuNow() - cpu0, logits: out.logits.data };
    },
  };
}

/** onnxruntime-web's wasm backend with `threads` threads, in its own worker thread (see ort-web-worker.mjs). */
export function ortWebRuntime(threads) {
  const id = `ort-web-${threads}t`;
  const label = `ort-web ${threads}T`;
  const worker = new Worker(new URL("./ort-web-worker.mjs", import.meta.url), { workerData: { numThreads: threads } });
  worker.unref();
  let nextId = 0;
  const pending = new Map();
  worker.on("message", (msg) => {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg);
    else p.reject(new Error(`${label}: ${msg.error}`));
  });
  worker.on("error", (e) => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  });
  const call = (op, args = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, ...args });
    });
  let variant;
  const names = new Set();
  return {
    id,
    label,
    family: "ort-web",
    threads,
    available: true,
    async info() {
      const { numThreads, versions } = await call("info");
      return { numThreads, versions };
    },
    async prepare(variants) {
      const times = {};
      for (const [name, bytes] of Object.entries(variants)) {
        times[name] = (await call("create", { key: name, bytes })).createMs;
        names.add(name);
      }
      variant = Object.keys(variants)[0];
      return times;
    },
    use(name) {
      variant = name;
    },
    async drop(name) {
      await call("release", { key: name });
      names.delete(name);
    },
    async release() {
      for (const name of [...names]) await this.drop(name);
    },
    async run(cell) {
      const { ms, cpuMs, logits } = await call("run", { key: variant, batch: cell.batch, seq: cell.seq, ids: cell.ids });
      return { ms, cpuMs, logits };
    },
    terminate: () => worker.terminate(),
  };
}

/** ONNX bytes in a SharedArrayBuffer, so both ort-web workers read one copy instead of each receiving a clone. */
export function shareBytes(bytes) {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}
