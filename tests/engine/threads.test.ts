// LoadOptions.threads: the threaded build with 2 and 3 threads gives the
// single-threaded build's outputs bit for bit (splitting columns, heads, rows
// or elements never changes an output's arithmetic), on fixture models with
// sizes that are not multiples of the 8-wide weight panel, at several
// sub-networks and batch shapes; memory grown after the workers started is
// seen by them; concurrent calls are serialised; a training run (backward
// GEMMs, attention dropout) ends bit-identical too; dispose stops the workers.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ALWAYS_SPLIT, importsMemory, type ThreadedCore } from "../../bindings/index.js";
import { parseBertConfig } from "../../src/checkpoint/config.js";
import { DynaBert, type BatchInput, type ForwardResult } from "../../src/node.js";
import { listParameters, readRowMajor } from "../../src/model/parameters.js";
import { parseLabelledJsonl } from "../../src/train/data.js";
import { Trainer } from "../../src/train/trainer.js";
import { freshModelFolder, syntheticExamples } from "../helpers/synthetic.js";

const GOLDEN = join(import.meta.dirname, "..", "fixtures", "golden");
const RELEASE = readFileSync(join(import.meta.dirname, "..", "..", "build", "release.wasm"));
const FORWARD_KERNELS = ["linear_forward", "attention_forward", "layernorm_forward", "gelu_forward", "add_forward"] as const;

/** Deterministic ids in [1, vocab) with a ragged attention mask (the last sequences padded). */
function batchOf(vocab: number, batch: number, seq: number): BatchInput {
  let state = 7 + batch * 31 + seq;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const inputIds = Array.from({ length: batch }, () => Int32Array.from({ length: seq }, () => 1 + (next() % (vocab - 1))));
  const attentionMask = Array.from({ length: batch }, (_, b) => Int32Array.from({ length: seq }, (_, s) => (s < seq - b ? 1 : 0)));
  return { inputIds, attentionMask };
}

