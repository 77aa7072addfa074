/**
 * The caller's side of the pool: `workers` threads, each with its own
 * instance of the module over the caller's shared memory. A job is a list of
 * parts; the caller runs part 0 itself while worker w runs part w + 1, then
 * polls and then blocks (Atomics.wait, allowed on the main thread of Node and
 * Deno) until the last worker is done. Jobs are synchronous, so calls on one pool are
 * serialised by construction.
 */
import { DynaBertError } from "../../src/errors.js";
import { ControlBlock, GENERATION, PENDING, STOP, waitForChange, type KernelCall } from "./control.js";
import type { WorkerInit, WorkerReply } from "./worker-loop.js";

/** What the pool needs of a worker thread; the runtime entry (src/node-threads.ts) supplies it. */
export interface ThreadWorker {
  postMessage(message: WorkerInit): void;
  onMessage(listener: (message: WorkerReply) => void): void;
  onError(listener: (error: Error) => void): void;
  onExit(listener: () => void): void;
  /** Lets the process exit while the worker sleeps. */
  unref(): void;
  terminate(): void;
}

export type CreateWorker = () => ThreadWorker;

export class ThreadPoolError extends DynaBertError {
  override name = "ThreadPoolError";
}

export class ThreadPool {
  private readonly control: ControlBlock;
  private stopped = false;
  private running = false;
  /** Set when a worker exits without dispose(): a job would then wait for it forever. */
  private lost?: number;

  private constructor(private readonly workers: readonly ThreadWorker[], control: ControlBlock) {
    this.control = control;
  }

  /** Starts `count` workers and resolves once each has instantiated the module. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number, createWorker: CreateWorker): Promise<ThreadPool> {
    const control = ControlBlock.create(count);
    const workers: ThreadWorker[] = [];
    try {
      const ready: Promise<void>[] = [];
      for (let index = 0; index < count; index++) {
        const worker = createWorker();
        workers.push(worker);
        ready.push(
          new Promise<void>((resolve, reject) => {
            worker.onError((e) => reject(new ThreadPoolError("THREAD_START_FAILED", `worker ${index + 1} failed to start: ${e.message}`)));
            worker.onMessage((reply) => ("error" in reply ? reject(new ThreadPoolError("THREAD_START_FAILED", reply.error)) : resolve()));
          }),
        );
        worker.postMessage({ module, memory, control: control.buffer, workers: count, index });
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    for (const w of workers) w.unref();
    const pool = new ThreadPool(workers, control);
    workers.forEach((w, index) => w.onExit(() => (pool.lost ??= index + 1)));
    return pool;
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  get disposed(): boolean {
    return this.stopped;
  }

  /**
   * Runs parts[0] through `local` on this thread and parts[1 …] on the
   * workers (at most `threads` parts), returning when all are done. A worker's
   * failure is rethrown here, after every part has finished.
   */
  run(parts: readonly (readonly KernelCall[])[], local: (call: KernelCall) => void): void {
    this.check();
    if (parts.length > this.threads) throw new RangeError(`${parts.length} parts for ${this.threads} threads`);
    if (this.running) throw new ThreadPoolError("THREADS_BUSY", "the thread pool is already running a job (a kernel was called re-entrantly)");
    this.running = true;
    const i32 = this.control.i32;
    let localError: unknown;
    try {
      for (let w = 0; w < this.workers.length; w++) this.control.writeSlot(w, parts[w + 1] ?? []);
      Atomics.store(i32, PENDING, this.workers.length);
      Atomics.add(i32, GENERATION, 1);
      Atomics.notify(i32, GENERATION);
      try {
        for (const call of parts[0] ?? []) local(call);
      } catch (e) {
        localError = e;
      }
      // The workers write into memory the caller is about to read: wait for all, even after a local failure.
      for (let p = Atomics.load(i32, PENDING); p !== 0; ) p = waitForChange(i32, PENDING, p);
    } finally {
      this.running = false;
    }
    // Taken (and so cleared) even when the caller's own error wins, so it cannot leak into the next job.
    const failure = this.control.takeFailure();
    if (localError !== undefined) throw localError;
    if (failure !== undefined) throw new ThreadPoolError("THREAD_KERNEL_FAILED", failure);
  }

  /** Stops and terminates the workers. Idempotent; any later run() throws a DISPOSED error. */
  dispose(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.control.i32, STOP, 1);
    Atomics.add(this.control.i32, GENERATION, 1);
    Atomics.notify(this.control.i32, GENERATION);
    for (const w of this.workers) w.terminate();
  }

  check(): void {
    if (this.stopped) throw new ThreadPoolError("DISPOSED", "this model's worker threads were disposed: load the model again to run it");
    if (this.lost !== undefined) throw new ThreadPoolError("THREAD_EXITED", `worker ${this.lost} exited: load the model again to run it`);
  }
}
