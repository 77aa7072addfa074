import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckpointError, ConfigError, DynaBertError, InputError, OptionError } from "../../src/errors.js";

describe("typed errors", () => {
  it("every subclass is a DynaBertError and an Error, with its own name and a code", () => {
    const errors = [
      new CheckpointError("SHAPE_MISMATCH", "bad shape"),
      new ConfigError("CONFIG_FIELD_MISSING", "hidden_size is missing"),
      new InputError("EMPTY_BATCH", "empty"),
      new OptionError("OPTION_INVALID", "bad option"),
    ];
    const names = ["CheckpointError", "ConfigError", "InputError", "OptionError"];
    errors.forEach((e, i) => {
      assert.ok(e instanceof DynaBertError);
      assert.ok(e instanceof Error);
      assert.equal(e.name, names[i]);
      assert.equal(typeof e.code, "string");
      assert.match(String(e), new RegExp(`^${names[i]}: `));
    });
    assert.ok(!(errors[0] instanceof ConfigError));
  });

  it("CheckpointError prefixes the file and keeps file and tensor fields", () => {
    const e = new CheckpointError("SHAPE_MISMATCH", "tensor x is wrong", {
      file: "model.safetensors",
      tensor: "x",
      details: { expected: [2] },
    });
    assert.equal(e.message, "model.safetensors: tensor x is wrong");
    assert.equal(e.file, "model.safetensors");
    assert.equal(e.tensor, "x");
    assert.deepEqual(e.details, { expected: [2] });
    const bare = new CheckpointError("WRITE_INVALID", "no file");
    assert.equal(bare.message, "no file");
    assert.equal(bare.file, undefined);
    assert.equal(bare.tensor, undefined);
  });

  it("ConfigError names the file and field", () => {
    const e = new ConfigError("CONFIG_FIELD_INVALID", "hidden_size must be positive", {
      file: "cfg.json",
      field: "hidden_size",
    });
    assert.equal(e.message, "cfg.json: hidden_size must be positive");
    assert.equal(e.field, "hidden_size");
  });

  it("InputError constructors state the offending value, its position and the limit", () => {
    const id = InputError.tokenIdOutOfRange(30522, 30522, 1, 7);
    assert.equal(id.code, "TOKEN_ID_OUT_OF_RANGE");
    assert.match(id.message, /token id 30522 at batch row 1, position 7/);
    assert.match(id.message, /vocab_size is 30522/);
    assert.deepEqual(id.details, { id: 30522, vocabSize: 30522, batchIndex: 1, position: 7 });

    const type = InputError.tokenTypeIdOutOfRange(2, 2, 0, 3);
    assert.equal(type.code, "TOKEN_TYPE_ID_OUT_OF_RANGE");
    assert.match(type.message, /token type id 2 at batch row 0, position 3.*type_vocab_size is 2/);

    const long = InputError.sequenceTooLong(600, 512, 4);
    assert.equal(long.code, "SEQUENCE_TOO_LONG");
    assert.match(long.message, /batch row 4 has 600 tokens.*max_position_embeddings = 512/);

    const width = InputError.multiplierOutOfRange("width", 1.5);
    assert.equal(width.code, "MULTIPLIER_OUT_OF_RANGE");
    assert.match(width.message, /width multiplier must be in \(0, 1\], got 1\.5/);

    assert.equal(InputError.emptyBatch().code, "EMPTY_BATCH");

    const ragged = InputError.raggedBatch("input_ids", 2, 7, 9);
    assert.equal(ragged.code, "RAGGED_BATCH");
    assert.match(ragged.message, /input_ids row 2 has 7 entries but every row must have 9/);

    const mask = InputError.maskValueInvalid(2, 0, 5);
    assert.equal(mask.code, "MASK_VALUE_INVALID");
    assert.match(mask.message, /mask value 2 at batch row 0, position 5 must be 0 or 1/);
  });

  it("OptionError keeps the option name", () => {
    const e = new OptionError("OPTION_INVALID", "latencyMs must be positive", { option: "latencyMs" });
    assert.equal(e.option, "latencyMs");
    assert.equal(e.code, "OPTION_INVALID");
  });
});
