/**
 * The MLM head's decoder, tied to the word embeddings, fused with its
 * cross-entropy and backward:
 *
 *   logits[r][v] = Σ_t h[r][t]·E[v][t] + bias[v]        (E = word embeddings [V][D])
 *   loss = mean over rows of −log softmax(logits[r])[label[r]]
 *   dh = dlogits·E,   dE += dlogitsᵀ·h,   dbias += Σ_r dlogits[r]
 *
 * E stays row-major (the engine's embedding layout) and is never copied: it
 * always plays the *row-major input* of a GEMM, while the small h ([R][D])
 * is what gets packed. So every product runs on the V-row side:
 *   logitsᵀ [V][R] = linear_forward(inp = E, weight = h)
 *   dh             = linear_backward_weight(dOut = dlogitsᵀ, inp = E), packed [R][D], unpacked
 *   dE            += linear_forward(inp = dlogitsᵀ, weight = hᵀ) in V-chunks, added
 * with two JS transposes of [R][V] per chunk (the loss kernel wants rows of
 * logits). The obvious route — pack E into a scratch, linear_forward,
 * linear_backward_input, linear_backward_weight into a packed dE scratch,
 * unpack, add — runs at the same speed with the current kernels (BERT-base
 * vocab V = 30522, D = 768, R = 614: 6.3 s here vs 6.5 s, ~13.5 GFLOP/s on
 * this loaded 2-core machine) but needs two V×D scratch copies (188 MB at
 * BERT-base) on top of the [R][V] logits; this needs none.
 *
 * Rows go in chunks of ROW_CHUNK so the [V][rows] buffers stay bounded
 * (2 × V × 256 floats: 62 MB at BERT-base) whatever the batch.
 */
import type { Core, Tensor } from "../../../bindings/index.js";
import { InputError } from "../../errors.js";

/** Rows of h per chunk: bounds the two [V][rows] scratch buffers. */
const ROW_CHUNK = 256;
/** Embedding rows per dE product: bounds its [rows][D] scratch (3 MB at D = 768). */
const VOCAB_CHUNK = 1024;

export interface TiedDecoderArgs {
  /** Word embeddings `[V][D]` row-major, and their gradient (accumulated). */
  readonly embeddings: Tensor;
  readonly embeddingsGrad: Tensor;
  /** `[V]` output bias and its gradient (accumulated). */
  readonly bias: Tensor;
  readonly biasGrad: Tensor;
  /** `[rows][D]` the transformed hidden states. */
  readonly hidden: Tensor;
  /** `[rows][D]` d loss / d hidden (overwritten). */
  readonly hiddenGrad: Tensor;
  /** `[rows]` target token ids, each in [0, V). */
  readonly labels: Int32Array;
  readonly rows: number;
  readonly vocab: number;
  readonly dim: number;
  /** The gradients are those of scale · loss. */
  readonly scale: number;
}

