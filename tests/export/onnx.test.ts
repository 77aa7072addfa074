// ONNX export: the protobuf encoder byte for byte, then exported sub-networks
// run by onnxruntime (the wasm build, as in a browser, and the native Node
// binding when installed) against this engine's forward pass, within 1e-4.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import * as ortWeb from "onnxruntime-web";
import { exportOnnx } from "../../src/cli/export-onnx.js";
import { InputError, OptionError } from "../../src/errors.js";
import { buildOnnxModel, checkpointSource, exportOnnxBytes, type ExportSource } from "../../src/export/onnx/index.js";
import { DataType, attr, encodeModel, type OnnxModel } from "../../src/export/onnx/onnx-proto.js";
import { ProtoWriter } from "../../src/export/onnx/protobuf.js";
import { DynaBert, readBundledWasm, readModelFolder } from "../../src/node.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "golden");
const TOLERANCE = 1e-4;
const SUBNETWORKS: Array<[number, number]> = [
  [1, 1],
  [0.5, 0.75],
  [0.25, 0.5],
  [0.75, 0.25],
];

ortWeb.env.wasm.numThreads = 1;
ortWeb.env.logLevel = "error";

type Ort = typeof ortWeb;
// onnxruntime-node is optional: its install script fetches CUDA binaries from outside the npm registry.
const ortNode = ((): Ort | undefined => {
  try {
    return createRequire(import.meta.url)("onnxruntime-node") as Ort;
  } catch {
    return undefined;
  }
})();
const NODE_SKIP = "onnxruntime-node is not installed (optional: its install script downloads CUDA binaries from outside npm)";
const RUNTIMES: Array<[string, Ort | undefined]> = [
  ["onnxruntime-web (wasm)", ortWeb],
  ["onnxruntime-node", ortNode],
];

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("protobuf encoder", () => {
  const varint = (v: number | bigint) => hex(new ProtoWriter().uint(1, v).finish().subarray(1));

  it("writes varints at every byte-length boundary", () => {
    assert.equal(varint(0), "00");
    assert.equal(varint(1), "01");
    assert.equal(varint(127), "7f");
    assert.equal(varint(128), "8001");
    assert.equal(varint(300), "ac02");
    assert.equal(varint(16383), "ff7f");
    assert.equal(varint(16384), "808001");
    assert.equal(varint(2 ** 31 - 1), "ffffffff07");
    assert.equal(varint(2 ** 32), "8080808010");
    assert.equal(varint(2 ** 53 - 1), "ffffffffffffff0f");
    assert.equal(varint(2n ** 64n - 1n), "ffffffffffffffffff01");
  });

  it("writes negative int64 as ten-byte two's complement", () => {
    const int = (v: number | bigint) => hex(new ProtoWriter().int(1, v).finish().subarray(1));
    assert.equal(int(-1), "ffffffffffffffffff01");
    assert.equal(int(-2), "feffffffffffffffff01");
    assert.equal(int(-(2n ** 63n)), "80808080808080808001");
    assert.equal(int(5), "05");
  });

  it("rejects values protobuf cannot hold", () => {
    assert.throws(() => new ProtoWriter().uint(1, -1), RangeError);
    assert.throws(() => new ProtoWriter().uint(1, 1.5), RangeError);
    assert.throws(() => new ProtoWriter().uint(1, 2n ** 64n), RangeError);
    assert.throws(() => new ProtoWriter().int(1, 2n ** 63n), RangeError);
    assert.throws(() => new ProtoWriter().uint(0, 1), RangeError);
  });

  it("encodes the protobuf documentation's example messages", () => {
    // message Test1 { int32 a = 1; } a = 150
    assert.equal(hex(new ProtoWriter().uint(1, 150).finish()), "089601");
    // message Test2 { string b = 2; } b = "testing"
    assert.equal(hex(new ProtoWriter().string(2, "testing").finish()), "120774657374696e67");
    // message Test3 { Test1 c = 3; }
    assert.equal(hex(new ProtoWriter().message(3, new ProtoWriter().uint(1, 150)).finish()), "1a03089601");
    // message Test4 { repeated int32 d = 4 [packed = true]; } d = [3, 270, 86942]
    assert.equal(hex(new ProtoWriter().packedInts(4, [3, 270, 86942]).finish()), "2206038e029ea705");
    // float f = 2: 1.0 and −2.5 as little-endian IEEE-754
    assert.equal(hex(new ProtoWriter().float(2, 1).float(2, -2.5).finish()), "150000803f15000020c0");
  });

  it("links large byte fields and nested messages without changing the bytes", () => {
    const big = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const inner = new ProtoWriter().uint(1, 7).bytes(2, big).string(3, "x");
    const outer = new ProtoWriter().string(1, "head").message(2, inner).uint(3, 9);
    const expected = Buffer.concat([
      Buffer.from("0a0468656164", "hex"), // field 1 "head"
      Buffer.from("12f007", "hex"), // field 2, length 1008 = 2 + (3 + 1000) + 3
      Buffer.from("0807", "hex"),
      Buffer.from("12e807", "hex"), // field 2, length 1000
      big,
      Buffer.from("1a0178", "hex"),
      Buffer.from("1809", "hex"),
    ]);
    assert.equal(inner.byteLength, 1008);
    assert.equal(outer.byteLength, expected.length);
    assert.equal(hex(outer.finish()), expected.toString("hex"));
    assert.ok(outer.chunks().includes(big), "the 1000-byte field is linked, not copied");
  });
});

