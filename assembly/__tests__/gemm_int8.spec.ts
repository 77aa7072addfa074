import {
  packed_int8_bytes, linear_int8_scratch_bytes, quantize_weight_int8, quantize_rows_int8, linear_forward_int8,
} from "../gemm_int8";
import { Prng, ptr, fillRandom, fillWith, referenceLinear } from "./reference_gemm";
import {
  referenceScale, referenceQuantize, referenceQuantizeRows, referenceLinearInt8,
} from "./reference_gemm_int8";

const SENTINEL: f32 = -12345.5;
/** Placed wherever a kernel must not read: any use of it turns an output into NaN. */
const POISON: f32 = NaN;

/** A quantized weight as the kernel takes it, plus the reference's unpacked view. */
class QuantWeight {
  packed: StaticArray<u8>;
  scales: StaticArray<f32>;
  /** Reference quantization, [nFull][kFull]. */
  q: StaticArray<i32>;
  refScales: StaticArray<f32>;
  constructor(w: StaticArray<f32>, nFull: i32, kFull: i32) {
    this.packed = new StaticArray<u8>(max(1, packed_int8_bytes(nFull, kFull)));
    this.scales = new StaticArray<f32>(max(1, nFull));
    this.q = new StaticArray<i32>(max(1, nFull * kFull));
    this.refScales = new StaticArray<f32>(max(1, nFull));
    quantize_weight_int8(ptr(this.packed), ptr(this.scales), ptr(w), nFull, kFull);
    referenceQuantizeRows(this.q, this.refScales, w, nFull, kFull, kFull);
  }
}

function randomWeight(n: i32, k: i32, rng: Prng): StaticArray<f32> {
  const w = new StaticArray<f32>(max(1, n * k));
  fillRandom(w, rng);
  return w;
}

/** inp [m][ldInp]: random in columns < k, NaN after (never to be read). */
function poisonedInput(m: i32, k: i32, ldInp: i32, rng: Prng): StaticArray<f32> {
  const inp = new StaticArray<f32>(max(1, m * ldInp));
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < ldInp; t++) inp[i * ldInp + t] = t < k ? rng.nextF32() : POISON;
  }
  return inp;
}

function describeCase(m: i32, n: i32, k: i32, nFull: i32, kFull: i32, ldInp: i32, ldOut: i32, withBias: bool): string {
  return "m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() +
    " nFull=" + nFull.toString() + " kFull=" + kFull.toString() +
    " ldInp=" + ldInp.toString() + " ldOut=" + ldOut.toString() + (withBias ? " bias" : " no bias");
}

/**
 * Runs linear_forward_int8 on random data and compares bit for bit with the
 * scalar reference. Scales and bias past n are NaN; out is [m][ldOut] plus a
 * tail row of SENTINEL, which must survive outside [m][n].
 */
function expectInt8Matches(
  m: i32, n: i32, k: i32, nFull: i32, kFull: i32, ldInp: i32, ldOut: i32, withBias: bool, seed: u32,
): void {
  const rng = new Prng(seed);
  const wt = new QuantWeight(randomWeight(nFull, kFull, rng), nFull, kFull);
  for (let j = n; j < nFull; j++) wt.scales[j] = POISON;
  const inp = poisonedInput(m, k, ldInp, rng);
  let bias: StaticArray<f32> | null = null;
  if (withBias) {
    const b = new StaticArray<f32>(nFull);
    for (let j = 0; j < nFull; j++) b[j] = j < n ? rng.nextF32() : POISON;
    bias = b;
  }
  const out = new StaticArray<f32>((m + 1) * ldOut);
  fillWith(out, SENTINEL);
  const scratch = new StaticArray<u8>(max(1, linear_int8_scratch_bytes(m, k)));

  linear_forward_int8(ptr(out), ptr(inp), ptr(wt.packed), ptr(wt.scales), bias === null ? 0 : ptr(bias),
    m, n, k, kFull, ldInp, ldOut, ptr(scratch));

  const ref = new StaticArray<f32>(max(1, m * n));
  referenceLinearInt8(ref, inp, wt.q, wt.refScales, bias, m, n, k, kFull, ldInp);
  let wrong = 0;
  let touched = 0;
  for (let i = 0; i <= m; i++) {
    for (let j = 0; j < ldOut; j++) {
      const got = out[i * ldOut + j];
      if (i < m && j < n) {
        if (reinterpret<u32>(got) != reinterpret<u32>(ref[i * n + j])) wrong++;
      } else if (reinterpret<u32>(got) != reinterpret<u32>(SENTINEL)) {
        touched++;
      }
    }
  }
  const what = describeCase(m, n, k, nFull, kFull, ldInp, ldOut, withBias);
  expect<i32>(wrong).toBe(0, "outputs differing from the exact integer reference: " + what);
  expect<i32>(touched).toBe(0, "writes outside out[m][n]: " + what);
}

