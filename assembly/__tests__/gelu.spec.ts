/// <reference types="@as-pect/assembly/types/as-pect" />
import { gelu_backward, gelu_forward } from "../gelu";
import { erf4 } from "../simd_exp_erf";
import { FD_STEP, Rng, refErf, refErfc, refGelu, SENTINEL, filledF32, randomF32 } from "./reference_ops";

const MIN_NORMAL: f64 = 1.1754943508222875e-38; // 2^-126

function erfScalar(x: f32): f32 {
  return f32x4.extract_lane(erf4(f32x4.splat(x)), 0);
}

/** Inputs that visit every range of the erf approximation: a fine grid, range edges, random points. */
function probeInputs(limit: f64): Float32Array {
  const gridStep = 0.0001;
  const gridCount = <i32>(2.0 * limit / gridStep) + 1;
  const edges: f32[] = [0.75, 1.25, 1.0, 0.5, 2.0, 9.3, 12.0];
  const randomCount = 20000;
  const xs = new Float32Array(gridCount + edges.length * 6 + randomCount);
  let n = 0;
  for (let i = 0; i < gridCount; i++) xs[n++] = <f32>(-limit + <f64>i * gridStep);
  for (let e = 0; e < edges.length; e++) {
    // The range edge itself and its f32 neighbours, on both signs.
    const bits = reinterpret<u32>(edges[e]);
    for (let d: i32 = -1; d <= 1; d++) {
      const v = reinterpret<f32>(<u32>(<i32>bits + d));
      xs[n++] = v;
      xs[n++] = -v;
    }
  }
  const rng = new Rng(12345);
  for (let i = 0; i < randomCount; i++) xs[n++] = <f32>rng.uniform(-limit, limit);
  return xs;
}

describe("erf (four-lane, f32)", () => {
  it("is within 1e-7 absolute of an f64 series/continued-fraction erf everywhere", () => {
    // A correctly rounded f32 erf is already up to 3e-8 off near ±1 (half an ulp), so 1e-7
    // leaves under two ulps: Abramowitz–Stegun 7.1.26 (1.5e-7), a Taylor series cut short,
    // or a misplaced range edge all fail it.
    const xs = probeInputs(12.0);
    let worst = 0.0;
    let worstX: f32 = 0;
    for (let i = 0; i < xs.length; i++) {
      const err = Math.abs(<f64>erfScalar(xs[i]) - refErf(<f64>xs[i]));
      if (err > worst) {
        worst = err;
        worstX = xs[i];
      }
    }
    expect<f64>(worst).toBeLessThanOrEqual(1e-7, "worst |erf error| at x = " + worstX.toString());
  });

  it("is odd, saturates at ±1 and keeps NaN", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 1000; i++) {
      const x = <f32>rng.uniform(0.0, 6.0);
      expect<f32>(erfScalar(-x)).toBe(-erfScalar(x));
    }
    expect<f32>(erfScalar(Infinity)).toBe(1.0);
    expect<f32>(erfScalar(-Infinity)).toBe(-1.0);
    expect<f32>(erfScalar(30.0)).toBe(1.0);
    expect<bool>(isNaN(erfScalar(NaN))).toBe(true);
    expect<u32>(reinterpret<u32>(erfScalar(-0.0))).toBe(0x80000000, "erf(-0) keeps the sign");
  });

  it("is accurate relative to tiny and subnormal arguments (erf(x) ≈ 2x/√π)", () => {
    const xs: f32[] = [1e-3, 1e-10, 1e-30, 1e-38, 1e-40];
    for (let i = 0; i < xs.length; i++) {
      const ref = refErf(<f64>xs[i]);
      // Subnormal results carry fewer bits: compare within one subnormal step there.
      const tol = max<f64>(ref * 2.4e-7, 1.5e-45);
      expect<f64>(Math.abs(<f64>erfScalar(xs[i]) - ref)).toBeLessThanOrEqual(tol);
    }
  });
});

