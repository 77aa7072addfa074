// A plain-JS BERT classifier forward pass over a checkpoint file, for the int8
// tests. Float work is done in f64; every linear layer the checkpoint stores
// as I8 computes exactly what assembly/gemm_int8.ts defines:
//   scale = f32(max|row| / 127), q = clamp(round-half-even(f32(x / scale)), ±127)
//   (rows of the f32 input, per row), acc = Σ q_x·q_w (exact integers),
//   y = f32(f32(acc) · f32(scale_x · scale_w)) (+ bias, in f32).
// Int8 embedding tables are widened as the loader does: f32(q · scale).
// The "noise" mode (with `withWeightNoise`) replaces every rounding to int8 by
// uniform noise of the same step instead (weights and embeddings once per
// draw, activations at every linear layer): the textbook model of quantization
// error, used to derive how far int8 may move the logits.
import { parseBertConfig, parseSafetensors, resolveCheckpointTensors, type BertConfig, type SafetensorsTensor } from "../../src/checkpoint/index.js";

export type Mode = { kind: "exact" } | { kind: "noise"; random: () => number };

interface RefLinear {
  /** [n][k] f32 weights (absent when int8). */
  readonly w?: Float32Array;
  /** [n][k] int8 weights and [n] scales (absent when float). */
  readonly q?: Int8Array;
  readonly scales?: Float32Array;
  readonly bias: Float32Array;
  readonly n: number;
  readonly k: number;
}

interface RefLayer {
  query: RefLinear;
  key: RefLinear;
  value: RefLinear;
  attentionOutput: RefLinear;
  attentionNorm: [Float32Array, Float32Array];
  intermediate: RefLinear;
  output: RefLinear;
  outputNorm: [Float32Array, Float32Array];
}

export interface RefModel {
  readonly config: BertConfig;
  /** f32 tables ([rows][D]); `*Scales` present when the file stores them as int8. */
  readonly tables: Record<"word" | "position" | "type", { values: Float32Array; q?: Int8Array; scales?: Float32Array }>;
  readonly embeddingNorm: [Float32Array, Float32Array];
  readonly layers: RefLayer[];
  readonly pooler: RefLinear;
  readonly classifier: RefLinear;
}

export interface RefBatch {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
}

/** Reads a classifier checkpoint (config.json text + model.safetensors bytes) of any mix of F32, F16 and I8 tensors. */
export function readRefModel(configText: string, weights: Uint8Array): RefModel {
  const config = parseBertConfig(configText);
  const resolved = resolveCheckpointTensors(parseSafetensors(weights), config);
  const tensor = (name: string) => resolved.tensors.get(name)!;
  const floats = (name: string) => toFloat32(tensor(name));
  const linear = (prefix: string): RefLinear => {
    const t = tensor(`${prefix}.weight`);
    const [n, k] = t.shape;
    const bias = floats(`${prefix}.bias`);
    if (t.dtype === "I8") return { q: new Int8Array(t.data.slice().buffer), scales: toFloat32(resolved.scales.get(`${prefix}.weight`)!), bias, n, k };
    return { w: toFloat32(t), bias, n, k };
  };
  const table = (name: string) => {
    const t = tensor(name);
    if (t.dtype !== "I8") return { values: toFloat32(t) };
    const q = new Int8Array(t.data.slice().buffer);
    const scales = toFloat32(resolved.scales.get(name)!);
    const cols = t.shape[1];
    const values = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) values[i] = Math.fround(q[i] * scales[Math.floor(i / cols)]);
    return { values, q, scales };
  };
  const norm = (prefix: string): [Float32Array, Float32Array] => [floats(`${prefix}.weight`), floats(`${prefix}.bias`)];
  const layers: RefLayer[] = [];
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const p = `encoder.layer.${l}.`;
    layers.push({
      query: linear(`${p}attention.self.query`),
      key: linear(`${p}attention.self.key`),
      value: linear(`${p}attention.self.value`),
      attentionOutput: linear(`${p}attention.output.dense`),
      attentionNorm: norm(`${p}attention.output.LayerNorm`),
      intermediate: linear(`${p}intermediate.dense`),
      output: linear(`${p}output.dense`),
      outputNorm: norm(`${p}output.LayerNorm`),
    });
  }
  return {
    config,
    tables: {
      word: table("embeddings.word_embeddings.weight"),
      position: table("embeddings.position_embeddings.weight"),
      type: table("embeddings.token_type_embeddings.weight"),
    },
    embeddingNorm: norm("embeddings.LayerNorm"),
    layers,
    pooler: linear("pooler.dense"),
    classifier: linear("classifier"),
  };
}