/** Returns the mean cross-entropy over the rows (0 for no rows) and adds the gradients of scale · it. */
export function tiedDecoderForwardBackward(core: Core, a: TiedDecoderArgs): number {
  const { exports: wasm, arena } = core;
  const { rows: R, vocab: V, dim: D } = a;
  if (R === 0) return 0;
  for (let r = 0; r < R; r++) {
    const label = a.labels[r];
    if (!Number.isInteger(label) || label < 0 || label >= V) {
      throw new InputError("LABEL_OUT_OF_RANGE", `masked-LM label ${label} at masked row ${r} is not a token id of the ${V}-token vocabulary`);
    }
  }
  const PANEL = wasm.gemm_panel_width();
  const chunk = Math.min(R, ROW_CHUNK);
  const vChunk = Math.min(V, VOCAB_CHUNK);
  const mark = arena.mark();
  try {
    const bufA = arena.alloc("mlm_decoder_a", "f32", [V, chunk]); // logitsᵀ, then dlogits [rows][V]
    const bufB = arena.alloc("mlm_decoder_b", "f32", [chunk, V]); // logits, then dlogitsᵀ [V][rows]
    const hPacked = arena.alloc("mlm_h_packed", "f32", [chunk, D], wasm.packed_weight_floats(chunk, D));
    const hTPacked = arena.alloc("mlm_hT_packed", "f32", [D, chunk], wasm.packed_weight_floats(D, chunk));
    const dhPacked = arena.alloc("mlm_dh_packed", "f32", [chunk, D], wasm.packed_weight_floats(chunk, D));
    const dEChunk = arena.alloc("mlm_dE_chunk", "f32", [vChunk, D]);
    const labels = arena.alloc("mlm_labels", "i32", [chunk]);
    let total = 0;
    for (let r0 = 0; r0 < R; r0 += chunk) {
      const n = Math.min(chunk, R - r0);
      const hRows = a.hidden.ptr + r0 * D * 4;
      // Views after every allocation (growing memory detaches them); kernels never grow it.
      const A = arena.f32(bufA);
      const B = arena.f32(bufB);
      const bias = arena.f32(a.bias);
      const biasGrad = arena.f32(a.biasGrad);

      // logitsᵀ [V][n] = E · hᵀ, then logits [n][V] = its transpose + bias.
      wasm.pack_weight(hPacked.ptr, hRows, n, D);
      wasm.linear_forward(bufA.ptr, a.embeddings.ptr, hPacked.ptr, 0, V, n, D, D, D, n);
      transpose(A, B, V, n, bias);

      // dlogits [n][V] into A; the kernel averages over its n rows, so scale by n/R for the mean over all R.
      wasm.zero_fill(bufA.ptr, n * V);
      arena.i32(labels).set(a.labels.subarray(r0, r0 + n));
      total += wasm.masked_lm_cross_entropy_forward_backward(bufA.ptr, bufB.ptr, labels.ptr, n, V, -100, (a.scale * n) / R) * n;

      // dlogitsᵀ [V][n] into B; the bias gradient is its row sums.
      transpose(A, B, n, V);
      addRowSums(B, V, n, biasGrad);

      // dh [n][D] = dlogits · E: the weight gradient of logitsᵀ = E·hᵀ with respect to h.
      wasm.zero_fill(dhPacked.ptr, dhPacked.length);
      wasm.linear_backward_weight(dhPacked.ptr, 0, bufB.ptr, a.embeddings.ptr, V, n, D, D, D, n);
      wasm.unpack_weight(a.hiddenGrad.ptr + r0 * D * 4, dhPacked.ptr, n, D);

      // dE [V][D] += dlogitsᵀ · h, as a forward product over packed hᵀ, VOCAB_CHUNK rows at a time.
      packTransposed(arena.f32(a.hidden).subarray(r0 * D, (r0 + n) * D), arena.f32(hTPacked), n, D, PANEL);
      for (let v0 = 0; v0 < V; v0 += vChunk) {
        const m = Math.min(vChunk, V - v0);
        const dE = a.embeddingsGrad.ptr + v0 * D * 4;
        wasm.linear_forward(dEChunk.ptr, bufB.ptr + v0 * n * 4, hTPacked.ptr, 0, m, D, n, n, n, D);
        wasm.add_forward(dE, dE, dEChunk.ptr, m * D);
      }
    }
    return total / R;
  } finally {
    arena.release(mark);
  }
}

/** dst[c][r] = src[r][c] (+ srcRowBias[r]) for src `[rows][cols]`; blocked so both sides stay in cache. */
function transpose(src: Float32Array, dst: Float32Array, rows: number, cols: number, srcRowBias?: Float32Array): void {
  const BLOCK = 32;
  for (let c0 = 0; c0 < cols; c0 += BLOCK) {
    const c1 = Math.min(cols, c0 + BLOCK);
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const r1 = Math.min(rows, r0 + BLOCK);
      for (let r = r0; r < r1; r++) {
        const o = r * cols;
        const b = srcRowBias ? srcRowBias[r] : 0;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[o + c] + b;
      }
    }
  }
}

/** sums[i] += Σ_j x[i][j] for x `[rows][cols]` (summed in f64). */
function addRowSums(x: Float32Array, rows: number, cols: number, sums: Float32Array): void {
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = i * cols, end = j + cols; j < end; j++) s += x[j];
    sums[i] += s;
  }
}

/**
 * Packs Wᵀ for W = src `[rows][cols]` row-major, i.e. the weight `[cols][rows]`
 * in the GEMM panel layout (assembly/README.md, gemm.ts):
 * dst[p][t][j] = src[t][p·PANEL + j], zero past `cols`; n = cols, k = rows.
 */
function packTransposed(src: Float32Array, dst: Float32Array, rows: number, cols: number, panel: number): void {
  const panels = Math.ceil(cols / panel);
  for (let p = 0; p < panels; p++) {
    const c0 = p * panel;
    const width = Math.min(panel, cols - c0);
    const base = p * rows * panel;
    for (let t = 0; t < rows; t++) {
      const o = t * cols + c0;
      const d = base + t * panel;
      for (let j = 0; j < width; j++) dst[d + j] = src[o + j];
      for (let j = width; j < panel; j++) dst[d + j] = 0;
    }
  }
}
