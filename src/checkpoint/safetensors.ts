/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors,
 * "Format"):
 *
 *   [8 bytes]  N, unsigned little-endian 64-bit: the header's byte length
 *   [N bytes]  UTF-8 JSON object, starting with '{', possibly padded with spaces:
 *              { "__metadata__"?: {string: string},
 *                "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, … }
 *   [rest]     the byte buffer; offsets are relative to its start, row-major,
 *              little-endian. The tensors must cover it exactly: no overlaps,
 *              no holes, nothing after the last one.
 *
 * The reader trusts nothing: every number is checked before it is used, and
 * every failure is a CheckpointError naming the file and, where there is one,
 * the tensor. Tensor data is returned as views into the input (no copy).
 */
import { CheckpointError } from "../errors.js";
import { compareCodePoints } from "./compare.js";
import { DTYPE_BITS, dtypeRank, isSafetensorsDtype, type SafetensorsDtype } from "./dtypes.js";
import { parseHeaderJson, type HeaderJsonValue } from "./header-json.js";

/** The reference implementation refuses headers above this many bytes. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Metadata HF transformers writes and expects when loading a PyTorch checkpoint. */
export const HF_PT_METADATA: Readonly<Record<string, string>> = Object.freeze({ format: "pt" });

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  /** Row-major dimensions; [] is a scalar. */
  shape: number[];
  /** The tensor's bytes: a view into the parsed file, `numel × dtype size` long. */
  data: Uint8Array;
}

export interface ParsedSafetensors {
  /** The `__metadata__` map, or null when the file has none. */
  metadata: Record<string, string> | null;
  /** Every tensor, in the order its data appears in the file. */
  tensors: Map<string, SafetensorsTensor>;
  /** N, the header's byte length (padding included). */
  headerByteLength: number;
  /** Absolute byte position in the file where the byte buffer starts (8 + N). */
  dataStart: number;
}

export interface SafetensorsTensorInput {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
  /** `numel × dtype size` bytes, row-major, little-endian. */
  data: Uint8Array;
}

// ─── reading ────────────────────────────────────────────────────────────────

interface TensorEntry {
  name: string;
  tensor: SafetensorsTensor;
  begin: number;
  end: number;
}

export function parseSafetensors(bytes: Uint8Array, fileName = "model.safetensors"): ParsedSafetensors {
  const file = fileName;
  if (bytes.length < 8) {
    throw new CheckpointError(
      "HEADER_TOO_SMALL",
      `file is ${bytes.length} bytes, too short to hold the 8-byte header length of a safetensors file`,
      { file },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(
      "HEADER_TOO_LARGE",
      `header length ${headerLength} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file, or corrupt`,
      { file, details: { headerLength: headerLength.toString() } },
    );
  }
  const n = Number(headerLength);
  const dataStart = 8 + n;
  if (dataStart > bytes.length) {
    throw new CheckpointError(
      "HEADER_PAST_END",
      `header length ${n} runs past the end of the file (${bytes.length} bytes, so at most ${bytes.length - 8} are left for the header): file truncated or not safetensors`,
      { file, details: { headerLength: n, fileLength: bytes.length } },
    );
  }
  if (n === 0 || bytes[8] !== 0x7b /* { */) {
    throw new CheckpointError("HEADER_START", "header does not start with '{': not a safetensors file, or corrupt", {
      file,
    });
  }

  let headerText: string;
  try {
    // slice (a copy) rather than subarray: TextDecoder refuses views of shared memory.
    headerText = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.slice(8, dataStart));
  } catch {
    throw new CheckpointError("HEADER_UTF8", "header is not valid UTF-8", { file });
  }
  const header = parseHeaderJson(headerText, file);
  if (!(header instanceof Map)) {
    throw new CheckpointError("HEADER_JSON", "header is not a JSON object", { file });
  }

  const data = bytes.subarray(dataStart);
  let metadata: Record<string, string> | null = null;
  const entries: TensorEntry[] = [];
  for (const [name, value] of header) {
    if (name === "__metadata__") metadata = readMetadata(value, file);
    else entries.push(readTensorEntry(name, value, data, file));
  }
  const inFileOrder = checkCoverage(entries, data.length, file);

  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of inFileOrder) tensors.set(entry.name, entry.tensor);
  return { metadata, tensors, headerByteLength: n, dataStart };
}

