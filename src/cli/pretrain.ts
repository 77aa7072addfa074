/**
 * `dynabert pretrain`: masked-LM pre-training (BERT masking, the
 * BertForMaskedLM head tied to the word embeddings) on a plain-text or JSONL
 * corpus, optionally of several sub-networks per step; checkpoints in the HF
 * format that this engine and HF load, and that resume exactly.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseSafetensors } from "../checkpoint/safetensors.js";
import { OptionError } from "../errors.js";
import { DynaBert, readModelFolder } from "../node.js";
import { OPTIMIZER_FILE, TRAINER_STATE_FILE } from "../train/checkpoint.js";
import { parsePretrainSnapshot, pretrainCheckpointFiles } from "../train/mlm/checkpoint.js";
import { corpusSequences, parseCorpus } from "../train/mlm/corpus.js";
import { initMlmHead, readMlmHead } from "../train/mlm/head.js";
import { Pretrainer, type PretrainOptions, type PretrainStepInfo } from "../train/mlm/pretrainer.js";
import { readSaveEvery, readTrainingFlags, TRAINING_FLAGS, TRAINING_USAGE } from "./training-flags.js";
import { Flags } from "./args.js";
import { writeFolder } from "./files.js";
import { Progress } from "./progress.js";
import { multiplierList } from "./train.js";

export const pretrainUsage =
  "dynabert pretrain --model DIR --corpus FILE --out DIR [--mlm-probability 0.15] [--widths 1] [--depths 1] " + TRAINING_USAGE;

export async function pretrain(argv: string[]): Promise<void> {
  const flags = Flags.parse("pretrain", argv, {
    model: { type: "string" },
    corpus: { type: "string" },
    out: { type: "string" },
    "mlm-probability": { type: "string" },
    widths: { type: "string" },
    depths: { type: "string" },
    ...TRAINING_FLAGS,
  });
  const out = flags.string("out");
  const resume = flags.bool("resume");
  const options: PretrainOptions = {
    ...readTrainingFlags(flags, { epochs: 1, learningRate: 1e-4 }),
    mlmProbability: flags.number("mlm-probability", 0.15, (n) => n > 0 && n <= 1, "a probability in (0, 1]"),
    widths: multiplierList(flags, "widths", [1]),
    depths: multiplierList(flags, "depths", [1]),
  };
  const saveEvery = readSaveEvery(flags);
  const corpusPath = flags.string("corpus");
  const modelDir = resume ? out : flags.string("model");

  // Resuming loads the weights and head from the checkpoint in --out, not from --model.
  const resumeState = resume ? await readResumeState(out) : undefined;
  const files = await readModelFolder(modelDir);
  const model = await DynaBert.load(files);
  if (!model.tokenizer) throw new OptionError("NO_VOCAB", `dynabert pretrain: ${modelDir} has no vocab.txt; pre-training tokenizes the corpus`, { option: "--model" });
  const { core } = model.engine;
  const weightsFile = join(modelDir, "model.safetensors");
  const stored = readMlmHead(core, model.config, parseSafetensors(files.weights, weightsFile), weightsFile);
  if (resume && !stored) throw new OptionError("RESUME_MISMATCH", `--resume: ${weightsFile} has no cls.predictions.* head`, { option: "--resume" });
  const head = stored ?? initMlmHead(core, model.config, options.seed!);

  let text: string;
  try {
    text = await readFile(corpusPath, "utf8");
  } catch (e) {
    throw new OptionError("UNREADABLE_FILE", `--corpus ${corpusPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { option: "--corpus" });
  }
  const maxLength = Math.min(options.maxLength!, model.config.maxPositionEmbeddings);
  const docs = parseCorpus(text, corpusPath);
  const sequences = corpusSequences(model.tokenizer, model.config, docs, maxLength, corpusPath);

  const pretrainer = new Pretrainer(model, head, sequences, { ...options, maxLength });
  const history: unknown[] = resumeState?.history ?? [];
  if (resumeState) {
    pretrainer.restore(resumeState);
    console.error(`resuming ${out} at step ${pretrainer.state.step}/${pretrainer.state.totalSteps}`);
  }
  console.error(
    `dynabert pretrain: ${docs.length} documents → ${sequences.length} sequences of ≤ ${maxLength} tokens, ` +
      `${stored ? "MLM head from the checkpoint" : "fresh MLM head"}, ${pretrainer.state.totalSteps} steps of batch ${options.batchSize}, lr ${options.learningRate}`,
  );
  const progress = new Progress("pretrain", pretrainer.state.totalSteps);
  let tokens = 0;
  const onStep = (info: PretrainStepInfo): boolean => {
    tokens += info.tokens;
    progress.update(info.step, { loss: info.loss.toFixed(4), lr: info.learningRate.toExponential(2), "tok/s": progress.perSecond(tokens) });
    history.push({ step: info.step, loss: info.loss, lr: info.learningRate, grad_norm: info.gradNorm, predicted: info.predicted });
    return saveEvery !== undefined && info.step % saveEvery === 0;
  };
  do {
    pretrainer.run(onStep);
    await writeFolder(out, pretrainCheckpointFiles(pretrainer, history));
  } while (!pretrainer.done);
  console.error(`saved ${out}`);
}

async function readResumeState(out: string) {
  let stateText: string;
  let optimizer: Uint8Array;
  try {
    stateText = await readFile(join(out, TRAINER_STATE_FILE), "utf8");
    optimizer = new Uint8Array(await readFile(join(out, OPTIMIZER_FILE)));
  } catch (e) {
    throw new OptionError("RESUME_MISMATCH", `--resume: ${out} holds no pre-training checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { option: "--resume" });
  }
  return parsePretrainSnapshot(stateText, optimizer, out);
}
