/**
 * DistilBERT's distillation loss: soft cross-entropy between the teacher's and
 * the student's masked-LM distributions at every non-padding position, with
 * temperature T and DistilBERT's T² factor:
 *
 *   loss = T² · (1/R) Σ_r −Σ_v softmax(t_r/T)_v · log softmax(s_r/T)_v
 *
 * over the R positions whose attention mask is 1 ([CLS] and [SEP] included,
 * as DistilBERT's default `restrict_ce_to_mask = False`). DistilBERT writes it
 * as KL(teacher ‖ student)·T², which differs from this by the teacher's
 * entropy, a constant: the gradients are the same.
 *
 * Both sides run the MLM head (dense → GELU → LayerNorm → decoder tied to the
 * word embeddings, src/train/mlm/head.ts) on those rows, R_CHUNK rows at a
 * time so the `[rows][V]` logits stay bounded at BERT-base vocabularies: the
 * teacher's in the teacher's arena (inference), the student's with backward
 * into its head, its word embeddings and its last hidden state.
 */
import type { Core, Tensor } from "../../../bindings/index.js";
import type { BertConfig } from "../../checkpoint/config.js";
import type { DynaBert } from "../../dynabert.js";
import type { TrainingGraph } from "../graph.js";
import type { MlmHead, MlmHeadGrads } from "../mlm/head.js";

/** Rows of logits per chunk: bounds the `[rows][V]` buffers (2 × 256 × V floats). */
const ROW_CHUNK = 256;
/** Embedding rows per dE product: bounds its `[rows][D]` scratch. */
const VOCAB_CHUNK = 1024;

export interface VocabSoftArgs {
  /** The teacher and its head (in the teacher's arena). */
  readonly teacher: DynaBert;
  readonly teacherHead: MlmHead;
  /** The teacher's last hidden state `[M][D_t]` for the same batch. */
  readonly teacherLast: Float32Array;
  /** The student's head, its gradients, and its word embeddings `[V][D]` with their gradient (the tied decoder). */
  readonly head: MlmHead;
  readonly headGrads: MlmHeadGrads;
  readonly wordEmbeddings: Tensor;
  readonly wordEmbeddingsGrad: Tensor;
  readonly temperature: number;
  /** The gradients are those of weight · loss. */
  readonly weight: number;
}

/**
 * Returns the loss above (T² included, not the weight) and adds the gradients
 * of weight·loss into the head's, the word embeddings' and
 * `graph.stateGrads[depth]`. Allocates arena scratch and releases it.
 */
export function vocabSoftLoss(core: Core, config: BertConfig, graph: TrainingGraph, a: VocabSoftArgs): number {
  const { exports: wasm, arena } = core;
  const D = config.hiddenSize;
  const Dt = a.teacher.config.hiddenSize;
  const V = config.vocabSize;
  const T = a.temperature;
  const depth = graph.states.length - 1;
  const mask = graph.batch.attentionMask;
  const positions: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) positions.push(i);
  const R = positions.length;
  if (R === 0) return 0;

  const chunk = Math.min(R, ROW_CHUNK);
  const mark = arena.mark();
  try {
    const f32 = (name: string, ...shape: number[]) => arena.alloc(name, "f32", shape);
    const x = f32("vsoft_x", chunk, D); // gathered last-state rows
    const dx = f32("vsoft_dx", chunk, D);
    const dh = f32("vsoft_dh", chunk, D);
    const logits = f32("vsoft_logits", chunk, V); // the student's, then divided by T
    const target = f32("vsoft_teacher", chunk, V); // the teacher's, divided by T
    const dLogits = f32("vsoft_dlogits", chunk, V);
    const work = new DecoderScratch(core, chunk, V, D);
    const acts = new TransformActivations(core, chunk, D);
    let total = 0;
    for (let r0 = 0; r0 < R; r0 += chunk) {
      const n = Math.min(chunk, R - r0);
      const rows = positions.slice(r0, r0 + n);

      const teacherRows = new Float32Array(n * Dt);
      rows.forEach((p, r) => teacherRows.set(a.teacherLast.subarray(p * Dt, (p + 1) * Dt), r * Dt));
      arena.f32(target).set(teacherVocabLogits(a.teacher, a.teacherHead, teacherRows, n));

      const xs = arena.f32(x);
      const state = arena.f32(graph.states[depth]);
      rows.forEach((p, r) => xs.set(state.subarray(p * D, (p + 1) * D), r * D));
      transformForward(core, config.layerNormEps, a.head, acts, x, n, D);
      decoderLogits(core, work, a.wordEmbeddings, a.head.bias, acts.h, logits, n, V, D);
      if (T !== 1) {
        wasm.scale_inplace(logits.ptr, n * V, 1 / T);
        wasm.scale_inplace(target.ptr, n * V, 1 / T);
      }
      wasm.zero_fill(dLogits.ptr, n * V);
      // The kernel averages over its n rows: n/R makes it the mean over all R.
      const scale = (a.weight * T * T * n) / R;
      total += wasm.soft_cross_entropy_forward_backward(dLogits.ptr, logits.ptr, target.ptr, n, V, scale) * n;
      if (T !== 1) wasm.scale_inplace(dLogits.ptr, n * V, 1 / T); // s/T inside the softmax

      decoderBackward(core, work, a.wordEmbeddings, a.wordEmbeddingsGrad, a.headGrads.bias, acts.h, dLogits, dh, n, V, D);
      transformBackward(core, a.head, a.headGrads, acts, x, dh, dx, n, D);
      const grad = arena.f32(graph.stateGrads[depth]);
      const dxs = arena.f32(dx);
      rows.forEach((p, r) => {
        for (let j = 0; j < D; j++) grad[p * D + j] += dxs[r * D + j];
      });
    }
    return (T * T * total) / R;
  } finally {
    arena.release(mark);
  }
}