function toFloat32(t: SafetensorsTensor): Float32Array {
  const bytes = t.data.slice();
  if (t.dtype === "F32") return new Float32Array(bytes.buffer);
  if (t.dtype === "F16") return Float32Array.from(new Uint16Array(bytes.buffer), halfToNumber);
  throw new Error(`emulation: unexpected dtype ${t.dtype}`);
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The int8 step of a row: f32(max|x| / 127) over the row's f32 values. */
export function rowStep(row: ArrayLike<number>): number {
  let mx = 0;
  for (let t = 0; t < row.length; t++) mx = Math.max(mx, Math.abs(Math.fround(row[t])));
  return Math.fround(mx / 127);
}

/** Round half to even, spelled out. */
function roundHalfEven(x: number): number {
  const r = Math.floor(x);
  const frac = x - r;
  if (frac > 0.5) return r + 1;
  if (frac < 0.5) return r;
  return r % 2 === 0 ? r : r + 1;
}

export function quantizeValue(x: number, step: number): number {
  if (step === 0) return 0;
  return Math.min(127, Math.max(-127, roundHalfEven(Math.fround(Math.fround(x) / step))));
}

/** Uniform in [−step/2, step/2). */
function noise(mode: Mode, step: number): number {
  return mode.kind === "noise" ? (mode.random() - 0.5) * step : 0;
}

/** [m][n] = layer applied to x [m][k] (rows). */
function linear(layer: RefLinear, x: Float64Array, m: number, mode: Mode): Float64Array {
  const { n, k, bias } = layer;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = x.subarray(i * k, (i + 1) * k);
    if (layer.q) {
      const sa = rowStep(row);
      const qa = Array.from(row, (v) => quantizeValue(v, sa));
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let t = 0; t < k; t++) acc += qa[t] * layer.q[j * k + t];
        out[i * n + j] = Math.fround(Math.fround(Math.fround(acc) * Math.fround(sa * layer.scales![j])) + bias[j]);
      }
      continue;
    }
    const w = layer.w!;
    // Noise mode: the input row carries uniform noise of its int8 step.
    const sa = mode.kind === "noise" ? rowStep(row) : 0;
    const xr = Array.from(row, (v) => v + noise(mode, sa));
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += xr[t] * w[j * k + t];
      out[i * n + j] = acc + bias[j];
    }
  }
  return out;
}

function layerNorm(x: Float64Array, rows: number, dim: number, [gamma, beta]: [Float32Array, Float32Array], eps: number): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * dim, (r + 1) * dim);
    const mean = row.reduce((a, b) => a + b, 0) / dim;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / dim;
    const rstd = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < dim; c++) out[r * dim + c] = (row[c] - mean) * rstd * gamma[c] + beta[c];
  }
  return out;
}

/** erf through erfc's Chebyshev fit (Numerical Recipes' erfcc, relative error < 1.2e-7). */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc : erfc - 1;
}

/**
 * A copy of a float model whose linear weights and embedding tables each carry
 * uniform noise of their row's int8 step (one draw of the rounding-noise model).
 */
