/**
 * Instantiates the compute core from a compiled `WebAssembly.Module` or raw
 * bytes. No file-system access here: the same code serves Node, Deno and
 * Workers (where the module must be imported, as workerd will not compile
 * wasm from bytes at run time).
 */
import { Arena } from "./arena.js";
import type { CoreExports } from "./exports.js";

export type WasmSource = WebAssembly.Module | BufferSource;

export interface Core {
  readonly exports: CoreExports;
  readonly arena: Arena;
}

export async function instantiateCore(source: WasmSource): Promise<Core> {
  const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  // The release build imports nothing (abort is compiled out); an empty env
  // keeps a debug build with an `env.abort` import loadable too.
  const instance = await WebAssembly.instantiate(module, { env: { abort: abortFromWasm } });
  const exports = instance.exports as unknown as CoreExports;
  return { exports, arena: new Arena(exports.memory, exports.heap_base()) };
}

function abortFromWasm(_msg: number, _file: number, line: number, column: number): never {
  throw new Error(`dynabert wasm core aborted at ${line}:${column} (debug build assertion)`);
}
