import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DTYPE_BITS,
  parseSafetensors,
  SAFETENSORS_DTYPES,
  tensorByteLength,
  writeSafetensors,
  type SafetensorsDtype,
  type SafetensorsTensorInput,
} from "../../src/checkpoint/index.js";
import { CheckpointError } from "../../src/errors.js";

const FILE = "tiny.safetensors";

/** A file with exactly this header text (not padded unless asked) and this many data bytes (0, 1, 2, …). */
function rawFile(header: string | object, data: number | Uint8Array, headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const body = typeof data === "number" ? Uint8Array.from({ length: data }, (_, i) => i & 0xff) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

function rejects(bytes: Uint8Array, code: string, ...mentions: RegExp[]): CheckpointError {
  let caught: unknown;
  try {
    parseSafetensors(bytes, FILE);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CheckpointError, `expected CheckpointError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.file, FILE);
  assert.ok(caught.message.startsWith(`${FILE}: `), caught.message);
  for (const m of mentions) assert.match(caught.message, m);
  return caught;
}

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const u16Bytes = (values: number[]) => new Uint8Array(new Uint16Array(values).buffer);

describe("safetensors writer", () => {
  // Byte vectors from the unit tests of the reference Rust crate (safetensors/src/tensor.rs):
  // test_serialization, test_serialization_forced_alignement, test_empty.
  const SIX_FLOATS = f32Bytes([0, 1, 2, 3, 4, 5]);
  const FLOAT_BYTES = [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64];
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
  const le64 = (n: number) => [n, 0, 0, 0, 0, 0, 0, 0];

  it("matches the reference crate byte for byte (header already a multiple of 8)", () => {
    const out = writeSafetensors([{ name: "attn.0", dtype: "F32", shape: [1, 2, 3], data: SIX_FLOATS }]);
    const header = `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`;
    assert.deepEqual([...out], [...le64(64), ...ascii(header), ...FLOAT_BYTES]);
  });

  it("matches the reference crate byte for byte (header padded with spaces to 8)", () => {
    const out = writeSafetensors([{ name: "attn0", dtype: "F32", shape: [1, 1, 2, 3], data: SIX_FLOATS }]);
    const header = `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `;
    assert.deepEqual([...out], [...le64(72), ...ascii(header), ...FLOAT_BYTES]);
  });

  it("matches the reference crate for empty files, with and without metadata", () => {
    assert.deepEqual([...writeSafetensors([])], [...le64(8), ...ascii("{}      ")]);
    assert.deepEqual(
      [...writeSafetensors([], { framework: "pt" })],
      [...le64(40), ...ascii(`{"__metadata__":{"framework":"pt"}}     `)],
    );
  });

  it("orders tensors by descending dtype alignment, then by name in code-point order", () => {
    const t = (name: string, dtype: SafetensorsDtype): SafetensorsTensorInput => ({
      name,
      dtype,
      shape: [2],
      data: new Uint8Array(tensorByteLength(dtype, [2])!),
    });
    const out = writeSafetensors([
      t("b", "F16"),
      t("z", "U8"),
      t("a", "F16"),
      t("\u{10000}", "F32"), // UTF-16 order would put this first: its first code unit is 0xD800
      t("\u{E000}", "F32"),
      t("m", "BF16"),
      t("i", "I64"),
    ]);
    const parsed = parseSafetensors(out);
    assert.deepEqual([...parsed.tensors.keys()], ["i", "\u{E000}", "\u{10000}", "m", "a", "b", "z"]);
    // Header order is the file order too.
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(out.subarray(8, 8 + n));
    const order = [...header.matchAll(/"([^"]+)":\{"dtype"/gu)].map((m) => m[1]);
    assert.deepEqual(order, ["i", "\u{E000}", "\u{10000}", "m", "a", "b", "z"]);
  });

  it("aligns every tensor to its element size when tensors are written by descending alignment", () => {
    const dtypes: SafetensorsDtype[] = ["U8", "F16", "F32", "I64", "BF16", "F64", "I8"];
    const out = writeSafetensors(dtypes.map((dtype, i) => ({ name: `t${i}`, dtype, shape: [3], data: new Uint8Array(tensorByteLength(dtype, [3])!) })));
    for (const t of parseSafetensors(out).tensors.values()) {
      assert.equal(t.data.byteOffset % (DTYPE_BITS[t.dtype] / 8), 0, `${t.dtype} misaligned`);
    }
  });

  it("rejects inconsistent input, naming the tensor", () => {
    const ok = { name: "w", dtype: "F32" as const, shape: [2], data: new Uint8Array(8) };
    const cases: Array<[SafetensorsTensorInput[], RegExp]> = [
      [[{ ...ok, data: new Uint8Array(7) }], /tensor "w" \(F32, shape \[2\]\) needs 8 bytes but its data is 7/],
      [[ok, ok], /tensor "w" is given twice/],
      [[{ ...ok, name: "__metadata__" }], /"__metadata__" is reserved/],
      [[{ ...ok, shape: [-2] }], /tensor "w" has shape \[-2\]/],
      [[{ ...ok, shape: [2.5] }], /tensor "w" has shape \[2\.5\]/],
      [[{ ...ok, dtype: "F12" as SafetensorsDtype }], /tensor "w" has unknown dtype "F12"/],
      [[{ ...ok, name: "bad\uD800" }], /lone UTF-16 surrogate/],
      [[{ ...ok, dtype: "F4", shape: [3], data: new Uint8Array(2) }], /needs a non-whole number of bytes/],
    ];
    for (const [input, mention] of cases) {
      assert.throws(() => writeSafetensors(input), (e: unknown) => {
        assert.ok(e instanceof CheckpointError);
        assert.equal(e.code, "WRITE_INVALID");
        assert.match(e.message, mention);
        return true;
      });
    }
    assert.throws(() => writeSafetensors([ok], { a: 1 as unknown as string }), /metadata value for key "a" must be a string/);
  });
});

describe("safetensors round trip", () => {
  it("reads back names, dtypes, shapes, bytes and metadata for F32, F16 and BF16", () => {
    const input: SafetensorsTensorInput[] = [
      { name: "bert.embeddings.word_embeddings.weight", dtype: "F32", shape: [3, 2], data: f32Bytes([0.5, -1, 2, 3.25, -0.125, 1e-8]) },
      { name: "half", dtype: "F16", shape: [2, 2], data: u16Bytes([0x3c00, 0xc000, 0x3800, 0x7bff]) },
      { name: "brain", dtype: "BF16", shape: [4], data: u16Bytes([0x3f80, 0xc000, 0x3f00, 0x7f7f]) },
      { name: "scalar", dtype: "F32", shape: [], data: f32Bytes([42]) },
      { name: "empty", dtype: "F16", shape: [0, 5], data: new Uint8Array(0) },
    ];
    const bytes = writeSafetensors(input, { format: "pt", note: "ünïcödé ✓" });
    const parsed = parseSafetensors(bytes, FILE);
    assert.deepEqual(parsed.metadata, { format: "pt", note: "ünïcödé ✓" });
    assert.equal(parsed.tensors.size, input.length);
    for (const t of input) {
      const got = parsed.tensors.get(t.name);
      assert.ok(got, t.name);
      assert.equal(got.dtype, t.dtype);
      assert.deepEqual(got.shape, t.shape);
      assert.deepEqual([...got.data], [...t.data]);
    }
    assert.equal(parsed.headerByteLength % 8, 0);
    assert.equal(parsed.dataStart, 8 + parsed.headerByteLength);
    // Writing what was read gives the same file.
    const rewritten = writeSafetensors([...parsed.tensors].map(([name, t]) => ({ name, ...t })), parsed.metadata);
    assert.deepEqual(rewritten, bytes);
  });

  it("returns views into the input, not copies, also for a Uint8Array at an offset", () => {
    const file = writeSafetensors([{ name: "w", dtype: "F32", shape: [2], data: f32Bytes([1, 2]) }]);
    const backing = new Uint8Array(file.length + 13);
    backing.set(file, 13);
    const view = backing.subarray(13);
    const parsed = parseSafetensors(view);
    const w = parsed.tensors.get("w")!;
    assert.equal(w.data.buffer, backing.buffer);
    assert.equal(w.data.byteOffset, 13 + parsed.dataStart);
    view[parsed.dataStart] = 0x55;
    assert.equal(w.data[0], 0x55, "a write to the file bytes shows through the tensor view");
  });

  it("reports a file without __metadata__ as null metadata", () => {
    assert.equal(parseSafetensors(writeSafetensors([])).metadata, null);
  });
});

describe("safetensors reader accepts what the spec allows", () => {
  it("header entries in any order, extra whitespace, and unknown entry fields", () => {
    const header = `  {"b": {"dtype":"U8","shape":[2],"data_offsets":[4,6], "extra": [1]},\n "a":{"data_offsets":[0,4],"shape":[1],"dtype":"F32"}}`;
    const bytes = rawFile(`{${header.trimStart().slice(1)}   `, 6);
    const parsed = parseSafetensors(bytes, FILE);
    assert.deepEqual([...parsed.tensors.keys()], ["a", "b"], "tensors come in file (offset) order");
    assert.deepEqual([...parsed.tensors.get("b")!.data], [4, 5]);
  });

  it("every dtype of the spec, sub-byte ones when they fill whole bytes", () => {
    for (const dtype of SAFETENSORS_DTYPES) {
      const shape = [4];
      const n = tensorByteLength(dtype, shape)!;
      assert.equal(n, (4 * DTYPE_BITS[dtype]) / 8);
      const parsed = parseSafetensors(rawFile({ t: { dtype, shape, data_offsets: [0, n] } }, n), FILE);
      assert.equal(parsed.tensors.get("t")!.data.length, n);
    }
  });

  it("zero-size tensors sharing an offset with their neighbours", () => {
    const header = {
      e1: { dtype: "F32", shape: [0], data_offsets: [0, 0] },
      a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      e2: { dtype: "F32", shape: [3, 0], data_offsets: [4, 4] },
      b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
      e3: { dtype: "F32", shape: [0], data_offsets: [8, 8] },
    };
    const parsed = parseSafetensors(rawFile(header, 8), FILE);
    assert.deepEqual([...parsed.tensors.keys()], ["e1", "a", "e2", "b", "e3"]);
  });
});

describe("safetensors reader rejects corrupt files with a CheckpointError naming the problem", () => {
  const one = (entry: object, dataBytes: number) => rawFile({ "w.weight": entry }, dataBytes);

  it("a file shorter than the header length field", () => {
    rejects(new Uint8Array(5), "HEADER_TOO_SMALL", /file is 5 bytes/);
  });

  it("an absurd header length (> 100 MB), including one only the high u64 word sets", () => {
    rejects(rawFile("{}", 0, 100_000_001n), "HEADER_TOO_LARGE", /100000001/, /100000000-byte limit/);
    rejects(rawFile("{}", 0, 1n << 40n), "HEADER_TOO_LARGE", /1099511627776/);
    rejects(rawFile("{}", 0, 0xffff_ffff_ffff_ffffn), "HEADER_TOO_LARGE");
  });

  it("a header length running past the end of the file", () => {
    rejects(rawFile("{}", 0, 3n), "HEADER_PAST_END", /header length 3 runs past the end of the file \(10 bytes/);
  });

  it("a header that does not start with '{', or is empty", () => {
    rejects(rawFile(" {}", 0), "HEADER_START");
    rejects(rawFile("[]", 0), "HEADER_START");
    rejects(rawFile("", 0), "HEADER_START");
  });

  it("a header that is not UTF-8 or not JSON", () => {
    const bad = rawFile(`{"w\u00ff":1}`, 0);
    bad[11] = 0xff; // an invalid UTF-8 byte inside the key
    rejects(bad, "HEADER_UTF8", /not valid UTF-8/);
    rejects(rawFile(`{"w":`, 0), "HEADER_JSON", /unexpected end of header/);
    rejects(rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}`, 4), "HEADER_JSON", /non-integer/);
    rejects(rawFile(`{}\u0000\u0000`, 0), "HEADER_JSON", /after the header object/);
  });

  it("duplicate tensor names", () => {
    const e = `{"dtype":"U8","shape":[1],"data_offsets":[0,1]}`;
    rejects(rawFile(`{"w":${e},"w":${e}}`, 1), "HEADER_JSON", /duplicate key "w"/);
  });

  it("__metadata__ that is not a map of strings", () => {
    rejects(rawFile({ __metadata__: { format: "pt", step: 3 } }, 0), "METADATA_INVALID", /"step" must be a string, got 3/);
    rejects(rawFile({ __metadata__: ["pt"] }, 0), "METADATA_INVALID", /must be an object of strings/);
  });

  it("a tensor entry that is not an object or lacks a field", () => {
    const e1 = rejects(rawFile({ "w.weight": [1, 2] }, 0), "TENSOR_ENTRY_INVALID", /tensor "w\.weight"/, /\[1,2\]/);
    assert.equal(e1.tensor, "w.weight");
    for (const field of ["dtype", "shape", "data_offsets"]) {
      const entry: Record<string, unknown> = { dtype: "F32", shape: [1], data_offsets: [0, 4] };
      delete entry[field];
      rejects(one(entry, 4), "TENSOR_ENTRY_INVALID", new RegExp(`tensor "w\\.weight" has no "${field}"`));
    }
  });

  it("an unknown dtype", () => {
    const e = rejects(one({ dtype: "F12", shape: [1], data_offsets: [0, 4] }, 4), "DTYPE_UNKNOWN", /tensor "w\.weight" has unknown dtype "F12"/);
    assert.equal(e.tensor, "w.weight");
    rejects(one({ dtype: "f32", shape: [1], data_offsets: [0, 4] }, 4), "DTYPE_UNKNOWN", /"f32"/);
    rejects(one({ dtype: 32, shape: [1], data_offsets: [0, 4] }, 4), "DTYPE_UNKNOWN", /dtype 32/);
  });

  it("a shape that is not a list of non-negative integers", () => {
    for (const shape of [[2, -1], ["2"], 4, [[2]], [null], [2 ** 53]]) {
      rejects(one({ dtype: "U8", shape, data_offsets: [0, 2] }, 2), "SHAPE_INVALID", /tensor "w\.weight" has shape/);
    }
  });

  it("data_offsets that are not two non-negative integers in order", () => {
    for (const offsets of [[0], [0, 4, 8], [-4, 0], ["0", 4], null, [0, 2 ** 53]]) {
      rejects(one({ dtype: "F32", shape: [1], data_offsets: offsets }, 4), "OFFSETS_INVALID", /tensor "w\.weight" has data_offsets/);
    }
    rejects(one({ dtype: "F32", shape: [0], data_offsets: [4, 0] }, 4), "OFFSETS_INVALID", /\[4, 0\] with begin > end/);
  });

  it("data_offsets past the end of the data (a truncated file)", () => {
    const full = writeSafetensors([{ name: "w.weight", dtype: "F32", shape: [4], data: f32Bytes([1, 2, 3, 4]) }]);
    rejects(full.subarray(0, full.length - 3), "OFFSETS_PAST_END", /tensor "w\.weight" has data_offsets \[0, 16\] but the data buffer after the header is only 13 bytes/);
  });

  it("a byte length that is not numel × dtype size", () => {
    rejects(one({ dtype: "F32", shape: [2, 3], data_offsets: [0, 20] }, 20), "BYTE_LENGTH_MISMATCH", /tensor "w\.weight" \(F32, shape \[2, 3\]\) needs 24 bytes \(6 elements × 4 bytes\) but data_offsets \[0, 20\] span 20/);
    rejects(one({ dtype: "F4", shape: [3], data_offsets: [0, 2] }, 2), "BYTE_LENGTH_MISMATCH", /not a whole number of bytes/);
    rejects(one({ dtype: "U8", shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 4] }, 4), "BYTE_LENGTH_MISMATCH");
  });

  it("overlapping tensors, naming both", () => {
    const header = {
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    };
    const e = rejects(rawFile(header, 12), "TENSORS_OVERLAP", /tensor "b" \(bytes 4…12\) overlaps tensor "a" \(bytes 0…8\)/);
    assert.equal(e.tensor, "b");
    const same = { a: header.a, b: { ...header.a } };
    rejects(rawFile(same, 8), "TENSORS_OVERLAP", /overlaps/);
  });

  it("a hole between tensors, or before the first", () => {
    const gap = {
      a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
    };
    rejects(rawFile(gap, 12), "BUFFER_GAP", /bytes 4…8 of the data buffer, between tensor "a" and tensor "b", belong to no tensor/);
    rejects(rawFile({ b: gap.b }, 12), "BUFFER_GAP", /between the start of the data buffer and tensor "b"/);
  });

  it("bytes after the last tensor", () => {
    rejects(one({ dtype: "F32", shape: [1], data_offsets: [0, 4] }, 7), "BUFFER_TRAILING_BYTES", /holds 7 bytes but the tensors cover only 4: 3 trailing bytes/);
    rejects(rawFile("{}", 1), "BUFFER_TRAILING_BYTES");
  });

  it("uses the default file name when none is given", () => {
    assert.throws(() => parseSafetensors(new Uint8Array(0)), /^CheckpointError: model\.safetensors: /);
    assert.throws(() => parseSafetensors(new Uint8Array(0)), (e: unknown) => e instanceof CheckpointError && e.file === "model.safetensors");
  });
});
