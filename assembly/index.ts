// The wasm module's exports: every kernel file, plus where the arena may start.
export * from "./gemm";
export * from "./gemm_int8";
export * from "./attention";
export * from "./layernorm";
export * from "./gelu";
export * from "./embedding";
export * from "./elementwise";
export * from "./random";
export * from "./loss";
export * from "./adamw";
export * from "./dropout";
export * from "./rewire";
export { simd_relaxed } from "./multiply_add";

/** First byte the TypeScript arena may use: everything below belongs to static data. */
export function heap_base(): usize {
  return (__heap_base + 63) & ~63;
}
