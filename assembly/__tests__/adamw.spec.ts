/// <reference types="@as-pect/assembly/types/as-pect" />
import { adamw_step, adamw_step_hf, grad_sum_squares, scale_inplace, zero_fill } from "../adamw";
import { fma1, fma4 } from "../fused_multiply_add";
import { Rng, SENTINEL, filledF32, randomF32 } from "./reference_ops";
import { countBitMismatches, fromBits, refAdamwHf, refAdamwTorch, refFma } from "./reference_train";
import {
  ADAMW_BETA1, ADAMW_BETA2, ADAMW_EPS, ADAMW_GRADS, ADAMW_HF_PARAM_DECAY, ADAMW_HF_PARAM_NO_DECAY, ADAMW_LR,
  ADAMW_M, ADAMW_N, ADAMW_PARAM0, ADAMW_STEPS, ADAMW_TORCH_PARAM_DECAY, ADAMW_TORCH_PARAM_NO_DECAY, ADAMW_V,
  ADAMW_WEIGHT_DECAY,
} from "./fixture_adamw_torch";

const TWO_M23: f64 = 1.1920928955078125e-7; // 2^-23
const TWO_M24: f64 = 5.9604644775390625e-8; // 2^-24

function copyOf(a: Float32Array): Float32Array {
  const c = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) c[i] = a[i];
  return c;
}

/** f32 values spread over many binades, both signs, with some exact zeros. */
function wideRandom(rng: Rng, n: i32, minExp: f64, maxExp: f64): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (rng.below(20) == 0) continue;
    const mag = Math.pow(10.0, rng.uniform(minExp, maxExp));
    a[i] = <f32>(rng.below(2) == 0 ? mag : -mag);
  }
  return a;
}

