/**
 * A training checkpoint is a HuggingFace model folder (loadable by HF and by
 * this engine) plus `trainer_state.json` (counters and options) and
 * `optimizer.safetensors` (AdamW moments), enough to resume exactly.
 */
import { parseSafetensors, writeSafetensors } from "../checkpoint/safetensors.js";
import { OptionError } from "../errors.js";
import { modelToFiles, type FolderContents } from "../model/save.js";
import type { Trainer, TrainerSnapshot } from "./trainer.js";

export const TRAINER_STATE_FILE = "trainer_state.json";
export const OPTIMIZER_FILE = "optimizer.safetensors";

export function trainerCheckpointFiles(trainer: Trainer, history: unknown[] = []): FolderContents {
  const snap = trainer.snapshot();
  return {
    ...modelToFiles(trainer.student),
    [TRAINER_STATE_FILE]: JSON.stringify({ ...snap.state, history }, null, 1),
    [OPTIMIZER_FILE]: momentsFile(snap.moments),
  };
}

/** AdamW moments (`m.<name>`, `v.<name>`, flat f32) as optimizer.safetensors bytes. */
export function momentsFile(moments: ReadonlyMap<string, Float32Array>): Uint8Array {
  const tensors = [...moments].map(([name, values]) => ({
    name,
    dtype: "F32" as const,
    shape: [values.length],
    data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  }));
  return writeSafetensors(tensors);
}

export function parseTrainerSnapshot(stateText: string, optimizerBytes: Uint8Array, where: string): TrainerSnapshot & { history: unknown[] } {
  let state: TrainerSnapshot["state"] & { history?: unknown[] };
  try {
    state = JSON.parse(stateText);
  } catch (e) {
    throw new OptionError("RESUME_MISMATCH", `${where}/${TRAINER_STATE_FILE}: not valid JSON (${(e as Error).message})`);
  }
  if (!Number.isInteger(state.step) || !Number.isInteger(state.totalSteps)) {
    throw new OptionError("RESUME_MISMATCH", `${where}/${TRAINER_STATE_FILE}: step and totalSteps must be integers`);
  }
  const parsed = parseSafetensors(optimizerBytes, `${where}/${OPTIMIZER_FILE}`);
  const moments = new Map<string, Float32Array>();
  for (const [name, t] of parsed.tensors) {
    if (t.dtype !== "F32") throw new OptionError("RESUME_MISMATCH", `${where}/${OPTIMIZER_FILE}: ${name} is ${t.dtype}, expected F32`);
    const copy = new Uint8Array(t.data);
    moments.set(name, new Float32Array(copy.buffer, 0, copy.byteLength / 4));
  }
  return { state, moments, history: state.history ?? [] };
}
