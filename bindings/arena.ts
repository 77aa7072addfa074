/**
 * The arena: one region of wasm linear memory above `heap_base`, handed out as
 * named, shaped tensors. Weights are allocated once at load; per-call scratch
 * (activations) is allocated after a `mark()` and dropped with `release()`,
 * so repeated forwards reuse the same bytes and memory only grows to the
 * high-water mark. Kernels never allocate: this is the only allocator.
 */
import { DynaBertError } from "../src/errors.js";

export type DType = "f32" | "i32" | "u16" | "u8";

const BYTES: Record<DType, number> = { f32: 4, i32: 4, u16: 2, u8: 1 };
const PAGE = 65536;
/** wasm32 can address at most 4 GiB: 65536 pages. */
const MAX_PAGES = 65536;
/** Every tensor starts on a cache line so SIMD loads never straddle one needlessly. */
const ALIGN = 64;

export interface Tensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Byte offset in linear memory. */
  readonly ptr: number;
  /** Number of elements (product of shape, or the packed size for packed weights). */
  readonly length: number;
}

export class OutOfMemoryError extends DynaBertError {
  constructor(message: string) {
    super("OUT_OF_MEMORY", message);
    this.name = "OutOfMemoryError";
  }
}

export class Arena {
  private top: number;
  private readonly base: number;

  constructor(private readonly memory: WebAssembly.Memory, base: number) {
    this.base = align(base);
    this.top = this.base;
  }

  /** Bytes in use above the arena's base. */
  get usedBytes(): number {
    return this.top - this.base;
  }

  /** Bytes of linear memory in total (everything the module holds). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * A tensor of `shape`; `length` overrides the element count for layouts
   * larger than the shape (packed weights are padded to whole panels).
   */
  alloc(name: string, dtype: DType, shape: readonly number[], length = shape.reduce((a, b) => a * b, 1)): Tensor {
    if (!Number.isInteger(length) || length < 0) throw new OutOfMemoryError(`tensor ${name}: invalid size ${length}`);
    const ptr = this.top;
    const end = align(ptr + length * BYTES[dtype]);
    this.ensure(end, name);
    this.top = end;
    return { name, dtype, shape: [...shape], ptr, length };
  }

  /** A point to come back to: everything allocated after it is freed by `release`. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw new RangeError(`arena: bad mark ${mark}`);
    this.top = mark;
  }

  /**
   * Fresh views every call: growing memory detaches the old ones (or, for the
   * threaded build's shared memory, leaves them at the old length). Only the
   * caller's thread allocates, so only it ever grows the memory.
   */
  f32(t: Tensor): Float32Array {
    return new Float32Array(this.memory.buffer, t.ptr, t.length);
  }
  i32(t: Tensor): Int32Array {
    return new Int32Array(this.memory.buffer, t.ptr, t.length);
  }
  u8(t: Tensor): Uint8Array {
    return new Uint8Array(this.memory.buffer, t.ptr, t.length * BYTES[t.dtype]);
  }

  private ensure(end: number, name: string): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    const current = have / PAGE;
    if (current + pages > MAX_PAGES) {
      throw new OutOfMemoryError(
        `out of wasm memory allocating ${name}: needs ${mib(end)} in total, wasm32 allows 4096 MiB`,
      );
    }
    // Grow by at least a quarter of what we have, so a sequence of small
    // allocations does not pay for one grow (and one view rebuild) each.
    const want = Math.min(MAX_PAGES - current, Math.max(pages, Math.ceil(current / 4)));
    try {
      this.memory.grow(want);
    } catch {
      try {
        this.memory.grow(pages);
      } catch (e) {
        throw new OutOfMemoryError(`out of memory allocating ${name} (${mib(end)} in total): ${(e as Error).message}`);
      }
    }
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