describe("int8 packed weight", () => {
  it("needs ceil(n/8)·ceil(k/2)·16 bytes and the documented scratch", () => {
    expect<i32>(packed_int8_bytes(1, 1)).toBe(16);
    expect<i32>(packed_int8_bytes(8, 2)).toBe(16);
    expect<i32>(packed_int8_bytes(9, 5)).toBe(2 * 3 * 16);
    expect<i32>(packed_int8_bytes(768, 3072)).toBe(96 * 1536 * 16);
    expect<i32>(packed_int8_bytes(37, 0)).toBe(0);
    expect<i32>(linear_int8_scratch_bytes(3, 5)).toBe(3 * 4 + 3 * 6 * 2);
    expect<i32>(linear_int8_scratch_bytes(128, 768)).toBe(128 * 4 + 128 * 768 * 2);
  });

  it("puts q(W[p·8 + j][2u + e]) at packed[p][u][j][e], zeros past n and k, scales exact", () => {
    const ns: i32[] = [1, 3, 8, 13, 37];
    const ks: i32[] = [1, 2, 3, 13, 64];
    for (let a = 0; a < ns.length; a++) {
      for (let b = 0; b < ks.length; b++) {
        const n = ns[a], k = ks[b];
        const w = randomWeight(n, k, new Prng(<u32>(n * 100 + k)));
        // One all-zero row and one row of exact half-step values exercise scale 0 and ties.
        if (n > 2) for (let t = 0; t < k; t++) w[2 * k + t] = 0;
        if (n > 1) for (let t = 0; t < k; t++) w[k + t] = <f32>(t % 7 - 3) * 0.5;
        const wt = new QuantWeight(w, n, k);
        let wrong = 0;
        const pairs = (k + 1) / 2;
        const panels = (n + 7) / 8;
        for (let p = 0; p < panels; p++) {
          for (let u = 0; u < pairs; u++) {
            for (let j = 0; j < 8; j++) {
              for (let e = 0; e < 2; e++) {
                const row = p * 8 + j, t = 2 * u + e;
                const want: i32 = row < n && t < k ? wt.q[row * k + t] : 0;
                const got = <i32>load<i8>(ptr(wt.packed) + <usize>(((p * pairs + u) * 8 + j) * 2 + e));
                if (got != want) wrong++;
              }
            }
          }
        }
        for (let j = 0; j < n; j++) {
          if (reinterpret<u32>(wt.scales[j]) != reinterpret<u32>(wt.refScales[j])) wrong++;
        }
        expect<i32>(wrong).toBe(0, "wrong packed int8 entries or scales, n=" + n.toString() + " k=" + k.toString());
      }
    }
  });

  it("rounds half to even and reaches ±127 at the row maximum", () => {
    // Row max 127 → scale 1: values are their own quotients.
    const w = new StaticArray<f32>(8);
    w[0] = 127; w[1] = 2.5; w[2] = 3.5; w[3] = -2.5; w[4] = -0.5; w[5] = 0.5; w[6] = -127; w[7] = 1.4999999;
    const packed = new StaticArray<u8>(packed_int8_bytes(1, 8));
    const scales = new StaticArray<f32>(1);
    quantize_weight_int8(ptr(packed), ptr(scales), ptr(w), 1, 8);
    expect<f32>(scales[0]).toBe(1);
    const want: i32[] = [127, 2, 4, -2, 0, 0, -127, 1];
    for (let t = 0; t < 8; t++) {
      const got = <i32>load<i8>(ptr(packed) + <usize>((t >> 1) * 16 + (t & 1)));
      expect<i32>(got).toBe(want[t], "t=" + t.toString());
      expect<i32>(referenceQuantize(w[t], 1)).toBe(want[t], "reference, t=" + t.toString());
    }
  });
});

