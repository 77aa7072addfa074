/// <reference types="@as-pect/assembly/types/as-pect" />
import { layernorm_forward } from "../layernorm";
import { LayerNormReference, Rng, SENTINEL, filledF32, randomF32, toF64 } from "./reference_ops";

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