describe("fused multiply-add emulation", () => {
  it("rounds once where f64 evaluation would round twice", () => {
    // a·b + c lands, after f64 rounding, exactly on the midpoint of two f32 neighbours,
    // while the exact value lies 2^-70 to one side; a plain f64 fma gets both wrong.
    const a: f32 = <f32>(1.0 + TWO_M23);
    const b: f32 = <f32>(TWO_M24 * (1.0 - TWO_M23));
    const c: f32 = <f32>(1.0 + TWO_M23);
    // exact = 1 + 3·2^-24 − 2^-70: just below the midpoint of 1 + 2^-23 and 1 + 2^-22.
    expect<f32>(fma1(a, b, c)).toBe(<f32>(1.0 + TWO_M23));
    expect<f32>(<f32>(<f64>a * <f64>b + <f64>c)).toBe(<f32>(1.0 + 2.0 * TWO_M23), "the naive f64 result differs");
    // exact = 1 + 2^-24 + 2^-70: just above the midpoint of 1 and 1 + 2^-23.
    expect<f32>(fma1(-a, b, c)).toBe(<f32>(1.0 + TWO_M23));
    expect<f32>(<f32>(-<f64>a * <f64>b + <f64>c)).toBe(1.0, "the naive f64 result differs");
    expect<f32>(refFma(a, b, c)).toBe(<f32>(1.0 + TWO_M23));
    expect<f32>(refFma(-a, b, c)).toBe(<f32>(1.0 + TWO_M23));
  });

  it("is right on 20k generated near-midpoint cases, where plain f64 evaluation fails about half the time", () => {
    // c = r, an f32 whose neighbours are both one ulp u away (mantissa not 0, or r
    // subnormal), and a·b = ±(u/2)·(1 − x²·2^-46) with a = s·(1 + x·2^-23),
    // b = ±(u/2s)(1 − x·2^-23): the exact sum lies a hair inside r's rounding interval,
    // so the answer is r. The hair is under half an f64 ulp of r (x < 362 for normal r,
    // x < 16 for subnormal r ≥ 2^-135), so f64 rounds onto the midpoint and its tie goes
    // to the even neighbour: wrong whenever r is odd. One case in four is subnormal.
    const rng = new Rng(72);
    let wrong = 0;
    let wrongSubnormal = 0;
    let naiveWrong = 0;
    const cases = 20000;
    for (let k = 0; k < cases; k++) {
      const subnormal = k % 4 == 0;
      const sign: u32 = rng.below(2) == 0 ? 0 : 0x80000000;
      let r: f32, halfUlp: f64, x: f64, split: f64;
      if (subnormal) {
        r = reinterpret<f32>(sign | <u32>(0x4000 + rng.below(0x7fffff - 0x4000))); // [2^-135, 2^-126)
        halfUlp = 7.006492321624085e-46; // 2^-150
        x = <f64>(1 + rng.below(15));
        split = 2.6469779601696886e-23; // 2^-75: keeps a and b normal
      } else {
        const exponent = 40 + rng.below(180); // biased exponent: r in about [2^-87, 2^92]
        r = reinterpret<f32>(sign | (<u32>exponent << 23) | <u32>(1 + rng.below(0x7ffffe)));
        halfUlp = <f64>reinterpret<f32>(<u32>(exponent - 24) << 23);
        x = <f64>(1 + rng.below(300));
        split = 1.0;
      }
      const a = <f32>(split * (1.0 + x * TWO_M23));
      const b = <f32>((rng.below(2) == 0 ? -1.0 : 1.0) * (halfUlp / split) * (1.0 - x * TWO_M23));
      if (fma1(a, b, r) != r) {
        wrong++;
        if (subnormal) wrongSubnormal++;
      }
      if (<f32>(<f64>a * <f64>b + <f64>r) != r) naiveWrong++;
    }
    expect<i32>(wrong).toBe(0, "subnormal among them: " + wrongSubnormal.toString());
    expect<i32>(naiveWrong).toBeGreaterThan(cases / 4, "the cases really are hard");
  });

  it("agrees with an independent correctly rounded fma on 400k random triples, lane by lane, subnormal results included", () => {
    const rng = new Rng(71);
    let mismatches = 0;
    const a = new Float32Array(4);
    const b = new Float32Array(4);
    const c = new Float32Array(4);
    const out = new Float32Array(4);
    for (let k = 0; k < 100000; k++) {
      for (let l = 0; l < 4; l++) {
        // One triple in four gives an f32-subnormal result (below 2^-126), where the
        // kernel must leave its fast path.
        const tiny = rng.below(4) == 0;
        const range = tiny ? 4.0 : 60.0;
        const shift = tiny ? -70.0 : 0.0;
        a[l] = <f32>(rng.uniform(-1.0, 1.0) * Math.pow(2.0, shift + rng.uniform(-range, range)));
        b[l] = <f32>(rng.uniform(-1.0, 1.0) * Math.pow(2.0, shift + rng.uniform(-range, range)));
        // Half the time c nearly cancels a·b, where a lost rounding shows most.
        c[l] = rng.below(2) == 0
          ? <f32>(-(<f64>a[l] * <f64>b[l]) * (1.0 + rng.uniform(-1e-6, 1e-6)))
          : <f32>(rng.uniform(-1.0, 1.0) * Math.pow(2.0, tiny ? rng.uniform(-148.0, -130.0) : rng.uniform(-120.0, 120.0)));
      }
      v128.store(out.dataStart, fma4(v128.load(a.dataStart), v128.load(b.dataStart), v128.load(c.dataStart)));
      for (let l = 0; l < 4; l++) {
        if (reinterpret<u32>(out[l]) != reinterpret<u32>(refFma(a[l], b[l], c[l]))) mismatches++;
      }
    }
    expect<i32>(mismatches).toBe(0);
  });
});

