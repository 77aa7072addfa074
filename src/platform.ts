/**
 * What the runtime-neutral core cannot do by itself: read a model folder and
 * find the wasm file. The Node/Deno entry (src/node.ts) fills these in;
 * in Workers the caller passes bytes and the imported wasm module.
 */
import type { WasmSource } from "../bindings/index.js";
import type { SimdOption } from "./wasm-variant.js";

/** A model as bytes and text, the way HuggingFace lays out a folder. */
export interface ModelFiles {
  /** config.json text (or its parsed object). */
  readonly config: string | Record<string, unknown>;
  /** model.safetensors bytes. */
  readonly weights: Uint8Array;
  /** vocab.txt text; needed for text input. */
  readonly vocab?: string;
  /** tokenizer_config.json text, when present. */
  readonly tokenizerConfig?: string;
  /** Where the files came from, for error messages. */
  readonly origin?: string;
}

export interface Platform {
  readModelFolder?(dir: string): Promise<ModelFiles>;
  /** The bundled core for a `simd` option (validated); an OptionError if that build cannot run here. */
  defaultWasm?(simd: SimdOption): Promise<WasmSource>;
}

export const platform: Platform = {};
