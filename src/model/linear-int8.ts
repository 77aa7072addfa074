/**
 * int8 linear layers in the arena, and the conversions between an int8
 * checkpoint's rows and f32 rows.
 *
 * Scheme (assembly/gemm_int8.ts): symmetric per output feature, w ≈ q · scale,
 * q ∈ [−127, 127], scale = max_t |w_t| / 127 over the whole row. In a
 * checkpoint a Linear stored this way is `<prefix>.weight` I8 `[out][in]` plus
 * `<prefix>.weight_scale` F32 `[out]` (checkpoint/names.ts). At load the rows
 * are packed into the kernel's panels unchanged, so the engine computes with
 * exactly the stored integers; activations are quantized per row on the fly.
 *
 * An int8 Linear has no f32 weights: its `weight` throws a CheckpointError
 * (INT8_INFERENCE_ONLY) so that training, rewiring, importance, saving and the
 * ONNX export — which all read `weight` as packed f32 — fail with a clear
 * message instead of computing with bytes of another layout.
 */
import type { Core, Tensor } from "../../bindings/index.js";
import { CheckpointError } from "../errors.js";
import type { Linear } from "./weights.js";

/** An int8 Linear's storage. */
export interface Int8Weight {
  /** u8, `packed_int8_bytes(out, in)` bytes: int8 `[ceil(out/8)][ceil(in/2)][8][2]` panels. */
  readonly packed: Tensor;
  /** f32 `[out]`: the per-output-feature scales. */
  readonly scales: Tensor;
}

/** Row-major int8 rows with their per-row scales. */
export interface QuantizedRows {
  /** `[rows][cols]`. */
  readonly q: Int8Array;
  /** `[rows]`. */
  readonly scales: Float32Array;
}

/**
 * Uploads a checkpoint's int8 Linear: `q` int8 `[out][in]` and `scales` f32
 * `[out]` (both already checked: byte lengths, scales finite ≥ 0) are packed
 * into the arena; `bias` is the Linear's f32 `[out]` bias, already uploaded.
 */
export function uploadInt8Linear(core: Core, name: string, q: Uint8Array, scales: Uint8Array, bias: Tensor, outFeatures: number, inFeatures: number): Linear {
  const { exports, arena } = core;
  const packed = arena.alloc(`${name}:int8`, "u8", [exports.packed_int8_bytes(outFeatures, inFeatures)]);
  const scaleTensor = arena.alloc(`${name}_scale`, "f32", [outFeatures]);
  arena.u8(scaleTensor).set(scales);
  const mark = arena.mark();
  try {
    const rows = arena.alloc(`${name}:int8_rows`, "u8", [outFeatures, inFeatures]);
    arena.u8(rows).set(q);
    exports.pack_weight_int8(packed.ptr, rows.ptr, outFeatures, inFeatures);
  } finally {
    arena.release(mark);
  }
  return int8Linear(name, { packed, scales: scaleTensor }, bias, outFeatures, inFeatures);
}

function int8Linear(name: string, int8: Int8Weight, bias: Tensor, outFeatures: number, inFeatures: number): Linear {
  return {
    get weight(): Tensor {
      throw new CheckpointError(
        "INT8_INFERENCE_ONLY",
        `${name} was loaded as int8: int8 checkpoints are for inference only (training, rewiring, importance, saving and the ONNX export need f32 weights — use the f32 or f16 checkpoint it was exported from)`,
        { tensor: name },
      );
    },
    bias,
    outFeatures,
    inFeatures,
    int8,
  };
}

/** Int8 rows back to f32: `out[r][c] = f32(q[r][c]) · scales[r]` (the core's dequantize_rows_int8). */
export function dequantizeRows(core: Core, rows: QuantizedRows, cols: number): Float32Array {
  const n = rows.scales.length;
  if (rows.q.length !== n * cols) throw new RangeError(`dequantizeRows: ${rows.q.length} values are not ${n} rows of ${cols}`);
  const { exports, arena } = core;
  const mark = arena.mark();
  try {
    const q = arena.alloc("dequantize:q", "u8", [n, cols]);
    const s = arena.alloc("dequantize:scales", "f32", [n]);
    const out = arena.alloc("dequantize:out", "f32", [n, cols]);
    arena.u8(q).set(new Uint8Array(rows.q.buffer, rows.q.byteOffset, rows.q.byteLength));
    arena.f32(s).set(rows.scales);
    exports.dequantize_rows_int8(out.ptr, q.ptr, s.ptr, n, cols);
    return arena.f32(out).slice();
  } finally {
    arena.release(mark);
  }
}

/** f32 `[rows][cols]` quantized per row by the core's quantize_rows_int8 (the scheme above). */
export function quantizeRows(core: Core, values: Float32Array, rows: number, cols: number): QuantizedRows {
  if (values.length !== rows * cols) throw new RangeError(`quantizeRows: ${values.length} values are not ${rows} rows of ${cols}`);
  const { exports, arena } = core;
  const mark = arena.mark();
  try {
    const src = arena.alloc("quantize:f32", "f32", [rows, cols]);
    const q = arena.alloc("quantize:q", "u8", [rows, cols]);
    const s = arena.alloc("quantize:scales", "f32", [rows]);
    arena.f32(src).set(values);
    exports.quantize_rows_int8(q.ptr, s.ptr, src.ptr, rows, cols, cols);
    return { q: new Int8Array(arena.u8(q).slice().buffer), scales: arena.f32(s).slice() };
  } finally {
    arena.release(mark);
  }
}

/** The first `rows` rows of an int8 Linear, all its input columns: what was packed at load, unchanged. */
export function readInt8Rows(core: Core, layer: Linear, rows: number): QuantizedRows {
  if (!layer.int8) throw new TypeError("readInt8Rows: not an int8 Linear");
  const { exports, arena } = core;
  const k = layer.inFeatures;
  const mark = arena.mark();
  try {
    const out = arena.alloc("unpack_int8:rows", "u8", [rows, k]);
    exports.unpack_weight_int8(out.ptr, layer.int8.packed.ptr, rows, k);
    return { q: new Int8Array(arena.u8(out).slice().buffer), scales: arena.f32(layer.int8.scales).slice(0, rows) };
  } finally {
    arena.release(mark);
  }
}
