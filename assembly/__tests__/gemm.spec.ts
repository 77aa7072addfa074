import {
  gemm_panel_width, packed_weight_floats, pack_weight, unpack_weight, linear_forward,
} from "../gemm";
import {
  Prng, ptr, fillRandom, fillWith, referenceLinear, errorBound, copyToMemoryEnd,
} from "./reference_gemm";

const SENTINEL: f32 = -12345.5;
/** Placed wherever a kernel must not read: any use of it turns an output into NaN. */
const POISON: f32 = NaN;

/** A weight [nFull][kFull] whose entries outside the used [n][k] block are NaN. */
function poisonedWeight(nFull: i32, kFull: i32, n: i32, k: i32, rng: Prng): StaticArray<f32> {
  const w = new StaticArray<f32>(nFull * kFull);
  for (let j = 0; j < nFull; j++) {
    for (let t = 0; t < kFull; t++) {
      w[j * kFull + t] = j < n && t < k ? rng.nextF32() : POISON;
    }
  }
  return w;
}

function packed(w: StaticArray<f32>, nFull: i32, kFull: i32): StaticArray<f32> {
  const wp = new StaticArray<f32>(max(1, packed_weight_floats(nFull, kFull)));
  pack_weight(ptr(wp), ptr(w), nFull, kFull);
  return wp;
}

/** What one linear_forward call got wrong: outputs past the error bound, and writes outside [m][n]. */
class LinearCheck {
  badOutputs: i32 = 0;
  worstRatio: f64 = 0;
  touchedOutside: i32 = 0;
}

/**
 * Runs linear_forward on random data and compares with the f64 reference.
 * inp is [m][ldInp] with NaN in columns ≥ k; out is [m][ldOut] plus a tail
 * row, prefilled with SENTINEL, which must survive outside [m][n].
 */
function checkLinear(
  m: i32, n: i32, k: i32, nFull: i32, kFull: i32, ldInp: i32, ldOut: i32, withBias: bool, seed: u32,
): LinearCheck {
  const rng = new Prng(seed);
  const w = poisonedWeight(nFull, kFull, n, k, rng);
  const wp = packed(w, nFull, kFull);
  const inp = new StaticArray<f32>(max(1, m * ldInp));
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < ldInp; t++) inp[i * ldInp + t] = t < k ? rng.nextF32() : POISON;
  }
  let bias: StaticArray<f32> | null = null;
  if (withBias) {
    const b = new StaticArray<f32>(nFull);
    for (let j = 0; j < nFull; j++) b[j] = j < n ? rng.nextF32() : POISON;
    bias = b;
  }
  const out = new StaticArray<f32>((m + 1) * ldOut);
  fillWith(out, SENTINEL);

  linear_forward(ptr(out), ptr(inp), ptr(wp), bias === null ? 0 : ptr(bias), m, n, k, kFull, ldInp, ldOut);

  const ref = new StaticArray<f64>(max(1, m * n));
  const mag = new StaticArray<f64>(max(1, m * n));
  referenceLinear(ref, mag, inp, w, bias, m, n, k, kFull, ldInp);
  const result = new LinearCheck();
  for (let i = 0; i <= m; i++) {
    for (let j = 0; j < ldOut; j++) {
      const got = out[i * ldOut + j];
      if (i < m && j < n) {
        const err = Math.abs(<f64>got - ref[i * n + j]);
        const bound = errorBound(k, mag[i * n + j]);
        if (!(err <= bound)) result.badOutputs++;
        else if (bound > 0) result.worstRatio = Math.max(result.worstRatio, err / bound);
      } else if (reinterpret<u32>(got) != reinterpret<u32>(SENTINEL)) {
        result.touchedOutside++;
      }
    }
  }
  return result;
}

function describeCase(m: i32, n: i32, k: i32, nFull: i32, kFull: i32, ldInp: i32, ldOut: i32, withBias: bool): string {
  return "m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() +
    " nFull=" + nFull.toString() + " kFull=" + kFull.toString() +
    " ldInp=" + ldInp.toString() + " ldOut=" + ldOut.toString() + (withBias ? " bias" : " no bias");
}

