import {
  gemm_panel_width, packed_weight_floats, pack_weight, linear_backward_input, linear_backward_weight,
} from "../gemm";
import {
  Prng, ptr, fillRandom, fillWith, errorBound, referenceBackwardInput, referenceBackwardWeight, copyToMemoryEnd,
} from "./reference_gemm";

const SENTINEL: f32 = -12345.5;
/** Placed wherever a kernel must not read: any use of it turns a result into NaN. */
const POISON: f32 = NaN;

function sameBits(a: f32, b: f32): bool {
  return reinterpret<u32>(a) == reinterpret<u32>(b);
}

/** [rows][ld] of random values in columns < used, POISON after. */
function poisonedRows(rows: i32, used: i32, ld: i32, rng: Prng): StaticArray<f32> {
  const a = new StaticArray<f32>(max(1, rows * ld));
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < ld; c++) a[i * ld + c] = c < used ? rng.nextF32() : POISON;
  }
  return a;
}

function describeCase(m: i32, n: i32, k: i32, nFull: i32, kFull: i32, ld1: i32, ld2: i32, flag: bool): string {
  return "m=" + m.toString() + " n=" + n.toString() + " k=" + k.toString() +
    " nFull=" + nFull.toString() + " kFull=" + kFull.toString() +
    " ld=" + ld1.toString() + "," + ld2.toString() + (flag ? " (flag)" : "");
}

/**
 * linear_backward_input against the f64 reference. The weight is NaN outside
 * [n][k], dOut NaN past column n, dInp [m][ldDInp] (+ a tail row) holds random
 * old values inside [m][k] and SENTINEL elsewhere.
 */
function expectBackwardInputMatches(
  m: i32, n: i32, k: i32, nFull: i32, kFull: i32, ldDInp: i32, ldDOut: i32, accumulate: bool, seed: u32,
): void {
  const rng = new Prng(seed);
  const w = new StaticArray<f32>(nFull * kFull);
  for (let j = 0; j < nFull; j++) {
    for (let t = 0; t < kFull; t++) w[j * kFull + t] = j < n && t < k ? rng.nextF32() : POISON;
  }
  const wp = new StaticArray<f32>(packed_weight_floats(nFull, kFull));
  pack_weight(ptr(wp), ptr(w), nFull, kFull);
  const dOut = poisonedRows(m, n, ldDOut, rng);
  const dInp = new StaticArray<f32>((m + 1) * ldDInp);
  fillWith(dInp, SENTINEL);
  const old = new StaticArray<f32>(max(1, m * k));
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < k; t++) {
      old[i * k + t] = rng.nextF32();
      dInp[i * ldDInp + t] = old[i * k + t];
    }
  }

  linear_backward_input(ptr(dInp), ptr(dOut), ptr(wp), m, n, k, kFull, ldDInp, ldDOut, accumulate);

  const ref = new StaticArray<f64>(max(1, m * k));
  const mag = new StaticArray<f64>(max(1, m * k));
  referenceBackwardInput(ref, mag, dOut, w, m, n, k, kFull, ldDOut);
  let bad = 0;
  let touched = 0;
  for (let i = 0; i <= m; i++) {
    for (let t = 0; t < ldDInp; t++) {
      const got = dInp[i * ldDInp + t];
      if (i < m && t < k) {
        const o = accumulate ? <f64>old[i * k + t] : 0;
        const err = Math.abs(<f64>got - (ref[i * k + t] + o));
        if (!(err <= errorBound(n, mag[i * k + t] + Math.abs(o)))) bad++;
      } else if (!sameBits(got, SENTINEL)) {
        touched++;
      }
    }
  }
  const what = describeCase(m, n, k, nFull, kFull, ldDInp, ldDOut, accumulate);
  expect<i32>(bad).toBe(0, "dInp off the reference by more than the f32 error bound: " + what);
  expect<i32>(touched).toBe(0, "writes outside dInp[m][k]: " + what);
}

/**
 * linear_backward_weight against the f64 reference. dWp and dBias start with
 * random values everywhere; inside [n][k] (and [n]) they must gain the
 * gradient, outside they must keep their bits. inp is NaN past column k, dOut
 * past column n.
 */
