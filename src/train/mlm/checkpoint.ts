/**
 * Pre-training checkpoints: an HF BertForMaskedLM-style folder (the encoder
 * under `bert.`, the head as `cls.predictions.*`, the decoder weight left out
 * because it is the tied word embeddings — as HF saves it; a pooler and a
 * classifier from the input model are kept unchanged), loadable by HF and by
 * this engine, plus `trainer_state.json` and `optimizer.safetensors` (AdamW
 * moments, head included) to resume exactly.
 */
import { bertConfigToJson } from "../../checkpoint/config.js";
import { hfNameFor } from "../../checkpoint/names.js";
import { HF_PT_METADATA, writeSafetensors, type SafetensorsTensorInput } from "../../checkpoint/safetensors.js";
import type { DynaBert } from "../../dynabert.js";
import { OptionError } from "../../errors.js";
import { listParameters, readRowMajor } from "../../model/parameters.js";
import type { FolderContents } from "../../model/save.js";
import { OPTIMIZER_FILE, TRAINER_STATE_FILE, parseTrainerSnapshot, momentsFile } from "../checkpoint.js";
import { mlmHeadParameters, type MlmHead } from "./head.js";
import type { Pretrainer, PretrainSnapshot } from "./pretrainer.js";

/** config.json, model.safetensors (F32) and the tokenizer files of a model with its MLM head. */
export function mlmModelFiles(model: DynaBert, head: MlmHead): FolderContents {
  const { core, weights } = model.engine;
  // `bert.` on every encoder name whatever the layout; classifier.* and cls.* keep theirs.
  const encoder = listParameters(weights).map((entry) => ({ entry, name: hfNameFor(entry.name, { classifier: true }) }));
  const headEntries = mlmHeadParameters(head).map((entry) => ({ entry, name: entry.name }));
  const tensors: SafetensorsTensorInput[] = [...encoder, ...headEntries].map(({ entry, name }) => {
    const values = readRowMajor(core, entry);
    return { name, dtype: "F32", shape: [...entry.value.shape], data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
  });
  const config = model.config;
  const architectures = weights.classifier ? config.extra.architectures : ["BertForMaskedLM"];
  const files: FolderContents = {
    "config.json": bertConfigToJson({ ...config, extra: { ...config.extra, architectures } }),
    "model.safetensors": writeSafetensors(tensors, HF_PT_METADATA),
  };
  if (model.tokenizerFiles.vocab !== undefined) files["vocab.txt"] = model.tokenizerFiles.vocab;
  if (model.tokenizerFiles.tokenizerConfig !== undefined) files["tokenizer_config.json"] = model.tokenizerFiles.tokenizerConfig;
  return files;
}

/** The model folder plus the state a resume needs. */
export function pretrainCheckpointFiles(pretrainer: Pretrainer, history: unknown[] = []): FolderContents {
  const snap = pretrainer.snapshot();
  return {
    ...mlmModelFiles(pretrainer.model, pretrainer.head),
    [TRAINER_STATE_FILE]: JSON.stringify({ kind: "mlm-pretraining", ...snap.state, history }, null, 1),
    [OPTIMIZER_FILE]: momentsFile(snap.moments),
  };
}

/** Reads what `pretrainCheckpointFiles` wrote; refuses a fine-tuning checkpoint's state. */
export function parsePretrainSnapshot(stateText: string, optimizerBytes: Uint8Array, where: string): PretrainSnapshot & { history: unknown[] } {
  const parsed = parseTrainerSnapshot(stateText, optimizerBytes, where);
  const state = parsed.state as unknown as PretrainSnapshot["state"] & { kind?: unknown };
  if (state.kind !== "mlm-pretraining" || !Number.isInteger(state.sequences) || typeof state.options !== "object" || state.options === null) {
    throw new OptionError("RESUME_MISMATCH", `${where}/${TRAINER_STATE_FILE}: not the state of a masked-LM pre-training run`);
  }
  return { state, moments: parsed.moments, history: parsed.history };
}
