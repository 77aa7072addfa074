/**
 * The computations relaxed.test.ts compares between the two builds of the
 * core: deterministic inputs and how to run them on a core. The test runs
 * them on the baseline in its own process and has relaxed-child.ts run them
 * on the relaxed build in a process that validates relaxed SIMD (Node 20
 * needs --experimental-wasm-relaxed-simd), so both sides see the same inputs.
 */
import { join } from "node:path";
import type { Core } from "../../bindings/index.js";

export const FIXTURES = join(import.meta.dirname, "..", "fixtures", "golden");
/** Golden fixtures whose logits and hidden states are compared, all 12 sub-networks each. */
export const MODEL_FIXTURES = ["h12", "h6odd"] as const;

/**
 * A linear layer: W `[nFull][kFull]` packed, the (n, k) prefix used, m rows.
 * `exact` cases keep m ≤ 32 and n ≤ 256 so that linear_backward_weight
 * reduces all rows in one pass and linear_backward_input covers every panel
 * in one group (gemm.ts: WEIGHT_ROW_CHUNK, PANEL_GROUP): their arithmetic is
 * then one chain per output, which the test replays in scalar code.
 */
export interface GemmCase {
  readonly name: string;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly nFull: number;
  readonly kFull: number;
  readonly exact: boolean;
}

export const GEMM_CASES: readonly GemmCase[] = [
  { name: "7 × 21 × 37 of 24 × 40 (row, panel and width tails)", m: 7, n: 21, k: 37, nFull: 24, kFull: 40, exact: true },
  { name: "1 × 1 × 5 of 9 × 5", m: 1, n: 1, k: 5, nFull: 9, kFull: 5, exact: true },
  { name: "30 × 200 × 64 of 256 × 64", m: 30, n: 200, k: 64, nFull: 256, kFull: 64, exact: true },
  { name: "64 × 768 × 768 (BERT-base attention shape)", m: 64, n: 768, k: 768, nFull: 768, kFull: 768, exact: false },
];

/** A deterministic stream in [-1, 1) (xorshift32), so both processes build the same inputs. */
export function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 31 - 1;
  };
}

function filled(length: number, random: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => random() * scale);
}

/** inp `[m][kFull]`, w `[nFull][kFull]`, bias `[nFull]`, dOut `[m][nFull]`, dW0 `[nFull][kFull]` (what dW held before). */
export function gemmInputs(c: GemmCase) {
  const random = uniform(c.m * 7919 + c.n * 104729 + c.k);
  return {
    inp: filled(c.m * c.kFull, random),
    w: filled(c.nFull * c.kFull, random, 0.5),
    bias: filled(c.nFull, random),
    dOut: filled(c.m * c.nFull, random),
    dW0: filled(c.nFull * c.kFull, random, 0.25),
  };
}

export interface GemmOutputs {
  /** linear_forward: `[m][n]`. */
  readonly out: Float32Array;
  /** linear_backward_input, overwriting: `[m][k]`. */
  readonly dInp: Float32Array;
  /** linear_backward_weight added to dW0, unpacked: `[nFull][kFull]`. */
  readonly dW: Float32Array;
}

export function runGemm(core: Core, c: GemmCase): GemmOutputs {
  const { exports: ex, arena } = core;
  const x = gemmInputs(c);
  const mark = arena.mark();
  const packedFloats = ex.packed_weight_floats(c.nFull, c.kFull);
  const t = {
    inp: arena.alloc("inp", "f32", [c.m, c.kFull]),
    w: arena.alloc("w", "f32", [c.nFull, c.kFull]),
    wp: arena.alloc("wp", "f32", [packedFloats]),
    bias: arena.alloc("bias", "f32", [c.nFull]),
    dOut: arena.alloc("dOut", "f32", [c.m, c.nFull]),
    out: arena.alloc("out", "f32", [c.m, c.n]),
    dInp: arena.alloc("dInp", "f32", [c.m, c.k]),
    dWp: arena.alloc("dWp", "f32", [packedFloats]),
    dW: arena.alloc("dW", "f32", [c.nFull, c.kFull]),
  };
  arena.f32(t.inp).set(x.inp);
  arena.f32(t.w).set(x.w);
  arena.f32(t.bias).set(x.bias);
  arena.f32(t.dOut).set(x.dOut);
  ex.pack_weight(t.wp.ptr, t.w.ptr, c.nFull, c.kFull);
  arena.f32(t.dW).set(x.dW0);
  ex.pack_weight(t.dWp.ptr, t.dW.ptr, c.nFull, c.kFull);
  ex.linear_forward(t.out.ptr, t.inp.ptr, t.wp.ptr, t.bias.ptr, c.m, c.n, c.k, c.kFull, c.kFull, c.n);
  ex.linear_backward_input(t.dInp.ptr, t.dOut.ptr, t.wp.ptr, c.m, c.n, c.k, c.kFull, c.k, c.nFull, 0);
  ex.linear_backward_weight(t.dWp.ptr, 0, t.dOut.ptr, t.inp.ptr, c.m, c.n, c.k, c.kFull, c.kFull, c.nFull);
  ex.unpack_weight(t.dW.ptr, t.dWp.ptr, c.nFull, c.kFull);
  const result = { out: arena.f32(t.out).slice(), dInp: arena.f32(t.dInp).slice(), dW: arena.f32(t.dW).slice() };
  arena.release(mark);
  return result;
}

