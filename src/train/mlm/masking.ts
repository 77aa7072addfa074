/**
 * BERT's masked-LM corruption. Per sequence, the candidates are the real
 * (attention mask 1), non-special tokens; max(1, round(n·p)) of the n
 * candidates are chosen uniformly without replacement (round as Python's, as
 * BERT's create_pretraining_data.py does; none when n = 0). Each chosen
 * token becomes [MASK] with probability 0.8, a token drawn uniformly from the
 * whole vocabulary with 0.1 (specials included, as BERT and HF's
 * DataCollatorForLanguageModeling draw it), and stays itself with 0.1. Its
 * label is the original id; every other label is IGNORE_LABEL.
 * Deterministic in `random`: the same generator state gives the same masks.
 */
import { OptionError } from "../../errors.js";
import { pythonRound } from "../../model/subnetwork.js";

/** HF's ignore_index: positions with this label are not predicted. */
export const IGNORE_LABEL = -100;

export const MASK_FRACTION = 0.8;
export const RANDOM_FRACTION = 0.1;

export interface MaskingOptions {
  /** Fraction of candidates to predict, in (0, 1]; BERT uses 0.15. */
  readonly probability: number;
  readonly maskTokenId: number;
  /** Random replacements are uniform over ids [0, randomVocab). */
  readonly randomVocab: number;
  /** Never chosen: [CLS], [SEP], [PAD], [UNK], [MASK] (HF's all_special_ids). */
  readonly specialIds: ReadonlySet<number>;
}

export interface MaskedBatch {
  /** `[batch][seq]` flattened: the corrupted input. */
  readonly inputIds: Int32Array;
  /** `[batch][seq]` flattened: the original id where predicted, IGNORE_LABEL elsewhere. */
  readonly labels: Int32Array;
  readonly counts: { readonly predicted: number; readonly masked: number; readonly random: number; readonly kept: number };
}

/** How many of n candidates one sequence predicts. */
export function predictionCount(candidates: number, probability: number): number {
  if (candidates === 0) return 0;
  return Math.min(candidates, Math.max(1, pythonRound(candidates * probability)));
}

/** Corrupts `ids` `[batch][seq]` (flattened) given its attention mask; see the file comment. */
export function maskTokens(
  ids: ArrayLike<number>,
  attentionMask: ArrayLike<number>,
  batch: number,
  seq: number,
  options: MaskingOptions,
  random: () => number,
): MaskedBatch {
  const p = options.probability;
  if (!(p > 0 && p <= 1)) throw new OptionError("BAD_FLAG", `the masking probability must be in (0, 1], got ${p}`, { option: "--mlm-probability" });
  if (ids.length !== batch * seq || attentionMask.length !== batch * seq) throw new RangeError(`maskTokens: expected ${batch}×${seq} ids and mask values`);
  const inputIds = Int32Array.from(ids);
  const labels = new Int32Array(batch * seq).fill(IGNORE_LABEL);
  let masked = 0;
  let randomized = 0;
  let kept = 0;
  const candidates: number[] = [];
  for (let b = 0; b < batch; b++) {
    candidates.length = 0;
    for (let s = 0; s < seq; s++) {
      const i = b * seq + s;
      if (attentionMask[i] === 1 && !options.specialIds.has(ids[i])) candidates.push(i);
    }
    const n = candidates.length;
    const k = predictionCount(n, p);
    for (let c = 0; c < k; c++) {
      // Partial Fisher–Yates: candidates[c] becomes a uniform pick from the ones not yet chosen.
      const j = c + Math.floor(random() * (n - c));
      const pos = candidates[j];
      candidates[j] = candidates[c];
      candidates[c] = pos;
      labels[pos] = ids[pos];
      const u = random();
      if (u < MASK_FRACTION) {
        inputIds[pos] = options.maskTokenId;
        masked++;
      } else if (u < MASK_FRACTION + RANDOM_FRACTION) {
        inputIds[pos] = Math.floor(random() * options.randomVocab);
        randomized++;
      } else {
        kept++;
      }
    }
  }
  return { inputIds, labels, counts: { predicted: masked + randomized + kept, masked, random: randomized, kept } };
}