describe("quantize_rows_int8", () => {
  it("matches the reference per row, strided, with an all-zero row", () => {
    const ms: i32[] = [1, 7, 129];
    const ks: i32[] = [1, 7, 8, 9, 37];
    let seed: u32 = 500;
    for (let a = 0; a < ms.length; a++) {
      for (let b = 0; b < ks.length; b++) {
        const m = ms[a], k = ks[b], ld = k + 3;
        const src = poisonedInput(m, k, ld, new Prng(seed++));
        if (m > 1) for (let t = 0; t < k; t++) src[ld + t] = 0;
        const dst = new StaticArray<i8>(m * k + 8);
        for (let i = 0; i < dst.length; i++) dst[i] = 99;
        const scales = new StaticArray<f32>(m + 1);
        fillWith(scales, SENTINEL);
        quantize_rows_int8(ptr(dst), ptr(scales), ptr(src), m, k, ld);
        const q = new StaticArray<i32>(m * k);
        const refScales = new StaticArray<f32>(m);
        referenceQuantizeRows(q, refScales, src, m, k, ld);
        let wrong = 0;
        for (let i = 0; i < m * k; i++) if (<i32>dst[i] != q[i]) wrong++;
        for (let i = m * k; i < dst.length; i++) if (dst[i] != 99) wrong++;
        for (let i = 0; i < m; i++) if (reinterpret<u32>(scales[i]) != reinterpret<u32>(refScales[i])) wrong++;
        if (reinterpret<u32>(scales[m]) != reinterpret<u32>(SENTINEL)) wrong++;
        expect<i32>(wrong).toBe(0, "m=" + m.toString() + " k=" + k.toString());
      }
    }
  });
});

