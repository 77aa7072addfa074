/**
 * Whether a wasm module imports its memory (`env.memory`), which is what
 * tells the threaded build (imported shared memory) from the single-threaded
 * one (its own memory). Compiled modules are asked; bytes are read directly
 * from the import section, without compiling them.
 */
import type { WasmSource } from "../core.js";

const IMPORT_SECTION = 2;
const KIND_FUNCTION = 0;
const KIND_TABLE = 1;
const KIND_MEMORY = 2;
const KIND_GLOBAL = 3;
const KIND_TAG = 4;

export function importsMemory(source: WasmSource): boolean {
  if (source instanceof WebAssembly.Module) {
    return WebAssembly.Module.imports(source).some((i) => i.module === "env" && i.name === "memory" && i.kind === "memory");
  }
  const bytes = ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
  try {
    return readImports(bytes).some((i) => i.module === "env" && i.name === "memory" && i.kind === KIND_MEMORY);
  } catch {
    return false; // not a wasm binary we can read: let instantiation report it
  }
}

interface Import {
  readonly module: string;
  readonly name: string;
  readonly kind: number;
}

function readImports(bytes: Uint8Array): Import[] {
  let at = 8; // magic and version
  const byte = () => {
    if (at >= bytes.length) throw new RangeError("truncated");
    return bytes[at++];
  };
  const leb = () => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const b = byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
  };
  const name = () => {
    const length = leb();
    const text = new TextDecoder().decode(bytes.subarray(at, at + length));
    at += length;
    return text;
  };
  const limits = () => {
    const flags = byte();
    leb();
    if (flags & 1) leb();
  };
  while (at < bytes.length) {
    const id = byte();
    const size = leb();
    if (id !== IMPORT_SECTION) {
      at += size;
      continue;
    }
    const imports: Import[] = [];
    for (let count = leb(); count > 0; count--) {
      const module = name();
      const field = name();
      const kind = byte();
      // Skip the descriptor: a type index, table (element type, limits), memory limits, global (type, mutability), tag.
      if (kind === KIND_FUNCTION) {
        leb();
      } else if (kind === KIND_TABLE) {
        byte();
        limits();
      } else if (kind === KIND_MEMORY) {
        limits();
      } else if (kind === KIND_GLOBAL) {
        byte();
        byte();
      } else if (kind === KIND_TAG) {
        byte();
        leb();
      } else {
        throw new RangeError(`unknown import kind ${kind}`);
      }
      imports.push({ module, name: field, kind });
    }
    return imports;
  }
  return [];
}
