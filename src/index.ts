/**
 * dynabert — DynaBERT for JavaScript runtimes. This entry is runtime-neutral
 * (Node, Deno, Cloudflare Workers): models load from bytes, the wasm from a
 * module or bytes. `dynabert/node` adds folders and the bundled wasm.
 */
export { DynaBert } from "./dynabert.js";
export type { Classification, ClassifyOptions, LoadOptions, SubNetworkOptions } from "./dynabert.js";
export type { SimdOption, WasmValidator, WasmVariant } from "./wasm-variant.js";
export type { ModelFiles } from "./platform.js";
export type { BatchInput } from "./model/inputs.js";
export type { ForwardOptions, ForwardResult } from "./model/forward.js";
export type { OutputTensor } from "./model/output.js";
export { toNested } from "./model/output.js";
export { subNetwork, flopsPerSequence, parametersUsed, pythonRound } from "./model/subnetwork.js";
export type { SubNetwork } from "./model/subnetwork.js";
export { parseBertConfig } from "./checkpoint/config.js";
export type { BertConfig } from "./checkpoint/config.js";
export * from "./errors.js";
export { BertTokenizer } from "./tokenizer/index.js";
export { presetConfig, PRESET_NAMES } from "./bench/presets.js";
export type { PresetName } from "./bench/presets.js";
export { timeForward, syntheticBatch } from "./bench/timing.js";
export type { TimingOptions, TimingResult } from "./bench/timing.js";
export { selectSubNetwork, candidateCosts, calibrateLatency, predictLatencyMs, activationBytes, memoryMB } from "./select/index.js";
export type { Budget, SelectOptions, Selection, LatencyModel, CalibrateOptions } from "./select/index.js";
