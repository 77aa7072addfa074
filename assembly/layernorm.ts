// LayerNorm over the last dimension.

/** Sum of the four lanes of an f32x4 added into a two-lane f64 accumulator. */
// @ts-ignore: decorator
@inline function accumulateF64(acc: v128, v: v128): v128 {
  acc = f64x2.add(acc, f64x2.promote_low_f32x4(v));
  return f64x2.add(acc, f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1)));
}

/** Sum of the squares of the four lanes (exact in f64) added into an f64x2 accumulator. */
// @ts-ignore: decorator
@inline function accumulateSquaresF64(acc: v128, v: v128): v128 {
  const lo = f64x2.promote_low_f32x4(v);
  const hi = f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1));
  return f64x2.add(f64x2.add(acc, f64x2.mul(lo, lo)), f64x2.mul(hi, hi));
}

/** Row mean of `dim` floats at `x`, summed in f64. */
function rowMean(x: usize, dim: i32): f64 {
  const vecEnd = dim & ~3;
  let sum2 = f64x2.splat(0);
  for (let t = 0; t < vecEnd; t += 4) sum2 = accumulateF64(sum2, v128.load(x + (<usize>t << 2)));
  let sum = f64x2.extract_lane(sum2, 0) + f64x2.extract_lane(sum2, 1);
  for (let t = vecEnd; t < dim; t++) sum += <f64>load<f32>(x + (<usize>t << 2));
  return sum / <f64>dim;
}

/**
 * `out[r][t] = (inp[r][t] - mean_r) · rstd_r · gamma[t] + beta[t]` with
 * `mean_r` the row mean and `rstd_r = 1/√(biased variance_r + eps)`.
 *
 * out, inp: f32 `[rows][dim]` (`out` may equal `inp`); gamma, beta: f32 `[dim]`;
 * mean, rstd: f32 `[rows]` outputs, or 0 when not needed (inference).
 *
 * Two passes with f64 sums: the variance is taken around the mean, so a large common
 * offset in a row (BERT hidden states have some) costs no accuracy. The mean is
 * carried as an f32 pair (hi + lo), so centring is as exact as f32 allows.
 */
export function layernorm_forward(
  out: usize, inp: usize, gamma: usize, beta: usize, mean: usize, rstd: usize,
  rows: i32, dim: i32, eps: f32,
): void {
  const rowBytes = <usize>dim << 2;
  const vecEnd = dim & ~3;
  for (let r = 0; r < rows; r++) {
    const x = inp + <usize>r * rowBytes;
    const y = out + <usize>r * rowBytes;

    const mean64 = rowMean(x, dim);
    const meanHi = <f32>mean64;
    const meanLo = <f32>(mean64 - <f64>meanHi);
    const meanHiV = f32x4.splat(meanHi);
    const meanLoV = f32x4.splat(meanLo);

    let sq2 = f64x2.splat(0);
    for (let t = 0; t < vecEnd; t += 4) {
      const c = f32x4.sub(f32x4.sub(v128.load(x + (<usize>t << 2)), meanHiV), meanLoV);
      sq2 = accumulateSquaresF64(sq2, c);
    }
    let sq = f64x2.extract_lane(sq2, 0) + f64x2.extract_lane(sq2, 1);
    for (let t = vecEnd; t < dim; t++) {
      const c = <f64>(load<f32>(x + (<usize>t << 2)) - meanHi - meanLo);
      sq += c * c;
    }
    const rs = <f32>(1.0 / Math.sqrt(sq / <f64>dim + <f64>eps));
    const rsV = f32x4.splat(rs);

    for (let t = 0; t < vecEnd; t += 4) {
      const offset = <usize>t << 2;
      const c = f32x4.sub(f32x4.sub(v128.load(x + offset), meanHiV), meanLoV);
      const normed = f32x4.mul(c, rsV);
      v128.store(y + offset, f32x4.add(f32x4.mul(normed, v128.load(gamma + offset)), v128.load(beta + offset)));
    }
    for (let t = vecEnd; t < dim; t++) {
      const offset = <usize>t << 2;
      const c = load<f32>(x + offset) - meanHi - meanLo;
      store<f32>(y + offset, c * rs * load<f32>(gamma + offset) + load<f32>(beta + offset));
    }
    if (mean != 0) store<f32>(mean + (<usize>r << 2), meanHi);
    if (rstd != 0) store<f32>(rstd + (<usize>r << 2), rs);
  }
}

