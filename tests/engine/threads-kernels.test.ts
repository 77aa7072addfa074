// The threaded core kernel by kernel against the single-threaded build, bit
// for bit, at sizes that are not multiples of the panel (8) or of the
// backward band (16), with the options the model never uses in inference
// (attention dropout and head mask, LayerNorm statistics, accumulating
// backward passes); how work is divided; and a worker's failure surfacing
// as a typed error without wedging the pool, nor does one that exits.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ALWAYS_SPLIT, instantiateCore, instantiateThreadedCore, type Core, type Tensor, type ThreadedCore, type ThreadWorker } from "../../bindings/index.js";
import { splitAttentionForward, splitRange } from "../../bindings/threads/split.js";
import "../../src/node-threads.js";
import { threadPlatform } from "../../src/threads.js";

const BUILD = join(import.meta.dirname, "..", "..", "build");
const RELEASE = readFileSync(join(BUILD, "release.wasm"));
const THREADED = readFileSync(join(BUILD, "release-threads.wasm"));

/** The same named, seeded random tensors in any core. */
class Buffers {
  private readonly tensors = new Map<string, Tensor>();
  constructor(private readonly core: Core) {}
  random(name: string, length: number, seed: number): number {
    const t = this.core.arena.alloc(name, "f32", [length]);
    this.core.exports.fill_normal(t.ptr, length, seed, 0, 1);
    this.tensors.set(name, t);
    return t.ptr;
  }
  bits(name: string): Uint32Array {
    const t = this.tensors.get(name)!;
    return new Uint32Array(this.core.arena.f32(t).slice().buffer);
  }
}

/** Runs `body` on the single-threaded core and on `core`, then compares the named outputs' bits. */
function sameAsSingle(single: Core, core: Core, outputs: string[], body: (c: Core, b: Buffers) => void): void {
  const results = [single, core].map((c) => {
    const mark = c.arena.mark();
    try {
      const b = new Buffers(c);
      body(c, b);
      return outputs.map((name) => b.bits(name));
    } finally {
      c.arena.release(mark);
    }
  });
  outputs.forEach((name, i) => assert.deepEqual(results[1][i], results[0][i], `${name} differs from the single-threaded build`));
}

