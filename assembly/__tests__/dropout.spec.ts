/// <reference types="@as-pect/assembly/types/as-pect" />
import { dropout_backward, dropout_forward, dropout_random_u32 } from "../dropout";
import { Rng, SENTINEL, filledF32, randomF32 } from "./reference_ops";

/** Drop threshold as documented: element dropped iff its u32 < round(p·2^32). */
function threshold(p: f64): u64 {
  return <u64>Math.round(p * 4294967296.0);
}

function maskOf(n: i32, p: f64, seed: u32, offset: u32): Uint8Array {
  const inp = filledF32(n, 1.0);
  const out = new Float32Array(n);
  const mask = new Uint8Array(n);
  dropout_forward(out.dataStart, inp.dataStart, mask.dataStart, n, p, seed, offset);
  return mask;
}

function countKept(mask: Uint8Array): i32 {
  let c = 0;
  for (let i = 0; i < mask.length; i++) c += <i32>mask[i];
  return c;
}

function expectBitsEqual(a: Float32Array, b: Float32Array, what: string): void {
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (reinterpret<u32>(a[i]) != reinterpret<u32>(b[i])) diff++;
  expect<i32>(diff).toBe(0, what);
}

describe("dropout_forward", () => {
  it("with p = 0 copies its input bit for bit (in place too) and keeps every mask entry", () => {
    const n = 11;
    const inp = randomF32(new Rng(1), n, -3.0, 3.0);
    inp[0] = -0.0;
    inp[1] = Infinity;
    inp[2] = reinterpret<f32>(0x7fc01234); // a NaN with a payload
    const out = filledF32(n, SENTINEL);
    const mask = new Uint8Array(n);
    dropout_forward(out.dataStart, inp.dataStart, mask.dataStart, n, 0.0, 42, 0);
    expectBitsEqual(out, inp, "copy");
    expect<i32>(countKept(mask)).toBe(n);
    const inPlace = inp.slice(0);
    dropout_forward(inPlace.dataStart, inPlace.dataStart, 0, n, 0.0, 42, 0);
    expectBitsEqual(inPlace, inp, "in place");
  });

  it("keeps 1 − p of 100k elements within binomial bounds (p = 0.1) and scales them by f32(1/(1 − p))", () => {
    const n = 100000;
    const p = 0.1;
    const inp = randomF32(new Rng(2), n, -2.0, 2.0);
    const out = new Float32Array(n);
    const mask = new Uint8Array(n);
    dropout_forward(out.dataStart, inp.dataStart, mask.dataStart, n, p, 1234, 0);
    // Kept ~ Binomial(n, 0.9): mean 90000, σ = √(n·p·(1−p)) ≈ 94.9; 5σ is a 1-in-1.7M false alarm.
    const sigma = Math.sqrt(<f64>n * p * (1.0 - p));
    expect<f64>(Math.abs(<f64>countKept(mask) - <f64>n * (1.0 - p))).toBeLessThanOrEqual(5.0 * sigma);
    const scale = <f32>(1.0 / (1.0 - p));
    let wrong = 0;
    for (let i = 0; i < n; i++) {
      const want: f32 = mask[i] != 0 ? inp[i] * scale : inp[i] * 0.0;
      if (reinterpret<u32>(out[i]) != reinterpret<u32>(want)) wrong++;
    }
    expect<i32>(wrong).toBe(0);
  });

  it("draws neighbouring elements independently (pairs both kept ≈ (1 − p)² at p = 0.5)", () => {
    const n = 200000;
    const mask = maskOf(n, 0.5, 99, 0);
    let both = 0;
    for (let i = 0; i + 1 < n; i += 2) if (mask[i] != 0 && mask[i + 1] != 0) both++;
    const pairs = <f64>(n / 2);
    const sigma = Math.sqrt(pairs * 0.25 * 0.75);
    expect<f64>(Math.abs(<f64>both - pairs * 0.25)).toBeLessThanOrEqual(5.0 * sigma);
  });

  it("gives the same mask for the same seed and an unrelated one for another seed", () => {
    const n = 50000;
    const p = 0.1;
    const a = maskOf(n, p, 7, 0);
    const b = maskOf(n, p, 7, 0);
    const c = maskOf(n, p, 8, 0);
    let sameDiff = 0;
    let otherDiff = 0;
    for (let i = 0; i < n; i++) {
      if (a[i] != b[i]) sameDiff++;
      if (a[i] != c[i]) otherDiff++;
    }
    expect<i32>(sameDiff).toBe(0);
    // Independent masks disagree with probability 2p(1 − p) = 0.18 per element.
    const q = 2.0 * p * (1.0 - p);
    expect<f64>(Math.abs(<f64>otherDiff - <f64>n * q)).toBeLessThanOrEqual(5.0 * Math.sqrt(<f64>n * q * (1.0 - q)));
  });

  it("depends only on (seed, offset + i): one call equals element-by-element calls, and offsets shift the stream", () => {
    const n = 103;
    const p = 0.3;
    const whole = maskOf(n, p, 5, 1000);
    const t = threshold(p);
    for (let i = 0; i < n; i++) {
      expect<u8>(maskOf(1, p, 5, 1000 + <u32>i)[0]).toBe(whole[i], "element " + i.toString());
      const kept: u8 = <u64>dropout_random_u32(5, 1000, <u32>i) >= t ? 1 : 0;
      expect<u8>(kept).toBe(whole[i], "documented rule at element " + i.toString());
    }
    const shifted = maskOf(n - 10, p, 5, 1010);
    for (let i = 0; i < n - 10; i++) expect<u8>(shifted[i]).toBe(whole[i + 10]);
  });

  it("never writes past n (n = 1, 5, 7) and drops everything at p = 1", () => {
    const sizes: i32[] = [1, 5, 7];
    for (let k = 0; k < sizes.length; k++) {
      const n = sizes[k];
      const inp = filledF32(n + 3, 2.5);
      const out = filledF32(n + 3, SENTINEL);
      const mask = new Uint8Array(n + 3);
      mask.fill(77);
      dropout_forward(out.dataStart, inp.dataStart, mask.dataStart, n, 0.5, 3, 0);
      for (let i = n; i < n + 3; i++) {
        expect<f32>(out[i]).toBe(SENTINEL);
        expect<u8>(mask[i]).toBe(77);
      }
      for (let i = 0; i < n; i++) expect<bool>(mask[i] == 0 || mask[i] == 1).toBe(true);
      dropout_forward(out.dataStart, inp.dataStart, mask.dataStart, n, 1.0, 3, 0);
      for (let i = 0; i < n; i++) {
        expect<f32>(out[i]).toBe(0.0);
        expect<u8>(mask[i]).toBe(0);
      }
    }
  });
});

