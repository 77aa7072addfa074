// The relaxed-SIMD build (build/release-relaxed.wasm) against the baseline:
// its GEMM kernels replay, bit for bit, the baseline's order of operations with
// each multiply-add rounded as this machine's relaxed_madd rounds it (the
// probe says fused or not); every kernel output stays within the f32 error
// bound of the baseline's; whole-model logits and hidden states match PyTorch
// as closely as the baseline's must, and the baseline within twice PyTorch's
// own f32 rounding error; and the default load picks it where it validates.
// The relaxed side runs in relaxed-child.ts, in a process with
// --experimental-wasm-relaxed-simd when this Node needs the flag (Node 20).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { before, describe, it } from "node:test";
import { instantiateCore, type Core } from "../../bindings/index.js";
import { parseSafetensors } from "../../src/checkpoint/safetensors.js";
import { DynaBert } from "../../src/node.js";
import {
  ATTENTION_CASES, attentionInputs, decodeF32, FIXTURES, GEMM_CASES, gemmInputs, MODEL_FIXTURES, runAttention, runGemm,
  type AttentionCase, type GemmCase,
} from "./relaxed-jobs.js";

const ROOT = join(import.meta.dirname, "..", "..");
const RELAXED_BYTES = readFileSync(join(ROOT, "build", "release-relaxed.wasm"));
const U = 2 ** -24; // f32 unit roundoff
const GOLDEN_TOLERANCE = 1e-4; // tests/engine/golden.test.ts: the engine against PyTorch

interface ChildReport {
  node: string;
  rounding: "fused" | "unfused" | undefined;
  gemm: Record<string, { out: string; dInp: string; dW: string }>;
  attention: Record<string, { ctx: string; probs: string }>;
  models: Record<string, Record<string, { logits: string; hidden: string }>>;
  selection: Record<string, string | boolean>;
  threads: { relaxedVariant: string; autoVariant: string; baselineVariant: string; h12: Record<string, { logits: string; hidden: string }> };
}

async function runChild(): Promise<ChildReport> {
  // Node 22+ validates relaxed SIMD by default; Node 20 needs the V8 flag.
  const flags = WebAssembly.validate(RELAXED_BYTES) ? [] : ["--experimental-wasm-relaxed-simd"];
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...flags, "--import", "tsx", join(import.meta.dirname, "relaxed-child.ts")],
    { cwd: ROOT, maxBuffer: 1 << 28 },
  );
  return JSON.parse(stdout) as ChildReport;
}

// ---- f32 arithmetic, replayed in doubles --------------------------------------------------

const bits = new Float32Array(1);
const bitsU = new Uint32Array(bits.buffer);

/** The f32 next to r (finite) toward +∞ (up) or −∞. */
function stepF32(r: number, up: boolean): number {
  if (r === 0) return up ? 2 ** -149 : -(2 ** -149);
  bits[0] = r;
  bitsU[0] += (r > 0) === up ? 1 : -1;
  return bits[0];
}

/** a·b + c rounded once to f32 (a, b, c f32 values). */
function fusedF32(a: number, b: number, c: number): number {
  const p = a * b; // exact: 24 + 24 significand bits fit a double
  const s = p + c;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb); // TwoSum: s + err = p + c exactly
  const r = Math.fround(s);
  if (err === 0 || r === s) return r;
  // Rounding s instead of s + err differs only when s lies exactly halfway between two f32s.
  const other = stepF32(r, s > r);
  if ((r + other) / 2 !== s) return r;
  return err > 0 === other > r ? other : r;
}

/** a·b rounded to f32, then + c rounded: what baseline SIMD computes. */
function unfusedF32(a: number, b: number, c: number): number {
  return Math.fround(Math.fround(a * b) + c);
}

type MulAdd = (a: number, b: number, c: number) => number;

// ---- the GEMM kernels' order of operations (assembly/gemm.ts) ------------------------------

