/**
 * A Core over the threaded build (build/release-threads.wasm: the same
 * kernels compiled with threads and an imported shared memory) whose big
 * kernels are split across a pool of workers. The returned `exports` has the
 * single-threaded signatures, so the model, trainer and exporters run on it
 * unchanged; results are bit-identical to the single-threaded build's
 * (bindings/threads/split.ts says why).
 */
import { Arena } from "../arena.js";
import type { Core, WasmSource } from "../core.js";
import type { CoreExports } from "../exports.js";
import type { KernelCall } from "./control.js";
import { THREAD_KERNELS, type ThreadKernel } from "./kernels.js";
import { ThreadPool, ThreadPoolError, type CreateWorker } from "./pool.js";
import { importsMemory } from "./wasm-imports.js";
import {
  splitAddForward, splitAttentionForward, splitGeluForward, splitLayerNormForward,
  splitLinearBackwardInput, splitLinearBackwardWeight, splitLinearForward, type CutOver,
} from "./split.js";

/** The threaded build's memory: it declares at most 65536 pages (4 GiB, all wasm32 can address) and at least 2. */
const INITIAL_PAGES = 2;
const MAXIMUM_PAGES = 65536;

/**
 * The smallest calls for which 2 threads beat 1 on a 2-core x64 VM, Node 20
 * (`node bench/threads.bench.mjs --cutover`, quiet machine): a hand-off costs
 * ~1.5–2 µs, so a GEMM pays from 2^17 multiply-adds (2^16 breaks even,
 * 16×128×128 runs 1.6×), attention from 2^15 (1×4 heads×16, 2^16: 1.5×),
 * GELU from 4096 elements (1.6×), LayerNorm from 2^13 (10×768: 1.3×), an
 * addition only from 2^15 (1.2×).
 */
export const DEFAULT_CUTOVER: CutOver = { linear: 1 << 17, attention: 1 << 15, layernorm: 1 << 13, gelu: 1 << 12, add: 1 << 15 };

export interface ThreadedCore extends Core {
  /** Threads a split kernel runs on: the caller's plus the workers'. */
  readonly threads: number;
  /** Calls of each kernel split across the threads so far (small calls run inline and are not counted). */
  readonly splitCalls: Readonly<Record<ThreadKernel, number>>;
  /** The least work a call needs to be split; adjustable (tests use ALWAYS_SPLIT). */
  cutover: CutOver;
  /** Terminates the workers; the core cannot run kernels afterwards. */
  dispose(): void;
}

/**
 * Instantiates the threaded build on a new shared memory and starts
 * `threads − 1` workers with `createWorker` (the caller is the first thread).
 * `threads = 1` starts none and runs everything inline.
 */
export async function instantiateThreadedCore(
  source: WasmSource,
  threads: number,
  createWorker: CreateWorker,
  cutover: CutOver = DEFAULT_CUTOVER,
): Promise<ThreadedCore> {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  if (!importsMemory(source)) {
    throw new ThreadPoolError("WASM_NOT_THREADED", "this wasm module has its own memory: threads need the threaded build (build/release-threads.wasm), which imports a shared one");
  }
  const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const raw = instance.exports as unknown as CoreExports;
  const pool = threads > 1 ? await ThreadPool.start(module, memory, threads - 1, createWorker) : undefined;

  const direct = THREAD_KERNELS.map((name) => raw[name] as unknown as (...args: number[]) => void);
  const local = (call: KernelCall) => direct[call.kernel](...call.args);
  const exports = { ...raw } as Record<string, unknown>;
  const splitCalls = Object.fromEntries(THREAD_KERNELS.map((name) => [name, 0])) as Record<ThreadKernel, number>;
  const core: ThreadedCore = {
    exports: exports as unknown as CoreExports,
    arena: new Arena(memory, raw.heap_base()),
    threads,
    splitCalls,
    cutover,
    dispose: () => pool?.dispose(),
  };
  const panel = raw.gemm_panel_width();
  const wrap = (name: ThreadKernel, split: (args: number[], parts: number, cut: CutOver) => KernelCall[][] | undefined) => {
    const kernel = raw[name] as unknown as (...args: number[]) => void;
    exports[name] = (...args: number[]) => {
      if (!pool) return kernel(...args);
      pool.check();
      const parts = split(args, threads, core.cutover);
      if (!parts) return kernel(...args);
      splitCalls[name]++;
      pool.run(parts, local);
    };
  };
  wrap("linear_forward", (a, t, c) => splitLinearForward(a, t, panel, c));
  wrap("linear_backward_input", (a, t, c) => splitLinearBackwardInput(a, t, panel, c));
  wrap("linear_backward_weight", (a, t, c) => splitLinearBackwardWeight(a, t, panel, c));
  wrap("attention_forward", splitAttentionForward);
  wrap("layernorm_forward", splitLayerNormForward);
  wrap("gelu_forward", splitGeluForward);
  wrap("add_forward", splitAddForward);
  return core;
}
