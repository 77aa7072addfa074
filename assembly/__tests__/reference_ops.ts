// Scalar references and test data for the attention, layernorm, gelu and embedding
// kernel tests. Straight loops in f64 (except where the kernel's f32 order is the spec),
// written for obviousness, not speed. Nothing here is shared with the kernels.

// ---- deterministic data ---------------------------------------------------------------

/** xorshift32: the same seed gives the same test data on every run. */
export class Rng {
  state: u32;
  constructor(seed: u32) {
    this.state = seed != 0 ? seed : 0x9e3779b9;
  }
  nextU32(): u32 {
    let s = this.state;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    this.state = s;
    return s;
  }
  /** Uniform in [lo, hi). */
  uniform(lo: f64, hi: f64): f64 {
    return lo + (hi - lo) * (<f64>(this.nextU32() >>> 8) / 16777216.0);
  }
  /** Uniform integer in [0, n). */
  below(n: i32): i32 {
    return <i32>(this.nextU32() % <u32>n);
  }
}

/** f32 `[n]` uniform in [lo, hi). */
export function randomF32(rng: Rng, n: i32, lo: f64, hi: f64): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = <f32>rng.uniform(lo, hi);
  return a;
}

/** A value no kernel computes by accident; buffers are pre-filled with it to detect stray writes. */
export const SENTINEL: f32 = -7777.25;

export function filledF32(n: i32, value: f32): Float32Array {
  const a = new Float32Array(n);
  a.fill(value);
  return a;
}

/** The same values in f64 (exact): references compute from these. */
export function toF64(a: Float32Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = <f64>a[i];
  return out;
}

/** Byte address of element `index` of `a` (for passing sub-ranges, e.g. misaligned by one float). */
export function addressOf(a: Float32Array, index: i32): usize {
  return a.dataStart + (<usize>index << 2);
}

// ---- erf and GELU in f64, by methods unrelated to the kernel's polynomials ----------

/** erf(x) for 0 ≤ x ≤ 3 from the all-positive series 2/√π·e^{-x²}·Σ 2ⁿx^{2n+1}/(1·3·…·(2n+1)). */
function erfSeries(x: f64): f64 {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2.0 * x * x) / <f64>(2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return (2.0 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/** erfc(x) for x ≥ 3 from the continued fraction e^{-x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))). */
function erfcContinuedFraction(x: f64): f64 {
  let f = x;
  for (let k = 120; k > 0; k--) f = x + (<f64>k * 0.5) / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** erf in f64 (error ~1e-15). */
export function refErf(x: f64): f64 {
  const a = Math.abs(x);
  const r = a < 3.0 ? erfSeries(a) : 1.0 - erfcContinuedFraction(a);
  return x < 0 ? -r : r;
}

/** erfc in f64, accurate relative to its own value for x ≥ 0. */
export function refErfc(x: f64): f64 {
  if (x < 0) return 2.0 - refErfc(-x);
  return x < 3.0 ? 1.0 - erfSeries(x) : erfcContinuedFraction(x);
}

/** GELU(x) = 0.5·x·(1 + erf(x/√2)) in f64; the negative side via erfc keeps it relatively accurate. */
export function refGelu(x: f64): f64 {
  return 0.5 * x * refErfc(-x * Math.SQRT1_2);
}

// ---- attention ---------------------------------------------------------------------------

/**
 * f64 attention, the definition: for each (b, h, i)
 *   s_j = Σ_t q[b][i][h·D+t]·k[b][j][h·D+t] / √D + maskAdd[b][j];  p_j = e^{s_j - max s} / Σ e^{…}
 *   ctx[b][i][h·D+t] = hm[h]·Σ_j p_j·f_j·v[b][j][h·D+t]
 * q, k, v: `[batch][seq][ld]` starting at element `qOff`/`kOff`/`vOff` of their arrays;
 * maskAdd `[batch][seq]`; headMask `[heads]` or null (ones); dropFactor f (dropout's 0 or
 * 1/(1−p) per probability) `[batch][heads][seq][seq]` or null (ones). Inputs are f64 so
 * that the same code also serves finite differences.
 * Outputs: probs f64 `[batch][heads][seq][seq]` (before dropout); ctx f64
 * `[batch][seq][heads·D]` (compact); and the scales that f32 rounding errors are
 * proportional to: scoreMagnitude f64 like probs, Σ_t |q_t·k_t| / √D (mask excluded);
 * ctxMagnitude f64 like ctx, Σ_j |hm·p_j·f_j·v_j|.
 */
export class AttentionReference {
  probs: Float64Array;
  scoreMagnitude: Float64Array;
  ctx: Float64Array;
  ctxMagnitude: Float64Array;
  constructor(
    q: Float64Array, qOff: i32, k: Float64Array, kOff: i32, v: Float64Array, vOff: i32,
    maskAdd: Float64Array, headMask: Float64Array | null,
    batch: i32, seq: i32, heads: i32, headDim: i32, ld: i32,
    dropFactor: Float64Array | null = null,
  ) {
    const width = heads * headDim;
    this.probs = new Float64Array(batch * heads * seq * seq);
    this.scoreMagnitude = new Float64Array(batch * heads * seq * seq);
    this.ctx = new Float64Array(batch * seq * width);
    this.ctxMagnitude = new Float64Array(batch * seq * width);
    const scores = new Float64Array(seq);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        const hm: f64 = headMask != null ? headMask[h] : 1.0;
        for (let i = 0; i < seq; i++) {
          const pBase = ((b * heads + h) * seq + i) * seq;
          let max = -Infinity;
          for (let j = 0; j < seq; j++) {
            let dot = 0.0;
            let magnitude = 0.0;
            for (let t = 0; t < headDim; t++) {
              const product = q[qOff + (b * seq + i) * ld + h * headDim + t] * k[kOff + (b * seq + j) * ld + h * headDim + t];
              dot += product;
              magnitude += Math.abs(product);
            }
            scores[j] = dot / Math.sqrt(<f64>headDim) + maskAdd[b * seq + j];
            this.scoreMagnitude[pBase + j] = magnitude / Math.sqrt(<f64>headDim);
            if (scores[j] > max) max = scores[j];
          }
          let sum = 0.0;
          for (let j = 0; j < seq; j++) sum += Math.exp(scores[j] - max);
          for (let j = 0; j < seq; j++) this.probs[pBase + j] = Math.exp(scores[j] - max) / sum;
          for (let t = 0; t < headDim; t++) {
            let acc = 0.0;
            let mag = 0.0;
            for (let j = 0; j < seq; j++) {
              const f: f64 = dropFactor != null ? dropFactor[pBase + j] : 1.0;
              const term = hm * this.probs[pBase + j] * f * v[vOff + (b * seq + j) * ld + h * headDim + t];
              acc += term;
              mag += Math.abs(term);
            }
            this.ctx[(b * seq + i) * width + h * headDim + t] = acc;
            this.ctxMagnitude[(b * seq + i) * width + h * headDim + t] = mag;
          }
        }
      }
    }
  }
}

/** The BERT additive mask in f64 (exact for integer masks, so it is the f32 answer too). */
export function refMaskAdditive(mask: Int32Array): Float64Array {
  const out = new Float64Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = (1.0 - <f64>mask[i]) * -10000.0;
  return out;
}

// ---- layernorm ---------------------------------------------------------------------------

/**
 * f64 layernorm: two-pass mean and biased variance. Inputs inp `[rows][dim]`, gamma and
 * beta `[dim]` (f64, for finite differences too); outputs out `[rows][dim]`, mean/rstd `[rows]`.
 */
export class LayerNormReference {
  out: Float64Array;
  mean: Float64Array;
  rstd: Float64Array;
  constructor(inp: Float64Array, gamma: Float64Array, beta: Float64Array, rows: i32, dim: i32, eps: f64) {
    this.out = new Float64Array(rows * dim);
    this.mean = new Float64Array(rows);
    this.rstd = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let sum = 0.0;
      for (let t = 0; t < dim; t++) sum += inp[r * dim + t];
      const mean = sum / <f64>dim;
      let sq = 0.0;
      for (let t = 0; t < dim; t++) {
        const c = inp[r * dim + t] - mean;
        sq += c * c;
      }
      const rstd = 1.0 / Math.sqrt(sq / <f64>dim + eps);
      for (let t = 0; t < dim; t++) {
        this.out[r * dim + t] = (inp[r * dim + t] - mean) * rstd * gamma[t] + beta[t];
      }
      this.mean[r] = mean;
      this.rstd[r] = rstd;
    }
  }
}