function expectLinearMatches(
  m: i32, n: i32, k: i32, nFull: i32, kFull: i32, ldInp: i32, ldOut: i32, withBias: bool, seed: u32,
): void {
  const c = checkLinear(m, n, k, nFull, kFull, ldInp, ldOut, withBias, seed);
  const what = describeCase(m, n, k, nFull, kFull, ldInp, ldOut, withBias);
  expect<i32>(c.badOutputs).toBe(0, "outputs off the reference by more than the f32 error bound: " + what);
  expect<i32>(c.touchedOutside).toBe(0, "writes outside out[m][n]: " + what);
}

describe("packed weight layout", () => {
  it("reports a panel width of 8 or 16 and ceil(n/PANEL)·PANEL·k floats", () => {
    const P = gemm_panel_width();
    expect<bool>(P == 8 || P == 16).toBe(true);
    expect<i32>(packed_weight_floats(1, 5)).toBe(P * 5);
    expect<i32>(packed_weight_floats(P, 3)).toBe(P * 3);
    expect<i32>(packed_weight_floats(P + 1, 3)).toBe(2 * P * 3);
    expect<i32>(packed_weight_floats(37, 0)).toBe(0);
  });

  it("puts W[p·PANEL + j][t] at packed[p][t][j] and zeros past n", () => {
    const P = gemm_panel_width();
    const ns: i32[] = [1, 3, 8, 13, 37];
    const ks: i32[] = [1, 3, 13];
    for (let a = 0; a < ns.length; a++) {
      for (let b = 0; b < ks.length; b++) {
        const n = ns[a], k = ks[b];
        const w = new StaticArray<f32>(n * k);
        fillRandom(w, new Prng(<u32>(n * 100 + k)));
        const wp = packed(w, n, k);
        let wrong = 0;
        const panels = (n + P - 1) / P;
        for (let p = 0; p < panels; p++) {
          for (let t = 0; t < k; t++) {
            for (let j = 0; j < P; j++) {
              const row = p * P + j;
              const want: f32 = row < n ? w[row * k + t] : 0;
              if (reinterpret<u32>(wp[(p * k + t) * P + j]) != reinterpret<u32>(want)) wrong++;
            }
          }
        }
        expect<i32>(wrong).toBe(0, "misplaced packed entries, n=" + n.toString() + " k=" + k.toString());
      }
    }
  });

  it("unpacks to exactly the weight it packed", () => {
    const ns: i32[] = [1, 7, 8, 13, 37];
    const ks: i32[] = [1, 3, 13, 64];
    for (let a = 0; a < ns.length; a++) {
      for (let b = 0; b < ks.length; b++) {
        const n = ns[a], k = ks[b];
        const w = new StaticArray<f32>(n * k);
        fillRandom(w, new Prng(<u32>(n * 7919 + k)));
        const back = new StaticArray<f32>(n * k);
        unpack_weight(ptr(back), ptr(packed(w, n, k)), n, k);
        let wrong = 0;
        for (let i = 0; i < n * k; i++) if (reinterpret<u32>(back[i]) != reinterpret<u32>(w[i])) wrong++;
        expect<i32>(wrong).toBe(0, "round trip changed entries, n=" + n.toString() + " k=" + k.toString());
      }
    }
  });
});