/** linear_forward: per output, c = bias; c = madd(x_t, w_t, c) for t ascending. `[m][n]`. */
function replayForward(c: GemmCase, x: ReturnType<typeof gemmInputs>, madd: MulAdd): Float32Array {
  const out = new Float32Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let acc = x.bias[j];
      for (let t = 0; t < c.k; t++) acc = madd(x.inp[i * c.kFull + t], x.w[j * c.kFull + t], acc);
      out[i * c.n + j] = acc;
    }
  }
  return out;
}

/**
 * linear_backward_input (one panel group): four lane sums s_l, each adding per panel
 * madd(d[8p+4+l], W[8p+4+l][t], d[8p+l]·W[8p+l][t]) (lanes past n are zeros), then
 * (s0 + s2) + (s1 + s3). `[m][k]`.
 */
function replayBackwardInput(c: GemmCase, x: ReturnType<typeof gemmInputs>, madd: MulAdd): Float32Array {
  const dInp = new Float32Array(c.m * c.k);
  const panels = Math.ceil(c.n / 8);
  const d = (i: number, j: number) => (j < c.n ? x.dOut[i * c.nFull + j] : 0);
  const w = (j: number, t: number) => (j < c.n ? x.w[j * c.kFull + t] : 0);
  for (let i = 0; i < c.m; i++) {
    for (let t = 0; t < c.k; t++) {
      const s = [0, 0, 0, 0];
      for (let p = 0; p < panels; p++) {
        for (let l = 0; l < 4; l++) {
          const lo = 8 * p + l;
          const hi = lo + 4;
          s[l] = Math.fround(s[l] + madd(d(i, hi), w(hi, t), Math.fround(d(i, lo) * w(lo, t))));
        }
      }
      dInp[i * c.k + t] = Math.fround(Math.fround(s[0] + s[2]) + Math.fround(s[1] + s[3]));
    }
  }
  return dInp;
}

/** linear_backward_weight (one pass over the rows): dW[j][t] = dW0 + (c = madd(inp_i[t], dOut_i[j], c) down the rows). `[nFull][kFull]`. */
function replayBackwardWeight(c: GemmCase, x: ReturnType<typeof gemmInputs>, madd: MulAdd): Float32Array {
  const dW = x.dW0.slice();
  for (let j = 0; j < c.n; j++) {
    for (let t = 0; t < c.k; t++) {
      let acc = 0;
      for (let i = 0; i < c.m; i++) acc = madd(x.inp[i * c.kFull + t], x.dOut[i * c.nFull + j], acc);
      dW[j * c.kFull + t] = Math.fround(dW[j * c.kFull + t] + acc);
    }
  }
  return dW;
}

function firstMismatch(actual: Float32Array, expected: Float32Array): string | undefined {
  assert.equal(actual.length, expected.length, "element count");
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) return `element ${i}: ${actual[i]} ≠ ${expected[i]}`;
  }
  return undefined;
}

// ---- error bounds ----------------------------------------------------------------------------

/** γ_n = n·u/(1 − n·u): a result with n roundings along any term's path is within γ_n·Σ|terms| of exact. */
const gamma = (n: number) => (n * U) / (1 - n * U);

/**
 * Σ|terms| of each output of the three kernels (in f64): the bound both builds'
 * errors scale with. Every term passes through at most K + 4 roundings (its
 * product, the chain over K, pair and lane sums), fused or not.
 */
function termMagnitudes(c: GemmCase, x: ReturnType<typeof gemmInputs>) {
  const out = new Float64Array(c.m * c.n);
  const dInp = new Float64Array(c.m * c.k);
  const dW = Float64Array.from(x.dW0, Math.abs);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let s = Math.abs(x.bias[j]);
      const dOut = Math.abs(x.dOut[i * c.nFull + j]);
      for (let t = 0; t < c.k; t++) {
        const a = Math.abs(x.inp[i * c.kFull + t]);
        const w = Math.abs(x.w[j * c.kFull + t]);
        s += a * w;
        dInp[i * c.k + t] += dOut * w;
        dW[j * c.kFull + t] += a * dOut;
      }
      out[i * c.n + j] = s;
    }
  }
  return { out, dInp, dW };
}

