/**
 * A loaded (possibly trained) model back to HuggingFace files: config.json,
 * model.safetensors (F32, `bert.`-prefixed with a classifier as
 * BertForSequenceClassification saves it, bare otherwise), and the tokenizer
 * files it was loaded with.
 */
import { bertConfigToJson, type BertConfig } from "../checkpoint/config.js";
import { hfNameFor } from "../checkpoint/names.js";
import { HF_PT_METADATA, writeSafetensors } from "../checkpoint/safetensors.js";
import type { DynaBert } from "../dynabert.js";
import { listParameters, readRowMajor } from "./parameters.js";

/** File name → contents, as HF lays out a model folder. */
export type FolderContents = Record<string, string | Uint8Array>;

export function modelToFiles(model: DynaBert, config: BertConfig = model.config): FolderContents {
  const { core, weights } = model.engine;
  const layout = { classifier: weights.classifier !== undefined };
  const tensors = listParameters(weights).map((entry) => {
    const values = readRowMajor(core, entry);
    return {
      name: hfNameFor(entry.name, layout),
      dtype: "F32" as const,
      shape: [...entry.value.shape],
      data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    };
  });
  const files: FolderContents = {
    "config.json": bertConfigToJson(config),
    "model.safetensors": writeSafetensors(tensors, HF_PT_METADATA),
  };
  if (model.tokenizerFiles.vocab !== undefined) files["vocab.txt"] = model.tokenizerFiles.vocab;
  if (model.tokenizerFiles.tokenizerConfig !== undefined) files["tokenizer_config.json"] = model.tokenizerFiles.tokenizerConfig;
  return files;
}