function assertSameBits(actual: Float32Array | undefined, expected: Float32Array | undefined, what: string): void {
  assert.ok(actual && expected, `${what}: missing`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${what}: element ${i} is ${actual[i]}, single-threaded gives ${expected[i]}`);
  }
}

/** Logits, and hidden states and attentions when the call asked for them. */
function assertSameResult(actual: ForwardResult, expected: ForwardResult, what: string): void {
  assertSameBits(actual.logits?.data, expected.logits?.data, `${what} logits`);
  if (expected.hiddenStates) assertSameBits(actual.hiddenStates?.data, expected.hiddenStates.data, `${what} hidden states`);
  if (expected.attentions) assertSameBits(actual.attentions?.data, expected.attentions.data, `${what} attentions`);
}

function threaded(model: DynaBert): ThreadedCore {
  return model.engine.core as ThreadedCore;
}

// h6odd: hidden 30 (3 full panels + 6 columns), FFN 37, 6 heads of 5; h12: hidden 48, 12 heads of 4, 6 layers.
for (const fixture of ["h6odd", "h12"]) {
  describe(`threads on ${fixture}`, () => {
    const dir = join(GOLDEN, fixture);
    let single: DynaBert;
    const models = new Map<number, DynaBert>();
    before(async () => {
      single = await DynaBert.load(dir, { wasm: RELEASE });
      for (const threads of [2, 3]) {
        const model = await DynaBert.load(dir, { threads });
        // The fixtures are far below the cut-over: force every call through the split path.
        threaded(model).cutover = ALWAYS_SPLIT;
        models.set(threads, model);
      }
    });
    after(() => models.forEach((m) => m.dispose()));

    for (const threads of [2, 3]) {
      for (const [width, depth] of [[1, 1], [0.75, 0.5], [0.5, 0.75], [0.25, 1]]) {
        for (const [batch, seq] of [[1, 7], [3, 5], [2, 13]]) {
          it(`${threads} threads, width ${width}, depth ${depth}, batch ${batch} × ${seq}: bit-identical to the single-threaded build`, () => {
            const model = models.get(threads)!;
            const input = batchOf(model.config.vocabSize, batch, seq);
            const options = { width, depth, hiddenStates: true, attentions: true };
            const before = { ...threaded(model).splitCalls };
            assertSameResult(model.forward(input, options), single.forward(input, options), `${threads} threads`);
            for (const kernel of FORWARD_KERNELS) assert.ok(threaded(model).splitCalls[kernel] > before[kernel], `${kernel} was not split`);
          });
        }
      }
    }
  });
}

describe("threads with the default cut-over", () => {
  // Big enough (hidden 256, seq 64) that some calls split and some stay inline.
  const config = parseBertConfig(JSON.stringify({
    model_type: "bert", vocab_size: 300, hidden_size: 264, num_hidden_layers: 2, num_attention_heads: 6,
    intermediate_size: 1000, max_position_embeddings: 80, type_vocab_size: 2, num_labels: 3, hidden_act: "gelu",
  }));
  let single: DynaBert;
  let two: DynaBert;
  before(async () => {
    single = await DynaBert.random(config, { wasm: RELEASE, seed: 5 });
    two = await DynaBert.random(config, { threads: 2, seed: 5 });
  });
  after(() => two.dispose());

  it("splits the big GEMMs, and matches the single-threaded build bit for bit", () => {
    const input = batchOf(config.vocabSize, 2, 64);
    assertSameResult(two.forward(input, { hiddenStates: true }), single.forward(input, { hiddenStates: true }), "2 threads");
    assert.ok(threaded(two).splitCalls.linear_forward > 0);
  });

  it("sees memory grown after the workers started", () => {
    const bytesBefore = two.memoryBytes;
    const input = batchOf(config.vocabSize, 12, 80);
    assertSameResult(two.forward(input), single.forward(input), "after growth");
    assert.ok(two.memoryBytes > bytesBefore, `memory did not grow (${bytesBefore} bytes)`);
  });

  it("serialises concurrent forward calls: each gets its own input's result", async () => {
    const inputs = [1, 2, 3, 4].map((b) => batchOf(config.vocabSize, b, 20 + b));
    const expected = inputs.map((input) => single.forward(input));
    const results = await Promise.all(inputs.map(async (input) => two.forward(input)));
    results.forEach((r, i) => assertSameResult(r, expected[i], `call ${i}`));
  });
});

describe("dispose", () => {
  it("stops the workers: the model then refuses to run, with a typed error; disposing again is harmless", async () => {
    const model = await DynaBert.load(join(GOLDEN, "h6odd"), { threads: 2 });
    const input = batchOf(model.config.vocabSize, 1, 5);
    model.forward(input);
    model.dispose();
    assert.throws(() => model.forward(input), { name: "ThreadPoolError", code: "DISPOSED" });
    model.dispose();
  });

  it("is a no-op on a single-threaded model", async () => {
    const model = await DynaBert.load(join(GOLDEN, "h6odd"), { wasm: RELEASE });
    model.dispose();
    assert.ok(model.forward(batchOf(model.config.vocabSize, 1, 5)).logits);
  });
});

describe("choosing the build", () => {
  it("tells the threaded build from the single-threaded one, as bytes and as compiled modules", async () => {
    const threadedBytes = readFileSync(join(import.meta.dirname, "..", "..", "build", "release-threads.wasm"));
    assert.equal(importsMemory(threadedBytes), true);
    assert.equal(importsMemory(await WebAssembly.compile(threadedBytes)), true);
    assert.equal(importsMemory(RELEASE), false);
    assert.equal(importsMemory(await WebAssembly.compile(RELEASE)), false);
    assert.equal(importsMemory(new Uint8Array([0, 97, 115])), false, "truncated bytes");
  });

  it("threads: 1 with the threaded build runs it inline, starting no workers, bit-identical", async () => {
    const wasm = readFileSync(join(import.meta.dirname, "..", "..", "build", "release-threads.wasm"));
    const model = await DynaBert.load(join(GOLDEN, "h6odd"), { threads: 1, wasm });
    const single = await DynaBert.load(join(GOLDEN, "h6odd"), { wasm: RELEASE });
    threaded(model).cutover = ALWAYS_SPLIT;
    const input = batchOf(model.config.vocabSize, 2, 9);
    assertSameResult(model.forward(input, { hiddenStates: true }), single.forward(input, { hiddenStates: true }), "1 thread");
    assert.equal(threaded(model).threads, 1);
    assert.deepEqual(Object.values(threaded(model).splitCalls).filter((n) => n > 0), []);
  });
});

describe("threads option errors", () => {
  for (const threads of [0, -1, 1.5, Number.NaN, 1000, "2"]) {
    it(`threads ${typeof threads === "string" ? JSON.stringify(threads) : threads} is an OptionError naming the option`, async () => {
      await assert.rejects(DynaBert.load(join(GOLDEN, "h6odd"), { threads: threads as number }), { name: "OptionError", code: "THREADS_INVALID", option: "threads" });
    });
  }

  it("the single-threaded wasm with threads > 1 is an OptionError naming the wasm option", async () => {
    await assert.rejects(DynaBert.load(join(GOLDEN, "h6odd"), { threads: 2, wasm: RELEASE }), { name: "OptionError", code: "WASM_NOT_THREADED", option: "wasm" });
  });
});

describe("training on threads", () => {
  it("a fine-tuning run with dropout on 2 threads ends with the single-threaded run's weights, bit for bit", async () => {
    const dir = await freshModelFolder();
    const runOn = async (options: { threads?: number; wasm?: Uint8Array }) => {
      const model = await DynaBert.load(dir, options);
      const core = model.engine.core as Partial<ThreadedCore>;
      if (core.cutover) core.cutover = ALWAYS_SPLIT;
      const examples = syntheticExamples(48, 3).map((r) => JSON.stringify(r)).join("\n");
      const train = parseLabelledJsonl(examples, "synthetic.jsonl", model.config);
      new Trainer(model, train, { phase: "finetune", widths: [1, 0.5], depths: [1], epochs: 1, batchSize: 16, learningRate: 1e-3, seed: 9, dropout: 0.1 }).run(() => {});
      const weights = listParameters(model.engine.weights).map((p) => readRowMajor(model.engine.core, p));
      return { weights, split: core.splitCalls, model };
    };
    const single = await runOn({ wasm: RELEASE });
    const two = await runOn({ threads: 2 });
    two.model.dispose();
    for (const kernel of ["linear_backward_input", "linear_backward_weight", "attention_forward"] as const) assert.ok(two.split![kernel] > 0, `${kernel} was not split`);
    assert.equal(two.weights.length, single.weights.length);
    two.weights.forEach((w, i) => assertSameBits(w, single.weights[i], `parameter ${i}`));
  });
});