/** The teacher's MLM logits `[n][V]` of `rows` (`[n][D_t]`, its last hidden state), computed in its own arena. */
export function teacherVocabLogits(teacher: DynaBert, head: MlmHead, rows: Float32Array, n: number): Float32Array {
  const { core, weights } = teacher.engine;
  const D = teacher.config.hiddenSize;
  const V = teacher.config.vocabSize;
  const mark = core.arena.mark();
  try {
    const x = core.arena.alloc("teacher_vsoft_x", "f32", [n, D]);
    core.arena.f32(x).set(rows);
    const acts = new TransformActivations(core, n, D);
    transformForward(core, teacher.config.layerNormEps, head, acts, x, n, D);
    const logits = core.arena.alloc("teacher_vsoft_logits", "f32", [n, V]);
    decoderLogits(core, new DecoderScratch(core, n, V, D), weights.wordEmbeddings, head.bias, acts.h, logits, n, V, D);
    return core.arena.f32(logits).slice(0, n * V);
  } finally {
    core.arena.release(mark);
  }
}

/** The head transform's saved activations, `[rows][D]` each (`mean`, `rstd` `[rows]`). */
class TransformActivations {
  readonly pre: Tensor; // dense output = GELU input
  readonly act: Tensor; // GELU output = LayerNorm input
  readonly mean: Tensor;
  readonly rstd: Tensor;
  readonly h: Tensor; // LayerNorm output = decoder input
  constructor(core: Core, rows: number, D: number) {
    const f32 = (name: string, ...shape: number[]) => core.arena.alloc(name, "f32", shape);
    this.pre = f32("vsoft_dense", rows, D);
    this.act = f32("vsoft_gelu", rows, D);
    this.mean = f32("vsoft_ln_mean", rows);
    this.rstd = f32("vsoft_ln_rstd", rows);
    this.h = f32("vsoft_h", rows, D);
  }
}

function transformForward(core: Core, eps: number, head: MlmHead, acts: TransformActivations, x: Tensor, n: number, D: number): void {
  const wasm = core.exports;
  const t = head.transform;
  wasm.linear_forward(acts.pre.ptr, x.ptr, t.weight.ptr, t.bias.ptr, n, D, D, D, D, D);
  wasm.gelu_forward(acts.act.ptr, acts.pre.ptr, n * D);
  wasm.layernorm_forward(acts.h.ptr, acts.act.ptr, head.transformNorm.gamma.ptr, head.transformNorm.beta.ptr, acts.mean.ptr, acts.rstd.ptr, n, D, eps);
}

/** dx `[n][D]` (overwritten) from dh; the head's transform gradients accumulated. dh is clobbered. */
function transformBackward(core: Core, head: MlmHead, grads: MlmHeadGrads, acts: TransformActivations, x: Tensor, dh: Tensor, dx: Tensor, n: number, D: number): void {
  const wasm = core.exports;
  const g = grads.transformNorm;
  wasm.layernorm_backward(dh.ptr, g.gamma.ptr, g.beta.ptr, dh.ptr, acts.act.ptr, head.transformNorm.gamma.ptr, acts.mean.ptr, acts.rstd.ptr, n, D);
  wasm.gelu_backward(dh.ptr, acts.pre.ptr, dh.ptr, n * D);
  wasm.linear_backward_input(dx.ptr, dh.ptr, head.transform.weight.ptr, n, D, D, D, D, D, 0);
  wasm.linear_backward_weight(grads.transform.weight.ptr, grads.transform.bias.ptr, dh.ptr, x.ptr, n, D, D, D, D, D);
}