/** Largest |a − b| / (2·γ_{K+4}·S + tiny) over the outputs: ≤ 1 when both are within their f32 bound of exact. */
function worstAgainstBound(a: Float32Array, b: Float32Array, magnitude: Float64Array, K: number): number {
  const g = 2 * gamma(K + 4);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (g * magnitude[i] + 2 ** -149));
  return worst;
}

// ---- attention in f64, with attention.spec.ts's f32 error model ------------------------------

/**
 * Worst error / tolerance of probs and ctx against the f64 definition. As in
 * assembly/__tests__/attention.spec.ts: a probability may be off by
 * p·(2⁻²⁰ + 4u·(A_j + max A)) with A_j = Σ|q·k_j|/√d, a context element by
 * M·(2⁻²⁰ + 8u·max A) with M = Σ_j |p_j·v_j|; 2⁻¹²⁵ floors both.
 */
function attentionWorst(c: AttentionCase, got: { ctx: Float32Array; probs: Float32Array }): { probs: number; ctx: number } {
  const x = attentionInputs(c);
  const width = c.heads * c.headDim;
  const sqrtD = Math.sqrt(c.headDim);
  const floor = 2 ** -125;
  let worstP = 0;
  let worstCtx = 0;
  for (let b = 0; b < c.batch; b++) {
    for (let h = 0; h < c.heads; h++) {
      const col = h * c.headDim;
      const row = (s: number) => (b * c.seq + s) * x.ld + col;
      for (let i = 0; i < c.seq; i++) {
        const scores = new Float64Array(c.seq);
        const magnitude = new Float64Array(c.seq);
        for (let j = 0; j < c.seq; j++) {
          let dot = 0;
          let abs = 0;
          for (let t = 0; t < c.headDim; t++) {
            const prod = x.q[row(i) + t] * x.k[row(j) + t];
            dot += prod;
            abs += Math.abs(prod);
          }
          scores[j] = dot / sqrtD + x.maskAdd[b * c.seq + j];
          magnitude[j] = abs / sqrtD;
        }
        const top = Math.max(...scores);
        const maxA = Math.max(...magnitude);
        const exps = scores.map((s) => Math.exp(s - top));
        const total = exps.reduce((s, e) => s + e, 0);
        const probs = exps.map((e) => e / total);
        const probsRow = ((b * c.heads + h) * c.seq + i) * c.seq;
        for (let j = 0; j < c.seq; j++) {
          const tol = probs[j] * (2 ** -20 + 4 * U * (magnitude[j] + maxA)) + floor;
          worstP = Math.max(worstP, Math.abs(got.probs[probsRow + j] - probs[j]) / tol);
        }
        for (let t = 0; t < c.headDim; t++) {
          let ctx = 0;
          let m = 0;
          for (let j = 0; j < c.seq; j++) {
            ctx += probs[j] * x.v[row(j) + t];
            m += Math.abs(probs[j] * x.v[row(j) + t]);
          }
          const tol = m * (2 ** -20 + 8 * U * maxA) + floor;
          worstCtx = Math.max(worstCtx, Math.abs(got.ctx[(b * c.seq + i) * width + col + t] - ctx) / tol);
        }
      }
    }
  }
  return { probs: worstP, ctx: worstCtx };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, "element count");
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

function goldenFloats(dir: string): Map<string, Float32Array> {
  const parsed = parseSafetensors(new Uint8Array(readFileSync(join(dir, "golden.safetensors"))), "golden.safetensors");
  return new Map([...parsed.tensors].map(([name, t]) => [name, new Float32Array(new Uint8Array(t.data).buffer)]));
}

