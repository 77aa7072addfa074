/**
 * The wasm module's exports, typed. Every pointer is a byte offset into linear
 * memory (see assembly/README.md for the shapes each kernel expects).
 */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  heap_base(): number;

  // gemm.ts
  gemm_panel_width(): number;
  packed_weight_floats(n: number, k: number): number;
  pack_weight(dst: number, src: number, n: number, k: number): void;
  unpack_weight(dst: number, src: number, n: number, k: number): void;
  linear_forward(out: number, inp: number, wp: number, bias: number, m: number, n: number, k: number, kFull: number, ldInp: number, ldOut: number): void;

  // attention.ts
  attention_mask_additive(out: number, mask: number, n: number): void;
  attention_forward(
    ctx: number, probs: number, q: number, k: number, v: number, maskAdd: number, headMask: number,
    batch: number, seq: number, heads: number, headDim: number, ldQKV: number, ldCtx: number,
  ): void;

  // layernorm.ts
  layernorm_forward(out: number, inp: number, gamma: number, beta: number, mean: number, rstd: number, rows: number, dim: number, eps: number): void;

  // gelu.ts
  gelu_forward(out: number, inp: number, n: number): void;

  // embedding.ts
  embedding_forward(out: number, ids: number, typeIds: number, word: number, pos: number, type: number, batch: number, seq: number, dim: number): void;

  // elementwise.ts
  add_forward(out: number, a: number, b: number, n: number): void;
  tanh_forward(out: number, inp: number, n: number): void;
  f16_to_f32(dst: number, src: number, n: number): void;
  bf16_to_f32(dst: number, src: number, n: number): void;
  f32_to_f16(dst: number, src: number, n: number): void;
  f32_to_bf16(dst: number, src: number, n: number): void;

  // random.ts
  fill_normal(dst: number, n: number, seed: number, mean: number, std: number): void;
}
