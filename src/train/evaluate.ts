/** Accuracy (and F1 of class 1 for binary tasks) of one sub-network over labelled examples. */
import type { DynaBert, SubNetworkOptions } from "../dynabert.js";
import { batchIndices, encodeExamples, type Example } from "./data.js";

export interface EvalResult {
  readonly accuracy: number;
  /** F1 of the positive class (label 1); binary tasks only. */
  readonly f1?: number;
  readonly examples: number;
}

export function evaluate(model: DynaBert, examples: readonly Example[], options: SubNetworkOptions & { batchSize?: number; maxLength?: number } = {}): EvalResult {
  const tokenizer = model.tokenizer;
  if (!tokenizer) throw new Error("evaluation needs a tokenizer (vocab.txt)");
  const K = model.config.numLabels;
  let correct = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const idx of batchIndices(examples.length, options.batchSize ?? 32)) {
    const batch = idx.map((i) => examples[i]);
    const encoded = encodeExamples(tokenizer, batch, Math.min(options.maxLength ?? 128, model.config.maxPositionEmbeddings));
    const logits = model.forward(encoded, options).logits!.data;
    batch.forEach((e, b) => {
      let best = 0;
      for (let k = 1; k < K; k++) if (logits[b * K + k] > logits[b * K + best]) best = k;
      if (best === e.label) correct++;
      if (best === 1 && e.label === 1) tp++;
      if (best === 1 && e.label !== 1) fp++;
      if (best !== 1 && e.label === 1) fn++;
    });
  }
  const accuracy = correct / examples.length;
  const f1 = K === 2 ? (tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn)) : undefined;
  return { accuracy, f1, examples: examples.length };
}
