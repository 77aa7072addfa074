/**
 * One encoder layer in onnxruntime's contrib ops (domain com.microsoft), the
 * form its transformer optimiser would produce and its CPU/wasm kernels run
 * fastest: Attention (packed QKV, raw 0/1 key mask, scale 1/√d_head, masked
 * keys get −10000 — the engine's additive mask), SkipLayerNormalization
 * (residual + bias + LayerNorm in one pass) and BiasGelu (exact erf GELU, not
 * FastGelu's tanh approximation, so results stay within 1e-4 of the engine).
 * Only onnxruntime runs these ops.
 */
import { attr } from "./onnx-proto.js";
import type { GraphBuilder } from "./graph-builder.js";
import { concatBiases, transposedColumns, type LayerSlice, type LinearSlice, type NormSlice } from "./sliced-weights.js";

export const CONTRIB_DOMAIN = "com.microsoft";

export interface FusedLayerContext {
  readonly heads: number;
  /** `[batch, seq]` int32 attention mask (1 = attend). */
  readonly maskIndex: string;
  readonly eps: number;
}

/** `x` `[batch, seq, D]` → the layer's output, same shape. */
export function fusedLayer(g: GraphBuilder, x: string, layer: LayerSlice, ctx: FusedLayerContext): string {
  const p = `encoder.layer.${layer.index}`;
  const contrib = (name: string) => ({ domain: CONTRIB_DOMAIN, name: `${p}.${name}` });
  const matmul = (inp: string, l: LinearSlice, param: string, name: string) =>
    g.op("MatMul", [inp, g.weight(`${p}.${param}.weight_t`, transposedColumns([l]), [l.inFeatures, l.outFeatures])], undefined, {
      name: `${p}.${name}`,
    });
  const skipNorm = (inp: string, skip: string, norm: NormSlice, bias: Float32Array, param: string, name: string) =>
    g.op(
      "SkipLayerNormalization",
      [
        inp,
        skip,
        g.weight(`${param}.LayerNorm.weight`, norm.gamma, [norm.gamma.length]),
        g.weight(`${param}.LayerNorm.bias`, norm.beta, [norm.beta.length]),
        g.weight(`${param}.dense.bias`, bias, [bias.length]),
      ],
      { epsilon: attr.float(ctx.eps) },
      contrib(name),
    );

  const qkv = [layer.query, layer.key, layer.value];
  const A = layer.query.outFeatures;
  const D = layer.query.inFeatures;
  const qkvWeight = g.weight(`${p}.attention.self.qkv.weight_t`, transposedColumns(qkv), [D, 3 * A]);
  const qkvBias = g.weight(`${p}.attention.self.qkv.bias`, concatBiases(qkv), [3 * A]);
  const context = g.op("Attention", [x, qkvWeight, qkvBias, ctx.maskIndex], { num_heads: attr.int(ctx.heads) }, contrib("attention")); // [B, S, A]

  const attnOut = matmul(context, layer.attentionOutput, "attention.output.dense", "attention_output");
  const x1 = skipNorm(attnOut, x, layer.attentionNorm, layer.attentionOutput.bias, `${p}.attention.output`, "attention_norm");

  const inter = matmul(x1, layer.intermediate, "intermediate.dense", "intermediate");
  const b1 = g.weight(`${p}.intermediate.dense.bias`, layer.intermediate.bias, [layer.intermediate.outFeatures]);
  const act = g.op("BiasGelu", [inter, b1], undefined, contrib("gelu"));
  const out = matmul(act, layer.output, "output.dense", "output");
  return skipNorm(out, x1, layer.outputNorm, layer.output.bias, `${p}.output`, "output_norm");
}
