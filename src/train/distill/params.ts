/**
 * Everything a distillation step updates, as one list (so clipping, AdamW and
 * the saved moments treat them alike): the student's parameters the losses
 * reach (the pooler and classifier only when a classifier loss is on —
 * otherwise weight decay alone would move them), then W_p, then the MLM head.
 */
import type { Core } from "../../../bindings/index.js";
import type { ModelWeights } from "../../model/weights.js";
import type { MlmHead, MlmHeadGrads } from "../mlm/head.js";
import { mlmHeadParameters } from "../mlm/head.js";
import { encoderOnly } from "../mlm/params.js";
import { TrainableParameters, type LinearGrad, type Parameter } from "../params.js";
import { projectionParameters, type Projection } from "./projection.js";

export class DistillParameters extends TrainableParameters {
  /** Student parameters (canonical names), then `fit_dense.*`, then `cls.predictions.*`. */
  declare readonly list: readonly Parameter[];
  /** The weights forwardTrain and backward run: the student's, without pooler and classifier unless `withClassifier`. */
  readonly graphWeights: ModelWeights;
  readonly projectionGrads?: LinearGrad;
  readonly headGrads?: MlmHeadGrads;

  constructor(
    core: Core,
    weights: ModelWeights,
    withClassifier: boolean,
    readonly projection?: Projection,
    readonly head?: MlmHead,
  ) {
    const graphWeights = withClassifier ? weights : encoderOnly(weights);
    super(core, graphWeights);
    this.graphWeights = graphWeights;
    const extra = (entries: ReturnType<typeof projectionParameters>): Parameter[] =>
      entries.map((entry) => {
        const grad = core.arena.alloc(`grad:${entry.name}`, "f32", entry.value.shape, entry.value.length);
        core.exports.zero_fill(grad.ptr, grad.length);
        return { ...entry, grad };
      });
    const projectionList = projection ? extra(projectionParameters(projection)) : [];
    const headList = head ? extra(mlmHeadParameters(head)) : [];
    if (projection) this.projectionGrads = { weight: projectionList[0].grad, bias: projectionList[1].grad };
    if (head) {
      const [dense, denseBias, gamma, beta, bias] = headList.map((p) => p.grad);
      this.headGrads = { transform: { weight: dense, bias: denseBias }, transformNorm: { gamma, beta }, bias };
    }
    this.list = [...this.list, ...projectionList, ...headList];
  }
}