// The fixture holds what torch 1.13 computed (scripts/golden/gen_adamw_fixture.py);
// its header records how many moment values an unfused replay gets wrong.
function runFixture(hf: bool, weightDecay: f64, expected: StaticArray<u32>): i32 {
  const n = ADAMW_N;
  const p = fromBits(ADAMW_PARAM0, 0, n);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  let mismatches = 0;
  for (let t = 0; t < ADAMW_STEPS; t++) {
    const g = fromBits(ADAMW_GRADS, t * n, n);
    if (hf) {
      adamw_step_hf(p.dataStart, g.dataStart, m.dataStart, v.dataStart, n, ADAMW_LR[t], ADAMW_BETA1, ADAMW_BETA2, ADAMW_EPS, weightDecay, t + 1);
    } else {
      adamw_step(p.dataStart, g.dataStart, m.dataStart, v.dataStart, n, ADAMW_LR[t], ADAMW_BETA1, ADAMW_BETA2, ADAMW_EPS, weightDecay, t + 1);
    }
    mismatches += countBitMismatches(m, fromBits(ADAMW_M, t * n, n));
    mismatches += countBitMismatches(v, fromBits(ADAMW_V, t * n, n));
    mismatches += countBitMismatches(p, fromBits(expected, t * n, n));
  }
  return mismatches;
}

describe("adamw_step against PyTorch's own results", () => {
  it("torch.optim.AdamW without weight decay: every step's param, exp_avg, exp_avg_sq bit for bit", () => {
    expect<i32>(runFixture(false, 0.0, ADAMW_TORCH_PARAM_NO_DECAY)).toBe(0);
  });
  it("torch.optim.AdamW with weight decay 0.01: bit for bit", () => {
    expect<i32>(runFixture(false, ADAMW_WEIGHT_DECAY, ADAMW_TORCH_PARAM_DECAY)).toBe(0);
  });
  it("transformers 2.x AdamW without weight decay: bit for bit", () => {
    expect<i32>(runFixture(true, 0.0, ADAMW_HF_PARAM_NO_DECAY)).toBe(0);
  });
  it("transformers 2.x AdamW with weight decay 0.01: bit for bit", () => {
    expect<i32>(runFixture(true, ADAMW_WEIGHT_DECAY, ADAMW_HF_PARAM_DECAY)).toBe(0);
  });
  it("the two variants really differ (so the fixture tells them apart)", () => {
    expect<i32>(countBitMismatches(
      fromBits(ADAMW_TORCH_PARAM_DECAY, 0, ADAMW_N), fromBits(ADAMW_HF_PARAM_DECAY, 0, ADAMW_N),
    )).toBeGreaterThan(0);
  });
});

/** Runs 8 steps of kernel and scalar reference side by side; returns bit mismatches. */
function runAgainstReference(hf: bool, n: i32, weightDecay: f64, seed: u32): i32 {
  const rng = new Rng(seed);
  const p = wideRandom(rng, n, -4.0, 1.0);
  const pRef = copyOf(p);
  const m = new Float32Array(n), v = new Float32Array(n);
  const mRef = new Float32Array(n), vRef = new Float32Array(n);
  let mismatches = 0;
  for (let step = 1; step <= 8; step++) {
    const g = wideRandom(rng, n, -8.0, 2.0);
    const lr = 1e-4 * <f64>step; // a warmup ramp: lr changes every step
    if (hf) {
      adamw_step_hf(p.dataStart, g.dataStart, m.dataStart, v.dataStart, n, lr, 0.9, 0.98, 1e-6, weightDecay, step);
      refAdamwHf(pRef, g, mRef, vRef, lr, 0.9, 0.98, 1e-6, weightDecay, step);
    } else {
      adamw_step(p.dataStart, g.dataStart, m.dataStart, v.dataStart, n, lr, 0.9, 0.98, 1e-6, weightDecay, step);
      refAdamwTorch(pRef, g, mRef, vRef, lr, 0.9, 0.98, 1e-6, weightDecay, step);
    }
    mismatches += countBitMismatches(p, pRef) + countBitMismatches(m, mRef) + countBitMismatches(v, vRef);
  }
  return mismatches;
}

