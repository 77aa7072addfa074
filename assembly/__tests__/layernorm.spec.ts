/// <reference types="@as-pect/assembly/types/as-pect" />
import { layernorm_backward, layernorm_forward } from "../layernorm";
import { FD_STEP, LayerNormReference, Rng, SENTINEL, dotF64, filledF32, randomF32, toF64 } from "./reference_ops";

const U: f64 = 5.960464477539063e-8; // 2^-24, the f32 unit roundoff
const GUARD = 8;

/** Row r of `[rows][dim]`: uniform noise of half-width `spread` around `offsets[r % offsets.length]`. */
function rowsAround(rng: Rng, rows: i32, dim: i32, offsets: f64[], spread: f64): Float32Array {
  const x = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const centre = offsets[r % offsets.length];
    for (let t = 0; t < dim; t++) x[r * dim + t] = <f32>rng.uniform(centre - spread, centre + spread);
  }
  return x;
}

/**
 * Runs the kernel (out of place, with mean/rstd) and checks it against the f64 reference.
 *
 * Tolerances, per element: out within 8u·(|x̂·γ| + |β|) with x̂ = (x - mean)·rstd, the size
 * of the f32 terms summed; mean within 0.5 ulp plus a 1e-12 share of the mean |x| (what
 * f64 sums can lose); rstd within 2u relative. An f32 one-pass variance (E[x²] - mean²)
 * misses by 1e-2 or more on the offset rows below, a wrong eps or missing γ/β by ≫ 1e-6.
 */
function checkLayerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, rows: i32, dim: i32, eps: f32): void {
  const out = filledF32(rows * dim + GUARD, SENTINEL);
  const mean = filledF32(rows + GUARD, SENTINEL);
  const rstd = filledF32(rows + GUARD, SENTINEL);
  layernorm_forward(out.dataStart, x.dataStart, gamma.dataStart, beta.dataStart, mean.dataStart, rstd.dataStart, rows, dim, eps);
  const ref = new LayerNormReference(toF64(x), toF64(gamma), toF64(beta), rows, dim, <f64>eps);
  let worstOut = 0.0;
  let worstMean = 0.0;
  let worstRstd = 0.0;
  for (let r = 0; r < rows; r++) {
    let meanAbs = 0.0;
    for (let t = 0; t < dim; t++) meanAbs += Math.abs(<f64>x[r * dim + t]) / <f64>dim;
    worstMean = max<f64>(worstMean, Math.abs(<f64>mean[r] - ref.mean[r]) / (0.5 * 2.0 * U * Math.abs(ref.mean[r]) + 1e-12 * meanAbs + 1e-45));
    worstRstd = max<f64>(worstRstd, Math.abs(<f64>rstd[r] - ref.rstd[r]) / (2.0 * U * ref.rstd[r]));
    for (let t = 0; t < dim; t++) {
      const i = r * dim + t;
      const normed = (<f64>x[i] - ref.mean[r]) * ref.rstd[r];
      const tol = 8.0 * U * (Math.abs(normed * <f64>gamma[t]) + Math.abs(<f64>beta[t])) + 1e-45;
      worstOut = max<f64>(worstOut, Math.abs(<f64>out[i] - ref.out[i]) / tol);
    }
  }
  expect<f64>(worstOut).toBeLessThanOrEqual(1.0, "out: worst error / tolerance");
  expect<f64>(worstMean).toBeLessThanOrEqual(1.0, "mean: worst error / tolerance");
  expect<f64>(worstRstd).toBeLessThanOrEqual(1.0, "rstd: worst error / tolerance");
  for (let g = 0; g < GUARD; g++) {
    expect<f32>(out[rows * dim + g]).toBe(SENTINEL, "wrote past out");
    expect<f32>(mean[rows + g]).toBe(SENTINEL, "wrote past mean");
    expect<f32>(rstd[rows + g]).toBe(SENTINEL, "wrote past rstd");
  }
}

function affine(rng: Rng, dim: i32): Float32Array[] {
  return [randomF32(rng, dim, 0.5, 1.5), randomF32(rng, dim, -0.5, 0.5)];
}

