/**
 * The wasm module's exports, typed. Every pointer is a byte offset into linear
 * memory (see assembly/README.md for the shapes each kernel expects).
 */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  heap_base(): number;
  /** multiply_add.ts: 1 in the relaxed-SIMD build (build/release-relaxed.wasm), 0 in the baseline one. */
  simd_relaxed(): number;

  // gemm.ts
  gemm_panel_width(): number;
  packed_weight_floats(n: number, k: number): number;
  pack_weight(dst: number, src: number, n: number, k: number): void;
  unpack_weight(dst: number, src: number, n: number, k: number): void;
  linear_forward(out: number, inp: number, wp: number, bias: number, m: number, n: number, k: number, kFull: number, ldInp: number, ldOut: number): void;

  /** dInp[i][t] (+)= Σ_{j<n} dOut[i][j]·W[j][t] for t < k (accumulate: 0 overwrite, 1 add). */
  linear_backward_input(dInp: number, dOut: number, wp: number, m: number, n: number, k: number, kFull: number, ldDInp: number, ldDOut: number, accumulate: boolean | number): void;
  /** dWp (packed like wp) += dOutᵀ·inp over the (n, k) prefix; dBias[j] += Σ_i dOut[i][j] (dBias may be 0). */
  linear_backward_weight(dWp: number, dBias: number, dOut: number, inp: number, m: number, n: number, k: number, kFull: number, ldInp: number, ldDOut: number): void;

  // gemm_int8.ts (int8 weights per output feature, int8 activations per row; layout and formula in its header)
  /** Bytes to pack a [n][k] weight as int8: ceil(n/8)·ceil(k/2)·16. */
  packed_int8_bytes(n: number, k: number): number;
  /** Bytes of scratch linear_forward_int8 needs for m rows of k inputs. */
  linear_int8_scratch_bytes(m: number, k: number): number;
  /** W f32 [n][k] → dstPacked (packed_int8_bytes) and scales f32 [n]. */
  quantize_weight_int8(dstPacked: number, scales: number, src: number, n: number, k: number): void;
  /** src f32 [m][ld] → dst int8 [m][k], scales f32 [m]. */
  quantize_rows_int8(dst: number, scales: number, src: number, m: number, k: number, ld: number): void;
  linear_forward_int8(out: number, inp: number, wq: number, wScales: number, bias: number, m: number, n: number, k: number, kFull: number, ldInp: number, ldOut: number, scratch: number): void;
  /** Already-quantized src int8 [n][k] → dstPacked (packed_int8_bytes), the layout quantize_weight_int8 writes. */
  pack_weight_int8(dstPacked: number, src: number, n: number, k: number): void;
  /** The first n rows of a weight packed from [nFull][k] → dst int8 [n][k]. */
  unpack_weight_int8(dst: number, srcPacked: number, n: number, k: number): void;
  /** dst f32 [n][k] = f32(src int8 [n][k]) · scales[n]. */
  dequantize_rows_int8(dst: number, src: number, scales: number, n: number, k: number): void;

  // attention.ts
  attention_mask_additive(out: number, mask: number, n: number): void;
  /** dropoutP = 0: inference. Otherwise attention-probability dropout with dropout_forward's mask over the flat probs at (seed, offset). */
  attention_forward(
    ctx: number, probs: number, q: number, k: number, v: number, maskAdd: number, headMask: number,
    batch: number, seq: number, heads: number, headDim: number, ldQKV: number, ldCtx: number,
    dropoutP: number, seed: number, offset: number,
  ): void;
  /** Floats of `scratch` attention_backward needs (2·seq·seq). */
  attention_backward_scratch_floats(seq: number): number;
  /**
   * dropoutP, seed, offset: the forward's (the mask is regenerated). dProbs: `[batch][heads][seq][seq]`
   * d loss / d probs from a loss on the attention maps themselves, added before the softmax backward; 0 or omitted for none.
   */
  attention_backward(
    dq: number, dk: number, dv: number, dHeadMask: number, dCtx: number, probs: number,
    q: number, k: number, v: number, headMask: number,
    batch: number, seq: number, heads: number, headDim: number, ldQKV: number, ldCtx: number,
    scratch: number, dropoutP: number, seed: number, offset: number, dProbs?: number,
  ): void;

  // layernorm.ts
  layernorm_forward(out: number, inp: number, gamma: number, beta: number, mean: number, rstd: number, rows: number, dim: number, eps: number): void;
  layernorm_backward(dInp: number, dGamma: number, dBeta: number, dOut: number, inp: number, gamma: number, mean: number, rstd: number, rows: number, dim: number): void;

  // gelu.ts
  gelu_forward(out: number, inp: number, n: number): void;
  gelu_backward(dInp: number, inp: number, dOut: number, n: number): void;

  // embedding.ts
  embedding_forward(out: number, ids: number, typeIds: number, word: number, pos: number, type: number, batch: number, seq: number, dim: number): void;
  embedding_backward(dWord: number, dPos: number, dType: number, dOut: number, ids: number, typeIds: number, batch: number, seq: number, dim: number, padId: number): void;

  // elementwise.ts
  add_forward(out: number, a: number, b: number, n: number): void;
  tanh_forward(out: number, inp: number, n: number): void;
  /** dInp = dOut·(1 − out²), from tanh's output; dInp may alias dOut. */
  tanh_backward(dInp: number, out: number, dOut: number, n: number): void;
  f16_to_f32(dst: number, src: number, n: number): void;
  bf16_to_f32(dst: number, src: number, n: number): void;
  f32_to_f16(dst: number, src: number, n: number): void;
  f32_to_bf16(dst: number, src: number, n: number): void;

  // loss.ts: each returns the unscaled loss and adds scale·gradient into its d* buffer.
  cross_entropy_forward_backward(dLogits: number, logits: number, labels: number, batch: number, classes: number, scale: number): number;
  masked_lm_cross_entropy_forward_backward(dLogits: number, logits: number, labels: number, rows: number, vocab: number, ignoreIndex: number, scale: number): number;
  soft_cross_entropy_forward_backward(dStudent: number, student: number, teacher: number, batch: number, classes: number, scale: number): number;
  mse_forward_backward(dA: number, a: number, b: number, n: number, scale: number): number;
  attention_mse_forward_backward(dA: number, a: number, b: number, n: number, scale: number): number;
  cosine_embedding_forward_backward(dA: number, a: number, b: number, rowMask: number, rows: number, dim: number, scale: number): number;

  // adamw.ts
  adamw_step(param: number, grad: number, m: number, v: number, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number): void;
  grad_sum_squares(grad: number, n: number): number;
  scale_inplace(x: number, n: number, s: number): void;
  zero_fill(x: number, n: number): void;

  // dropout.ts: counter-based masks, element i of a call uses counter offset + i.
  dropout_forward(out: number, inp: number, mask: number, n: number, p: number, seed: number, offset: number): void;
  dropout_backward(dInp: number, dOut: number, mask: number, n: number, p: number, seed: number, offset: number): void;

  // rewire.ts: importance sums and permutations, row-major f32, i32 indices.
  row_dots(out: number, a: number, b: number, rows: number, cols: number): void;
  column_dots(out: number, a: number, b: number, rows: number, cols: number): void;
  gather_rows(dst: number, src: number, idx: number, count: number, rowLen: number): void;
  gather_columns(dst: number, src: number, idx: number, rows: number, cols: number): void;

  // random.ts
  fill_normal(dst: number, n: number, seed: number, mean: number, std: number): void;
}
