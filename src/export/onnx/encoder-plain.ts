/**
 * One encoder layer in standard ONNX ops (opset 17), laid out as PyTorch
 * exports HF's BertLayer — MatMul + Add on `[batch, seq, ·]`, heads split by
 * Reshape/Transpose, erf GELU spelled out — so any runtime can run it and
 * onnxruntime's own optimiser can still recognise and fuse the patterns.
 * Semantics are the engine's (DESIGN.md §2): scores / √d_head + additive mask.
 */
import { attr } from "./onnx-proto.js";
import type { GraphBuilder } from "./graph-builder.js";
import { transposedColumns, type LayerSlice, type LinearSlice } from "./sliced-weights.js";

export interface PlainLayerContext {
  /** Kept heads. */
  readonly heads: number;
  readonly headSize: number;
  /** `[batch, 1, 1, seq]` float: (1 − mask)·(−10000). */
  readonly maskAdd: string;
  readonly eps: number;
}

/** `x` `[batch, seq, D]` → the layer's output, same shape. */
export function plainLayer(g: GraphBuilder, x: string, layer: LayerSlice, ctx: PlainLayerContext): string {
  const p = `encoder.layer.${layer.index}`;
  const { heads, headSize } = ctx;
  const A = heads * headSize;

  const dense = (inp: string, l: LinearSlice, param: string, name: string) => {
    const w = g.weight(`${p}.${param}.weight_t`, transposedColumns([l]), [l.inFeatures, l.outFeatures]);
    const b = g.weight(`${p}.${param}.bias`, l.bias, [l.outFeatures]);
    return g.op("Add", [g.op("MatMul", [inp, w], undefined, { name: `${p}.${name}.matmul` }), b], undefined, { name: `${p}.${name}` });
  };
  // [batch, seq, A] → [batch, seq, heads, d_head] → permuted.
  const splitHeads = (t: string, perm: number[], name: string) =>
    g.op("Transpose", [g.op("Reshape", [t, g.int64([0, 0, heads, headSize])], undefined, { name: `${p}.${name}.heads` })], { perm: attr.ints(perm) }, {
      name: `${p}.${name}.transposed`,
    });

  const q = splitHeads(dense(x, layer.query, "attention.self.query", "query"), [0, 2, 1, 3], "query"); // [B, h, S, d]
  const k = splitHeads(dense(x, layer.key, "attention.self.key", "key"), [0, 2, 3, 1], "key"); // [B, h, d, S]
  const v = splitHeads(dense(x, layer.value, "attention.self.value", "value"), [0, 2, 1, 3], "value"); // [B, h, S, d]
  const dots = g.op("MatMul", [q, k], undefined, { name: `${p}.scores.matmul` }); // [B, h, S, S]
  const scaled = g.op("Div", [dots, g.float(Math.sqrt(headSize))], undefined, { name: `${p}.scores.scaled` });
  const scores = g.op("Add", [scaled, ctx.maskAdd], undefined, { name: `${p}.scores` });
  const probs = g.op("Softmax", [scores], { axis: attr.int(-1) }, { name: `${p}.probs` });
  const context = g.op("MatMul", [probs, v], undefined, { name: `${p}.context.heads` }); // [B, h, S, d]
  const merged = g.op("Transpose", [context], { perm: attr.ints([0, 2, 1, 3]) }, { name: `${p}.context.transposed` });
  const ctxFlat = g.op("Reshape", [merged, g.int64([0, 0, A])], undefined, { name: `${p}.context` }); // [B, S, A]

  const attnOut = dense(ctxFlat, layer.attentionOutput, "attention.output.dense", "attention_output");
  const x1 = layerNorm(g, g.op("Add", [attnOut, x], undefined, { name: `${p}.attention_residual` }), layer.attentionNorm, `${p}.attention.output.LayerNorm`, ctx.eps);

  const inter = dense(x1, layer.intermediate, "intermediate.dense", "intermediate");
  const act = erfGelu(g, inter, `${p}.gelu`);
  const out = dense(act, layer.output, "output.dense", "output");
  return layerNorm(g, g.op("Add", [out, x1], undefined, { name: `${p}.output_residual` }), layer.outputNorm, `${p}.output.LayerNorm`, ctx.eps);
}

/** LayerNormalization over the last axis (opset 17). */
export function layerNorm(g: GraphBuilder, x: string, norm: { gamma: Float32Array; beta: Float32Array }, param: string, eps: number): string {
  const gamma = g.weight(`${param}.weight`, norm.gamma, [norm.gamma.length]);
  const beta = g.weight(`${param}.bias`, norm.beta, [norm.beta.length]);
  return g.op("LayerNormalization", [x, gamma, beta], { axis: attr.int(-1), epsilon: attr.float(eps) }, { name: param });
}

/** Exact GELU, x · 0.5 · (1 + erf(x/√2)), in the op order HF's export has (and onnxruntime's GeluFusion matches). */
function erfGelu(g: GraphBuilder, x: string, name: string): string {
  const erf = g.op("Erf", [g.op("Div", [x, g.float(Math.SQRT2)], undefined, { name: `${name}.scaled` })], undefined, { name: `${name}.erf` });
  const onePlus = g.op("Add", [erf, g.float(1)], undefined, { name: `${name}.one_plus` });
  return g.op("Mul", [g.op("Mul", [x, onePlus], undefined, { name: `${name}.times_x` }), g.float(0.5)], undefined, { name });
}
