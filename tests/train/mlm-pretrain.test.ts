// Masked-LM pre-training end to end: it learns a learnable corpus (also as
// several sub-networks at once), `dynabert pretrain` writes a checkpoint this
// engine loads (pooler and classifier kept as they were), and a run saved
// mid-way and resumed with --resume ends byte-identical to one that never stopped.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pretrain } from "../../src/cli/pretrain.js";
import { writeFolder } from "../../src/cli/files.js";
import { parseSafetensors } from "../../src/checkpoint/safetensors.js";
import { DynaBert, readModelFolder } from "../../src/node.js";
import { seededRandom } from "../../src/train/data.js";
import { pretrainCheckpointFiles } from "../../src/train/mlm/checkpoint.js";
import { corpusSequences, parseCorpus } from "../../src/train/mlm/corpus.js";
import { initMlmHead, readMlmHead } from "../../src/train/mlm/head.js";
import { Pretrainer } from "../../src/train/mlm/pretrainer.js";
import { freshModelFolder, SYLLABLES } from "../helpers/synthetic.js";

/** Syllables the corpora use: a unigram model of them scores ln 20 ≈ 3.0 at best. */
const WORDS = SYLLABLES.slice(0, 20);

/**
 * Documents that repeat one random syllable 6–12 times: a masked token is
 * given away by any unmasked neighbour, so a model that uses the context
 * gets far below the unigram entropy ln 20.
 */