/**
 * Gradients of `layernorm_forward`, from the mean and rstd it saved. With x̂ = (x - mean)·rstd
 * and g = dOut·gamma:
 *   dInp[r][t]  = rstd_r · (g[t] - mean_t(g) - x̂[t] · mean_t(g·x̂))   (written)
 *   dGamma[t]  += Σ_r dOut[r][t] · x̂[r][t]                            (accumulated)
 *   dBeta[t]   += Σ_r dOut[r][t]                                      (accumulated)
 *
 * dInp, dOut, inp: f32 `[rows][dim]` (`dInp` may equal `dOut`); gamma, dGamma, dBeta:
 * f32 `[dim]`; mean, rstd: f32 `[rows]` as saved by the forward pass. The forward centred
 * with mean + a low-order correction; that correction is recomputed here from inp, so x̂
 * is bit-for-bit the forward's (an f32 mean alone would be off by ulp(mean)·rstd).
 */
export function layernorm_backward(
  dInp: usize, dGamma: usize, dBeta: usize, dOut: usize, inp: usize, gamma: usize,
  mean: usize, rstd: usize, rows: i32, dim: i32,
): void {
  const rowBytes = <usize>dim << 2;
  const vecEnd = dim & ~3;
  for (let r = 0; r < rows; r++) {
    const x = inp + <usize>r * rowBytes;
    const dy = dOut + <usize>r * rowBytes;
    const dx = dInp + <usize>r * rowBytes;
    const meanHi = load<f32>(mean + (<usize>r << 2));
    const meanLo = <f32>(rowMean(x, dim) - <f64>meanHi);
    const rs = load<f32>(rstd + (<usize>r << 2));
    const meanHiV = f32x4.splat(meanHi);
    const meanLoV = f32x4.splat(meanLo);
    const rsV = f32x4.splat(rs);

    // Pass 1 reads every dOut of the row (so dInp may overwrite it in pass 2).
    let sumG2 = f64x2.splat(0);
    let sumGX2 = f64x2.splat(0);
    for (let t = 0; t < vecEnd; t += 4) {
      const offset = <usize>t << 2;
      const xhat = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(x + offset), meanHiV), meanLoV), rsV);
      const d = v128.load(dy + offset);
      const g = f32x4.mul(d, v128.load(gamma + offset));
      sumG2 = accumulateF64(sumG2, g);
      sumGX2 = accumulateF64(sumGX2, f32x4.mul(g, xhat));
      v128.store(dGamma + offset, f32x4.add(v128.load(dGamma + offset), f32x4.mul(d, xhat)));
      v128.store(dBeta + offset, f32x4.add(v128.load(dBeta + offset), d));
    }
    let sumG = f64x2.extract_lane(sumG2, 0) + f64x2.extract_lane(sumG2, 1);
    let sumGX = f64x2.extract_lane(sumGX2, 0) + f64x2.extract_lane(sumGX2, 1);
    for (let t = vecEnd; t < dim; t++) {
      const offset = <usize>t << 2;
      const xhat = (load<f32>(x + offset) - meanHi - meanLo) * rs;
      const d = load<f32>(dy + offset);
      const g = d * load<f32>(gamma + offset);
      sumG += <f64>g;
      sumGX += <f64>(g * xhat);
      store<f32>(dGamma + offset, load<f32>(dGamma + offset) + d * xhat);
      store<f32>(dBeta + offset, load<f32>(dBeta + offset) + d);
    }
    const meanG = <f32>(sumG / <f64>dim);
    const meanGX = <f32>(sumGX / <f64>dim);
    const meanGV = f32x4.splat(meanG);
    const meanGXV = f32x4.splat(meanGX);

    for (let t = 0; t < vecEnd; t += 4) {
      const offset = <usize>t << 2;
      const xhat = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(x + offset), meanHiV), meanLoV), rsV);
      const g = f32x4.mul(v128.load(dy + offset), v128.load(gamma + offset));
      const centred = f32x4.sub(f32x4.sub(g, meanGV), f32x4.mul(xhat, meanGXV));
      v128.store(dx + offset, f32x4.mul(centred, rsV));
    }
    for (let t = vecEnd; t < dim; t++) {
      const offset = <usize>t << 2;
      const xhat = (load<f32>(x + offset) - meanHi - meanLo) * rs;
      const g = load<f32>(dy + offset) * load<f32>(gamma + offset);
      store<f32>(dx + offset, (g - meanG - xhat * meanGX) * rs);
    }
  }
}