describe("relaxed-SIMD build", () => {
  let child: ChildReport;
  let baseline: Core;
  before(async () => {
    child = await runChild();
    baseline = await instantiateCore(readFileSync(join(ROOT, "build", "release.wasm")));
  });

  it("runs here with a legal relaxed_madd, and each build reports which it is", () => {
    assert.ok(child.rounding === "fused" || child.rounding === "unfused", `relaxed_madd probe in ${child.node}: ${child.rounding}`);
    assert.equal(baseline.exports.simd_relaxed(), 0);
    assert.equal(child.selection.relaxedVariant, "relaxed");
  });

  describe("GEMM kernels", () => {
    for (const c of GEMM_CASES.filter((g) => g.exact)) {
      it(`${c.name}: forward and both backwards replay the baseline's order with the probe's madd rounding, bit for bit`, () => {
        const madd = child.rounding === "fused" ? fusedF32 : unfusedF32;
        const x = gemmInputs(c);
        const got = child.gemm[c.name];
        assert.equal(firstMismatch(decodeF32(got.out), replayForward(c, x, madd)), undefined, "linear_forward");
        assert.equal(firstMismatch(decodeF32(got.dInp), replayBackwardInput(c, x, madd)), undefined, "linear_backward_input");
        assert.equal(firstMismatch(decodeF32(got.dW), replayBackwardWeight(c, x, madd)), undefined, "linear_backward_weight");
      });
    }

    it("the scalar replay tells the roundings apart: the baseline matches it unfused, and not fused", () => {
      const c = GEMM_CASES[0];
      const x = gemmInputs(c);
      const base = runGemm(baseline, c);
      assert.equal(firstMismatch(base.out, replayForward(c, x, unfusedF32)), undefined);
      assert.notEqual(firstMismatch(base.out, replayForward(c, x, fusedF32)), undefined);
    });

    for (const c of GEMM_CASES) {
      it(`${c.name}: within 2·γ(K+4)·Σ|terms| of the baseline, and different from it where madd is fused`, () => {
        const x = gemmInputs(c);
        const base = runGemm(baseline, c);
        const got = child.gemm[c.name];
        const relaxed = { out: decodeF32(got.out), dInp: decodeF32(got.dInp), dW: decodeF32(got.dW) };
        const magnitude = termMagnitudes(c, x);
        const worst = {
          out: worstAgainstBound(relaxed.out, base.out, magnitude.out, c.k),
          dInp: worstAgainstBound(relaxed.dInp, base.dInp, magnitude.dInp, c.n),
          dW: worstAgainstBound(relaxed.dW, base.dW, magnitude.dW, c.m),
        };
        for (const [name, w] of Object.entries(worst)) assert.ok(w <= 1, `${name}: worst difference / bound = ${w}`);
        if (child.rounding === "fused" && c.k > 4) {
          assert.notEqual(firstMismatch(relaxed.out, base.out), undefined, "a fused build that equals the baseline bit for bit is not using relaxed_madd");
        }
      });
    }
  });

  describe("attention", () => {
    for (const c of ATTENTION_CASES) {
      it(`${c.name}: probs and ctx within the f32 error model of the f64 definition, as the baseline's are`, () => {
        const got = child.attention[c.name];
        const relaxed = { ctx: decodeF32(got.ctx), probs: decodeF32(got.probs) };
        const base = runAttention(baseline, c);
        for (const [build, result] of [["relaxed", relaxed], ["baseline", base]] as const) {
          const worst = attentionWorst(c, result);
          assert.ok(worst.probs <= 1, `${build} probs: worst error / tolerance = ${worst.probs}`);
          assert.ok(worst.ctx <= 1, `${build} ctx: worst error / tolerance = ${worst.ctx}`);
        }
        if (child.rounding === "fused") assert.notEqual(firstMismatch(relaxed.ctx, base.ctx), undefined, "relaxed ctx equals the baseline's bit for bit");
      });
    }
  });

  for (const fixture of MODEL_FIXTURES) {
    describe(`whole model: ${fixture}, all 12 sub-networks`, () => {
      const dir = join(FIXTURES, fixture);
      const meta = JSON.parse(readFileSync(join(dir, "golden.json"), "utf8")) as {
        configs: { name: string; width: number; depth: number; max_abs_diff_f32_vs_f64: { hidden: number; logits: number } }[];
      };
      const inputs = JSON.parse(readFileSync(join(dir, "inputs.json"), "utf8"));
      // PyTorch's own f32 error on this fixture (against f64), its largest over the sub-networks:
      // the size of an f32 rounding difference in this network. Relaxed and baseline are each an
      // f32 evaluation off the exact result by about that much, so they may differ by twice it.
      const f32Error = {
        logits: Math.max(...meta.configs.map((c) => c.max_abs_diff_f32_vs_f64.logits)),
        hidden: Math.max(...meta.configs.map((c) => c.max_abs_diff_f32_vs_f64.hidden)),
      };

      it("logits and hidden states match PyTorch within the golden tolerance, and the baseline within twice PyTorch's f32 error", async () => {
        const golden = goldenFloats(dir);
        const model = await DynaBert.load(dir, { simd: "baseline" });
        assert.equal(model.wasmVariant, "baseline");
        let largest = { logits: 0, hidden: 0 };
        for (const cfg of meta.configs) {
          const got = child.models[fixture][cfg.name];
          const relaxed = { logits: decodeF32(got.logits), hidden: decodeF32(got.hidden) };
          const base = model.forward(
            { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask, tokenTypeIds: inputs.token_type_ids },
            { width: cfg.width, depth: cfg.depth, hiddenStates: true },
          );
          const toGolden = maxAbsDiff(relaxed.hidden, golden.get(`${cfg.name}.hidden`)!);
          assert.ok(toGolden <= GOLDEN_TOLERANCE, `${cfg.name}: hidden vs PyTorch ${toGolden}`);
          const goldenLogits = golden.get(`${cfg.name}.logits`)!;
          assert.ok(maxAbsDiff(relaxed.logits, goldenLogits) <= GOLDEN_TOLERANCE, `${cfg.name}: logits vs PyTorch`);
          const diff = { logits: maxAbsDiff(relaxed.logits, base.logits!.data), hidden: maxAbsDiff(relaxed.hidden, base.hiddenStates!.data) };
          assert.ok(diff.logits <= 2 * f32Error.logits, `${cfg.name}: logits differ from the baseline by ${diff.logits} > 2 × ${f32Error.logits}`);
          assert.ok(diff.hidden <= 2 * f32Error.hidden, `${cfg.name}: hidden states differ from the baseline by ${diff.hidden} > 2 × ${f32Error.hidden}`);
          largest = { logits: Math.max(largest.logits, diff.logits), hidden: Math.max(largest.hidden, diff.hidden) };
        }
        if (child.rounding === "fused") assert.ok(largest.hidden > 0, "a fused relaxed build reproduced the baseline bit for bit");
      });
    });
  }

  it('where relaxed SIMD runs, "auto" loads the relaxed build, "baseline" the baseline, and a failing validate falls back', () => {
    assert.equal(child.selection.autoVariant, "relaxed");
    assert.equal(child.selection.autoReadsRelaxed, true);
    assert.equal(child.selection.baselineVariant, "baseline");
    assert.equal(child.selection.autoWithFailingValidateReadsBaseline, true);
  });

  it('with threads: 2, "auto" and "relaxed" load the relaxed threaded build, "baseline" the baseline one', () => {
    assert.equal(child.threads.relaxedVariant, "relaxed");
    assert.equal(child.threads.autoVariant, "relaxed");
    assert.equal(child.threads.baselineVariant, "baseline");
  });

  it("two threads of the relaxed threaded build give one relaxed thread's logits and hidden states bit for bit, at all 12 sub-networks", () => {
    const oneThread = child.models.h12;
    const names = Object.keys(oneThread);
    assert.equal(names.length, 12);
    assert.deepEqual(Object.keys(child.threads.h12).sort(), [...names].sort());
    for (const name of names) {
      assert.equal(child.threads.h12[name].logits, oneThread[name].logits, `${name}: logits`);
      assert.equal(child.threads.h12[name].hidden, oneThread[name].hidden, `${name}: hidden states`);
    }
  });
});
