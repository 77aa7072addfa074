/**
 * `--threads N` and `--simd auto|baseline|relaxed`: which build of the core a
 * command loads and on how many threads (LoadOptions.threads and .simd), for
 * the commands that run inference (bench, infer, eval).
 */
import type { LoadOptions } from "../dynabert.js";
import { OptionError } from "../errors.js";
import { SIMD_OPTIONS, type SimdOption } from "../wasm-variant.js";
import type { Flags } from "./args.js";

export const ENGINE_FLAGS = { threads: { type: "string" }, simd: { type: "string" } } as const;

export const ENGINE_USAGE = `[--threads N] [--simd ${SIMD_OPTIONS.join("|")}]`;

export function engineLoadOptions(flags: Flags): Pick<LoadOptions, "threads" | "simd"> {
  const threads = flags.positiveInt("threads", 1);
  const simd = flags.string("simd", "auto")!;
  if (!(SIMD_OPTIONS as readonly string[]).includes(simd)) {
    throw new OptionError("BAD_FLAG", `--simd must be one of ${SIMD_OPTIONS.join(", ")}, got ${simd}`, { option: "--simd" });
  }
  return { threads, simd: simd as SimdOption };
}