describe("ONNX encoding", () => {
  it("a hand-built model (Gemm with attributes, int64 and float initializers, a symbolic dim) runs in onnxruntime", async () => {
    // y = Softmax(x · Wᵀ + b, axis = −1) over x [n, 3]; W [2, 3].
    const w = Float32Array.of(1, 2, 3, -1, 0.5, 0.25);
    const b = Float32Array.of(0.5, -0.5);
    const model: OnnxModel = {
      irVersion: 8,
      opsets: [{ domain: "", version: 17 }],
      producerName: "test",
      graph: {
        name: "tiny",
        inputs: [{ name: "x", elemType: DataType.FLOAT, dims: ["n", 3] }],
        outputs: [{ name: "y", elemType: DataType.FLOAT, dims: ["n", 2] }],
        initializers: [
          { name: "w", dataType: DataType.FLOAT, dims: [2, 3], raw: new Uint8Array(w.buffer) },
          { name: "b", dataType: DataType.FLOAT, dims: [2], raw: new Uint8Array(b.buffer) },
        ],
        nodes: [
          { opType: "Gemm", inputs: ["x", "w", "b"], outputs: ["z"], attributes: { transB: attr.int(1), alpha: attr.float(2) } },
          { opType: "Softmax", inputs: ["z"], outputs: ["y"], attributes: { axis: attr.int(-1) } },
        ],
      },
    };
    const session = await ortWeb.InferenceSession.create(encodeModel(model).finish());
    const x = Float32Array.of(1, 0, 0, 0, 1, 1);
    const { y } = await session.run({ x: new ortWeb.Tensor("float32", x, [2, 3]) });
    assert.deepEqual(y.dims, [2, 2]);
    for (let i = 0; i < 2; i++) {
      const z = [0, 1].map((j) => 2 * (x[i * 3] * w[j * 3] + x[i * 3 + 1] * w[j * 3 + 1] + x[i * 3 + 2] * w[j * 3 + 2]) + b[j]);
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      const sum = e[0] + e[1];
      for (let j = 0; j < 2; j++) assert.ok(Math.abs((y.data as Float32Array)[i * 2 + j] - e[j] / sum) < 1e-6, `y[${i}][${j}]`);
    }
  });

  it("rejects a tensor whose bytes do not match its dims", () => {
    const model: OnnxModel = {
      irVersion: 8,
      opsets: [{ domain: "", version: 17 }],
      producerName: "test",
      graph: { name: "bad", inputs: [], outputs: [], nodes: [], initializers: [{ name: "t", dataType: DataType.FLOAT, dims: [3], raw: new Uint8Array(8) }] },
    };
    assert.throws(() => encodeModel(model), /tensor t has 8 bytes, dims \[3\] need 12/);
  });
});

