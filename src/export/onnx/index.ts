/**
 * ONNX export of a DynaBERT sub-network: only the kept heads, neurons and
 * layers become initializers, so the file is the size of the sub-network.
 * Weights are read back from the engine's arena, so what is exported is
 * exactly what the engine runs (any checkpoint dtype, or random weights).
 */
import { instantiateCore, type Core, type WasmSource } from "../../../bindings/index.js";
import type { BertConfig } from "../../checkpoint/config.js";
import { loadCheckpoint } from "../../model/load.js";
import { subNetwork } from "../../model/subnetwork.js";
import { randomWeights, type ModelWeights } from "../../model/weights.js";
import type { ModelFiles } from "../../platform.js";
import { buildBertGraph, type BertGraphOptions } from "./bert-graph.js";
import { encodeModel, type OnnxModel } from "./onnx-proto.js";
import { readSubNetworkWeights } from "./sliced-weights.js";

export { OPSET } from "./bert-graph.js";
export type { BertGraphOptions } from "./bert-graph.js";
export type { OnnxModel } from "./onnx-proto.js";

/** A model's weights in a wasm core, as the engine holds them. */
export interface ExportSource {
  readonly core: Core;
  readonly config: BertConfig;
  readonly weights: ModelWeights;
}

export interface OnnxExportOptions extends BertGraphOptions {
  /** Fraction of heads and FFN neurons kept, in (0, 1]. Default 1. */
  readonly width?: number;
  /** Fraction of layers kept, in (0, 1]. Default 1. */
  readonly depth?: number;
}

/** A checkpoint (HF folder files) loaded into a fresh core, checked exactly as DynaBert.load checks it. */
export async function checkpointSource(files: ModelFiles, wasm: WasmSource): Promise<ExportSource> {
  const core = await instantiateCore(wasm);
  const { config, weights } = loadCheckpoint(core, files);
  return { core, config, weights };
}

/** The random weights `DynaBert.random(config, { seed })` runs, for benchmarks. */
export async function randomSource(config: BertConfig, wasm: WasmSource, seed = 1): Promise<ExportSource> {
  const core = await instantiateCore(wasm);
  return { core, config, weights: randomWeights(core, config, seed) };
}

/** The ONNX model (in memory, not yet encoded) of one sub-network. */
export function buildOnnxModel(source: ExportSource, options: OnnxExportOptions = {}): OnnxModel {
  const sub = subNetwork(source.config, options.width ?? 1, options.depth ?? 1);
  const sliced = readSubNetworkWeights(source.core, source.weights, sub);
  return buildBertGraph(source.config, sub, sliced, options);
}

/**
 * The `.onnx` file's bytes as chunks in order (weights linked, not copied):
 * write them one after another (`fs.promises.writeFile` takes the array).
 */
export function encodeOnnxModel(model: OnnxModel): readonly Uint8Array[] {
  return encodeModel(model).chunks();
}

/** The `.onnx` file as one array. */
export function exportOnnxBytes(source: ExportSource, options: OnnxExportOptions = {}): Uint8Array {
  return encodeModel(buildOnnxModel(source, options)).finish();
}