for (const threads of [2, 3]) {
  describe(`threaded kernels, ${threads} threads`, () => {
    let single: Core;
    let core: ThreadedCore;
    before(async () => {
      single = await instantiateCore(RELEASE);
      core = await instantiateThreadedCore(THREADED, threads, threadPlatform.createWorker!, ALWAYS_SPLIT);
    });
    after(() => core.dispose());

    const counted = (kernel: keyof ThreadedCore["splitCalls"], run: () => void) => {
      const before = core.splitCalls[kernel];
      run();
      assert.ok(core.splitCalls[kernel] > before, `${kernel} was not split`);
    };

    it("linear_forward on a width prefix of a padded weight, strided rows, with and without bias", () => {
      const [m, n, k, nFull, kFull, ldInp, ldOut] = [13, 37, 45, 44, 50, 53, 41];
      for (const withBias of [true, false]) {
        counted("linear_forward", () =>
          sameAsSingle(single, core, ["out"], (c, b) => {
            const w = b.random("w", nFull * kFull, 2);
            const wp = b.random("wp", c.exports.packed_weight_floats(nFull, kFull), 0);
            c.exports.pack_weight(wp, w, nFull, kFull);
            const bias = withBias ? b.random("bias", nFull, 3) : 0;
            const out = b.random("out", m * ldOut, 4); // columns ≥ n must survive untouched
            c.exports.linear_forward(out, b.random("inp", m * ldInp, 1), wp, bias, m, n, k, kFull, ldInp, ldOut);
          }),
        );
      }
    });

    it("linear_backward_input, overwriting and accumulating, k not a multiple of 16", () => {
      const [m, n, k, nFull, kFull, ldDInp, ldDOut] = [11, 29, 51, 32, 60, 62, 31];
      for (const accumulate of [false, true]) {
        counted("linear_backward_input", () =>
          sameAsSingle(single, core, ["dInp"], (c, b) => {
            const w = b.random("w", nFull * kFull, 6);
            const wp = b.random("wp", c.exports.packed_weight_floats(nFull, kFull), 0);
            c.exports.pack_weight(wp, w, nFull, kFull);
            const dInp = b.random("dInp", m * ldDInp, 7);
            c.exports.linear_backward_input(dInp, b.random("dOut", m * ldDOut, 8), wp, m, n, k, kFull, ldDInp, ldDOut, accumulate);
          }),
        );
      }
    });

    it("linear_backward_weight, with and without the bias gradient, n not a multiple of 8", () => {
      const [m, n, k, nFull, kFull, ldInp, ldDOut] = [70, 43, 19, 48, 23, 25, 47];
      for (const withBias of [true, false]) {
        counted("linear_backward_weight", () =>
          sameAsSingle(single, core, ["dWp", "dBias"], (c, b) => {
            const dWp = b.random("dWp", c.exports.packed_weight_floats(nFull, kFull), 9);
            const dBias = b.random("dBias", nFull, 10);
            const inp = b.random("inp", m * ldInp, 11);
            c.exports.linear_backward_weight(dWp, withBias ? dBias : 0, b.random("dOut", m * ldDOut, 12), inp, m, n, k, kFull, ldInp, ldDOut);
          }),
        );
      }
    });

    it("attention_forward with dropout, a head mask and a counter offset: (batch, head) ranges that cross batches", () => {
      const [batch, seq, heads, headDim, ldQKV, ldCtx] = [3, 9, 5, 7, 38, 40];
      counted("attention_forward", () =>
        sameAsSingle(single, core, ["ctx", "probs"], (c, b) => {
          const q = b.random("q", batch * seq * ldQKV, 13);
          const k = b.random("k", batch * seq * ldQKV, 14);
          const v = b.random("v", batch * seq * ldQKV, 15);
          const mask = b.random("mask", batch * seq, 16);
          const headMask = b.random("headMask", heads, 17);
          const ctx = b.random("ctx", batch * seq * ldCtx, 18);
          const probs = b.random("probs", batch * heads * seq * seq, 19);
          c.exports.attention_forward(ctx, probs, q, k, v, mask, headMask, batch, seq, heads, headDim, ldQKV, ldCtx, 0.3, 4242, 0xfffffff0);
        }),
      );
    });

    it("layernorm_forward keeping mean and rstd, gelu_forward and add_forward in place, odd lengths", () => {
      const [rows, dim, n] = [19, 45, 1001];
      counted("layernorm_forward", () =>
        sameAsSingle(single, core, ["out", "mean", "rstd"], (c, b) => {
          const [gamma, beta] = [b.random("gamma", dim, 20), b.random("beta", dim, 21)];
          const [mean, rstd] = [b.random("mean", rows, 0), b.random("rstd", rows, 0)];
          c.exports.layernorm_forward(b.random("out", rows * dim, 0), b.random("inp", rows * dim, 22), gamma, beta, mean, rstd, rows, dim, 1e-5);
        }),
      );
      counted("gelu_forward", () =>
        sameAsSingle(single, core, ["x"], (c, b) => {
          const x = b.random("x", n, 23);
          c.exports.gelu_forward(x, x, n);
        }),
      );
      counted("add_forward", () =>
        sameAsSingle(single, core, ["x"], (c, b) => {
          const x = b.random("x", n, 24);
          c.exports.add_forward(x, x, b.random("y", n, 25), n);
        }),
      );
    });

    it("a trap in a worker is a typed error, one in the caller's part is rethrown as is; the pool keeps working", () => {
      // 24 columns in 3 panels, one per thread (the caller's is the first).
      const [m, n, k] = [1, 24, 4];
      const run = (c: Core, b: Buffers, out?: number) => {
        const wp = b.random("wp", c.exports.packed_weight_floats(n, k), 26);
        const inp = b.random("inp", k, 27);
        c.exports.linear_forward(out ?? b.random("out", n, 0), inp, wp, 0, m, n, k, k, k, n);
      };
      const end = () => core.exports.memory.buffer.byteLength;
      const mark = core.arena.mark();
      try {
        // The caller's panel fits below the end of memory; the workers' run past it.
        assert.throws(() => run(core, new Buffers(core), end() - 32), { name: "ThreadPoolError", code: "THREAD_KERNEL_FAILED", message: /linear_forward/ });
        // Every part runs past it.
        assert.throws(() => run(core, new Buffers(core), end()), { name: "RuntimeError" });
      } finally {
        core.arena.release(mark);
      }
      counted("linear_forward", () => sameAsSingle(single, core, ["out"], (c, b) => run(c, b)));
    });
  });
}