/**
 * Scratch of the tied decoder for up to `rows` rows. The word embeddings E
 * `[V][D]` stay row-major and are never copied: the small h is what gets
 * packed, so logitsᵀ = E·hᵀ is a forward product with E as the input.
 */
class DecoderScratch {
  readonly transposed: Tensor; // [V][rows]: logitsᵀ, then dlogitsᵀ
  readonly hPacked: Tensor; // h packed as a [rows][D] weight
  readonly hTPacked: Tensor; // hᵀ packed as a [D][rows] weight
  readonly hT: Tensor; // [D][rows] row-major
  readonly dhPacked: Tensor; // dh, packed like hPacked
  readonly dEChunk: Tensor; // [VOCAB_CHUNK][D]
  constructor(core: Core, rows: number, V: number, D: number) {
    const { arena, exports: wasm } = core;
    this.transposed = arena.alloc("vsoft_transposed", "f32", [V, rows]);
    this.hPacked = arena.alloc("vsoft_h_packed", "f32", [rows, D], wasm.packed_weight_floats(rows, D));
    this.hTPacked = arena.alloc("vsoft_hT_packed", "f32", [D, rows], wasm.packed_weight_floats(D, rows));
    this.hT = arena.alloc("vsoft_hT", "f32", [D, rows]);
    this.dhPacked = arena.alloc("vsoft_dh_packed", "f32", [rows, D], wasm.packed_weight_floats(rows, D));
    this.dEChunk = arena.alloc("vsoft_dE_chunk", "f32", [Math.min(V, VOCAB_CHUNK), D]);
  }
}

/** logits `[n][V]` = h·Eᵀ + bias. */
function decoderLogits(core: Core, s: DecoderScratch, E: Tensor, bias: Tensor, h: Tensor, logits: Tensor, n: number, V: number, D: number): void {
  const { exports: wasm, arena } = core;
  wasm.pack_weight(s.hPacked.ptr, h.ptr, n, D);
  wasm.linear_forward(s.transposed.ptr, E.ptr, s.hPacked.ptr, 0, V, n, D, D, D, n);
  const src = arena.f32(s.transposed);
  const dst = arena.f32(logits);
  const b = arena.f32(bias);
  for (let v = 0; v < V; v++) {
    const o = v * n;
    for (let r = 0; r < n; r++) dst[r * V + v] = src[o + r] + b[v];
  }
}

/** dh `[n][D]` = dlogits·E (overwritten); dE += dlogitsᵀ·h; dBias += Σ_rows dlogits. */
function decoderBackward(core: Core, s: DecoderScratch, E: Tensor, dE: Tensor, dBias: Tensor, h: Tensor, dLogits: Tensor, dh: Tensor, n: number, V: number, D: number): void {
  const { exports: wasm, arena } = core;
  const dl = arena.f32(dLogits);
  const dlT = arena.f32(s.transposed);
  const db = arena.f32(dBias);
  for (let v = 0; v < V; v++) {
    let sum = 0;
    for (let r = 0; r < n; r++) {
      const g = dl[r * V + v];
      dlT[v * n + r] = g;
      sum += g;
    }
    db[v] += sum;
  }
  // dh as the weight gradient of logitsᵀ = E·hᵀ with respect to h.
  wasm.zero_fill(s.dhPacked.ptr, s.dhPacked.length);
  wasm.linear_backward_weight(s.dhPacked.ptr, 0, s.transposed.ptr, E.ptr, V, n, D, D, D, n);
  wasm.unpack_weight(dh.ptr, s.dhPacked.ptr, n, D);
  // dE += dlogitsᵀ·h, a forward product over packed hᵀ, VOCAB_CHUNK embedding rows at a time.
  const hs = arena.f32(h);
  const hT = arena.f32(s.hT);
  for (let r = 0; r < n; r++) for (let t = 0; t < D; t++) hT[t * n + r] = hs[r * D + t];
  wasm.pack_weight(s.hTPacked.ptr, s.hT.ptr, D, n);
  const vChunk = s.dEChunk.shape[0];
  for (let v0 = 0; v0 < V; v0 += vChunk) {
    const m = Math.min(vChunk, V - v0);
    const rowsOfE = dE.ptr + v0 * D * 4;
    wasm.linear_forward(s.dEChunk.ptr, s.transposed.ptr + v0 * n * 4, s.hTPacked.ptr, 0, m, D, n, n, n, D);
    wasm.add_forward(rowsOfE, rowsOfE, s.dEChunk.ptr, m * D);
  }
}
