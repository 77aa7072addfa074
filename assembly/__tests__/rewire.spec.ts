import { row_dots, column_dots, gather_rows, gather_columns } from "../rewire";
import { Prng, ptr, fillRandom } from "./reference_gemm";

// Scalar references in f64; sizes not multiples of 4 (1, 3, 7 and 13 columns).
describe("row_dots / column_dots", () => {
  it("equal Σ a·b along rows and along columns", () => {
    const shapes: i32[][] = [[1, 1], [3, 7], [13, 5]];
    for (let s = 0; s < shapes.length; s++) {
      const rows = shapes[s][0];
      const cols = shapes[s][1];
      const rng = new Prng(<u32>(rows * 31 + cols));
      const a = new StaticArray<f32>(rows * cols);
      const b = new StaticArray<f32>(rows * cols);
      fillRandom(a, rng);
      fillRandom(b, rng);
      const byRow = new StaticArray<f32>(rows);
      const byCol = new StaticArray<f32>(cols);
      row_dots(ptr(byRow), ptr(a), ptr(b), rows, cols);
      column_dots(ptr(byCol), ptr(a), ptr(b), rows, cols);
      for (let r = 0; r < rows; r++) {
        let ref: f64 = 0;
        for (let c = 0; c < cols; c++) ref += <f64>a[r * cols + c] * <f64>b[r * cols + c];
        expect<f64>(Math.abs(<f64>byRow[r] - ref)).toBeLessThan(1e-6);
      }
      for (let c = 0; c < cols; c++) {
        let ref: f64 = 0;
        for (let r = 0; r < rows; r++) ref += <f64>a[r * cols + c] * <f64>b[r * cols + c];
        expect<f64>(Math.abs(<f64>byCol[c] - ref)).toBeLessThan(1e-6);
      }
    }
  });
});

describe("gather_rows / gather_columns", () => {
  it("apply a permutation exactly, rows and columns", () => {
    const rows = 3;
    const cols = 5;
    const src = new StaticArray<f32>(rows * cols);
    for (let i = 0; i < rows * cols; i++) src[i] = <f32>i;
    const rowPerm: StaticArray<i32> = [2, 0, 1];
    const colPerm: StaticArray<i32> = [4, 1, 3, 0, 2];
    const byRows = new StaticArray<f32>(rows * cols);
    const byCols = new StaticArray<f32>(rows * cols);
    gather_rows(ptr(byRows), ptr(src), ptr(rowPerm), rows, cols);
    gather_columns(ptr(byCols), ptr(src), ptr(colPerm), rows, cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        expect<f32>(byRows[r * cols + c]).toBe(src[rowPerm[r] * cols + c]);
        expect<f32>(byCols[r * cols + c]).toBe(src[r * cols + colPerm[c]]);
      }
    }
  });
});