function expectBackwardWeightMatches(
  m: i32, n: i32, k: i32, nFull: i32, kFull: i32, ldInp: i32, ldDOut: i32, withWeight: bool, withBias: bool, seed: u32,
): void {
  const P = gemm_panel_width();
  const rng = new Prng(seed);
  const inp = poisonedRows(m, k, ldInp, rng);
  const dOut = poisonedRows(m, n, ldDOut, rng);
  const dWp = new StaticArray<f32>(packed_weight_floats(nFull, kFull));
  fillRandom(dWp, rng);
  const oldW = StaticArray.slice<f32>(dWp);
  const dBias = new StaticArray<f32>(nFull);
  fillRandom(dBias, rng);
  const oldB = StaticArray.slice<f32>(dBias);

  linear_backward_weight(
    withWeight ? ptr(dWp) : 0, withBias ? ptr(dBias) : 0, ptr(dOut), ptr(inp), m, n, k, kFull, ldInp, ldDOut,
  );

  const refW = new StaticArray<f64>(max(1, n * k));
  const magW = new StaticArray<f64>(max(1, n * k));
  const refB = new StaticArray<f64>(n);
  const magB = new StaticArray<f64>(n);
  referenceBackwardWeight(refW, magW, refB, magB, dOut, inp, m, n, k, ldInp, ldDOut);
  let bad = 0;
  let touched = 0;
  const panels = (nFull + P - 1) / P;
  for (let p = 0; p < panels; p++) {
    for (let t = 0; t < kFull; t++) {
      for (let jj = 0; jj < P; jj++) {
        const at = (p * kFull + t) * P + jj;
        const j = p * P + jj;
        if (withWeight && j < n && t < k) {
          const o = <f64>oldW[at];
          const err = Math.abs(<f64>dWp[at] - (refW[j * k + t] + o));
          if (!(err <= errorBound(m, magW[j * k + t] + Math.abs(o)))) bad++;
        } else if (!sameBits(dWp[at], oldW[at])) {
          touched++;
        }
      }
    }
  }
  for (let j = 0; j < nFull; j++) {
    if (withBias && j < n) {
      const o = <f64>oldB[j];
      if (!(Math.abs(<f64>dBias[j] - (refB[j] + o)) <= errorBound(m, magB[j] + Math.abs(o)))) bad++;
    } else if (!sameBits(dBias[j], oldB[j])) {
      touched++;
    }
  }
  const what = describeCase(m, n, k, nFull, kFull, ldInp, ldDOut, withWeight) + (withBias ? " bias" : "");
  expect<i32>(bad).toBe(0, "gradients off the reference by more than the f32 error bound: " + what);
  expect<i32>(touched).toBe(0, "changed gradient entries outside [n][k] / [n]: " + what);
}

describe("linear_backward_input", () => {
  it("matches the scalar reference at awkward sizes, overwriting and accumulating", () => {
    const ms: i32[] = [1, 2, 3, 5, 129];
    // Every residue modulo 8 and 16 for n; k across the 16-column band edge.
    const ns: i32[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 37];
    const ks: i32[] = [1, 2, 3, 16, 17, 33];
    let seed: u32 = 2000;
    for (let a = 0; a < ms.length; a++) {
      for (let b = 0; b < ns.length; b++) {
        for (let c = 0; c < ks.length; c++) {
          const m = ms[a], n = ns[b], k = ks[c];
          expectBackwardInputMatches(m, n, k, n, k, k, n, false, seed++);
          expectBackwardInputMatches(m, n, k, n, k, k, n, true, seed++);
        }
      }
    }
  });

  it("uses only the [n][k] prefix of a larger packed weight, with strided rows", () => {
    const ms: i32[] = [1, 4, 7];
    const ns: i32[] = [1, 6, 13, 24];
    const ks: i32[] = [1, 5, 19];
    let seed: u32 = 3000;
    for (let a = 0; a < ms.length; a++) {
      for (let b = 0; b < ns.length; b++) {
        for (let c = 0; c < ks.length; c++) {
          const m = ms[a], n = ns[b], k = ks[c];
          expectBackwardInputMatches(m, n, k, n + 19, k + 6, k + 3, n + 5, false, seed++);
          expectBackwardInputMatches(m, n, k, n + 2, k + 1, k + 1, n + 2, true, seed++);
        }
      }
    }
  });

  it("gives zeros (or leaves dInp) when n = 0 and writes nothing when m or k is 0", () => {
    expectBackwardInputMatches(3, 0, 5, 8, 5, 5, 1, false, 4000);
    expectBackwardInputMatches(3, 0, 5, 8, 5, 5, 1, true, 4001);
    expectBackwardInputMatches(0, 4, 5, 8, 5, 5, 4, false, 4002);
    expectBackwardInputMatches(3, 4, 0, 8, 5, 5, 4, false, 4003);
  });

  it("matches the reference at a BERT-like slice with long rows", () => {
    expectBackwardInputMatches(9, 200, 70, 256, 96, 96, 256, true, 4100);
  });

  it("matches the reference when n spans several cache blocks of panels", () => {
    // The kernel sums W in blocks of 32 panels (256 features at PANEL 8, 512
    // at 16); these n end on, just past and well past block edges.
    const ns: i32[] = [253, 256, 257, 269, 509, 512, 520, 1037];
    let seed: u32 = 4200;
    for (let b = 0; b < ns.length; b++) {
      const n = ns[b];
      expectBackwardInputMatches(3, n, 19, n, 19, 19, n, false, seed++);
      expectBackwardInputMatches(3, n, 19, n + 11, 21, 22, n + 3, true, seed++);
    }
  });
});

