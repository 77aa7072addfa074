/**
 * The two builds of the compute core and how one is chosen (the `simd` load
 * option). Runtime-neutral: the Node/Deno entry reads the files and calls
 * pickWasmVariant; Workers import the baseline module themselves.
 *
 * - "baseline": build/release.wasm, WebAssembly SIMD 128 only. Every runtime
 *   runs it and gets the same f32 bits.
 * - "relaxed": build/release-relaxed.wasm, the same source compiled with
 *   relaxed SIMD, whose hot loops use f32x4.relaxed_madd (assembly/
 *   multiply_add.ts). Faster where the CPU fuses it; its results differ from
 *   the baseline's in the last bits, and may differ between machines (fused
 *   or not), by the relaxed-SIMD proposal's design. Node 22+, Deno and
 *   workerd validate it; Node 20 only with --experimental-wasm-relaxed-simd.
 */
import type { CoreExports } from "../bindings/index.js";
import { OptionError } from "./errors.js";

/** The `simd` load option: "auto" takes the relaxed build where this runtime runs it. */
export type SimdOption = "auto" | "baseline" | "relaxed";
/** Which build of the core a model runs on. */
export type WasmVariant = "baseline" | "relaxed";

export const SIMD_OPTIONS: readonly SimdOption[] = ["auto", "baseline", "relaxed"];

/** Validates the option: undefined → "auto". */
export function checkSimdOption(simd: unknown): SimdOption {
  if (simd === undefined) return "auto";
  if (typeof simd !== "string" || !(SIMD_OPTIONS as readonly string[]).includes(simd)) {
    throw new OptionError("SIMD_INVALID", `simd must be one of ${SIMD_OPTIONS.map((s) => `"${s}"`).join(", ")}, got ${JSON.stringify(simd) ?? String(simd)}`, {
      option: "simd",
    });
  }
  return simd as SimdOption;
}

/**
 * A hand-assembled module exporting `m(a, b, c) = lane 0 of
 * f32x4.relaxed_madd(splat a, splat b, splat c)`: 55 bytes, so that support
 * is checked by running the instruction, not only by the validator.
 */
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7d, 0x7d, 0x7d, 0x01, 0x7d, // type: (f32, f32, f32) → f32
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x07, 0x05, 0x01, 0x01, 0x6d, 0x00, 0x00, // export "m"
  0x0a, 0x16, 0x01, 0x14, 0x00, // code: one body of 20 bytes, no locals
  0x20, 0x00, 0xfd, 0x13, 0x20, 0x01, 0xfd, 0x13, 0x20, 0x02, 0xfd, 0x13, // local.get i; f32x4.splat (×3)
  0xfd, 0x85, 0x02, 0xfd, 0x1f, 0x00, 0x0b, // f32x4.relaxed_madd; f32x4.extract_lane 0; end
]);

/**
 * How this runtime computes relaxed_madd, by running the probe: "fused" (one
 * rounding, as an FMA instruction), "unfused" (a·b rounded, then + c), or
 * undefined when it cannot run it (or computes neither). a = 1 + 2⁻¹²,
 * c = −(1 + 2⁻¹¹): a·a = 1 + 2⁻¹¹ + 2⁻²⁴ exactly, so fused gives 2⁻²⁴ and
 * unfused 0 (the product's tie rounds to even).
 */
export function relaxedMaddRounding(): "fused" | "unfused" | undefined {
  let m: (a: number, b: number, c: number) => number;
  try {
    m = new WebAssembly.Instance(new WebAssembly.Module(PROBE)).exports.m as typeof m;
  } catch {
    return undefined;
  }
  if (m(2, 3, 1) !== 7) return undefined;
  const a = 1 + 2 ** -12;
  const result = m(a, a, -(1 + 2 ** -11));
  if (result === 2 ** -24) return "fused";
  if (Object.is(result, 0)) return "unfused";
  return undefined;
}

/** How a runtime checks wasm bytes; WebAssembly.validate unless a test injects another. */
export type WasmValidator = (bytes: BufferSource) => boolean;

/**
 * Whether this runtime can run the relaxed build: its validator accepts the
 * module's bytes and the probe instance computes a legal relaxed_madd.
 */
export function relaxedSimdRuns(relaxedBytes: BufferSource, validate: WasmValidator = (b) => WebAssembly.validate(b)): boolean {
  return validate(relaxedBytes) && relaxedMaddRounding() !== undefined;
}

/**
 * The build to load for an option. `relaxedRuns` is asked only when the
 * answer depends on it; "relaxed" where it cannot run is an OptionError.
 */
export function pickWasmVariant(simd: SimdOption, relaxedRuns: () => boolean): WasmVariant {
  if (simd === "baseline") return "baseline";
  if (relaxedRuns()) return "relaxed";
  if (simd === "relaxed") {
    throw new OptionError(
      "SIMD_UNSUPPORTED",
      'simd: "relaxed" needs a runtime that validates relaxed SIMD (Node 22+, Deno, or Node 20 with --experimental-wasm-relaxed-simd); this one does not: use "auto" or "baseline"',
      { option: "simd" },
    );
  }
  return "baseline";
}

/** The build an instantiated core is, as the module itself reports it. */
export function wasmVariantOf(exports: CoreExports): WasmVariant {
  return exports.simd_relaxed() === 1 ? "relaxed" : "baseline";
}

/**
 * A core loaded from a module the caller chose (options.wasm) must be the
 * build `simd` asked for, unless it asked for "auto"; the bundled builds are
 * chosen by `simd` and pass by construction.
 */
export function checkLoadedVariant(exports: CoreExports, simd: SimdOption): void {
  if (simd === "auto") return;
  const loaded = wasmVariantOf(exports);
  if (loaded !== simd) {
    throw new OptionError(
      "SIMD_MISMATCH",
      `simd: "${simd}" was asked for, but the wasm module loaded (options.wasm) is the ${loaded} build`,
      { option: "simd" },
    );
  }
}
