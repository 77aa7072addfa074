import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DTYPE_BITS,
  isSafetensorsDtype,
  parseSafetensors,
  SAFETENSORS_DTYPES,
  tensorByteLength,
  writeSafetensors,
  type ParsedSafetensors,
} from "../../src/checkpoint/index.js";
import { CheckpointError, DynaBertError } from "../../src/errors.js";

const FILE = "fuzz.safetensors";
const ITERATIONS = 4000;

/** mulberry32: a small seeded PRNG, so a failure reproduces from its iteration number. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

function baseFile(): Uint8Array {
  const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
  return writeSafetensors(
    [
      { name: "bert.embeddings.word_embeddings.weight", dtype: "F32", shape: [3, 4], data: bytes(48) },
      { name: "bert.encoder.layer.0.attention.self.query.bias", dtype: "F16", shape: [4], data: bytes(8) },
      { name: "classifier.weight", dtype: "BF16", shape: [2, 4], data: bytes(16) },
      { name: "bert.embeddings.position_ids", dtype: "I64", shape: [1, 3], data: bytes(24) },
      { name: "empty", dtype: "F32", shape: [0], data: bytes(0) },
      { name: "scalar", dtype: "U8", shape: [], data: bytes(1) },
    ],
    { format: "pt" },
  );
}

function splitFile(file: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return {
    header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, unknown>,
    data: file.subarray(8 + n),
  };
}

function assemble(headerText: string, data: Uint8Array, lengthDelta = 0): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, json.length + lengthDelta)), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

// ─── mutations ──────────────────────────────────────────────────────────────

function flipBytes(r: Rand, file: Uint8Array): Uint8Array {
  const out = file.slice();
  const headerEnd = 8 + Number(new DataView(out.buffer).getBigUint64(0, true));
  for (let k = 1 + int(r, 4); k > 0; k--) {
    // Half the flips land in the data buffer, which a reader must accept unchanged.
    const at = r() < 0.5 ? int(r, headerEnd) : headerEnd + int(r, out.length - headerEnd);
    out[at] = r() < 0.5 ? out[at] ^ (1 << int(r, 8)) : int(r, 256);
  }
  return out;
}

function truncate(r: Rand, file: Uint8Array): Uint8Array {
  return file.slice(0, int(r, file.length));
}

function editHeaderLength(r: Rand, file: Uint8Array): Uint8Array {
  const out = file.slice();
  const view = new DataView(out.buffer);
  const n = view.getBigUint64(0, true);
  const choices = [
    () => n + BigInt(int(r, 33) - 16),
    () => BigInt(int(r, 2 ** 32)),
    () => BigInt(int(r, 2 ** 32)) << 32n,
    () => 0n,
    () => BigInt(out.length - 8),
    () => 100_000_000n + BigInt(int(r, 3) - 1),
    () => 0xffff_ffff_ffff_ffffn,
  ];
  view.setBigUint64(0, BigInt.asUintN(64, pick(r, choices)()), true);
  return out;
}

const ODD_NUMBERS = [0, 1, 2, 3, 4, 7, 8, 12, 48, 96, -1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 60, 1.5];
const ODD_VALUES: unknown[] = [null, true, "2", "F32", [], {}, [[1]], { a: 1 }];
const oddValue = (r: Rand): unknown => (r() < 0.7 ? pick(r, ODD_NUMBERS) : pick(r, ODD_VALUES));

function editJson(r: Rand, file: Uint8Array): Uint8Array {
  const { header, data } = splitFile(file);
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const name = pick(r, names);
  const entry = header[name] as Record<string, unknown>;
  const edits = [
    () => (entry.dtype = r() < 0.7 ? pick(r, SAFETENSORS_DTYPES) : pick(r, ["F12", "", "f32", 5, null])),
    () => (entry.shape = Array.from({ length: int(r, 4) }, () => (r() < 0.6 ? int(r, 6) : oddValue(r)))),
    () => {
      const offsets = entry.data_offsets;
      if (!Array.isArray(offsets)) return;
      const i = int(r, 2);
      offsets[i] = r() < 0.5 ? Number(offsets[i]) + int(r, 17) - 8 : oddValue(r);
    },
    () => (entry.data_offsets = Array.from({ length: int(r, 4) }, () => int(r, data.length + 8))),
    () => delete entry[pick(r, ["dtype", "shape", "data_offsets"])],
    () => (header[name] = oddValue(r)),
    () => (entry[pick(r, ["extra", "dtype_", "offsets"])] = oddValue(r)),
    () => (header.__metadata__ = r() < 0.5 ? { format: oddValue(r) } : oddValue(r)),
    () => (header[`new.${int(r, 4)}`] = { dtype: pick(r, SAFETENSORS_DTYPES), shape: [int(r, 4)], data_offsets: [int(r, data.length + 1), int(r, data.length + 1)] }),
    () => {
      // Shift both offsets: same length, so only overlap/gap/bounds checks can object.
      const offsets = entry.data_offsets;
      if (!Array.isArray(offsets)) return;
      const shift = pick(r, [-8, -4, -2, -1, 1, 2, 4, 8]);
      entry.data_offsets = offsets.map((o) => Number(o) + shift);
    },
    () => {
      // Swap the offsets of two tensors: valid when they have the same byte length.
      const other = header[pick(r, names)] as Record<string, unknown>;
      [entry.data_offsets, other.data_offsets] = [other.data_offsets, entry.data_offsets];
    },
    () => {
      // Reorder header keys: never matters to a reader.
      const keys = Object.keys(header).sort(() => r() - 0.5);
      const copy = Object.fromEntries(keys.map((k) => [k, header[k]]));
      for (const k of keys) delete header[k];
      Object.assign(header, copy);
    },
    () => {
      const other = pick(r, names);
      const offsets = (header[other] as Record<string, unknown>).data_offsets;
      entry.data_offsets = Array.isArray(offsets) ? offsets.slice() : offsets;
    },
  ];
  for (let k = 1 + int(r, 2); k > 0; k--) pick(r, edits)();

  let text = JSON.stringify(header);
  const textEdits = [
    () => text.replace(`"${pick(r, names)}"`, `"${pick(r, names)}"`), // may create a duplicate key
    () => text.replace(/(\d)(?=[,\]])/, "$1.0"), // an integer written as a float
    () => text.replace(/\d+/, "1e2"),
    () => text.replace(/"[^"]*"/, '"\\ud800"'), // lone surrogate escape
    () => `${text}${" ".repeat(int(r, 9))}`,
    () => `${text}\u0000`,
  ];
  if (r() < 0.4) text = pick(r, textEdits)();
  let body = data;
  if (r() < 0.2) body = data.subarray(0, int(r, data.length + 1));
  else if (r() < 0.2) body = Uint8Array.from([...data, ...Array.from({ length: 1 + int(r, 8) }, () => int(r, 256))]);
  return assemble(text, body, r() < 0.85 ? 0 : int(r, 9) - 4);
}

function spliceBytes(r: Rand, file: Uint8Array): Uint8Array {
  const at = int(r, file.length);
  const removed = int(r, 6);
  const inserted = Array.from({ length: int(r, 6) }, () => pick(r, [0x7b, 0x7d, 0x22, 0x2c, 0x3a, 0x5b, 0x5d, 0x30, 0x20, int(r, 256)]));
  return Uint8Array.from([...file.subarray(0, at), ...inserted, ...file.subarray(at + removed)]);
}

function randomFile(r: Rand): Uint8Array {
  const body = Uint8Array.from({ length: int(r, 64) }, () => int(r, 256));
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(int(r, body.length + 2)), true);
  out.set(body, 8);
  if (body.length > 0 && r() < 0.5) out[8] = 0x7b;
  return out;
}

const MUTATIONS = { flipBytes, truncate, editHeaderLength, editJson, spliceBytes } as const;

// ─── invariants ─────────────────────────────────────────────────────────────

/** What a successful parse must guarantee: tensors are in-bounds views that tile the data buffer exactly. */
function checkParsed(file: Uint8Array, parsed: ParsedSafetensors, label: string): void {
  const dataBegin = file.byteOffset + parsed.dataStart;
  const dataEnd = file.byteOffset + file.length;
  let cursor = dataBegin;
  for (const [name, t] of parsed.tensors) {
    assert.ok(isSafetensorsDtype(t.dtype), `${label}: ${name} dtype`);
    assert.ok(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${label}: ${name} shape`);
    assert.equal(t.data.buffer, file.buffer, `${label}: ${name} is a view of the file`);
    assert.equal(t.data.byteLength, tensorByteLength(t.dtype, t.shape), `${label}: ${name} byte length`);
    assert.equal(t.data.byteOffset, cursor, `${label}: ${name} starts where the previous tensor ended`);
    cursor += t.data.byteLength;
    assert.ok(cursor <= dataEnd, `${label}: ${name} ends inside the file`);
  }
  assert.equal(cursor, dataEnd, `${label}: tensors cover the data buffer`);
  if (parsed.metadata !== null) {
    for (const v of Object.values(parsed.metadata)) assert.equal(typeof v, "string", `${label}: metadata value`);
  }
}

describe("safetensors reader under fuzzing", () => {
  it(`survives ${ITERATIONS} seeded mutations of a valid file: each parses soundly or throws a CheckpointError`, { timeout: 20_000 }, () => {
    const base = baseFile();
    checkParsed(base, parseSafetensors(base, FILE), "base");
    const r = prng(0x5afe7e45);
    const kinds = Object.keys(MUTATIONS) as Array<keyof typeof MUTATIONS>;
    const codes = new Map<string, number>();
    const outcomes = { parsed: 0, rejected: 0 };
    let slowest = 0;

    for (let i = 0; i < ITERATIONS; i++) {
      const kind = i % 10 === 9 ? "random" : kinds[i % kinds.length];
      const file = kind === "random" ? randomFile(r) : MUTATIONS[kind](r, base);
      const label = `iteration ${i} (${kind})`;
      const started = performance.now();
      let parsed: ParsedSafetensors | null = null;
      try {
        parsed = parseSafetensors(file, FILE);
      } catch (e) {
        assert.ok(e instanceof DynaBertError, `${label}: threw a non-DynaBertError: ${String(e)}`);
        assert.ok(e instanceof CheckpointError, `${label}: threw ${e.name}`);
        assert.equal(e.file, FILE, label);
        assert.ok(e.message.length > FILE.length + 10, `${label}: message says something`);
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        outcomes.rejected++;
      }
      slowest = Math.max(slowest, performance.now() - started);
      if (parsed !== null) {
        checkParsed(file, parsed, label);
        outcomes.parsed++;
      }
    }

    // The mutations must actually reach both outcomes and most of the reader's checks.
    assert.ok(outcomes.parsed >= ITERATIONS / 20, `only ${outcomes.parsed} mutated files parsed`);
    assert.ok(outcomes.rejected >= ITERATIONS / 2, `only ${outcomes.rejected} mutated files rejected`);
    const expectedCodes = [
      "HEADER_TOO_SMALL",
      "HEADER_TOO_LARGE",
      "HEADER_PAST_END",
      "HEADER_START",
      "HEADER_UTF8",
      "HEADER_JSON",
      "METADATA_INVALID",
      "TENSOR_ENTRY_INVALID",
      "DTYPE_UNKNOWN",
      "SHAPE_INVALID",
      "OFFSETS_INVALID",
      "OFFSETS_PAST_END",
      "BYTE_LENGTH_MISMATCH",
      "TENSORS_OVERLAP",
      "BUFFER_GAP",
      "BUFFER_TRAILING_BYTES",
    ];
    const unseen = expectedCodes.filter((c) => !codes.has(c));
    assert.deepEqual(unseen, [], `error codes never produced: ${unseen.join(", ")} (seen: ${[...codes].map(([c, n]) => `${c}×${n}`).join(", ")})`);
    assert.ok(slowest < 250, `slowest single parse took ${slowest.toFixed(1)} ms`);
    // Sub-byte dtypes (DTYPE_BITS < 8) are among the dtypes the edits try.
    assert.ok(SAFETENSORS_DTYPES.some((d) => DTYPE_BITS[d] < 8));
  });
});
