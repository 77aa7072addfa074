/**
 * The Node/Deno entry: everything in the core, plus loading a model from a
 * folder and the bundled wasm from this package's build directory.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError } from "./errors.js";
import { platform, type ModelFiles } from "./platform.js";
import { readBuild, SINGLE_THREADED } from "./node-wasm-builds.js";
import type { SimdOption, WasmValidator } from "./wasm-variant.js";
import "./node-threads.js"; // LoadOptions.threads: the threaded wasm and worker threads

export * from "./index.js";

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

export async function readModelFolder(dir: string): Promise<ModelFiles> {
  const configPath = join(dir, "config.json");
  const weightsPath = join(dir, "model.safetensors");
  const config = await readOptional(configPath);
  if (config === undefined) throw new CheckpointError("FILE_MISSING", `no config.json in ${dir}`, { file: configPath });
  let weights: Uint8Array;
  try {
    weights = new Uint8Array(await readFile(weightsPath));
  } catch (e) {
    throw new CheckpointError("FILE_MISSING", `cannot read the weights: ${(e as Error).message}`, { file: weightsPath });
  }
  return {
    config,
    weights,
    vocab: await readOptional(join(dir, "vocab.txt")),
    tokenizerConfig: await readOptional(join(dir, "tokenizer_config.json")),
    origin: dir,
  };
}

/**
 * The core shipped in this package (build/ beside dist/) for a `simd` option:
 * release-relaxed.wasm where this runtime validates and runs relaxed SIMD
 * ("auto", "relaxed"), else release.wasm ("auto", "baseline"). `validate`
 * replaces WebAssembly.validate (tests). "relaxed" where it cannot run, or
 * with no relaxed build on disk, is an OptionError (SIMD_UNSUPPORTED).
 */
export function readBundledWasm(simd: SimdOption = "auto", validate?: WasmValidator): Promise<Uint8Array<ArrayBuffer>> {
  return readBuild(SINGLE_THREADED, simd, validate);
}

platform.readModelFolder = readModelFolder;
platform.defaultWasm = (simd) => readBundledWasm(simd);
