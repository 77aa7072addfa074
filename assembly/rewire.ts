// Importance and rewiring (DynaBERT §3.1): per-neuron sums of weight × gradient
// and the row/column permutations that sort heads and neurons. Row-major
// inputs (callers unpack packed weights first); run once per batch or once per
// checkpoint, so plain loops, written for clarity over speed.

/** out f32 [rows] ← Σ_c a[r][c]·b[r][c] (summed in f64); a, b f32 [rows][cols]. */
export function row_dots(out: usize, a: usize, b: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    let sum: f64 = 0;
    const row = <usize>r * <usize>cols << 2;
    for (let c = 0; c < cols; c++) {
      const o = row + (<usize>c << 2);
      sum += <f64>load<f32>(a + o) * <f64>load<f32>(b + o);
    }
    store<f32>(out + (<usize>r << 2), <f32>sum);
  }
}

/** out f32 [cols] ← Σ_r a[r][c]·b[r][c] (summed in f64); a, b f32 [rows][cols]. */
export function column_dots(out: usize, a: usize, b: usize, rows: i32, cols: i32): void {
  for (let c = 0; c < cols; c++) {
    let sum: f64 = 0;
    for (let r = 0; r < rows; r++) {
      const o = (<usize>r * <usize>cols + <usize>c) << 2;
      sum += <f64>load<f32>(a + o) * <f64>load<f32>(b + o);
    }
    store<f32>(out + (<usize>c << 2), <f32>sum);
  }
}

/**
 * dst row i ← src row idx[i] for i < count; rows of `rowLen` f32; idx i32
 * [count], each in range (validated in TS). dst must not overlap src.
 */
export function gather_rows(dst: usize, src: usize, idx: usize, count: i32, rowLen: i32): void {
  const bytes = <usize>rowLen << 2;
  for (let i = 0; i < count; i++) {
    const from = <usize>load<i32>(idx + (<usize>i << 2));
    memory.copy(dst + <usize>i * bytes, src + from * bytes, bytes);
  }
}

/**
 * dst[r][c] ← src[r][idx[c]] for every row; src, dst f32 [rows][cols]; idx i32
 * [cols], each in range (validated in TS). dst must not overlap src.
 */
export function gather_columns(dst: usize, src: usize, idx: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = <usize>r * <usize>cols << 2;
    for (let c = 0; c < cols; c++) {
      const from = <usize>load<i32>(idx + (<usize>c << 2));
      store<f32>(dst + row + (<usize>c << 2), load<f32>(src + row + (from << 2)));
    }
  }
}
