/**
 * From HF files to weights in the arena: parse config.json, parse and check
 * model.safetensors against it (names, shapes, dtypes), then upload.
 */
import type { Core } from "../../bindings/index.js";
import { bertConfigFromObject, parseBertConfig, type BertConfig } from "../checkpoint/config.js";
import { resolveCheckpointTensors } from "../checkpoint/names.js";
import { parseSafetensors } from "../checkpoint/safetensors.js";
import type { ModelFiles } from "../platform.js";
import { loadWeights, type ModelWeights } from "./weights.js";

export function loadCheckpoint(core: Core, files: ModelFiles): { config: BertConfig; weights: ModelWeights } {
  const where = (file: string) => (files.origin ? `${files.origin}/${file}` : file);
  const config =
    typeof files.config === "string" ? parseBertConfig(files.config, where("config.json")) : bertConfigFromObject(files.config, where("config.json"));
  const weightsFile = where("model.safetensors");
  const parsed = parseSafetensors(files.weights, weightsFile);
  const resolved = resolveCheckpointTensors(parsed, config, weightsFile, { requirePooler: false });
  return {
    config,
    weights: loadWeights(core, config, (name) => resolved.tensors.get(name), weightsFile, (name) => resolved.scales.get(name)),
  };
}
