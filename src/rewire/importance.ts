/**
 * Head and neuron importance (DynaBERT §3.1, DESIGN.md §2) over a labelled
 * set, at full width and depth with the task's cross-entropy:
 *   head   I[l][h] += |∂loss/∂m[l][h]|  (m: a mask of ones on each head's attention probabilities)
 *   neuron I[l][j] += |Σ_k W1[j,k]·∂W1[j,k] + b1[j]·∂b1[j]| + |Σ_k W2[k,j]·∂W2[k,j]|
 * Gradients are zeroed before every batch, so each batch adds the absolute
 * value of its own gradient terms. (The official code never zeroes and adds
 * |accumulated gradient| per batch; on one batch the two agree.)
 */
import type { Core, Tensor } from "../../bindings/index.js";
import type { DynaBert } from "../dynabert.js";
import { checkBatch } from "../model/inputs.js";
import { subNetwork } from "../model/subnetwork.js";
import type { Linear } from "../model/weights.js";
import type { LabelledBatch } from "../train/accumulate.js";
import { backward, forwardTrain } from "../train/graph.js";
import { checkLabels, taskLoss } from "../train/objectives.js";
import { TrainableParameters, type LinearGrad } from "../train/params.js";

export interface Importance {
  /** `[L][H]`. */
  readonly headImportance: number[][];
  /** `[L][I]`. */
  readonly neuronImportance: number[][];
}

export function computeImportance(model: DynaBert, batches: Iterable<LabelledBatch>, onBatch?: (done: number) => void): Importance {
  const { core, weights } = model.engine;
  const config = model.config;
  const L = config.numHiddenLayers;
  const H = config.numAttentionHeads;
  const I = config.intermediateSize;
  const head = Array.from({ length: L }, () => new Float64Array(H));
  const neuron = Array.from({ length: L }, () => new Float64Array(I));
  const full = subNetwork(config, 1, 1);
  const params = new TrainableParameters(core, weights);
  let done = 0;
  for (const batch of batches) {
    const checked = checkBatch(config, batch);
    const labels = checkLabels(batch.labels, checked.batch, config.numLabels);
    params.zeroGrads();
    const mark = core.arena.mark();
    try {
      const graph = forwardTrain(core, config, weights, checked, full);
      taskLoss(core, graph, labels);
      backward(core, config, weights, params.grads, graph);
      graph.headMaskGrads.forEach((g, l) => core.arena.f32(g).forEach((v, h) => (head[l][h] += Math.abs(v))));
    } finally {
      core.arena.release(mark);
    }
    weights.layers.forEach((layer, l) => {
      const g = params.grads.layers[l];
      const inTerm = neuronSums(core, layer.intermediate, g.intermediate, "rows");
      const outTerm = neuronSums(core, layer.output, g.output, "columns");
      for (let j = 0; j < I; j++) neuron[l][j] += Math.abs(inTerm[j]) + Math.abs(outTerm[j]);
    });
    onBatch?.(++done);
  }
  return { headImportance: head.map((r) => Array.from(r)), neuronImportance: neuron.map((r) => Array.from(r)) };
}

/**
 * Per neuron j: Σ over its weights of W·∂W — along row j of the intermediate
 * dense (plus b·∂b) or along column j of the output dense.
 */
function neuronSums(core: Core, layer: Linear, grad: LinearGrad, along: "rows" | "columns"): Float32Array {
  const { exports: wasm, arena } = core;
  const n = layer.outFeatures;
  const k = layer.inFeatures;
  const count = along === "rows" ? n : k;
  const mark = arena.mark();
  try {
    const w = unpacked(core, "w", layer.weight, n, k);
    const g = unpacked(core, "dw", grad.weight, n, k);
    const out = arena.alloc("neuron_sums", "f32", [count]);
    if (along === "columns") {
      wasm.column_dots(out.ptr, w.ptr, g.ptr, n, k);
      return arena.f32(out).slice();
    }
    wasm.row_dots(out.ptr, w.ptr, g.ptr, n, k);
    const bias = arena.alloc("bias_products", "f32", [n]);
    wasm.row_dots(bias.ptr, layer.bias.ptr, grad.bias.ptr, n, 1); // b[j]·∂b[j]
    wasm.add_forward(out.ptr, out.ptr, bias.ptr, n);
    return arena.f32(out).slice();
  } finally {
    arena.release(mark);
  }
}

function unpacked(core: Core, name: string, packed: Tensor, n: number, k: number): Tensor {
  const t = core.arena.alloc(name, "f32", [n, k]);
  core.exports.unpack_weight(t.ptr, packed.ptr, n, k);
  return t;
}