/** Multi-head attention, inference (no dropout, no head mask); q, k, v rows `ld` = heads·headDim + pad floats. */
export interface AttentionCase {
  readonly name: string;
  readonly batch: number;
  readonly seq: number;
  readonly heads: number;
  readonly headDim: number;
  readonly pad: number;
}

export const ATTENTION_CASES: readonly AttentionCase[] = [
  { name: "2 × 13 keys, 3 heads of 20 (16-, 4-wide and odd-key paths), padded rows", batch: 2, seq: 13, heads: 3, headDim: 20, pad: 3 },
  { name: "1 × 128 keys, 2 heads of 64 (BERT-base head)", batch: 1, seq: 128, heads: 2, headDim: 64, pad: 0 },
];

/** q, k, v `[batch][seq][ld]`; maskAdd `[batch][seq]` (BERT's 0 / −10000, the last key of batch 0 masked). */
export function attentionInputs(c: AttentionCase) {
  const random = uniform(c.batch * 31 + c.seq * 131 + c.heads * 17 + c.headDim);
  const ld = c.heads * c.headDim + c.pad;
  const rows = c.batch * c.seq * ld;
  const maskAdd = new Float32Array(c.batch * c.seq);
  maskAdd[c.seq - 1] = -10000;
  return { ld, q: filled(rows, random, 2), k: filled(rows, random, 2), v: filled(rows, random), maskAdd };
}

export interface AttentionOutputs {
  /** `[batch][seq][heads·headDim]`. */
  readonly ctx: Float32Array;
  /** `[batch][heads][seq][seq]`. */
  readonly probs: Float32Array;
}

export function runAttention(core: Core, c: AttentionCase): AttentionOutputs {
  const { exports: ex, arena } = core;
  const x = attentionInputs(c);
  const width = c.heads * c.headDim;
  const mark = arena.mark();
  const t = {
    q: arena.alloc("q", "f32", [c.batch, c.seq, x.ld]),
    k: arena.alloc("k", "f32", [c.batch, c.seq, x.ld]),
    v: arena.alloc("v", "f32", [c.batch, c.seq, x.ld]),
    maskAdd: arena.alloc("maskAdd", "f32", [c.batch, c.seq]),
    ctx: arena.alloc("ctx", "f32", [c.batch, c.seq, width]),
    probs: arena.alloc("probs", "f32", [c.batch, c.heads, c.seq, c.seq]),
  };
  arena.f32(t.q).set(x.q);
  arena.f32(t.k).set(x.k);
  arena.f32(t.v).set(x.v);
  arena.f32(t.maskAdd).set(x.maskAdd);
  ex.attention_forward(t.ctx.ptr, t.probs.ptr, t.q.ptr, t.k.ptr, t.v.ptr, t.maskAdd.ptr, 0, c.batch, c.seq, c.heads, c.headDim, x.ld, width, 0, 0, 0);
  const result = { ctx: arena.f32(t.ctx).slice(), probs: arena.f32(t.probs).slice() };
  arena.release(mark);
  return result;
}

/** f32 arrays through JSON: base64 of the bytes, exact. */
export function encodeF32(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

export function decodeF32(s: string): Float32Array {
  const bytes = Buffer.from(s, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