describe("linear_forward", () => {
  it("matches the scalar reference at awkward sizes, tight strides", () => {
    const ms: i32[] = [1, 2, 3, 4, 5, 7, 129];
    // Every residue modulo 8 and 16, so each partial-panel store width occurs.
    const ns: i32[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 37];
    const ks: i32[] = [1, 3, 13, 37];
    let seed: u32 = 1;
    for (let a = 0; a < ms.length; a++) {
      for (let b = 0; b < ns.length; b++) {
        for (let c = 0; c < ks.length; c++) {
          const m = ms[a], n = ns[b], k = ks[c];
          expectLinearMatches(m, n, k, n, k, k, n, true, seed++);
          expectLinearMatches(m, n, k, n, k, k, n, false, seed++);
        }
      }
    }
  });

  it("uses only the [n][k] prefix of a larger packed weight, with strided rows left intact past n", () => {
    const ms: i32[] = [1, 3, 6, 129];
    const ns: i32[] = [1, 2, 4, 6, 7, 13, 24];
    const ks: i32[] = [1, 6, 37];
    let seed: u32 = 1000;
    for (let a = 0; a < ms.length; a++) {
      for (let b = 0; b < ns.length; b++) {
        for (let c = 0; c < ks.length; c++) {
          const m = ms[a], n = ns[b], k = ks[c];
          // nFull spans extra panels; ldOut leaves sentinel columns between rows.
          expectLinearMatches(m, n, k, n + 19, k + 6, k + 9, n + 5, true, seed++);
          expectLinearMatches(m, n, k, n + 3, k + 1, k + 6 + 3, n + 1, false, seed++);
        }
      }
    }
  });

  it("gives bias (or zeros) when k = 0 and writes nothing when m or n is 0", () => {
    const n = 13;
    const bias = new StaticArray<f32>(n);
    fillRandom(bias, new Prng(5));
    const out = new StaticArray<f32>(3 * n);
    const wp = new StaticArray<f32>(1);
    const inp = new StaticArray<f32>(1);
    fillWith(out, SENTINEL);
    linear_forward(ptr(out), ptr(inp), ptr(wp), ptr(bias), 3, n, 0, 0, 0, n);
    for (let i = 0; i < 3 * n; i++) expect<f32>(out[i]).toBe(bias[i % n]);
    linear_forward(ptr(out), ptr(inp), ptr(wp), 0, 3, n, 0, 0, 0, n);
    for (let i = 0; i < 3 * n; i++) expect<f32>(out[i]).toBe(0);

    fillWith(out, SENTINEL);
    linear_forward(ptr(out), ptr(inp), ptr(wp), ptr(bias), 0, n, 0, 0, 0, n);
    linear_forward(ptr(out), ptr(inp), ptr(wp), ptr(bias), 3, 0, 0, 0, 0, n);
    for (let i = 0; i < 3 * n; i++) expect<f32>(out[i]).toBe(SENTINEL);
  });

  it("matches the reference across row-chunk boundaries (long k)", () => {
    // The kernel walks the rows in chunks sized to L2 (about 1 MiB of input):
    // at k = 3000 that is 84 rows, at k = 70000 one 4-row tile.
    expectLinearMatches(129, 13, 3000, 13, 3000, 3000, 13, true, 77);
    expectLinearMatches(9, 11, 70000, 11, 70000, 70000, 11, false, 78);
  });

  it("matches the reference at a BERT-like width slice", () => {
    // Width 0.25 of a 64-wide toy: the first 16 output features, first 48 inputs.
    expectLinearMatches(33, 16, 48, 64, 96, 96, 64, true, 99);
  });

  it("reads no input, bias or weight element past the last one it needs", () => {
    // Each buffer in turn ends exactly at the end of linear memory: a read past
    // its last used element (a full vector at a partial panel) would trap.
    const m = 5, n = 13, k = 7;
    const rng = new Prng(123);
    const w = new StaticArray<f32>(n * k);
    fillRandom(w, rng);
    const wp = packed(w, n, k);
    const inp = new StaticArray<f32>(m * k);
    fillRandom(inp, rng);
    const bias = new StaticArray<f32>(n);
    fillRandom(bias, rng);
    const want = new StaticArray<f32>(m * n);
    linear_forward(ptr(want), ptr(inp), ptr(wp), ptr(bias), m, n, k, k, k, n);
    for (let which = 0; which < 3; which++) {
      const out = new StaticArray<f32>(m * n);
      const inpAt = which == 0 ? copyToMemoryEnd(inp) : ptr(inp);
      const biasAt = which == 1 ? copyToMemoryEnd(bias) : ptr(bias);
      const wpAt = which == 2 ? copyToMemoryEnd(wp) : ptr(wp);
      linear_forward(ptr(out), inpAt, wpAt, biasAt, m, n, k, k, k, n);
      let wrong = 0;
      for (let i = 0; i < m * n; i++) if (reinterpret<u32>(out[i]) != reinterpret<u32>(want[i])) wrong++;
      expect<i32>(wrong).toBe(0);
    }
  });
});
