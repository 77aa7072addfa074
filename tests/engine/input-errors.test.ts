// Bad input to the engine gets a typed error naming the problem — never a wasm
// trap, NaN output or a silent clamp.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { CheckpointError, ConfigError, DynaBert, InputError } from "../../src/node.js";

const H12 = join(import.meta.dirname, "..", "fixtures", "golden", "h12");

describe("engine input validation", () => {
  let model: DynaBert;
  before(async () => {
    model = await DynaBert.load(H12);
  });

  const rejects = (fn: () => unknown, code: string, mention: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof InputError && e.code === code && mention.test(e.message));

  it("rejects a token id ≥ vocab_size, naming row, position and vocab size", () => {
    const vocab = model.config.vocabSize;
    rejects(() => model.forward({ inputIds: [[2, 5, 3], [2, vocab, 3]] }), "TOKEN_ID_OUT_OF_RANGE", new RegExp(`${vocab}.*row 1, position 1|row 1, position 1.*${vocab}`));
  });

  it("rejects negative and fractional ids", () => {
    rejects(() => model.forward({ inputIds: [[2, -1, 3]] }), "TOKEN_ID_OUT_OF_RANGE", /-1/);
    rejects(() => model.forward({ inputIds: [[2, 1.5, 3]] }), "TOKEN_ID_OUT_OF_RANGE", /1\.5/);
  });

  it("rejects a sequence longer than max_position_embeddings", () => {
    const long = Array.from({ length: model.config.maxPositionEmbeddings + 1 }, () => 5);
    rejects(() => model.forward({ inputIds: [long] }), "SEQUENCE_TOO_LONG", /max_position_embeddings/);
  });

  it("rejects width or depth outside (0, 1]", () => {
    for (const width of [0, -0.5, 1.01, Number.NaN]) rejects(() => model.forward({ inputIds: [[2, 3]] }, { width }), "MULTIPLIER_OUT_OF_RANGE", /width/);
    for (const depth of [0, 2]) rejects(() => model.forward({ inputIds: [[2, 3]] }, { depth }), "MULTIPLIER_OUT_OF_RANGE", /depth/);
  });

  it("rejects an empty batch and ragged rows", () => {
    rejects(() => model.forward({ inputIds: [] }), "EMPTY_BATCH", /empty/);
    rejects(() => model.forward({ inputIds: [[2, 3, 4], [2, 3]] }), "RAGGED_BATCH", /row 1/);
    rejects(() => model.forward({ inputIds: [[2, 3]], attentionMask: [[1]] }), "RAGGED_BATCH", /attentionMask/);
  });

  it("rejects mask values other than 0/1 and token types ≥ type_vocab_size", () => {
    rejects(() => model.forward({ inputIds: [[2, 3]], attentionMask: [[1, 2]] }), "MASK_VALUE_INVALID", /position 1/);
    rejects(() => model.forward({ inputIds: [[2, 3]], tokenTypeIds: [[0, 2]] }), "TOKEN_TYPE_ID_OUT_OF_RANGE", /type_vocab_size/);
  });

  it("switching width and depth allocates nothing new once the largest sub-network has run", () => {
    const input = { inputIds: [[2, 10, 11, 12, 3]] };
    model.forward(input, { width: 1, depth: 1, hiddenStates: true });
    const bytes = model.memoryBytes;
    for (const width of [0.25, 0.5, 0.75, 1]) for (const depth of [0.5, 0.75, 1]) model.forward(input, { width, depth });
    assert.equal(model.memoryBytes, bytes);
  });
});

describe("checkpoint/config mismatch", () => {
  function copyFixtureWith(configEdit: (c: Record<string, unknown>) => void): string {
    const dir = mkdtempSync(join(tmpdir(), "dynabert-mismatch-"));
    const config = JSON.parse(readFileSync(join(H12, "config.json"), "utf8"));
    configEdit(config);
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    copyFileSync(join(H12, "model.safetensors"), join(dir, "model.safetensors"));
    return dir;
  }

  it("a config that disagrees with the weights names the tensor and both shapes", async () => {
    const dir = copyFixtureWith((c) => (c.intermediate_size = 64));
    await assert.rejects(DynaBert.load(dir), (e: unknown) => e instanceof CheckpointError && e.code === "SHAPE_MISMATCH" && /intermediate/.test(e.message));
  });

  it("a config with more layers than the weights names the missing tensor", async () => {
    const dir = copyFixtureWith((c) => (c.num_hidden_layers = 7));
    await assert.rejects(DynaBert.load(dir), (e: unknown) => e instanceof CheckpointError && e.code === "TENSOR_MISSING" && /encoder\.layer\.6/.test(e.message));
  });

  it("an unsupported activation is a ConfigError", async () => {
    const dir = copyFixtureWith((c) => (c.hidden_act = "relu"));
    await assert.rejects(DynaBert.load(dir), (e: unknown) => e instanceof ConfigError);
  });

  it("a truncated weights file is a CheckpointError, and a missing folder too", async () => {
    const dir = copyFixtureWith(() => {});
    const bytes = readFileSync(join(dir, "model.safetensors"));
    writeFileSync(join(dir, "model.safetensors"), bytes.subarray(0, bytes.length - 100));
    await assert.rejects(DynaBert.load(dir), CheckpointError);
    await assert.rejects(DynaBert.load(join(dir, "nope")), CheckpointError);
  });
});
