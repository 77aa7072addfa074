// Bench-only: the machine's wasm SIMD mul+add throughput, the ceiling the GEMM
// is measured against (bench/gemm.bench.mjs compiles this file on its own; it
// is not part of the product module).
//
// The loop is the GEMM microkernel's arithmetic — a 4 × 8 tile, eight
// independent accumulator chains fed by f32x4.mul — with operands read from a
// 48-byte table that never leaves L1, so nothing but the arithmetic (and the
// same loads the kernel issues) costs time. Operands cannot simply be kept in
// registers: V8 re-materialises loop-invariant constants inside the loop
// (3 extra instructions each), and hoisting the table loads is what binaryen
// would do if two loads shared an address.

import { mulAdd } from "./multiply_add";

/** [0..4): the row values broadcast; [4..12): the two panel vectors. */
const OPERANDS = memory.data<f32>([0.5, 0.25, 0.125, 0.0625, 1.0, 1.5, 2.0, 2.5, -1.0, -1.5, -2.0, -2.5], 16);

/** Runs `iters` steps of 8 f32x4 mul+add pairs (64 flops each); returns a lane of the sum. */
export function peak_mul_add(iters: i32): f32 {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let i = 0; i < iters; i++) {
    const b0 = v128.load(OPERANDS, 16);
    const b1 = v128.load(OPERANDS, 32);
    const a0 = v128.load32_splat(OPERANDS, 0);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    const a1 = v128.load32_splat(OPERANDS, 4);
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    const a2 = v128.load32_splat(OPERANDS, 8);
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    const a3 = v128.load32_splat(OPERANDS, 12);
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(c00, c01), f32x4.add(c10, c11)),
    f32x4.add(f32x4.add(c20, c21), f32x4.add(c30, c31)),
  );
  return f32x4.extract_lane(s, 0);
}

/** Flops one step of peak_mul_add performs. */
export function peak_flops_per_iter(): i32 {
  return 64;
}

/**
 * peak_mul_add's loop written with multiply_add.ts's mulAdd: in a relaxed-SIMD
 * compile (`--enable simd,relaxed-simd`) each step is 8 f32x4.relaxed_madd, the
 * ceiling of the relaxed GEMM build; in a baseline compile it is exactly
 * peak_mul_add. Same operands, same 64 flops per step.
 */
export function peak_build_mul_add(iters: i32): f32 {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let i = 0; i < iters; i++) {
    const b0 = v128.load(OPERANDS, 16);
    const b1 = v128.load(OPERANDS, 32);
    const a0 = v128.load32_splat(OPERANDS, 0);
    c00 = mulAdd(a0, b0, c00);
    c01 = mulAdd(a0, b1, c01);
    const a1 = v128.load32_splat(OPERANDS, 4);
    c10 = mulAdd(a1, b0, c10);
    c11 = mulAdd(a1, b1, c11);
    const a2 = v128.load32_splat(OPERANDS, 8);
    c20 = mulAdd(a2, b0, c20);
    c21 = mulAdd(a2, b1, c21);
    const a3 = v128.load32_splat(OPERANDS, 12);
    c30 = mulAdd(a3, b0, c30);
    c31 = mulAdd(a3, b1, c31);
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(c00, c01), f32x4.add(c10, c11)),
    f32x4.add(f32x4.add(c20, c21), f32x4.add(c30, c31)),
  );
  return f32x4.extract_lane(s, 0);
}

/** 1 when this peak module was compiled with relaxed SIMD (peak_build_mul_add is then madd). */
export function peak_is_relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
