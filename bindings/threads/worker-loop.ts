/**
 * A worker's side of the pool, runtime-neutral: instantiate the same module
 * over the caller's shared memory, report ready, then wait on the control
 * block's generation counter (polling, then sleeping) and run whatever calls
 * the caller left in this worker's slot. The glue that receives the first message is in
 * worker-entry.ts (node:worker_threads, which Deno also provides).
 */
import { ControlBlock, GENERATION, PENDING, STOP, waitForChange } from "./control.js";
import { THREAD_KERNELS } from "./kernels.js";

export interface WorkerInit {
  /** The threaded build (imports env.memory, shared). */
  readonly module: WebAssembly.Module;
  /** The caller's memory; growth happens on the caller's thread only. */
  readonly memory: WebAssembly.Memory;
  readonly control: SharedArrayBuffer;
  /** Workers in the pool (the control block's slot count). */
  readonly workers: number;
  /** This worker's slot. */
  readonly index: number;
}

export type WorkerReply = { readonly ready: true } | { readonly error: string };

type Kernel = (...args: number[]) => void;

/** Runs until the pool sets STOP (or the worker is terminated). */
export function serveKernels(init: WorkerInit, reply: (message: WorkerReply) => void): void {
  let kernels: Kernel[];
  const control = new ControlBlock(init.control, init.workers);
  try {
    const { exports } = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
    kernels = THREAD_KERNELS.map((name) => {
      const fn = exports[name];
      if (typeof fn !== "function") throw new Error(`the wasm module has no export ${name}`);
      return fn as Kernel;
    });
  } catch (e) {
    reply({ error: `worker ${init.index + 1} could not instantiate the core: ${(e as Error).message}` });
    return;
  }
  // Read before replying: the caller bumps the generation only after every worker is ready.
  let seen = Atomics.load(control.i32, GENERATION);
  reply({ ready: true });
  for (;;) {
    seen = waitForChange(control.i32, GENERATION, seen);
    if (Atomics.load(control.i32, STOP) !== 0) return;
    let current = -1;
    try {
      for (const call of control.readSlot(init.index)) {
        current = call.kernel;
        kernels[call.kernel](...call.args);
      }
    } catch (e) {
      control.fail(`worker ${init.index + 1}, ${THREAD_KERNELS[current] ?? "?"}: ${(e as Error).message}`);
    } finally {
      if (Atomics.sub(control.i32, PENDING, 1) === 1) Atomics.notify(control.i32, PENDING);
    }
  }
}
