/**
 * The control block the caller and its workers share: one small
 * SharedArrayBuffer beside the wasm memory (which can grow; this never does).
 *
 * Int32 header (indices into an Int32Array over the whole block):
 *   GENERATION  bumped by the caller once a job's slots are written; workers
 *               sleep on it with Atomics.wait.
 *   PENDING     workers still busy with the current job; the last one to
 *               finish wakes the caller.
 *   STOP        1 once the pool is disposed: workers leave their loop.
 *   FAILED      1 if a worker's kernel threw during the current job; its
 *               message is in the MESSAGE bytes (UTF-8, MESSAGE_LENGTH gives the length).
 * Then one slot per worker, f64 (every kernel argument — pointers, sizes,
 * u32 seeds, f64 rates — is exact in an f64):
 *   [callCount, (kernel, args[MAX_ARGS]) × MAX_CALLS]
 */

/**
 * How long a thread polls a counter before sleeping on it. The calls of one
 * forward pass come microseconds apart, so polling spares most of them a
 * futex sleep and wake-up (the wake-up also invites Linux to run the woken
 * thread on the waker's core for a while, which with 2 cores halves the
 * speed-up: in a small A/B of split GEMMs at m = 128 and 1024, 2 of 9 runs
 * fell to 1.0–1.3× without polling, 1 of 9 to 1.3× with it). It costs at
 * most this much CPU after the last call of a pass.
 */
export const SPIN_MS = 2;

/**
 * Waits until `i32[index]` differs from `value`: polls for SPIN_MS, then
 * sleeps (Atomics.wait). Returns the new value.
 */
export function waitForChange(i32: Int32Array, index: number, value: number): number {
  const deadline = performance.now() + SPIN_MS;
  for (let polls = 0; ; polls++) {
    const now = Atomics.load(i32, index);
    if (now !== value) return now;
    // Clock reads are costlier than loads: check it every 256 polls.
    if ((polls & 255) === 255 && performance.now() > deadline) break;
  }
  for (;;) {
    Atomics.wait(i32, index, value);
    const now = Atomics.load(i32, index);
    if (now !== value) return now;
  }
}

export const GENERATION = 0;
export const PENDING = 1;
export const STOP = 2;
export const FAILED = 3;
export const MESSAGE_LENGTH = 4;

/** The longest argument list of a kernel a worker can run (attention_backward has 21). */
export const MAX_ARGS = 22;
/** Calls one worker can be given per job: attention over a range of (batch, head) pairs needs up to 3. */
export const MAX_CALLS = 4;

const HEADER_BYTES = 64;
const CALL_FLOATS = 1 + MAX_ARGS;
const SLOT_FLOATS = 1 + MAX_CALLS * CALL_FLOATS;
const MESSAGE_BYTES = 1024;

/** One kernel invocation: the index of its name in THREAD_KERNELS and its arguments. */
export interface KernelCall {
  readonly kernel: number;
  readonly args: readonly number[];
}

export class ControlBlock {
  readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly message: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer, readonly workers: number) {
    const slotsBytes = workers * SLOT_FLOATS * 8;
    if (buffer.byteLength < ControlBlock.bytes(workers)) throw new RangeError(`control block: ${buffer.byteLength} bytes is too small for ${workers} workers`);
    this.i32 = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.f64 = new Float64Array(buffer, HEADER_BYTES, workers * SLOT_FLOATS);
    this.message = new Uint8Array(buffer, HEADER_BYTES + slotsBytes, MESSAGE_BYTES);
  }

  static bytes(workers: number): number {
    return HEADER_BYTES + workers * SLOT_FLOATS * 8 + MESSAGE_BYTES;
  }

  static create(workers: number): ControlBlock {
    return new ControlBlock(new SharedArrayBuffer(ControlBlock.bytes(workers)), workers);
  }

  /** Worker `w`'s job for the next generation (an empty list leaves it idle). */
  writeSlot(w: number, calls: readonly KernelCall[]): void {
    if (calls.length > MAX_CALLS) throw new RangeError(`a worker takes at most ${MAX_CALLS} calls per job, not ${calls.length}`);
    const base = w * SLOT_FLOATS;
    this.f64[base] = calls.length;
    calls.forEach((call, c) => {
      if (call.args.length > MAX_ARGS) throw new RangeError(`kernel ${call.kernel}: ${call.args.length} arguments, at most ${MAX_ARGS}`);
      const at = base + 1 + c * CALL_FLOATS;
      this.f64[at] = call.kernel;
      for (let a = 0; a < MAX_ARGS; a++) this.f64[at + 1 + a] = a < call.args.length ? call.args[a] : 0;
    });
  }

  /** Worker `w`'s calls, as the worker reads them. */
  readSlot(w: number): KernelCall[] {
    const base = w * SLOT_FLOATS;
    const count = this.f64[base];
    const calls: KernelCall[] = [];
    for (let c = 0; c < count; c++) {
      const at = base + 1 + c * CALL_FLOATS;
      calls.push({ kernel: this.f64[at], args: Array.from(this.f64.subarray(at + 1, at + 1 + MAX_ARGS)) });
    }
    return calls;
  }

  /** Records the first failure of a job (later ones in the same job are dropped). */
  fail(text: string): void {
    if (Atomics.compareExchange(this.i32, FAILED, 0, 1) !== 0) return;
    const bytes = new TextEncoder().encode(text).subarray(0, MESSAGE_BYTES);
    this.message.set(bytes);
    Atomics.store(this.i32, MESSAGE_LENGTH, bytes.length);
  }

  /** The recorded failure, cleared; undefined if the job succeeded. */
  takeFailure(): string | undefined {
    if (Atomics.load(this.i32, FAILED) === 0) return undefined;
    const length = Atomics.load(this.i32, MESSAGE_LENGTH);
    // TextDecoder refuses views on shared memory: copy first.
    const text = new TextDecoder().decode(this.message.slice(0, length));
    Atomics.store(this.i32, FAILED, 0);
    return text;
  }
}
