/**
 * The parameters masked-LM pre-training updates: the encoder (embeddings and
 * layers — not the pooler or a classifier, which get no gradient from this
 * loss and would only be shrunk by weight decay) followed by the MLM head.
 * One list, so global-norm clipping, AdamW (src/train/optimizer.ts) and
 * saving the moments treat the head like any other parameter.
 */
import type { Core } from "../../../bindings/index.js";
import type { ModelWeights } from "../../model/weights.js";
import { TrainableParameters, type Parameter } from "../params.js";
import { mlmHeadParameters, type MlmHead, type MlmHeadGrads } from "./head.js";

/** `weights` without the pooler and classifier: what forwardTrain/backward run for MLM. */
export function encoderOnly(weights: ModelWeights): ModelWeights {
  return { ...weights, pooler: undefined, classifier: undefined };
}

export class PretrainParameters extends TrainableParameters {
  /** Encoder parameters, then `cls.predictions.*` (HF names). */
  declare readonly list: readonly Parameter[];
  readonly headGrads: MlmHeadGrads;

  /** `weights` should come from `encoderOnly`. */
  constructor(core: Core, weights: ModelWeights, readonly head: MlmHead) {
    super(core, weights);
    const headList: Parameter[] = mlmHeadParameters(head).map((entry) => ({
      ...entry,
      grad: core.arena.alloc(`grad:${entry.name}`, "f32", entry.value.shape, entry.value.length),
    }));
    for (const p of headList) core.exports.zero_fill(p.grad.ptr, p.grad.length);
    const [dense, denseBias, gamma, beta, bias] = headList.map((p) => p.grad);
    this.headGrads = { transform: { weight: dense, bias: denseBias }, transformNorm: { gamma, beta }, bias };
    this.list = [...this.list, ...headList];
  }
}