function readMetadata(value: HeaderJsonValue, file: string): Record<string, string> {
  if (!(value instanceof Map)) {
    throw new CheckpointError("METADATA_INVALID", `__metadata__ must be an object of strings, got ${describe(value)}`, {
      file,
    });
  }
  const pairs: Array<[string, string]> = [];
  for (const [key, v] of value) {
    if (typeof v !== "string") {
      throw new CheckpointError(
        "METADATA_INVALID",
        `__metadata__ value for key ${JSON.stringify(key)} must be a string, got ${describe(v)}`,
        { file },
      );
    }
    pairs.push([key, v]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(pairs);
}

function readTensorEntry(name: string, value: HeaderJsonValue, data: Uint8Array, file: string): TensorEntry {
  const at = { file, tensor: name };
  const quoted = JSON.stringify(name);
  if (!(value instanceof Map)) {
    throw new CheckpointError(
      "TENSOR_ENTRY_INVALID",
      `header entry for tensor ${quoted} must be an object {dtype, shape, data_offsets}, got ${describe(value)}`,
      at,
    );
  }
  for (const field of ["dtype", "shape", "data_offsets"]) {
    if (!value.has(field)) {
      throw new CheckpointError("TENSOR_ENTRY_INVALID", `tensor ${quoted} has no "${field}" in the header`, at);
    }
  }

  const dtype = value.get("dtype")!;
  if (!isSafetensorsDtype(dtype)) {
    throw new CheckpointError(
      "DTYPE_UNKNOWN",
      `tensor ${quoted} has unknown dtype ${describe(dtype)} (not a safetensors dtype)`,
      at,
    );
  }

  const shape = value.get("shape")!;
  if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) {
    throw new CheckpointError(
      "SHAPE_INVALID",
      `tensor ${quoted} has shape ${describe(shape)}: it must be a list of non-negative integers`,
      at,
    );
  }
  const dims = shape as number[];

  const offsets = value.get("data_offsets")!;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeSafeInteger)) {
    throw new CheckpointError(
      "OFFSETS_INVALID",
      `tensor ${quoted} has data_offsets ${describe(offsets)}: they must be two non-negative integers [begin, end]`,
      at,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) {
    throw new CheckpointError("OFFSETS_INVALID", `tensor ${quoted} has data_offsets [${begin}, ${end}] with begin > end`, at);
  }
  if (end > data.length) {
    throw new CheckpointError(
      "OFFSETS_PAST_END",
      `tensor ${quoted} has data_offsets [${begin}, ${end}] but the data buffer after the header is only ${data.length} bytes: file truncated?`,
      at,
    );
  }

  const expected = tensorByteLength(dtype, dims);
  if (expected !== end - begin) {
    const wanted =
      expected === null
        ? `${numelOf(dims)} × ${DTYPE_BITS[dtype]} bits, which is not a whole number of bytes`
        : `${expected} bytes (${numelOf(dims)} elements × ${DTYPE_BITS[dtype] / 8} bytes)`;
    throw new CheckpointError(
      "BYTE_LENGTH_MISMATCH",
      `tensor ${quoted} (${dtype}, shape [${dims.join(", ")}]) needs ${wanted} but data_offsets [${begin}, ${end}] span ${end - begin}`,
      at,
    );
  }

  return { name, begin, end, tensor: { dtype, shape: dims.slice(), data: data.subarray(begin, end) } };
}

/**
 * The spec wants the buffer tiled exactly: sorted by offsets, each tensor
 * starts where the previous ended. Returns the entries in that order.
 */
