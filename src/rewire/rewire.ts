/**
 * Rewiring (DynaBERT §3.1): sort each layer's heads and FFN neurons by
 * descending importance, so that every width keeps the most important ones
 * as a prefix. Heads move as blocks of Q/K/V output rows (and biases) with the
 * matching input columns of the attention output dense; neurons move as rows
 * (and biases) of the intermediate dense with the matching columns of the
 * output dense. The function computed at full width is unchanged.
 */
import type { Core } from "../../bindings/index.js";
import type { DynaBert } from "../dynabert.js";
import { InputError } from "../errors.js";
import type { Linear } from "../model/weights.js";
import type { Importance } from "./importance.js";

/** Indices sorted by descending score; ties keep their original order. */
export function descendingOrder(scores: readonly number[]): number[] {
  return scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
}

/** Checks importance against the model's shape, naming the first mismatch. */
export function checkImportance(model: DynaBert, importance: Importance, where = "importance"): void {
  const { numHiddenLayers: L, numAttentionHeads: H, intermediateSize: I } = model.config;
  const check = (name: string, rows: unknown, inner: number) => {
    if (!Array.isArray(rows) || rows.length !== L) throw new InputError("BAD_IMPORTANCE", `${where}: ${name} must have ${L} rows (one per layer)`);
    rows.forEach((row, l) => {
      if (!Array.isArray(row) || row.length !== inner || row.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
        throw new InputError("BAD_IMPORTANCE", `${where}: ${name}[${l}] must be ${inner} finite numbers`);
      }
    });
  };
  check("head_importance", importance.headImportance, H);
  check("neuron_importance", importance.neuronImportance, I);
}

/** Permutes the model's weights in place; returns the head and neuron orders applied per layer. */
export function rewire(model: DynaBert, importance: Importance): { headOrder: number[][]; neuronOrder: number[][] } {
  checkImportance(model, importance);
  const { core, weights } = model.engine;
  const dHead = model.config.attentionHeadSize;
  const headOrder = importance.headImportance.map(descendingOrder);
  const neuronOrder = importance.neuronImportance.map(descendingOrder);
  weights.layers.forEach((layer, l) => {
    const rows = headOrder[l].flatMap((h) => Array.from({ length: dHead }, (_, t) => h * dHead + t));
    for (const lin of [layer.query, layer.key, layer.value]) permuteOutputs(core, lin, rows);
    permuteInputs(core, layer.attentionOutput, rows);
    permuteOutputs(core, layer.intermediate, neuronOrder[l]);
    permuteInputs(core, layer.output, neuronOrder[l]);
  });
  return { headOrder, neuronOrder };
}

/** Row i of W (and bias i) ← old row order[i]. */
function permuteOutputs(core: Core, layer: Linear, order: readonly number[]): void {
  const { exports: wasm, arena } = core;
  const n = layer.outFeatures;
  const k = layer.inFeatures;
  const mark = arena.mark();
  try {
    const idx = arena.alloc("order", "i32", [n]);
    arena.i32(idx).set(order);
    const src = arena.alloc("rows", "f32", [n, k]);
    const dst = arena.alloc("permuted", "f32", [n, k]);
    wasm.unpack_weight(src.ptr, layer.weight.ptr, n, k);
    wasm.gather_rows(dst.ptr, src.ptr, idx.ptr, n, k);
    wasm.pack_weight(layer.weight.ptr, dst.ptr, n, k);
    wasm.gather_rows(dst.ptr, layer.bias.ptr, idx.ptr, n, 1);
    arena.f32(layer.bias).set(arena.f32(dst).subarray(0, n));
  } finally {
    arena.release(mark);
  }
}

/** Column j of W ← old column order[j] (the bias belongs to the outputs and stays). */
function permuteInputs(core: Core, layer: Linear, order: readonly number[]): void {
  const { exports: wasm, arena } = core;
  const n = layer.outFeatures;
  const k = layer.inFeatures;
  const mark = arena.mark();
  try {
    const idx = arena.alloc("order", "i32", [k]);
    arena.i32(idx).set(order);
    const src = arena.alloc("rows", "f32", [n, k]);
    const dst = arena.alloc("permuted", "f32", [n, k]);
    wasm.unpack_weight(src.ptr, layer.weight.ptr, n, k);
    wasm.gather_columns(dst.ptr, src.ptr, idx.ptr, n, k);
    wasm.pack_weight(layer.weight.ptr, dst.ptr, n, k);
  } finally {
    arena.release(mark);
  }
}