describe("dropout_backward", () => {
  it("applies the forward mask and scale to the incoming gradient, from the mask or regenerated", () => {
    const n = 1003;
    const p = 0.25;
    const rng = new Rng(4);
    const inp = randomF32(rng, n, -1.0, 1.0);
    const out = new Float32Array(n);
    const mask = new Uint8Array(n);
    dropout_forward(out.dataStart, inp.dataStart, mask.dataStart, n, p, 77, 500);
    const dOut = randomF32(rng, n, -1.0, 1.0);
    const fromMask = new Float32Array(n);
    dropout_backward(fromMask.dataStart, dOut.dataStart, mask.dataStart, n, p, 0, 0);
    const scale = <f32>(1.0 / (1.0 - p)); // 4/3, not exact in f32: the rounding must match forward's
    for (let i = 0; i < n; i++) {
      const want: f32 = dOut[i] * (mask[i] != 0 ? scale : <f32>0.0);
      expect<u32>(reinterpret<u32>(fromMask[i])).toBe(reinterpret<u32>(want));
      // The same keep/scale factor forward used: out = inp·factor.
      expect<f32>(out[i]).toBe(inp[i] * (mask[i] != 0 ? scale : <f32>0.0));
    }
    const regenerated = new Float32Array(n);
    dropout_backward(regenerated.dataStart, dOut.dataStart, 0, n, p, 77, 500);
    expectBitsEqual(regenerated, fromMask, "regenerated mask");
    // In place on the gradient buffer.
    const inPlace = dOut.slice(0);
    dropout_backward(inPlace.dataStart, inPlace.dataStart, mask.dataStart, n, p, 0, 0);
    expectBitsEqual(inPlace, fromMask, "in place");
  });

  it("with p = 0 passes the gradient through unchanged", () => {
    const n = 9;
    const dOut = randomF32(new Rng(6), n, -1.0, 1.0);
    const dInp = filledF32(n, SENTINEL);
    const mask = new Uint8Array(n);
    mask.fill(1);
    dropout_backward(dInp.dataStart, dOut.dataStart, mask.dataStart, n, 0.0, 0, 0);
    expectBitsEqual(dInp, dOut, "copy");
  });
});