describe("layernorm_forward", () => {
  it("matches the f64 definition for dim 13 (a vector tail) and BERT's eps", () => {
    const rng = new Rng(21);
    const x = rowsAround(rng, 6, 13, [0.0, 0.7, -2.0], 2.0);
    const gb = affine(rng, 13);
    checkLayerNorm(x, gb[0], gb[1], 6, 13, 1e-12);
  });

  it("matches for dim 768 rows sitting on large offsets (where E[x²] - mean² in f32 fails)", () => {
    const rng = new Rng(22);
    const x = rowsAround(rng, 4, 768, [1000.0, -300.0, 40.0, 0.0], 1.0);
    const gb = affine(rng, 768);
    checkLayerNorm(x, gb[0], gb[1], 4, 768, 1e-12);
  });

  it("matches for every dim from 1 to 11 and for a tiny-variance row, with eps 1e-5", () => {
    const rng = new Rng(23);
    for (let dim = 1; dim <= 11; dim++) {
      const x = rowsAround(rng, 3, dim, [0.0, 5.0, -1.0], 3.0);
      const gb = affine(rng, dim);
      checkLayerNorm(x, gb[0], gb[1], 3, dim, 1e-5);
    }
    // Variance 3e-7, comparable to eps: eps must be added exactly as given.
    const x = rowsAround(rng, 2, 19, [2.0], 0.001);
    const gb = affine(rng, 19);
    checkLayerNorm(x, gb[0], gb[1], 2, 19, 1e-5);
    checkLayerNorm(x, gb[0], gb[1], 2, 19, 1e-12);
  });

  it("maps a constant row to beta exactly (variance 0, rstd = 1/√eps)", () => {
    const rng = new Rng(24);
    const x = filledF32(10, 3.25);
    const gb = affine(rng, 10);
    const out = new Float32Array(10);
    const rstd = new Float32Array(1);
    layernorm_forward(out.dataStart, x.dataStart, gb[0].dataStart, gb[1].dataStart, 0, rstd.dataStart, 1, 10, 1e-12);
    for (let t = 0; t < 10; t++) expect<f32>(out[t]).toBe(gb[1][t]);
    expect<f64>(Math.abs(<f64>rstd[0] - 1e6) / 1e6).toBeLessThanOrEqual(2.0 * U);
  });

  it("works in place (out = inp) and without mean/rstd, bit-identical to out of place", () => {
    const rng = new Rng(25);
    const rows = 5;
    const dim = 37;
    const x = rowsAround(rng, rows, dim, [0.0, 10.0], 2.0);
    const gb = affine(rng, dim);
    const expected = new Float32Array(rows * dim);
    layernorm_forward(expected.dataStart, x.dataStart, gb[0].dataStart, gb[1].dataStart, 0, 0, rows, dim, 1e-12);
    const inPlace = filledF32(rows * dim + GUARD, SENTINEL);
    for (let i = 0; i < rows * dim; i++) inPlace[i] = x[i];
    layernorm_forward(inPlace.dataStart, inPlace.dataStart, gb[0].dataStart, gb[1].dataStart, 0, 0, rows, dim, 1e-12);
    for (let i = 0; i < rows * dim; i++) expect<u32>(reinterpret<u32>(inPlace[i])).toBe(reinterpret<u32>(expected[i]));
    for (let g = 0; g < GUARD; g++) expect<f32>(inPlace[rows * dim + g]).toBe(SENTINEL);
  });
});

/** Σ dOut·layernorm(x; gamma, beta) in f64: the loss whose gradients layernorm_backward returns. */
function layerNormLoss(x: Float64Array, gamma: Float64Array, beta: Float64Array, dOut: Float64Array, rows: i32, dim: i32, eps: f64): f64 {
  return dotF64(new LayerNormReference(x, gamma, beta, rows, dim, eps).out, dOut);
}

/** Central difference of layerNormLoss with respect to element i of `param` (one of x, gamma, beta). */
function layerNormSlope(
  param: Float64Array, i: i32, x: Float64Array, gamma: Float64Array, beta: Float64Array,
  dOut: Float64Array, rows: i32, dim: i32, eps: f64,
): f64 {
  const saved = param[i];
  param[i] = saved + FD_STEP;
  const up = layerNormLoss(x, gamma, beta, dOut, rows, dim, eps);
  param[i] = saved - FD_STEP;
  const down = layerNormLoss(x, gamma, beta, dOut, rows, dim, eps);
  param[i] = saved;
  return (up - down) / (2.0 * FD_STEP);
}

/** max |a[i]| */
function maxAbs(a: Float64Array): f64 {
  let m = 0.0;
  for (let i = 0; i < a.length; i++) m = max<f64>(m, Math.abs(a[i]));
  return m;
}

/**
 * Forward then backward through the kernels, compared with central differences of the f64
 * forward. dGamma/dBeta start from non-zero values to check that they accumulate.
 * Tolerance: 1e-5 of the largest gradient of the same tensor. f32 rounding in the kernel
 * is ~1e-6 of that scale and the difference quotient's error ~1e-8; a missing term of the
 * formula (mean(g), x̂·mean(g·x̂), gamma) or an unbiased variance is off by 1e-2 or more.
 */