describe("linear_backward_weight", () => {
  it("adds the scalar reference gradients at awkward sizes, untouched outside [n][k]", () => {
    const ms: i32[] = [1, 2, 3, 7, 129];
    const ns: i32[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 37];
    const ks: i32[] = [1, 2, 3, 4, 5, 13, 37];
    let seed: u32 = 5000;
    for (let a = 0; a < ms.length; a++) {
      for (let b = 0; b < ns.length; b++) {
        for (let c = 0; c < ks.length; c++) {
          const m = ms[a], n = ns[b], k = ks[c];
          expectBackwardWeightMatches(m, n, k, n, k, k, n, true, true, seed++);
        }
      }
    }
  });

  it("accumulates into the [n][k] prefix of a larger packed gradient, with strided rows", () => {
    const ms: i32[] = [1, 4, 7];
    const ns: i32[] = [1, 6, 13, 24];
    const ks: i32[] = [1, 5, 19];
    let seed: u32 = 6000;
    for (let a = 0; a < ms.length; a++) {
      for (let b = 0; b < ns.length; b++) {
        for (let c = 0; c < ks.length; c++) {
          const m = ms[a], n = ns[b], k = ks[c];
          expectBackwardWeightMatches(m, n, k, n + 19, k + 6, k + 3, n + 5, true, true, seed++);
          expectBackwardWeightMatches(m, n, k, n + 2, k + 1, k + 1, n + 2, true, false, seed++);
          expectBackwardWeightMatches(m, n, k, n + 2, k + 1, k + 1, n + 2, false, true, seed++);
        }
      }
    }
  });

  it("adds nothing when m is 0 and only the bias when k is 0", () => {
    expectBackwardWeightMatches(0, 5, 3, 8, 3, 3, 5, true, true, 7000);
    expectBackwardWeightMatches(4, 5, 0, 8, 3, 3, 5, true, true, 7001);
  });

  it("matches the reference across row-chunk boundaries (long k)", () => {
    // Rows are reduced in passes of at most 32 (129 = 4 · 32 + 1), fewer when
    // k is long: 3 rows at k = 70000.
    expectBackwardWeightMatches(129, 11, 3000, 11, 3000, 3000, 11, true, true, 7100);
    expectBackwardWeightMatches(7, 9, 70000, 9, 70000, 70000, 9, true, false, 7101);
  });
});

describe("linear backward kernels", () => {
  it("read no dOut or input element past the last one they need", () => {
    // dOut (13 columns: a partial panel) or inp ends exactly at the end of
    // linear memory, where a full-vector read past column n would trap.
    const m = 5, n = 13, k = 7;
    const rng = new Prng(321);
    const w = new StaticArray<f32>(n * k);
    fillRandom(w, rng);
    const wp = new StaticArray<f32>(packed_weight_floats(n, k));
    pack_weight(ptr(wp), ptr(w), n, k);
    const dOut = new StaticArray<f32>(m * n);
    fillRandom(dOut, rng);
    const inp = new StaticArray<f32>(m * k);
    fillRandom(inp, rng);

    const dInpWant = new StaticArray<f32>(m * k);
    linear_backward_input(ptr(dInpWant), ptr(dOut), ptr(wp), m, n, k, k, k, n, false);
    const dInp = new StaticArray<f32>(m * k);
    linear_backward_input(ptr(dInp), copyToMemoryEnd(dOut), ptr(wp), m, n, k, k, k, n, false);
    for (let i = 0; i < m * k; i++) expect<f32>(dInp[i]).toBe(dInpWant[i]);

    const dWpWant = new StaticArray<f32>(wp.length);
    const dBiasWant = new StaticArray<f32>(n);
    linear_backward_weight(ptr(dWpWant), ptr(dBiasWant), ptr(dOut), ptr(inp), m, n, k, k, k, n);
    for (let which = 0; which < 2; which++) {
      const dWp = new StaticArray<f32>(wp.length);
      const dBias = new StaticArray<f32>(n);
      const dOutAt = which == 0 ? copyToMemoryEnd(dOut) : ptr(dOut);
      const inpAt = which == 1 ? copyToMemoryEnd(inp) : ptr(inp);
      linear_backward_weight(ptr(dWp), ptr(dBias), dOutAt, inpAt, m, n, k, k, k, n);
      for (let i = 0; i < wp.length; i++) expect<f32>(dWp[i]).toBe(dWpWant[i]);
      for (let j = 0; j < n; j++) expect<f32>(dBias[j]).toBe(dBiasWant[j]);
    }
  });
});
