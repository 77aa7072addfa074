// Packing already-quantized int8 rows (an int8 checkpoint), reading them back,
// and widening int8 rows to f32: each against a plain scalar definition over
// unpacked arrays, bit for bit.
import {
  packed_int8_bytes, quantize_weight_int8, quantize_rows_int8, pack_weight_int8, unpack_weight_int8, dequantize_rows_int8,
} from "../gemm_int8";
import { Prng, ptr, fillRandom } from "./reference_gemm";

/** Stale bytes a kernel must overwrite (padding) or leave alone (past what it owns). */
const STALE: u8 = 0x5a;

/** int8 [n][k] with every value in [−127, 127] (and the extremes present). */
function randomQuantized(n: i32, k: i32, rng: Prng): StaticArray<i8> {
  const q = new StaticArray<i8>(max(1, n * k));
  for (let i = 0; i < n * k; i++) q[i] = <i8>(<i32>(rng.nextU32() % 255) - 127);
  if (n * k > 1) {
    q[0] = 127;
    q[n * k - 1] = -127;
  }
  return q;
}

/** packed[p][u][j][e] = q[p·8 + j][2u + e], 0 past n and k: the layout documented in gemm_int8.ts. */
function referencePacked(q: StaticArray<i8>, n: i32, k: i32): StaticArray<i8> {
  const pairs = (k + 1) / 2;
  const panels = (n + 7) / 8;
  const out = new StaticArray<i8>(max(1, panels * pairs * 16));
  for (let p = 0; p < panels; p++) {
    for (let u = 0; u < pairs; u++) {
      for (let j = 0; j < 8; j++) {
        for (let e = 0; e < 2; e++) {
          const row = p * 8 + j, t = 2 * u + e;
          out[((p * pairs + u) * 8 + j) * 2 + e] = row < n && t < k ? q[row * k + t] : 0;
        }
      }
    }
  }
  return out;
}

const NS: i32[] = [1, 3, 8, 9, 37];
const KS: i32[] = [1, 2, 3, 13, 64, 65];

describe("pack_weight_int8", () => {
  it("puts q[p·8 + j][2u + e] at packed[p][u][j][e] and zeroes the padding over stale memory", () => {
    for (let a = 0; a < NS.length; a++) {
      for (let b = 0; b < KS.length; b++) {
        const n = NS[a], k = KS[b];
        const q = randomQuantized(n, k, new Prng(<u32>(n * 131 + k)));
        const bytes = packed_int8_bytes(n, k);
        const packed = new StaticArray<u8>(bytes + 16);
        for (let i = 0; i < packed.length; i++) packed[i] = STALE;
        pack_weight_int8(ptr(packed), ptr(q), n, k);
        const want = referencePacked(q, n, k);
        let wrong = 0;
        for (let i = 0; i < bytes; i++) if (<i8>packed[i] != want[i]) wrong++;
        let past = 0;
        for (let i = bytes; i < packed.length; i++) if (packed[i] != STALE) past++;
        expect<i32>(wrong).toBe(0, "wrong packed bytes, n=" + n.toString() + " k=" + k.toString());
        expect<i32>(past).toBe(0, "wrote past packed_int8_bytes, n=" + n.toString() + " k=" + k.toString());
      }
    }
  });

  it("of quantize_rows_int8's rows equals quantize_weight_int8 of the f32 weight, byte for byte", () => {
    for (let a = 0; a < NS.length; a++) {
      for (let b = 0; b < KS.length; b++) {
        const n = NS[a], k = KS[b];
        const w = new StaticArray<f32>(n * k);
        fillRandom(w, new Prng(<u32>(n * 7 + k * 3 + 1)));
        if (n > 2) for (let t = 0; t < k; t++) w[2 * k + t] = 0; // a zero row: scale 0
        const bytes = packed_int8_bytes(n, k);
        const direct = new StaticArray<u8>(bytes);
        const directScales = new StaticArray<f32>(n);
        quantize_weight_int8(ptr(direct), ptr(directScales), ptr(w), n, k);
        const rows = new StaticArray<i8>(n * k);
        const rowScales = new StaticArray<f32>(n);
        quantize_rows_int8(ptr(rows), ptr(rowScales), ptr(w), n, k, k);
        const packed = new StaticArray<u8>(bytes);
        pack_weight_int8(ptr(packed), ptr(rows), n, k);
        let wrong = 0;
        for (let i = 0; i < bytes; i++) if (packed[i] != direct[i]) wrong++;
        for (let j = 0; j < n; j++) if (reinterpret<u32>(rowScales[j]) != reinterpret<u32>(directScales[j])) wrong++;
        expect<i32>(wrong).toBe(0, "two-step quantization differs, n=" + n.toString() + " k=" + k.toString());
      }
    }
  });

  it("does nothing for n = 0 or k = 0", () => {
    const packed = new StaticArray<u8>(16);
    for (let i = 0; i < 16; i++) packed[i] = STALE;
    const q = new StaticArray<i8>(4);
    pack_weight_int8(ptr(packed), ptr(q), 0, 4);
    pack_weight_int8(ptr(packed), ptr(q), 4, 0);
    let touched = 0;
    for (let i = 0; i < 16; i++) if (packed[i] != STALE) touched++;
    expect<i32>(touched).toBe(0);
  });
});