export function withWeightNoise(model: RefModel, random: () => number): RefModel {
  const perturb = (values: Float32Array, cols: number) => {
    const out = new Float32Array(values.length);
    for (let r = 0; r < values.length / cols; r++) {
      const step = rowStep(values.subarray(r * cols, (r + 1) * cols));
      for (let c = 0; c < cols; c++) out[r * cols + c] = values[r * cols + c] + (random() - 0.5) * step;
    }
    return out;
  };
  const lin = (l: RefLinear): RefLinear => {
    if (!l.w) throw new Error("withWeightNoise: the model must be float");
    return { ...l, w: perturb(l.w, l.k) };
  };
  const D = model.config.hiddenSize;
  const table = (t: RefModel["tables"]["word"]) => ({ values: perturb(t.values, D) });
  return {
    ...model,
    tables: { word: table(model.tables.word), position: table(model.tables.position), type: table(model.tables.type) },
    layers: model.layers.map((l) => ({
      ...l,
      query: lin(l.query),
      key: lin(l.key),
      value: lin(l.value),
      attentionOutput: lin(l.attentionOutput),
      intermediate: lin(l.intermediate),
      output: lin(l.output),
    })),
    pooler: lin(model.pooler),
    classifier: lin(model.classifier),
  };
}

/** Logits [batch][numLabels] and hidden states [1 + layers][batch·seq][D]. */
export function refForward(model: RefModel, batch: RefBatch, mode: Mode = { kind: "exact" }): { logits: Float64Array; hidden: Float64Array[] } {
  const c = model.config;
  const B = batch.inputIds.length;
  const S = batch.inputIds[0].length;
  const M = B * S;
  const D = c.hiddenSize;
  const H = c.numAttentionHeads;
  const dHead = c.attentionHeadSize;
  const A = H * dHead;
  const emb = new Float64Array(M * D);
  const tableValue = (name: "word" | "position" | "type", row: number, col: number) => model.tables[name].values[row * D + col];
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      for (let d = 0; d < D; d++) {
        emb[(b * S + s) * D + d] = tableValue("word", batch.inputIds[b][s], d) + tableValue("type", batch.tokenTypeIds[b][s], d) + tableValue("position", s, d);
      }
    }
  }
  let x = layerNorm(emb, M, D, model.embeddingNorm, c.layerNormEps);
  const hidden = [x];
  for (const layer of model.layers) {
    const q = linear(layer.query, x, M, mode);
    const k = linear(layer.key, x, M, mode);
    const v = linear(layer.value, x, M, mode);
    const ctx = new Float64Array(M * A);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < S; i++) {
          const scores = new Float64Array(S);
          for (let j = 0; j < S; j++) {
            let dot = 0;
            for (let e = 0; e < dHead; e++) dot += q[(b * S + i) * A + h * dHead + e] * k[(b * S + j) * A + h * dHead + e];
            scores[j] = dot / Math.sqrt(dHead) + (1 - batch.attentionMask[b][j]) * -10000;
          }
          const mx = Math.max(...scores);
          const exps = scores.map((z) => Math.exp(z - mx));
          const total = exps.reduce((a, e) => a + e, 0);
          for (let e = 0; e < dHead; e++) {
            let sum = 0;
            for (let j = 0; j < S; j++) sum += (exps[j] / total) * v[(b * S + j) * A + h * dHead + e];
            ctx[(b * S + i) * A + h * dHead + e] = sum;
          }
        }
      }
    }
    const attn = linear(layer.attentionOutput, ctx, M, mode);
    for (let i = 0; i < M * D; i++) attn[i] += x[i];
    const x1 = layerNorm(attn, M, D, layer.attentionNorm, c.layerNormEps);
    const inter = linear(layer.intermediate, x1, M, mode).map((z) => 0.5 * z * (1 + erf(z / Math.SQRT2)));
    const out = linear(layer.output, inter, M, mode);
    for (let i = 0; i < M * D; i++) out[i] += x1[i];
    x = layerNorm(out, M, D, layer.outputNorm, c.layerNormEps);
    hidden.push(x);
  }
  const cls = new Float64Array(B * D);
  for (let b = 0; b < B; b++) cls.set(x.subarray(b * S * D, b * S * D + D), b * D);
  const pooled = linear(model.pooler, cls, B, mode).map(Math.tanh);
  return { logits: linear(model.classifier, pooled, B, mode), hidden };
}