describe("linear_forward_int8", () => {
  it("equals the exact integer reference at awkward sizes, tight strides", () => {
    const ms: i32[] = [1, 2, 3, 4, 5, 7, 129];
    const ns: i32[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 37];
    const ks: i32[] = [1, 2, 3, 13, 37];
    let seed: u32 = 1;
    for (let a = 0; a < ms.length; a++) {
      for (let b = 0; b < ns.length; b++) {
        for (let c = 0; c < ks.length; c++) {
          const m = ms[a], n = ns[b], k = ks[c];
          expectInt8Matches(m, n, k, n, k, k, n, true, seed++);
          expectInt8Matches(m, n, k, n, k, k, n, false, seed++);
        }
      }
    }
  });

  it("uses only the [n][k] prefix of a larger packed weight, strided, sentinels intact", () => {
    const ms: i32[] = [1, 3, 6, 7, 129];
    const ns: i32[] = [1, 2, 4, 6, 7, 13, 24];
    const ks: i32[] = [1, 6, 7, 37];
    let seed: u32 = 1000;
    for (let a = 0; a < ms.length; a++) {
      for (let b = 0; b < ns.length; b++) {
        for (let c = 0; c < ks.length; c++) {
          const m = ms[a], n = ns[b], k = ks[c];
          // Odd k inside an even kFull reads weight column k, which meets a zero activation.
          expectInt8Matches(m, n, k, n + 19, k + 6, k + 9, n + 5, true, seed++);
          expectInt8Matches(m, n, k, n + 3, k + 1, k + 6 + 3, n + 1, false, seed++);
        }
      }
    }
  });

  it("matches across row-chunk boundaries (long k)", () => {
    // Rows are walked in chunks of ≈1 MiB of quantized input: 24 rows at k = 20000.
    expectInt8Matches(57, 5, 20000, 5, 20001, 20003, 6, true, 77);
  });

  it("gives bias (or zeros) when k = 0 and writes nothing when m or n is 0", () => {
    const n = 13;
    const bias = new StaticArray<f32>(n);
    fillRandom(bias, new Prng(5));
    const scales = new StaticArray<f32>(n);
    fillWith(scales, 1);
    const out = new StaticArray<f32>(3 * n);
    const wq = new StaticArray<u8>(16);
    const inp = new StaticArray<f32>(1);
    const scratch = new StaticArray<u8>(64);
    fillWith(out, SENTINEL);
    linear_forward_int8(ptr(out), ptr(inp), ptr(wq), ptr(scales), ptr(bias), 3, n, 0, 0, 0, n, ptr(scratch));
    for (let i = 0; i < 3 * n; i++) expect<f32>(out[i]).toBe(bias[i % n]);
    linear_forward_int8(ptr(out), ptr(inp), ptr(wq), ptr(scales), 0, 3, n, 0, 0, 0, n, ptr(scratch));
    for (let i = 0; i < 3 * n; i++) expect<u32>(reinterpret<u32>(out[i])).toBe(0);

    fillWith(out, SENTINEL);
    linear_forward_int8(ptr(out), ptr(inp), ptr(wq), ptr(scales), ptr(bias), 0, n, 0, 0, 0, n, ptr(scratch));
    linear_forward_int8(ptr(out), ptr(inp), ptr(wq), ptr(scales), ptr(bias), 3, 0, 0, 0, 0, n, ptr(scratch));
    for (let i = 0; i < 3 * n; i++) expect<f32>(out[i]).toBe(SENTINEL);
  });

  it("writes no packed-weight or scratch byte past the documented sizes", () => {
    const sizes: i32[] = [1, 1, 7, 13, 9, 37, 129, 5, 64];
    for (let s = 0; s < sizes.length; s += 3) {
      const m = sizes[s], n = sizes[s + 1], k = sizes[s + 2];
      const rng = new Prng(<u32>(900 + s));
      const w = randomWeight(n, k, rng);
      const wBytes = packed_int8_bytes(n, k);
      const packed = new StaticArray<u8>(wBytes + 64);
      for (let i = 0; i < packed.length; i++) packed[i] = 0xa5;
      const scales = new StaticArray<f32>(n + 4);
      fillWith(scales, SENTINEL);
      quantize_weight_int8(ptr(packed), ptr(scales), ptr(w), n, k);
      const sBytes = linear_int8_scratch_bytes(m, k);
      const scratch = new StaticArray<u8>(sBytes + 64);
      for (let i = 0; i < scratch.length; i++) scratch[i] = 0x5a;
      const inp = poisonedInput(m, k, k, rng);
      const out = new StaticArray<f32>(m * n);
      linear_forward_int8(ptr(out), ptr(inp), ptr(packed), ptr(scales), 0, m, n, k, k, k, n, ptr(scratch));
      let touched = 0;
      for (let i = wBytes; i < packed.length; i++) if (packed[i] != 0xa5) touched++;
      for (let j = n; j < scales.length; j++) if (reinterpret<u32>(scales[j]) != reinterpret<u32>(SENTINEL)) touched++;
      for (let i = sBytes; i < scratch.length; i++) if (scratch[i] != 0x5a) touched++;
      expect<i32>(touched).toBe(0, "m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString());
    }
  });

  it("reads no input, weight, scale or bias byte past the last one it needs", () => {
    // Each buffer in turn ends exactly at the end of linear memory: a read past
    // its last used byte (a full vector at a partial panel) would trap.
    const m = 5, n = 13, k = 7;
    const rng = new Prng(123);
    const wt = new QuantWeight(randomWeight(n, k, rng), n, k);
    const inp = new StaticArray<f32>(m * k);
    fillRandom(inp, rng);
    const bias = new StaticArray<f32>(n);
    fillRandom(bias, rng);
    const scratch = new StaticArray<u8>(linear_int8_scratch_bytes(m, k));
    const want = new StaticArray<f32>(m * n);
    linear_forward_int8(ptr(want), ptr(inp), ptr(wt.packed), ptr(wt.scales), ptr(bias), m, n, k, k, k, n, ptr(scratch));
    for (let which = 0; which < 4; which++) {
      const out = new StaticArray<f32>(m * n);
      const inpAt = which == 0 ? bytesAtMemoryEnd(ptr(inp), m * k * 4) : ptr(inp);
      const biasAt = which == 1 ? bytesAtMemoryEnd(ptr(bias), n * 4) : ptr(bias);
      const wqAt = which == 2 ? bytesAtMemoryEnd(ptr(wt.packed), wt.packed.length) : ptr(wt.packed);
      const wsAt = which == 3 ? bytesAtMemoryEnd(ptr(wt.scales), n * 4) : ptr(wt.scales);
      linear_forward_int8(ptr(out), inpAt, wqAt, wsAt, biasAt, m, n, k, k, k, n, ptr(scratch));
      let wrong = 0;
      for (let i = 0; i < m * n; i++) if (reinterpret<u32>(out[i]) != reinterpret<u32>(want[i])) wrong++;
      expect<i32>(wrong).toBe(0, "buffer " + which.toString());
    }
  });

  it("stays within the quantization error bound of the exact f32 layer", () => {
    // With x̂ = qa·sa, ŵ = qw·sw: |x − x̂| ≤ δa, |w − ŵ| ≤ δw where δ = s·(1/2 + 2^-16)
    // (half a step, plus the f32 quotient's rounding and the clamp at ±127), so
    // |Σ x·w − Σ x̂·ŵ| ≤ Σ (|x|·δw + |ŵ|·δa); the kernel's f32 scaling and bias
    // add ≤ 2^-21·(|Σ x̂·ŵ| + |bias|). Dropping either scale, a term or the bias breaks it.
    const shapes: i32[] = [1, 13, 768, 129, 37, 300, 7, 768, 64];
    for (let s = 0; s < shapes.length; s += 3) {
      const m = shapes[s], n = shapes[s + 1], k = shapes[s + 2];
      const rng = new Prng(<u32>(4242 + s));
      const w = randomWeight(n, k, rng);
      // Rows of very different sizes, as real weights and activations have.
      for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) w[j * k + t] *= (<f32>(j % 5) + 1) * <f32>0.02;
      const wt = new QuantWeight(w, n, k);
      const inp = poisonedInput(m, k, k, rng);
      for (let i = 0; i < m; i++) for (let t = 0; t < k; t++) inp[i * k + t] *= (<f32>(i % 3) + 1) * 4;
      const bias = new StaticArray<f32>(n);
      fillRandom(bias, rng);
      const out = new StaticArray<f32>(m * n);
      const scratch = new StaticArray<u8>(linear_int8_scratch_bytes(m, k));
      linear_forward_int8(ptr(out), ptr(inp), ptr(wt.packed), ptr(wt.scales), ptr(bias), m, n, k, k, k, n, ptr(scratch));

      const exact = new StaticArray<f64>(m * n);
      const mag = new StaticArray<f64>(m * n);
      referenceLinear(exact, mag, inp, w, bias, m, n, k, k, k);
      const qa = new StaticArray<i32>(m * k);
      const sa = new StaticArray<f32>(m);
      referenceQuantizeRows(qa, sa, inp, m, k, k);
      let bad = 0;
      let worstRel: f64 = 0;
      for (let i = 0; i < m; i++) {
        const da = <f64>sa[i] * (0.5 + Math.pow(2, -16));
        for (let j = 0; j < n; j++) {
          const dw = <f64>wt.refScales[j] * (0.5 + Math.pow(2, -16));
          let bound: f64 = 0;
          let quantSum: f64 = 0;
          for (let t = 0; t < k; t++) {
            const what = <f64>wt.q[j * k + t] * <f64>wt.refScales[j];
            bound += Math.abs(<f64>inp[i * k + t]) * dw + Math.abs(what) * da;
            quantSum += <f64>qa[i * k + t] * <f64>sa[i] * what;
          }
          bound += Math.pow(2, -21) * (Math.abs(quantSum) + Math.abs(<f64>bias[j]));
          const err = Math.abs(<f64>out[i * n + j] - exact[i * n + j]);
          if (!(err <= bound)) bad++;
          worstRel = Math.max(worstRel, err / mag[i * n + j]);
        }
      }
      const what = "m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString();
      expect<i32>(bad).toBe(0, "outputs beyond the quantization error bound: " + what);
      // Per-row scaling keeps the error a small share of Σ|x·w| (an 8-bit step is 1/127 of the row max).
      expect<bool>(worstRel < 0.02).toBe(true, "relative error " + worstRel.toString() + ", " + what);
    }
  });
});

/**
 * Copies `bytes` bytes from `from` into fresh memory ending exactly where
 * linear memory ends (pages grown by hand, never reused by the allocator),
 * so a kernel reading even one byte past the copy traps.
 */
function bytesAtMemoryEnd(from: usize, bytes: i32): usize {
  const pages = (bytes + 0xffff) >> 16;
  const before = memory.grow(pages);
  assert(before >= 0, "memory.grow failed");
  const at = (<usize>(before + pages) << 16) - <usize>bytes;
  memory.copy(at, from, <usize>bytes);
  return at;
}
