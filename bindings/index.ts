export { Arena, OutOfMemoryError } from "./arena.js";
export type { DType, Tensor } from "./arena.js";
export { instantiateCore } from "./core.js";
export type { Core, WasmSource } from "./core.js";
export type { CoreExports } from "./exports.js";