interface Inputs {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
}

function feeds(ort: Ort, inputs: Inputs): Record<string, ortWeb.Tensor> {
  const B = inputs.input_ids.length;
  const S = inputs.input_ids[0].length;
  const t = (rows: number[][]) => new ort.Tensor("int64", BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [B, S]);
  return { input_ids: t(inputs.input_ids), attention_mask: t(inputs.attention_mask), token_type_ids: t(inputs.token_type_ids) };
}

function maxAbsDiff(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length, "element count");
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

for (const fixture of ["h12", "h6odd"]) {
  describe(`exported ${fixture} sub-networks match the engine`, () => {
    const dir = join(FIXTURES, fixture);
    const inputs = JSON.parse(readFileSync(join(dir, "inputs.json"), "utf8")) as Inputs;
    const batch = { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask, tokenTypeIds: inputs.token_type_ids };
    let engine: DynaBert;
    let source: ExportSource;
    before(async () => {
      engine = await DynaBert.load(dir);
      source = await checkpointSource(await readModelFolder(dir), await readBundledWasm());
    });

    for (const [width, depth] of SUBNETWORKS) {
      for (const fused of [false, true]) {
        for (const [runtime, ort] of RUNTIMES) {
          const name = `${runtime}, width ${width}, depth ${depth}, ${fused ? "fused" : "plain"} graph: logits within ${TOLERANCE}`;
          it(name, { skip: ort ? false : NODE_SKIP }, async () => {
            const expected = engine.forward(batch, { width, depth }).logits!;
            const session = await ort!.InferenceSession.create(exportOnnxBytes(source, { width, depth, fused }));
            const { logits } = await session.run(feeds(ort!, inputs));
            assert.deepEqual(logits.dims, expected.dims);
            const err = maxAbsDiff(logits.data as Float32Array, expected.data);
            assert.ok(err <= TOLERANCE, `max |Δ| ${err}`);
          });
        }
      }
    }

    it("stores only the kept layers, heads and neurons", () => {
      const sub = engine.subNetwork({ width: 0.5, depth: 0.5 });
      for (const fused of [false, true]) {
        const model = buildOnnxModel(source, { width: 0.5, depth: 0.5, fused });
        const names = model.graph.initializers.map((t) => t.name);
        const layersStored = [...new Set(names.flatMap((n) => /^encoder\.layer\.(\d+)\./.exec(n)?.[1] ?? []).map(Number))];
        assert.deepEqual(layersStored, sub.keptLayers);
        const D = engine.config.hiddenSize;
        const dims = (name: string) => model.graph.initializers.find((t) => t.name === name)?.dims;
        const l = sub.keptLayers[sub.keptLayers.length - 1];
        if (fused) assert.deepEqual(dims(`encoder.layer.${l}.attention.self.qkv.weight_t`), [D, 3 * sub.attentionWidth]);
        else assert.deepEqual(dims(`encoder.layer.${l}.attention.self.query.weight_t`), [D, sub.attentionWidth]);
        assert.deepEqual(dims(`encoder.layer.${l}.intermediate.dense.weight_t`), [D, sub.intermediate]);
        assert.deepEqual(dims(`encoder.layer.${l}.output.dense.weight_t`), [sub.intermediate, D]);
        assert.equal(model.metadata?.["dynabert.kept_layers"], JSON.stringify(sub.keptLayers));
      }
    });
  });
}