describe("unpack_weight_int8", () => {
  it("gives back the first n rows of what was packed from [nFull][k], writing nothing past [n][k]", () => {
    for (let a = 0; a < NS.length; a++) {
      for (let b = 0; b < KS.length; b++) {
        const nFull = NS[a], k = KS[b];
        const q = randomQuantized(nFull, k, new Prng(<u32>(nFull * 17 + k)));
        const packed = new StaticArray<u8>(packed_int8_bytes(nFull, k));
        pack_weight_int8(ptr(packed), ptr(q), nFull, k);
        const ns: i32[] = [nFull, (nFull + 1) / 2, 1];
        for (let c = 0; c < ns.length; c++) {
          const n = ns[c];
          const out = new StaticArray<i8>(n * k + 8);
          for (let i = 0; i < out.length; i++) out[i] = <i8>STALE;
          unpack_weight_int8(ptr(out), ptr(packed), n, k);
          let wrong = 0;
          for (let i = 0; i < n * k; i++) if (out[i] != q[i]) wrong++;
          for (let i = n * k; i < out.length; i++) if (out[i] != <i8>STALE) wrong++;
          expect<i32>(wrong).toBe(0, "unpack differs, nFull=" + nFull.toString() + " n=" + n.toString() + " k=" + k.toString());
        }
      }
    }
  });
});

describe("dequantize_rows_int8", () => {
  it("is f32(q)·scale per row, bit for bit, with zero and tiny scales", () => {
    const ks: i32[] = [1, 7, 8, 9, 16, 33];
    for (let b = 0; b < ks.length; b++) {
      const n = 5, k = ks[b];
      const rng = new Prng(<u32>(k * 977 + 5));
      const q = randomQuantized(n, k, rng);
      const scales = new StaticArray<f32>(n);
      for (let j = 0; j < n; j++) scales[j] = Mathf.abs(rng.nextF32()) * 0.01;
      scales[1] = 0;
      scales[2] = reinterpret<f32>(<u32>1); // the smallest subnormal: products round
      const out = new StaticArray<f32>(n * k + 4);
      for (let i = 0; i < out.length; i++) out[i] = -12345.5;
      dequantize_rows_int8(ptr(out), ptr(q), ptr(scales), n, k);
      let wrong = 0;
      for (let j = 0; j < n; j++) {
        for (let t = 0; t < k; t++) {
          const want: f32 = <f32>(<i32>q[j * k + t]) * scales[j];
          if (reinterpret<u32>(out[j * k + t]) != reinterpret<u32>(want)) wrong++;
        }
      }
      for (let i = n * k; i < out.length; i++) if (out[i] != -12345.5) wrong++;
      expect<i32>(wrong).toBe(0, "dequantized rows differ, k=" + k.toString());
    }
  });

  it("inverts quantize_rows_int8 to within half a step per element", () => {
    const n = 6, k = 29;
    const w = new StaticArray<f32>(n * k);
    fillRandom(w, new Prng(99));
    const q = new StaticArray<i8>(n * k);
    const scales = new StaticArray<f32>(n);
    quantize_rows_int8(ptr(q), ptr(scales), ptr(w), n, k, k);
    const back = new StaticArray<f32>(n * k);
    dequantize_rows_int8(ptr(back), ptr(q), ptr(scales), n, k);
    let worst: f64 = 0;
    for (let j = 0; j < n; j++) {
      for (let t = 0; t < k; t++) {
        // Half a step, plus the f32 roundings of x/scale and q·scale (a few ulp of the row maximum).
        const err = Math.abs(<f64>back[j * k + t] - <f64>w[j * k + t]) / (<f64>scales[j] * (0.5 + 1e-5));
        if (err > worst) worst = err;
      }
    }
    expect<f64>(worst).toBeLessThanOrEqual(1.0);
  });
});
