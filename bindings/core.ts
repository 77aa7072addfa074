/**
 * Instantiates the compute core from a compiled `WebAssembly.Module` or raw
 * bytes with AssemblyScript's loader. No file-system access here: the same
 * code serves Node, Deno and Workers (where the module must be imported, as
 * workerd will not compile wasm from bytes at run time).
 */
import { instantiate } from "@assemblyscript/loader";
import { Arena } from "./arena.js";
import type { CoreExports } from "./exports.js";

export type WasmSource = WebAssembly.Module | BufferSource;

export interface Core {
  readonly exports: CoreExports;
  readonly arena: Arena;
  /** Stops the worker threads of a threaded core (bindings/threads); absent on a single-threaded one. */
  dispose?(): void;
}

export async function instantiateCore(source: WasmSource): Promise<Core> {
  // The release build imports nothing (abort is compiled out); the loader
  // supplies `env.abort` for a debug build, which reports the failed assertion.
  const { exports } = await instantiate<Record<string, unknown>>(source);
  const core = exports as unknown as CoreExports;
  return { exports: core, arena: new Arena(core.memory, core.heap_base()) };
}