describe("adamw_step against the scalar reference", () => {
  it("torch variant, 8 steps, n = 1003 (vector body and tail), with and without weight decay: bit-exact", () => {
    expect<i32>(runAgainstReference(false, 1003, 0.0, 81)).toBe(0);
    expect<i32>(runAgainstReference(false, 1003, 0.05, 82)).toBe(0);
  });
  it("transformers variant, 8 steps, n = 1003, with and without weight decay: bit-exact", () => {
    expect<i32>(runAgainstReference(true, 1003, 0.0, 83)).toBe(0);
    expect<i32>(runAgainstReference(true, 1003, 0.05, 84)).toBe(0);
  });
  it("n = 1 and 3 (tail only) match too, and nothing past n is written", () => {
    for (let n = 1; n <= 3; n += 2) {
      const p = filledF32(n + 4, SENTINEL), g = filledF32(n + 4, SENTINEL);
      const m = filledF32(n + 4, SENTINEL), v = filledF32(n + 4, SENTINEL);
      for (let i = 0; i < n; i++) {
        p[i] = <f32>(0.5 + <f64>i);
        g[i] = <f32>(0.25 - <f64>i);
        m[i] = 0;
        v[i] = 0;
      }
      const pRef = p.slice(0, n), gRef = g.slice(0, n), mRef = m.slice(0, n), vRef = v.slice(0, n);
      adamw_step(p.dataStart, g.dataStart, m.dataStart, v.dataStart, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1);
      refAdamwTorch(pRef, gRef, mRef, vRef, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1);
      expect<i32>(countBitMismatches(p.slice(0, n), pRef)).toBe(0);
      for (let i = n; i < n + 4; i++) {
        expect<f32>(p[i]).toBe(SENTINEL);
        expect<f32>(m[i]).toBe(SENTINEL);
        expect<f32>(v[i]).toBe(SENTINEL);
      }
    }
  });
});

describe("gradient helpers", () => {
  it("grad_sum_squares is Σ g² in f64 (n = 0, 1, 3, 4, 1001)", () => {
    const rng = new Rng(91);
    const sizes: i32[] = [0, 1, 3, 4, 1001];
    for (let k = 0; k < sizes.length; k++) {
      const n = sizes[k];
      const g = randomF32(rng, n, -3.0, 3.0);
      let want = 0.0;
      for (let i = 0; i < n; i++) want += <f64>g[i] * <f64>g[i];
      // Only the f64 summation order differs: ≤ n·2^-53 relative.
      expect<f64>(Math.abs(grad_sum_squares(g.dataStart, n) - want)).toBeLessThanOrEqual(1e-15 * <f64>(n + 1) * want);
    }
  });

  it("grad_sum_squares keeps values whose f32 squares would overflow or vanish", () => {
    const g = new Float32Array(5);
    g[0] = 1e30; g[1] = -1e30; g[2] = 1e-30; g[3] = 3.0; g[4] = 4.0;
    let want = 0.0;
    for (let i = 0; i < 5; i++) want += <f64>g[i] * <f64>g[i]; // 1e30 is not an f32: square what is stored
    expect<f64>(Math.abs(grad_sum_squares(g.dataStart, 5) - want) / want).toBeLessThanOrEqual(1e-15);
    expect<bool>(isNaN(grad_sum_squares(filledF32(6, NaN).dataStart, 6))).toBe(true);
  });

  it("scale_inplace multiplies every element by s in f32 and nothing else", () => {
    const rng = new Rng(92);
    const n = 7;
    const x = randomF32(rng, n + 2, -10.0, 10.0);
    x[n] = SENTINEL;
    x[n + 1] = SENTINEL;
    const before = copyOf(x);
    const s: f32 = 0.3183099;
    scale_inplace(x.dataStart, n, s);
    for (let i = 0; i < n; i++) expect<f32>(x[i]).toBe(before[i] * s);
    expect<f32>(x[n]).toBe(SENTINEL);
    expect<f32>(x[n + 1]).toBe(SENTINEL);
  });

  it("zero_fill zeroes exactly n elements", () => {
    const x = filledF32(9, SENTINEL);
    zero_fill(x.dataStart + 4, 7);
    expect<f32>(x[0]).toBe(SENTINEL);
    for (let i = 1; i < 8; i++) expect<u32>(reinterpret<u32>(x[i])).toBe(0);
    expect<f32>(x[8]).toBe(SENTINEL);
    zero_fill(x.dataStart, 0);
    expect<f32>(x[0]).toBe(SENTINEL);
  });
});
