/**
 * The `threads` load option, runtime-neutral: which cores threads need and
 * the typed errors when they cannot be had. The Node/Deno entry fills in
 * `threadPlatform` (src/node-threads.ts); Workers have no worker threads, so
 * there it stays empty and threads > 1 is an OptionError.
 */
import { importsMemory, instantiateThreadedCore, ThreadPoolError, type Core, type CreateWorker, type WasmSource } from "../bindings/index.js";
import { OptionError } from "./errors.js";
import type { SimdOption } from "./wasm-variant.js";

export interface ThreadPlatform {
  /** The threaded build's bytes for a `simd` option (build/release-threads.wasm, or release-threads-relaxed.wasm). */
  threadedWasm?(simd: SimdOption): Promise<WasmSource>;
  /** Starts one worker running dist/threads-worker.js. */
  createWorker?: CreateWorker;
}

export const threadPlatform: ThreadPlatform = {};

/** Validates the option: undefined → 1. */
export function checkThreads(threads: unknown): number {
  if (threads === undefined) return 1;
  if (typeof threads !== "number" || !Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new OptionError("THREADS_INVALID", `threads must be an integer from 1 to 256, got ${String(threads)}`, { option: "threads" });
  }
  return threads;
}

/** What this runtime lacks for `threads`, or undefined if it has everything. */
function missingForThreads(threads: number): string | undefined {
  if (typeof SharedArrayBuffer !== "function") return "SharedArrayBuffer";
  if (threads === 1) return undefined;
  if (typeof Atomics === "undefined" || typeof Atomics.wait !== "function") return "Atomics.wait";
  if (!threadPlatform.createWorker) return "worker threads (load through dynabert's Node/Deno entry)";
  return undefined;
}

/** Whether `wasm` is the threaded build (it imports its memory, shared); bytes are read, not compiled. */
export function isThreadedBuild(wasm: WasmSource): boolean {
  return importsMemory(wasm);
}

/**
 * The threaded core: `threads` > 1, or 1 when `wasm` is the threaded build.
 * `wasm`, when given, must be a threaded build; otherwise the platform's
 * bundled one for `simd` is used (relaxed SIMD where it runs, for "auto").
 */
export async function instantiateWithThreads(threads: number, wasm: WasmSource | undefined, simd: SimdOption): Promise<Core> {
  const missing = missingForThreads(threads);
  if (missing !== undefined) {
    throw new OptionError("THREADS_UNSUPPORTED", `threads: ${threads} needs worker threads and shared memory (Node or Deno); this runtime has no ${missing}`, {
      option: "threads",
    });
  }
  const source = wasm ?? (await threadPlatform.threadedWasm?.(simd));
  if (!source) {
    throw new OptionError("NO_WASM", "no threaded wasm module: pass options.wasm = the bytes of build/release-threads.wasm (or release-threads-relaxed.wasm)", { option: "wasm" });
  }
  try {
    return await instantiateThreadedCore(source, threads, threadPlatform.createWorker!);
  } catch (e) {
    if (e instanceof ThreadPoolError && e.code === "WASM_NOT_THREADED") throw new OptionError(e.code, e.message, { option: "wasm" });
    throw e;
  }
}
