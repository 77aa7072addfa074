/**
 * Distillation checkpoints: the student as an ordinary HF folder (with its
 * `cls.predictions.*` head in model.safetensors when an MLM term trained one,
 * as `dynabert pretrain` saves it), W_p beside it in
 * `distill_projection.safetensors` (training-only: HF and the engine ignore
 * it), and `trainer_state.json` + `optimizer.safetensors` (AdamW moments of
 * the student, W_p and the head) to resume exactly.
 */
import type { WasmSource } from "../../../bindings/index.js";
import { parseSafetensors, writeSafetensors } from "../../checkpoint/safetensors.js";
import { DynaBert } from "../../dynabert.js";
import { OptionError } from "../../errors.js";
import { modelToFiles, type FolderContents } from "../../model/save.js";
import type { ModelFiles } from "../../platform.js";
import { OPTIMIZER_FILE, TRAINER_STATE_FILE, parseTrainerSnapshot, momentsFile } from "../checkpoint.js";
import { mlmModelFiles } from "../mlm/checkpoint.js";
import { readMlmHead, type MlmHead } from "../mlm/head.js";
import type { DistillSnapshot, Distiller } from "./distiller.js";
import { PROJECTION_FILE, projectionFile, readProjection, type Projection } from "./projection.js";

/** The student folder: HF files, plus the head inside model.safetensors and W_p beside it when they exist. */
export function studentFiles(student: DynaBert, projection?: Projection, head?: MlmHead): FolderContents {
  const files = head ? mlmModelFiles(student, head) : modelToFiles(student);
  if (projection) files[PROJECTION_FILE] = projectionFile(student.engine.core, projection);
  return files;
}

export function distillCheckpointFiles(d: Distiller, history: unknown[] = []): FolderContents {
  const snap = d.snapshot();
  return {
    ...studentFiles(d.student, d.projection, d.head),
    [TRAINER_STATE_FILE]: JSON.stringify({ ...snap.state, history }, null, 1),
    [OPTIMIZER_FILE]: momentsFile(snap.moments),
  };
}

/** Reads what `distillCheckpointFiles` wrote; refuses another kind of run's state. */
export function parseDistillSnapshot(stateText: string, optimizerBytes: Uint8Array, where: string): DistillSnapshot & { history: unknown[] } {
  const parsed = parseTrainerSnapshot(stateText, optimizerBytes, where);
  const state = parsed.state as unknown as DistillSnapshot["state"];
  if (state.kind !== "distillation" || !Number.isInteger(state.items) || typeof state.options !== "object" || state.options === null) {
    throw new OptionError("RESUME_MISMATCH", `${where}/${TRAINER_STATE_FILE}: not the state of a distillation run`, { option: "--resume" });
  }
  return { state, moments: parsed.moments, history: parsed.history };
}

/**
 * A student saved by a distillation run (or any HF folder): the model, its
 * MLM head when model.safetensors has one, and W_p from
 * `distill_projection.safetensors` when given (its sizes checked against the teacher's hidden size).
 */
export async function loadStudent(
  files: ModelFiles,
  projectionBytes: Uint8Array | undefined,
  teacherHidden: number,
  wasm?: WasmSource,
): Promise<{ model: DynaBert; projection?: Projection; head?: MlmHead }> {
  const model = await DynaBert.load(files, { wasm });
  const where = files.origin ? `${files.origin}/model.safetensors` : "student model.safetensors";
  const head = readMlmHead(model.engine.core, model.config, parseSafetensors(files.weights, where), where);
  const projection = projectionBytes
    ? readProjection(model.engine.core, projectionBytes, files.origin ? `${files.origin}/${PROJECTION_FILE}` : PROJECTION_FILE, teacherHidden, model.config.hiddenSize)
    : undefined;
  return { model, projection, head };
}
