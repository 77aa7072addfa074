// Test-only scalar definitions of the int8 linear layer (gemm_int8.ts): the
// same quantization formula and the same integer and f32 operations, written
// plainly over unpacked arrays, so kernel results must match bit for bit.

/** f32(max_t |row[t]| / 127) over x[at .. at + k). */
export function referenceScale(x: StaticArray<f32>, at: i32, k: i32): f32 {
  let mx: f32 = 0;
  for (let t = 0; t < k; t++) {
    const a = Mathf.abs(x[at + t]);
    if (a > mx) mx = a;
  }
  return mx / <f32>127;
}

/** clamp(round-half-even(x / scale), −127, 127); 0 when scale is 0. */
export function referenceQuantize(x: f32, scale: f32): i32 {
  if (scale == 0) return 0;
  let q = x / scale;
  // Round half to even, spelled out rather than via the wasm instruction.
  let r = Mathf.floor(q);
  const frac = q - r;
  if (frac > 0.5 || (frac == 0.5 && Mathf.floor(r / 2) * 2 != r)) r += 1;
  if (r > 127) r = 127;
  if (r < -127) r = -127;
  return <i32>r;
}

/**
 * Rows of x [rows][ld] (columns < k) quantized: q [rows][k], scales [rows].
 */
export function referenceQuantizeRows(
  q: StaticArray<i32>, scales: StaticArray<f32>, x: StaticArray<f32>, rows: i32, k: i32, ld: i32,
): void {
  for (let i = 0; i < rows; i++) {
    const s = referenceScale(x, i * ld, k);
    scales[i] = s;
    for (let t = 0; t < k; t++) q[i * k + t] = referenceQuantize(x[i * ld + t], s);
  }
}

/**
 * out[i*n + j] = f32(acc) · (aScale_i · wScale_j) (+ bias[j]) with
 * acc = Σ_{t<k} qa[i][t] · qw[j][t] in i32, where qa is inp [m][ldInp]
 * quantized over its first k columns and qw [nFull][kFull] is the weight's
 * (quantized over all kFull columns, as packing does).
 */
export function referenceLinearInt8(
  out: StaticArray<f32>, inp: StaticArray<f32>, qw: StaticArray<i32>, wScales: StaticArray<f32>,
  bias: StaticArray<f32> | null, m: i32, n: i32, k: i32, kFull: i32, ldInp: i32,
): void {
  const qa = new StaticArray<i32>(max(1, m * k));
  const aScales = new StaticArray<f32>(max(1, m));
  referenceQuantizeRows(qa, aScales, inp, m, k, ldInp);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc: i32 = 0;
      for (let t = 0; t < k; t++) acc += qa[i * k + t] * qw[j * kFull + t];
      let r: f32 = <f32>acc * (aScales[i] * wScales[j]);
      if (bias !== null) r = r + bias[j];
      out[i * n + j] = r;
    }
  }
}
