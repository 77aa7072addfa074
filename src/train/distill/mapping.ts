/**
 * Which teacher state, layer and weights a fixed smaller student meets
 * (TinyBERT's uniform mapping, DistilBERT's layer copy). States are indexed
 * `[embeddings, layer 0 out, …, layer L−1 out]` as everywhere in the trainer.
 */
import { OptionError } from "../../errors.js";

/** Refuses a student deeper than its teacher (nothing to map it onto) or an empty one. */
export function checkDepths(studentLayers: number, teacherLayers: number): void {
  if (!Number.isInteger(studentLayers) || studentLayers < 1 || studentLayers > teacherLayers) {
    throw new OptionError("BAD_FLAG", `the student needs 1…${teacherLayers} layers (the teacher has ${teacherLayers}), got ${studentLayers}`, { option: "--student-layers" });
  }
}

/**
 * Teacher state met by student state j: ⌊j·L_t/L_s⌋ (embeddings meet embeddings,
 * the last output meets the last). TinyBERT's g(m) = m·L_t/L_s; when L_s divides
 * L_t this is exactly its code's `teacher_reps[j·(L_t/L_s)]`, and for the other
 * depths the floor keeps last ↔ last, which TinyBERT's integer block size would not.
 */
export function teacherStateFor(j: number, studentLayers: number, teacherLayers: number): number {
  checkDepths(studentLayers, teacherLayers);
  if (!Number.isInteger(j) || j < 0 || j > studentLayers) throw new RangeError(`student state ${j} of ${studentLayers + 1}`);
  return Math.floor((j * teacherLayers) / studentLayers);
}

/**
 * Teacher layer whose attention maps student layer i (0-based) is matched with:
 * the layer producing the state its output meets, ⌊(i+1)·L_t/L_s⌋ − 1
 * (TinyBERT's `teacher_atts[i·k + k − 1]` with k = L_t/L_s).
 */
export function teacherLayerFor(i: number, studentLayers: number, teacherLayers: number): number {
  return teacherStateFor(i + 1, studentLayers, teacherLayers) - 1;
}

/**
 * The teacher layers a DistilBERT-style student copies: ⌊i·L_t/L_s⌋ for i < L_s,
 * i.e. every other layer 0, 2, 4, … when the student is half as deep. (HF's
 * extract_distilbert.py picks 0, 2, 4, 7, 9, 11 for BERT-base; pass such a list
 * explicitly to copy those instead.)
 */
export function everyOtherLayer(studentLayers: number, teacherLayers: number): number[] {
  checkDepths(studentLayers, teacherLayers);
  return Array.from({ length: studentLayers }, (_, i) => Math.floor((i * teacherLayers) / studentLayers));
}

/** Checks an explicit copy list: L_s distinct, increasing teacher layer indices. */
export function checkCopyLayers(layers: readonly number[], teacherLayers: number): number[] {
  const ok = layers.length > 0 && layers.every((l, i) => Number.isInteger(l) && l >= 0 && l < teacherLayers && (i === 0 || l > layers[i - 1]));
  if (!ok) {
    throw new OptionError("BAD_FLAG", `the layers to copy must be increasing teacher layer indices in 0…${teacherLayers - 1}, got [${layers.join(", ")}]`, { option: "--copy-layers" });
  }
  return [...layers];
}