function copyCorpus(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const word = WORDS[Math.floor(random() * WORDS.length)];
    return Array.from({ length: 6 + Math.floor(random() * 7) }, () => word).join(" ");
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("masked-LM pre-training", () => {
  it("learns: the MLM loss on a learnable corpus falls from chance to far below the unigram entropy", async () => {
    const model = await DynaBert.load(await freshModelFolder({ layers: 1 }));
    const { core } = model.engine;
    const sequences = corpusSequences(model.tokenizer!, model.config, copyCorpus(256, 1), 32, "copies");
    const pretrainer = new Pretrainer(model, initMlmHead(core, model.config, 1), sequences, { epochs: 8, batchSize: 16, learningRate: 1e-2, seed: 3 });
    const losses: number[] = [];
    pretrainer.run((info) => void losses.push(info.loss));
    assert.equal(losses.length, 128);
    const chance = Math.log(model.config.vocabSize);
    const first = mean(losses.slice(0, 5));
    const last = mean(losses.slice(-10));
    assert.ok(first > 0.8 * chance, `an untrained head is near chance: ${first} vs ln V = ${chance}`);
    assert.ok(last < 0.25 * Math.log(WORDS.length), `mean MLM loss fell from ${first} to ${last}, the unigram entropy is ${Math.log(WORDS.length)}`);
  });

  it("trains several sub-networks per step: each one's loss falls", async () => {
    const model = await DynaBert.load(await freshModelFolder({ layers: 2 }));
    const { core } = model.engine;
    const sequences = corpusSequences(model.tokenizer!, model.config, copyCorpus(128, 2), 32, "copies");
    const pretrainer = new Pretrainer(model, initMlmHead(core, model.config, 2), sequences, {
      epochs: 8,
      batchSize: 16,
      learningRate: 1e-2,
      seed: 4,
      widths: [1, 0.25],
      depths: [1, 0.5],
    });
    const perSubnet: number[][] = [];
    pretrainer.run((info) => void perSubnet.push(info.subnets.map((s) => s.loss)));
    assert.equal(perSubnet.length, 64);
    assert.ok(perSubnet.every((r) => r.length === 4), "four sub-networks every step");
    for (let i = 0; i < 4; i++) {
      const early = mean(perSubnet.slice(0, 4).map((r) => r[i]));
      const late = mean(perSubnet.slice(-8).map((r) => r[i]));
      assert.ok(late < early / 2, `sub-network #${i}: loss ${early} → ${late}`);
    }
  });

  it("dynabert pretrain: saves a checkpoint this engine loads, and --resume ends byte-identical to an uninterrupted run", async () => {
    const modelDir = await freshModelFolder();
    const work = mkdtempSync(join(tmpdir(), "dynabert-pretrain-"));
    const corpusPath = join(work, "corpus.jsonl");
    writeFileSync(corpusPath, copyCorpus(60, 3).map((text) => JSON.stringify({ text })).join("\n") + "\n");
    const flags = ["--corpus", corpusPath, "--epochs", "2", "--batch-size", "8", "--lr", "1e-3", "--max-length", "12", "--seed", "5"];

    const straight = join(work, "straight");
    await pretrain(["--model", modelDir, "--out", straight, ...flags]);

    // The same run stopped after 5 of its 2 × ⌈sequences/8⌉ steps and saved, as the CLI saves
    // (--save-every); then continued by the CLI from that folder.
    const files = await readModelFolder(modelDir);
    const model = await DynaBert.load(files);
    const head = initMlmHead(model.engine.core, model.config, 5);
    const sequences = corpusSequences(model.tokenizer!, model.config, parseCorpus(readFileSync(corpusPath, "utf8"), corpusPath), 12, corpusPath);
    const first = new Pretrainer(model, head, sequences, {
      epochs: 2,
      batchSize: 8,
      learningRate: 1e-3,
      maxLength: 12,
      mlmProbability: 0.15,
      widths: [1],
      depths: [1],
      warmupRatio: 0.1,
      weightDecay: 0.01,
      seed: 5,
    });
    first.run((info) => info.step === 5);
    assert.equal(first.state.step, 5);
    assert.ok(first.state.totalSteps > 8, `a run long enough to cross an epoch (${first.state.totalSteps} steps)`);
    const resumed = join(work, "resumed");
    await writeFolder(resumed, pretrainCheckpointFiles(first));
    await pretrain(["--out", resumed, "--resume", ...flags]);

    for (const file of ["model.safetensors", "optimizer.safetensors"]) {
      assert.ok(Buffer.from(readFileSync(join(resumed, file))).equals(readFileSync(join(straight, file))), `${file} differs after resuming`);
    }
    const state = JSON.parse(readFileSync(join(resumed, "trainer_state.json"), "utf8"));
    assert.equal(state.step, state.totalSteps);

    // What was saved: BertForMaskedLM names, the input's pooler and classifier untouched, and the engine loads it.
    const saved = parseSafetensors(new Uint8Array(readFileSync(join(straight, "model.safetensors"))));
    const names = [...saved.tensors.keys()];
    assert.ok(names.every((n) => n.startsWith("bert.") || n.startsWith("cls.predictions.") || n.startsWith("classifier.")), names.join(", "));
    assert.deepEqual(names.filter((n) => n.startsWith("cls.")).sort(), [
      "cls.predictions.bias",
      "cls.predictions.transform.LayerNorm.bias",
      "cls.predictions.transform.LayerNorm.weight",
      "cls.predictions.transform.dense.bias",
      "cls.predictions.transform.dense.weight",
    ]);
    const input = parseSafetensors(files.weights);
    for (const name of ["classifier.weight", "classifier.bias", "bert.pooler.dense.weight", "bert.pooler.dense.bias"]) {
      assert.ok(Buffer.from(saved.tensors.get(name)!.data).equals(Buffer.from(input.tensors.get(name)!.data)), `${name} changed`);
    }
    const word = "bert.embeddings.word_embeddings.weight";
    assert.ok(!Buffer.from(saved.tensors.get(word)!.data).equals(Buffer.from(input.tensors.get(word)!.data)), "the encoder was trained");
    const reloaded = await DynaBert.load(straight);
    const reloadedHead = readMlmHead(reloaded.engine.core, reloaded.config, saved, "model.safetensors");
    assert.ok(reloadedHead, "the head loads back");
    assert.ok(reloaded.classify(["ba be bi"])[0].label);
  });

  it("refuses to resume a different run and reports a corpus with no text", async () => {
    const modelDir = await freshModelFolder();
    const work = mkdtempSync(join(tmpdir(), "dynabert-pretrain-"));
    const corpusPath = join(work, "corpus.txt");
    writeFileSync(corpusPath, copyCorpus(20, 4).join("\n") + "\n");
    const out = join(work, "out");
    const flags = ["--corpus", corpusPath, "--epochs", "1", "--batch-size", "8", "--max-length", "12"];
    await pretrain(["--model", modelDir, "--out", out, ...flags, "--seed", "1"]);
    await assert.rejects(pretrain(["--out", out, "--resume", ...flags, "--seed", "2"]), { code: "RESUME_MISMATCH" });
    await assert.rejects(pretrain(["--out", join(work, "nothing"), "--resume", ...flags]), { code: "RESUME_MISMATCH" });
    const empty = join(work, "empty.txt");
    writeFileSync(empty, "\n  \n");
    await assert.rejects(pretrain(["--model", modelDir, "--out", out, "--corpus", empty]), { code: "EMPTY_BATCH" });
    const badJsonl = join(work, "bad.jsonl");
    writeFileSync(badJsonl, '{"text": "ba be"}\n{"txt": "bi"}\n');
    await assert.rejects(pretrain(["--model", modelDir, "--out", out, "--corpus", badJsonl]), (e: Error & { code?: string }) => e.code === "BAD_EXAMPLE" && /bad\.jsonl:2/.test(e.message));
  });
});