describe("a worker that exits on its own", () => {
  it("makes the next split call a typed error instead of a wait that never ends", async () => {
    const started: ThreadWorker[] = [];
    const core = await instantiateThreadedCore(THREADED, 3, () => {
      const worker = threadPlatform.createWorker!();
      started.push(worker);
      return worker;
    }, ALWAYS_SPLIT);
    const exited = new Promise<void>((resolve) => started[1].onExit(resolve));
    started[1].terminate();
    await exited;
    const b = new Buffers(core);
    assert.throws(() => core.exports.add_forward(b.random("x", 64, 1), b.random("y", 64, 2), b.random("z", 64, 3), 64), { name: "ThreadPoolError", code: "THREAD_EXITED", message: /worker 2/ });
    core.dispose();
  });
});

describe("how work is divided", () => {
  it("splitRange covers [0, count) in order, in at most `parts` non-empty pieces cut at multiples of the unit", () => {
    for (const [count, parts, unit] of [[1, 3, 1], [7, 2, 1], [96, 2, 1], [97, 3, 1], [1001, 3, 16], [15, 4, 16], [51, 3, 16]]) {
      const ranges = splitRange(count, parts, unit);
      assert.ok(ranges.length >= 1 && ranges.length <= parts, `${count}/${parts}: ${ranges.length} pieces`);
      let next = 0;
      for (const [start, end] of ranges) {
        assert.equal(start, next);
        assert.ok(end > start);
        if (end !== count) assert.equal(end % unit, 0);
        next = end;
      }
      assert.equal(next, count);
      const sizes = ranges.map(([s, e]) => Math.ceil((e - s) / unit));
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `unbalanced: ${sizes}`);
    }
  });

  it("attention ranges become calls over whole batches or one batch's heads, covering every (batch, head) once", () => {
    const [batch, seq, heads, headDim] = [4, 3, 5, 2];
    const args = [1000, 2000, 3000, 4000, 5000, 6000, 0, batch, seq, heads, headDim, heads * headDim, heads * headDim, 0, 1, 100];
    for (const parts of [2, 3, 7]) {
      const split = splitAttentionForward(args, parts, ALWAYS_SPLIT)!;
      const seen: number[] = [];
      for (const calls of split) {
        for (const { args: a } of calls) {
          const [nb, h] = [a[7], a[9]];
          assert.ok(nb === 1 || h === heads, "several batches only with all heads");
          // The first (batch, head) pair of the call, from its probs offset and dropout counter.
          const first = (a[1] - 2000) / 4 / (seq * seq);
          assert.equal(a[15], 100 + first * seq * seq);
          for (let u = first; u < first + nb * h; u++) seen.push(u);
        }
      }
      assert.deepEqual(seen, Array.from({ length: batch * heads }, (_, u) => u), `${parts} parts`);
    }
  });
});