function checkCoverage(entries: TensorEntry[], dataLength: number, file: string): TensorEntry[] {
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorEntry | null = null;
  for (const entry of sorted) {
    const q = JSON.stringify(entry.name);
    if (entry.begin < covered) {
      throw new CheckpointError(
        "TENSORS_OVERLAP",
        `tensor ${q} (bytes ${entry.begin}…${entry.end}) overlaps tensor ${JSON.stringify(previous!.name)} (bytes ${previous!.begin}…${previous!.end})`,
        { file, tensor: entry.name },
      );
    }
    if (entry.begin > covered) {
      const before = previous === null ? "the start of the data buffer" : `tensor ${JSON.stringify(previous.name)}`;
      throw new CheckpointError(
        "BUFFER_GAP",
        `bytes ${covered}…${entry.begin} of the data buffer, between ${before} and tensor ${q}, belong to no tensor (the spec allows no holes)`,
        { file, tensor: entry.name },
      );
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataLength) {
    throw new CheckpointError(
      "BUFFER_TRAILING_BYTES",
      `the data buffer holds ${dataLength} bytes but the tensors cover only ${covered}: ${dataLength - covered} trailing bytes belong to no tensor`,
      { file },
    );
  }
  return sorted;
}

// ─── writing ────────────────────────────────────────────────────────────────

/**
 * Serializes tensors as the reference writer does, byte for byte: tensors
 * ordered by descending dtype alignment then by name, data contiguous, header
 * as compact JSON with `__metadata__` first, padded with spaces to a multiple
 * of 8 bytes so every tensor starts aligned.
 */
export function writeSafetensors(
  tensors: readonly SafetensorsTensorInput[],
  metadata?: Readonly<Record<string, string>> | null,
): Uint8Array {
  const seen = new Set<string>();
  for (const t of tensors) checkWriterInput(t, seen);
  const ordered = tensors
    .slice()
    .sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareCodePoints(a.name, b.name));

  const parts: string[] = [];
  if (metadata != null) {
    const fields = Object.entries(metadata).map(([key, value]) => {
      if (typeof value !== "string") {
        throw new CheckpointError(
          "WRITE_INVALID",
          `metadata value for key ${JSON.stringify(key)} must be a string, got ${typeof value}`,
        );
      }
      checkWellFormed(key, "metadata key");
      checkWellFormed(value, `metadata value for ${JSON.stringify(key)}`);
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    parts.push(`"__metadata__":{${fields.join(",")}}`);
  }
  let offset = 0;
  for (const t of ordered) {
    const end = offset + t.data.byteLength;
    parts.push(
      `${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  if (headerLength > MAX_HEADER_BYTES) {
    throw new CheckpointError(
      "WRITE_INVALID",
      `header would be ${headerLength} bytes, above the ${MAX_HEADER_BYTES}-byte limit readers enforce`,
    );
  }

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of ordered) {
    out.set(t.data, at);
    at += t.data.byteLength;
  }
  return out;
}

function checkWriterInput(t: SafetensorsTensorInput, seen: Set<string>): void {
  const where = { tensor: t.name };
  const q = JSON.stringify(t.name);
  if (typeof t.name !== "string" || t.name === "__metadata__") {
    throw new CheckpointError("WRITE_INVALID", `tensor name ${q} is reserved or not a string`, where);
  }
  checkWellFormed(t.name, "tensor name");
  if (seen.has(t.name)) throw new CheckpointError("WRITE_INVALID", `tensor ${q} is given twice`, where);
  seen.add(t.name);
  if (!isSafetensorsDtype(t.dtype)) {
    throw new CheckpointError("WRITE_INVALID", `tensor ${q} has unknown dtype ${describe(t.dtype)}`, where);
  }
  if (!Array.isArray(t.shape) || !t.shape.every(isNonNegativeSafeInteger)) {
    throw new CheckpointError(
      "WRITE_INVALID",
      `tensor ${q} has shape ${describe(t.shape)}: it must be a list of non-negative integers`,
      where,
    );
  }
  if (!(t.data instanceof Uint8Array)) {
    throw new CheckpointError("WRITE_INVALID", `tensor ${q} data must be a Uint8Array`, where);
  }
  const expected = tensorByteLength(t.dtype, t.shape);
  if (expected !== t.data.byteLength) {
    throw new CheckpointError(
      "WRITE_INVALID",
      `tensor ${q} (${t.dtype}, shape [${t.shape.join(", ")}]) needs ${expected ?? "a non-whole number of"} bytes but its data is ${t.data.byteLength}`,
      where,
    );
  }
}

/** Lone surrogates cannot be written as UTF-8; JSON.stringify would escape them into a header readers reject. */
function checkWellFormed(text: string, what: string): void {
  if (/\p{Surrogate}/u.test(text)) {
    throw new CheckpointError("WRITE_INVALID", `${what} ${JSON.stringify(text)} contains a lone UTF-16 surrogate`);
  }
}

// ─── sizes ──────────────────────────────────────────────────────────────────

/** Product of dims; Infinity when it exceeds 2^53 (no real buffer is that large). */
function numelOf(shape: readonly number[]): number {
  if (shape.some((d) => d === 0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return Infinity;
  }
  return n;
}

/** Bytes a tensor occupies, or null when the element bits do not fill whole bytes. */
export function tensorByteLength(dtype: SafetensorsDtype, shape: readonly number[]): number | null {
  const numel = numelOf(shape);
  if (numel === Infinity) return Infinity;
  const bits = DTYPE_BITS[dtype];
  if (bits % 8 === 0) return numel * (bits / 8);
  // numel × bits stays exact below 2^53 only for numel < 2^50; beyond that the file cannot exist anyway.
  if (numel > 2 ** 50) return Infinity;
  const totalBits = numel * bits;
  return totalBits % 8 === 0 ? totalBits / 8 : null;
}

function isNonNegativeSafeInteger(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

/** A short rendering of a header value for error messages. */
function describe(value: unknown): string {
  const plain = (v: unknown): unknown => {
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
    return Array.isArray(v) ? v.map(plain) : v;
  };
  let text: string;
  try {
    text = JSON.stringify(plain(value)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