function checkLayerNormBackward(rng: Rng, rows: i32, dim: i32, offsets: f64[], inPlace: bool): void {
  const eps: f32 = 1e-12;
  const x = rowsAround(rng, rows, dim, offsets, 2.0);
  const gamma = randomF32(rng, dim, 0.5, 1.5);
  const beta = randomF32(rng, dim, -0.5, 0.5);
  const dOut = randomF32(rng, rows * dim, -1.0, 1.0);
  const out = new Float32Array(rows * dim);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  layernorm_forward(out.dataStart, x.dataStart, gamma.dataStart, beta.dataStart, mean.dataStart, rstd.dataStart, rows, dim, eps);

  const dGammaStart = randomF32(rng, dim, -1.0, 1.0);
  const dBetaStart = randomF32(rng, dim, -1.0, 1.0);
  const dGamma = new Float32Array(dim + GUARD);
  const dBeta = new Float32Array(dim + GUARD);
  for (let t = 0; t < dim + GUARD; t++) {
    dGamma[t] = t < dim ? dGammaStart[t] : SENTINEL;
    dBeta[t] = t < dim ? dBetaStart[t] : SENTINEL;
  }
  const dInp = filledF32(rows * dim + GUARD, SENTINEL);
  if (inPlace) for (let i = 0; i < rows * dim; i++) dInp[i] = dOut[i];
  layernorm_backward(
    dInp.dataStart, dGamma.dataStart, dBeta.dataStart, inPlace ? dInp.dataStart : dOut.dataStart,
    x.dataStart, gamma.dataStart, mean.dataStart, rstd.dataStart, rows, dim,
  );

  const xd = toF64(x);
  const gd = toF64(gamma);
  const bd = toF64(beta);
  const dOutD = toF64(dOut);
  const fdX = new Float64Array(rows * dim);
  for (let i = 0; i < rows * dim; i++) fdX[i] = layerNormSlope(xd, i, xd, gd, bd, dOutD, rows, dim, <f64>eps);
  const fdGamma = new Float64Array(dim);
  const fdBeta = new Float64Array(dim);
  for (let t = 0; t < dim; t++) {
    fdGamma[t] = layerNormSlope(gd, t, xd, gd, bd, dOutD, rows, dim, <f64>eps);
    fdBeta[t] = layerNormSlope(bd, t, xd, gd, bd, dOutD, rows, dim, <f64>eps);
  }
  const tolX = 1e-5 * maxAbs(fdX);
  const tolGamma = 1e-5 * maxAbs(fdGamma);
  const tolBeta = 1e-5 * maxAbs(fdBeta);
  let worst = 0.0;
  for (let i = 0; i < rows * dim; i++) worst = max<f64>(worst, Math.abs(<f64>dInp[i] - fdX[i]) / tolX);
  expect<f64>(worst).toBeLessThanOrEqual(1.0, "dInp: worst error / tolerance");
  worst = 0.0;
  for (let t = 0; t < dim; t++) {
    worst = max<f64>(worst, Math.abs(<f64>dGamma[t] - <f64>dGammaStart[t] - fdGamma[t]) / tolGamma);
    worst = max<f64>(worst, Math.abs(<f64>dBeta[t] - <f64>dBetaStart[t] - fdBeta[t]) / tolBeta);
  }
  expect<f64>(worst).toBeLessThanOrEqual(1.0, "dGamma/dBeta (accumulated): worst error / tolerance");
  for (let g = 0; g < GUARD; g++) {
    expect<f32>(dInp[rows * dim + g]).toBe(SENTINEL, "wrote past dInp");
    expect<f32>(dGamma[dim + g]).toBe(SENTINEL, "wrote past dGamma");
    expect<f32>(dBeta[dim + g]).toBe(SENTINEL, "wrote past dBeta");
  }
}

describe("layernorm_backward", () => {
  it("matches central differences for dim 13 and accumulates dGamma, dBeta", () => {
    checkLayerNormBackward(new Rng(26), 5, 13, [0.0, 1.5, -3.0], false);
  });

  it("matches for dim 3 and for dim 96 rows on large offsets, computed in place (dInp = dOut)", () => {
    checkLayerNormBackward(new Rng(27), 4, 3, [0.0, 2.0], true);
    checkLayerNormBackward(new Rng(28), 3, 96, [500.0, -40.0, 0.0], true);
  });

  it("normalises exactly as the forward did, even 1000 away from zero (dGamma = x̂ bit for bit)", () => {
    // With gamma = 1, beta = 0 the forward writes x̂ itself, and with dOut = 1 and dGamma
    // starting at 0 the backward's dGamma is its own x̂: both must agree to the last bit.
    const rng = new Rng(29);
    const rows = 1;
    const dim = 30;
    const x = rowsAround(rng, rows, dim, [1000.0], 1.0);
    const gamma = filledF32(dim, 1.0);
    const beta = new Float32Array(dim);
    const out = new Float32Array(dim);
    const mean = new Float32Array(rows);
    const rstd = new Float32Array(rows);
    layernorm_forward(out.dataStart, x.dataStart, gamma.dataStart, beta.dataStart, mean.dataStart, rstd.dataStart, rows, dim, 1e-12);
    const dOut = filledF32(dim, 1.0);
    const dInp = new Float32Array(dim);
    const dGamma = new Float32Array(dim);
    const dBeta = new Float32Array(dim);
    layernorm_backward(dInp.dataStart, dGamma.dataStart, dBeta.dataStart, dOut.dataStart, x.dataStart, gamma.dataStart, mean.dataStart, rstd.dataStart, rows, dim);
    for (let t = 0; t < dim; t++) expect<u32>(reinterpret<u32>(dGamma[t])).toBe(reinterpret<u32>(out[t]));
  });
});
