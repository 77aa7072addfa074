/**
 * TinyBERT's learned projection W_p (its code's `fit_dense`): a linear map
 * from the student's hidden size to the teacher's, `y = x·W_pᵀ + b`, applied
 * to student hidden states (embeddings included, one shared projection as
 * TinyBERT's code does) before they meet the teacher's. Trained with AdamW
 * like every parameter; a training-only tensor, saved beside the student as
 * `distill_projection.safetensors` so a resumed or continued run keeps it.
 */
import type { Core, Tensor } from "../../../bindings/index.js";
import { parseSafetensors, writeSafetensors } from "../../checkpoint/safetensors.js";
import { CheckpointError } from "../../errors.js";
import { readRowMajor, writeRowMajor, type ParameterEntry } from "../../model/parameters.js";
import type { Linear } from "../../model/weights.js";
import type { LinearGrad } from "../params.js";

export const PROJECTION_FILE = "distill_projection.safetensors";
/** TinyBERT's names, so the file reads like its checkpoints. */
export const PROJECTION_WEIGHT = "fit_dense.weight";
export const PROJECTION_BIAS = "fit_dense.bias";

/** `weight` packed from `[D_t][D_s]` (out × in), `bias` `[D_t]`. */
export type Projection = Linear;

function allocate(core: Core, teacherHidden: number, studentHidden: number): Projection {
  const { arena, exports: wasm } = core;
  const weight = arena.alloc(PROJECTION_WEIGHT, "f32", [teacherHidden, studentHidden], wasm.packed_weight_floats(teacherHidden, studentHidden));
  const bias = arena.alloc(PROJECTION_BIAS, "f32", [teacherHidden]);
  return { weight, bias, outFeatures: teacherHidden, inFeatures: studentHidden };
}

/** A fresh projection as BERT initialises a linear layer: weight normal(0, std), bias 0. */
export function initProjection(core: Core, teacherHidden: number, studentHidden: number, seed: number, std = 0.02): Projection {
  const p = allocate(core, teacherHidden, studentHidden);
  const mark = core.arena.mark();
  try {
    const rowMajor = core.arena.alloc("fit_dense:row_major", "f32", [teacherHidden, studentHidden]);
    core.exports.fill_normal(rowMajor.ptr, rowMajor.length, seed >>> 0, 0, std);
    core.exports.pack_weight(p.weight.ptr, rowMajor.ptr, teacherHidden, studentHidden);
  } finally {
    core.arena.release(mark);
  }
  core.arena.f32(p.bias).fill(0);
  return p;
}

/** The projection's parameters (weight decayed, bias not, as every linear layer). */
export function projectionParameters(p: Projection): ParameterEntry[] {
  return [
    { name: PROJECTION_WEIGHT, value: p.weight, packed: true, decay: true },
    { name: PROJECTION_BIAS, value: p.bias, packed: false, decay: false },
  ];
}

/** `distill_projection.safetensors`: the two tensors in F32, row-major. */
export function projectionFile(core: Core, p: Projection): Uint8Array {
  return writeSafetensors(
    projectionParameters(p).map((entry) => {
      const values = readRowMajor(core, entry);
      return { name: entry.name, dtype: "F32" as const, shape: [...entry.value.shape], data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
    }),
  );
}

/** Reads a projection file, checking both tensors against the sizes the run needs. */
export function readProjection(core: Core, bytes: Uint8Array, fileName: string, teacherHidden: number, studentHidden: number): Projection {
  const parsed = parseSafetensors(bytes, fileName);
  const p = allocate(core, teacherHidden, studentHidden);
  for (const entry of projectionParameters(p)) {
    const t = parsed.tensors.get(entry.name);
    if (!t) throw new CheckpointError("TENSOR_MISSING", `the projection file has no ${entry.name}`, { file: fileName, tensor: entry.name });
    const shape = entry.value.shape;
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new CheckpointError("SHAPE_MISMATCH", `${entry.name} has shape [${t.shape.join(", ")}], this teacher and student need [${shape.join(", ")}]`, { file: fileName, tensor: entry.name });
    }
    if (t.dtype !== "F32") throw new CheckpointError("DTYPE_UNSUPPORTED", `${entry.name} is ${t.dtype}; the projection is stored as F32`, { file: fileName, tensor: entry.name });
    const copy = new Uint8Array(t.data);
    writeRowMajor(core, entry, new Float32Array(copy.buffer, 0, copy.byteLength / 4));
  }
  return p;
}

/** out `[rows][D_t]` = x `[rows][D_s]`·W_pᵀ + b. */
export function projectForward(core: Core, p: Projection, out: Tensor, x: Tensor, rows: number): void {
  core.exports.linear_forward(out.ptr, x.ptr, p.weight.ptr, p.bias.ptr, rows, p.outFeatures, p.inFeatures, p.inFeatures, p.inFeatures, p.outFeatures);
}

/** From dOut `[rows][D_t]`: dx `[rows][D_s]` += dOut·W_p (accumulated: dx is a state's gradient), dW += dOutᵀ·x, db += Σ dOut. */
export function projectBackward(core: Core, p: Projection, grads: LinearGrad, dx: Tensor, dOut: Tensor, x: Tensor, rows: number): void {
  const { outFeatures: n, inFeatures: k } = p;
  core.exports.linear_backward_input(dx.ptr, dOut.ptr, p.weight.ptr, rows, n, k, k, k, n, 1);
  core.exports.linear_backward_weight(grads.weight.ptr, grads.bias.ptr, dOut.ptr, x.ptr, rows, n, k, k, k, n);
}