describe("gelu_forward", () => {
  it("matches 0.5·x·(1 + erf(x/√2)) within 2^-21 relative until f32 runs out of normal numbers", () => {
    // 2^-21 is four units of 2^-23, i.e. 2–4 ulp. The negative side is held to the same
    // relative bound although its values shrink to 1e-38: a kernel forming 1 + erf(x/√2)
    // by cancellation fails there, and the tanh approximation is off by ~1e-3 everywhere.
    // Only where 1 + erf(x/√2) itself drops below the smallest normal f32 (x < -13.1) is
    // the bound absolute: |x|·2^-126, what a subnormal or flushed intermediate may lose.
    const xs = probeInputs(14.0);
    const ys = new Float32Array(xs.length);
    gelu_forward(ys.dataStart, xs.dataStart, xs.length);
    let worst = 0.0;
    let worstX: f32 = 0;
    for (let i = 0; i < xs.length; i++) {
      const ref = refGelu(<f64>xs[i]);
      const cdf2 = refErfc(-<f64>xs[i] * Math.SQRT1_2);
      const tol = cdf2 >= MIN_NORMAL && Math.abs(ref) >= MIN_NORMAL
        ? Math.abs(ref) * 4.76837158203125e-7
        : max<f64>(Math.abs(<f64>xs[i]), 1.0) * MIN_NORMAL;
      const ratio = Math.abs(<f64>ys[i] - ref) / tol;
      if (ratio > worst) {
        worst = ratio;
        worstX = xs[i];
      }
    }
    expect<f64>(worst).toBeLessThanOrEqual(1.0, "worst error/tolerance at x = " + worstX.toString());
  });

  it("gives GELU's limits: 0 at 0, x for large x, -0 for very negative x, NaN for NaN", () => {
    const xs = new Float32Array(8);
    xs[0] = 0.0;
    xs[1] = 20.0;
    xs[2] = 1e30;
    xs[3] = Infinity;
    xs[4] = -20.0;
    xs[5] = NaN;
    xs[6] = 3.0;
    xs[7] = -3.0;
    const ys = new Float32Array(8);
    gelu_forward(ys.dataStart, xs.dataStart, 8);
    expect<f32>(ys[0]).toBe(0.0);
    expect<f32>(ys[1]).toBe(20.0);
    expect<f32>(ys[2]).toBe(1e30);
    expect<f32>(ys[3]).toBe(Infinity);
    expect<u32>(reinterpret<u32>(ys[4])).toBe(0x80000000, "gelu(-20) underflows to -0");
    expect<bool>(isNaN(ys[5])).toBe(true);
    // gelu(x) - gelu(-x) = x: an exact identity the two sides must honour to within rounding.
    expect<f64>(Math.abs(<f64>ys[6] - <f64>ys[7] - 3.0)).toBeLessThanOrEqual(5e-7);
  });

  it("computes every length (tails of 1–3) in place exactly as out of place, writing nothing past n", () => {
    const rng = new Rng(99);
    for (let n = 1; n <= 11; n++) {
      const inp = randomF32(rng, n, -5.0, 5.0);
      const outOfPlace = filledF32(n + 4, SENTINEL);
      gelu_forward(outOfPlace.dataStart, inp.dataStart, n);
      const inPlace = new Float32Array(n + 4);
      for (let i = 0; i < n; i++) inPlace[i] = inp[i];
      for (let i = n; i < n + 4; i++) inPlace[i] = SENTINEL;
      gelu_forward(inPlace.dataStart, inPlace.dataStart, n);
      for (let i = 0; i < n; i++) {
        expect<u32>(reinterpret<u32>(inPlace[i])).toBe(reinterpret<u32>(outOfPlace[i]));
        const ref = refGelu(<f64>inp[i]);
        expect<f64>(Math.abs(<f64>outOfPlace[i] - ref)).toBeLessThanOrEqual(Math.abs(ref) * 4.76837158203125e-7);
      }
      for (let i = n; i < n + 4; i++) {
        expect<f32>(outOfPlace[i]).toBe(SENTINEL, "out-of-place wrote past n");
        expect<f32>(inPlace[i]).toBe(SENTINEL, "in-place wrote past n");
      }
    }
  });
});

describe("gelu_backward", () => {
  it("matches central differences of the f64 GELU, x in [-14, 14], tails and in place", () => {
    // GELU' = Φ(x) + x·φ(x). The kernel's error is a few ulp of the two terms' magnitudes,
    // so the bound is 2^-20·(Φ + |x|φ)·|dOut| plus 1e-8·|dOut| for the difference quotient.
    // Dropping the x·φ term, or using the tanh form's slope, misses by ≥ 1e-3.
    const rng = new Rng(41);
    const n = 4003; // not a multiple of 4
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = <f32>(-14.0 + 28.0 * <f64>i / <f64>(n - 1));
    const dOut = randomF32(rng, n, -2.0, 2.0);
    const dInp = filledF32(n + 4, SENTINEL);
    gelu_backward(dInp.dataStart, x.dataStart, dOut.dataStart, n);
    let worst = 0.0;
    let worstX: f32 = 0;
    for (let i = 0; i < n; i++) {
      const xi = <f64>x[i];
      const slope = (refGelu(xi + FD_STEP) - refGelu(xi - FD_STEP)) / (2.0 * FD_STEP);
      const expected = <f64>dOut[i] * slope;
      const cdf = 0.5 * refErfc(-xi * Math.SQRT1_2);
      const density = Math.exp(-0.5 * xi * xi) / Math.sqrt(2.0 * Math.PI);
      const tol = Math.abs(<f64>dOut[i]) * (9.5367431640625e-7 * (cdf + Math.abs(xi) * density) + 1e-8);
      const ratio = Math.abs(<f64>dInp[i] - expected) / tol;
      if (ratio > worst) {
        worst = ratio;
        worstX = x[i];
      }
    }
    expect<f64>(worst).toBeLessThanOrEqual(1.0, "worst error/tolerance at x = " + worstX.toString());
    for (let g = 0; g < 4; g++) expect<f32>(dInp[n + g]).toBe(SENTINEL, "wrote past n");

    // dInp may be dOut: same bits as out of place.
    const inPlace = new Float32Array(n);
    for (let i = 0; i < n; i++) inPlace[i] = dOut[i];
    gelu_backward(inPlace.dataStart, x.dataStart, inPlace.dataStart, n);
    for (let i = 0; i < n; i++) expect<u32>(reinterpret<u32>(inPlace[i])).toBe(reinterpret<u32>(dInp[i]));
  });

  it("passes the gradient through for large x and blocks it for very negative x", () => {
    const x = new Float32Array(4);
    x[0] = 30.0;
    x[1] = -30.0;
    x[2] = 0.0;
    x[3] = 1e20;
    const dOut = filledF32(4, 3.0);
    const dInp = new Float32Array(4);
    gelu_backward(dInp.dataStart, x.dataStart, dOut.dataStart, 4);
    expect<f32>(dInp[0]).toBe(3.0);
    expect<f32>(dInp[1]).toBe(0.0);
    expect<f32>(dInp[2]).toBe(1.5); // GELU'(0) = Φ(0) = 1/2
    expect<f32>(dInp[3]).toBe(3.0);
  });
});