describe("last_hidden_state and bare BertModel exports", () => {
  it("last_hidden_state equals the engine's last hidden state (plain and fused)", async () => {
    const dir = join(FIXTURES, "h6odd");
    const inputs = JSON.parse(readFileSync(join(dir, "inputs.json"), "utf8")) as Inputs;
    const engine = await DynaBert.load(dir);
    const source = await checkpointSource(await readModelFolder(dir), await readBundledWasm());
    const result = engine.forward({ inputIds: inputs.input_ids, attentionMask: inputs.attention_mask, tokenTypeIds: inputs.token_type_ids }, { width: 0.5, depth: 0.75, hiddenStates: true });
    const [layers, B, S, D] = result.hiddenStates!.dims;
    const last = result.hiddenStates!.data.subarray((layers - 1) * B * S * D);
    for (const fused of [false, true]) {
      const session = await ortWeb.InferenceSession.create(exportOnnxBytes(source, { width: 0.5, depth: 0.75, fused, lastHiddenState: true }));
      assert.deepEqual([...session.outputNames], ["logits", "last_hidden_state"]);
      const out = await session.run(feeds(ortWeb, inputs));
      assert.deepEqual(out.last_hidden_state.dims, [B, S, D]);
      const err = maxAbsDiff(out.last_hidden_state.data as Float32Array, last);
      assert.ok(err <= TOLERANCE, `max |Δ| ${err}`);
    }
  });

  it("a checkpoint without a classifier exports last_hidden_state (and pooler_output when it has a pooler)", async () => {
    const dir = join(FIXTURES, "h12_bare");
    const inputs = JSON.parse(readFileSync(join(dir, "inputs.json"), "utf8")) as Inputs;
    const engine = await DynaBert.load(dir);
    const source = await checkpointSource(await readModelFolder(dir), await readBundledWasm());
    const result = engine.forward({ inputIds: inputs.input_ids, attentionMask: inputs.attention_mask, tokenTypeIds: inputs.token_type_ids }, { width: 0.75, depth: 0.5, hiddenStates: true });
    const session = await ortWeb.InferenceSession.create(exportOnnxBytes(source, { width: 0.75, depth: 0.5 }));
    const out = await session.run(feeds(ortWeb, inputs));
    const [layers, B, S, D] = result.hiddenStates!.dims;
    assert.ok(maxAbsDiff(out.last_hidden_state.data as Float32Array, result.hiddenStates!.data.subarray((layers - 1) * B * S * D)) <= TOLERANCE);
    if (result.pooled) {
      assert.deepEqual([...session.outputNames], ["last_hidden_state", "pooler_output"]);
      assert.ok(maxAbsDiff(out.pooler_output.data as Float32Array, result.pooled.data) <= TOLERANCE);
    } else {
      assert.deepEqual([...session.outputNames], ["last_hidden_state"]);
    }
  });
});

describe("dynabert export --format onnx", () => {
  const scratch = mkdtempSync(join(tmpdir(), "dynabert-onnx-"));
  const H12 = join(FIXTURES, "h12");

  it("writes the same bytes the library exports", async () => {
    const out = join(scratch, "h12.onnx");
    const log = console.log;
    console.log = () => {};
    try {
      await exportOnnx(["--model", H12, "--width", "0.5", "--depth", "0.5", "--format", "onnx", "--out", out, "--fused"]);
    } finally {
      console.log = log;
    }
    const source = await checkpointSource(await readModelFolder(H12), await readBundledWasm());
    const expected = exportOnnxBytes(source, { width: 0.5, depth: 0.5, fused: true });
    assert.ok(Buffer.from(readFileSync(out)).equals(Buffer.from(expected)));
  });

  it("rejects other formats, a width outside (0, 1] and a missing --out with typed errors", async () => {
    await assert.rejects(exportOnnx(["--model", H12, "--format", "tflite", "--out", join(scratch, "x")]), (e: unknown) => e instanceof OptionError && /--format must be onnx/.test(e.message));
    await assert.rejects(exportOnnx(["--model", H12, "--format", "onnx", "--out", join(scratch, "x"), "--width", "0"]), OptionError);
    await assert.rejects(exportOnnx(["--model", H12, "--format", "onnx"]), (e: unknown) => e instanceof OptionError && e.code === "MISSING_FLAG");
    await assert.rejects(exportOnnx(["--format", "onnx", "--out", join(scratch, "x")]), /exactly one of --model or --preset/);
  });

  it("the library rejects a width outside (0, 1] with an InputError", async () => {
    const source = await checkpointSource(await readModelFolder(H12), await readBundledWasm());
    assert.throws(() => buildOnnxModel(source, { width: 1.5 }), InputError);
  });
});
