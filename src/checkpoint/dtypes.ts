/**
 * The element types of the safetensors format, in the order of the reference
 * implementation's `Dtype` enum. That order is "increasing alignment" and the
 * reference writer lays tensors out by descending rank in it, so it is data,
 * not decoration: keep it in step with the spec.
 */
export const SAFETENSORS_DTYPES = [
  "BOOL",
  "F4",
  "F6_E2M3",
  "F6_E3M2",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "F32",
  "C64",
  "F64",
  "I64",
  "U64",
] as const;

export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

/** Bits per element. The sub-byte types (F4, F6_*) are packed; a tensor of them must fill whole bytes. */
export const DTYPE_BITS: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};

const RANK = new Map<string, number>(SAFETENSORS_DTYPES.map((d, i) => [d, i]));

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === "string" && RANK.has(value);
}

/** Position in the reference enum (higher = larger alignment, written first). */
export function dtypeRank(dtype: SafetensorsDtype): number {
  return RANK.get(dtype)!;
}

/** The float types a BERT parameter may be stored in. */
export const PARAMETER_DTYPES = ["F32", "F16", "BF16"] as const;
export type ParameterDtype = (typeof PARAMETER_DTYPES)[number];

export function isParameterDtype(dtype: string): dtype is ParameterDtype {
  return dtype === "F32" || dtype === "F16" || dtype === "BF16";
}

/**
 * An int8 weight (linear layers and embedding tables only) is stored as I8
 * `[rows][cols]` with a companion F32 `<name>_scale` of `[rows]`
 * (`….weight` → `….weight_scale`): symmetric per row, w ≈ q · scale.
 */
export const QUANTIZED_DTYPE = "I8";
export const SCALE_SUFFIX = "_scale";
