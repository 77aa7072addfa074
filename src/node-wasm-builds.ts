/**
 * Reading this package's wasm builds from build/ (beside dist/) for a `simd`
 * option, in Node and Deno. Each pair is one source compiled twice: baseline
 * SIMD, and with relaxed SIMD (the single-threaded pair and the threaded pair).
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { OptionError } from "./errors.js";
import { checkSimdOption, pickWasmVariant, relaxedSimdRuns, type SimdOption, type WasmValidator } from "./wasm-variant.js";

export interface BuildPair {
  readonly baseline: URL;
  readonly relaxed: URL;
}

export const SINGLE_THREADED: BuildPair = {
  baseline: new URL("../build/release.wasm", import.meta.url),
  relaxed: new URL("../build/release-relaxed.wasm", import.meta.url),
};

export const THREADED: BuildPair = {
  baseline: new URL("../build/release-threads.wasm", import.meta.url),
  relaxed: new URL("../build/release-threads-relaxed.wasm", import.meta.url),
};

/**
 * The relaxed build where this runtime validates and runs relaxed SIMD
 * ("auto", "relaxed"), else the baseline ("auto", "baseline"). `validate`
 * replaces WebAssembly.validate (tests). "relaxed" where it cannot run, or
 * with the relaxed file missing, is an OptionError (SIMD_UNSUPPORTED).
 */
export async function readBuild(pair: BuildPair, simd: SimdOption = "auto", validate?: WasmValidator): Promise<Uint8Array<ArrayBuffer>> {
  const option = checkSimdOption(simd);
  const relaxed = option === "baseline" ? undefined : await readOptionalBytes(pair.relaxed);
  if (option === "relaxed" && relaxed === undefined) {
    throw new OptionError("SIMD_UNSUPPORTED", `simd: "relaxed" needs ${fileURLToPath(pair.relaxed)}, which is missing (npm run asbuild builds it)`, { option: "simd" });
  }
  const variant = pickWasmVariant(option, () => relaxed !== undefined && relaxedSimdRuns(relaxed, validate));
  return variant === "relaxed" ? relaxed! : new Uint8Array(await readFile(pair.baseline));
}

async function readOptionalBytes(url: URL): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    return new Uint8Array(await readFile(url));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