// ---- embedding ---------------------------------------------------------------------------

/**
 * Embedding sum in f32 in HuggingFace's order, (word + type) + pos: elementwise, so the
 * exact f32 result is the specification. typeIds null means all type 0.
 */
export function refEmbedding(
  ids: Int32Array, typeIds: Int32Array | null, word: Float32Array, pos: Float32Array, type: Float32Array,
  batch: i32, seq: i32, dim: i32,
): Float32Array {
  const out = new Float32Array(batch * seq * dim);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const token = b * seq + s;
      const tid = typeIds != null ? typeIds[token] : 0;
      for (let t = 0; t < dim; t++) {
        const wordPlusType: f32 = word[ids[token] * dim + t] + type[tid * dim + t];
        out[token * dim + t] = wordPlusType + pos[s * dim + t];
      }
    }
  }
  return out;
}

/** The embedding sum in f64, for finite differences: out `[batch][seq][dim]`. */
export function refEmbeddingF64(
  ids: Int32Array, typeIds: Int32Array | null, word: Float64Array, pos: Float64Array, type: Float64Array,
  batch: i32, seq: i32, dim: i32,
): Float64Array {
  const out = new Float64Array(batch * seq * dim);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const token = b * seq + s;
      const tid = typeIds != null ? typeIds[token] : 0;
      for (let t = 0; t < dim; t++) out[token * dim + t] = word[ids[token] * dim + t] + type[tid * dim + t] + pos[s * dim + t];
    }
  }
  return out;
}

// ---- finite differences ------------------------------------------------------------------

/** Σ a[i]·b[i] in f64: the scalar loss whose gradient a backward pass computes, for dOut = b. */
export function dotF64(a: Float64Array, b: Float64Array): f64 {
  let s = 0.0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Central-difference step: with inputs of order 1, truncation (~h²) and f64 rounding (~1e-16/h) both stay below 1e-8. */
export const FD_STEP: f64 = 1e-4;
