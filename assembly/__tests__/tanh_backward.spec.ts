import { tanh_forward, tanh_backward } from "../elementwise";
import { Prng, ptr, fillRandom } from "./reference_gemm";

// The pooler's tanh backward against a central finite difference of tanh in
// f64: a wrong sign or a missing square (1 − y instead of 1 − y²) is off by far
// more than the 1e-5 tolerance, which covers f32 rounding of y (|dy| ≤ 6e-8).
describe("tanh_backward", () => {
  it("matches d/dx tanh(x) · dOut by finite differences, n = 1, 7, 129", () => {
    const sizes: i32[] = [1, 7, 129];
    for (let s = 0; s < sizes.length; s++) {
      const n = sizes[s];
      const rng = new Prng(<u32>(17 + n));
      const x = new StaticArray<f32>(n);
      const dOut = new StaticArray<f32>(n);
      fillRandom(x, rng);
      fillRandom(dOut, rng);
      for (let i = 0; i < n; i++) x[i] *= 3.0; // cover the saturating range too
      const y = new StaticArray<f32>(n);
      const dInp = new StaticArray<f32>(n);
      tanh_forward(ptr(y), ptr(x), n);
      tanh_backward(ptr(dInp), ptr(y), ptr(dOut), n);
      for (let i = 0; i < n; i++) {
        const h = 1e-5;
        const fd = (Math.tanh(<f64>x[i] + h) - Math.tanh(<f64>x[i] - h)) / (2 * h);
        expect<f64>(Math.abs(<f64>dInp[i] - fd * <f64>dOut[i])).toBeLessThan(1e-5);
      }
    }
  });

  it("may write into its dOut buffer", () => {
    const n = 13;
    const rng = new Prng(5);
    const y = new StaticArray<f32>(n);
    const d = new StaticArray<f32>(n);
    fillRandom(y, rng);
    fillRandom(d, rng);
    const expected = new StaticArray<f32>(n);
    for (let i = 0; i < n; i++) expected[i] = d[i] * (1.0 - y[i] * y[i]);
    tanh_backward(ptr(d), ptr(y), ptr(d), n);
    for (let i = 0; i < n; i++) expect<f32>(d[i]).toBe(expected[i]);
  });
});
