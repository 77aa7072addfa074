/**
 * Threads for Node and Deno (both provide node:worker_threads): the threaded
 * wasm shipped in build/ (baseline or relaxed SIMD, as `simd` picks) and workers running the tsup-built
 * dist/threads-worker.js, or bindings/threads/worker-entry.ts when this file
 * runs from source (the tests, through tsx).
 */
import { Worker } from "node:worker_threads";
import type { ThreadWorker } from "../bindings/index.js";
import { readBuild, THREADED } from "./node-wasm-builds.js";
import { threadPlatform } from "./threads.js";

const FROM_SOURCE = import.meta.url.endsWith(".ts");
const WORKER_SCRIPT = new URL(FROM_SOURCE ? "../bindings/threads/worker-entry.ts" : "./threads-worker.js", import.meta.url);

/**
 * Node 20 does not carry tsx's loader hooks into worker threads, so from
 * source a small bootstrap registers tsx in the worker before importing the
 * TypeScript entry.
 */
function startWorker(): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_SCRIPT, workerOptions());
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(WORKER_SCRIPT.href);
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${entry}); })`, { eval: true });
}

/**
 * Workers inherit the parent's Node options, but Node refuses to start one
 * from a file under --input-type (`node --input-type=module -e …`): drop it.
 */
function workerOptions(): { execArgv?: string[] } {
  const argv = typeof process === "undefined" ? [] : process.execArgv;
  if (!argv.some((a) => a.startsWith("--input-type"))) return {};
  return { execArgv: argv.filter((a, i) => !a.startsWith("--input-type") && argv[i - 1] !== "--input-type") };
}

function createWorker(): ThreadWorker {
  const worker = startWorker();
  return {
    postMessage: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.on("message", listener),
    onError: (listener) => worker.on("error", listener),
    onExit: (listener) => worker.on("exit", listener),
    unref: () => worker.unref(),
    terminate: () => void worker.terminate(),
  };
}

threadPlatform.threadedWasm = (simd) => readBuild(THREADED, simd);
threadPlatform.createWorker = createWorker;
