/**
 * `dynabert train --phase distill`: distils a teacher into a fixed smaller
 * student with any mix of the task, soft-logit, hidden-state, embedding,
 * attention-map, cosine and masked-LM losses — DistilBERT's and TinyBERT's
 * recipes are one command each. The student is built from the teacher
 * (DistilBERT: every other layer copied; TinyBERT: fresh, its own hidden size,
 * with the learned projection W_p) or continued from a saved one (--student);
 * checkpoints are HF folders that resume exactly.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseSafetensors } from "../checkpoint/safetensors.js";
import { OptionError } from "../errors.js";
import { DynaBert, readModelFolder } from "../node.js";
import { OPTIMIZER_FILE, TRAINER_STATE_FILE } from "../train/checkpoint.js";
import { parseLabelledJsonl, type Example } from "../train/data.js";
import { distillCheckpointFiles, loadStudent, parseDistillSnapshot } from "../train/distill/checkpoint.js";
import { Distiller, type DistillData, type DistillOptions, type DistillStepInfo } from "../train/distill/distiller.js";
import type { DistillWeights, SoftTarget } from "../train/distill/objective.js";
import { PROJECTION_FILE } from "../train/distill/projection.js";
import { distilbertStudent, tinybertStudent, type StudentParts } from "../train/distill/student.js";
import { corpusSequences, parseCorpus } from "../train/mlm/corpus.js";
import { readMlmHead } from "../train/mlm/head.js";
import { readSaveEvery, readTrainingFlags, TRAINING_FLAGS, TRAINING_USAGE } from "./training-flags.js";
import { Flags } from "./args.js";
import { writeFolder } from "./files.js";
import { Progress } from "./progress.js";

export const distillUsage =
  "dynabert train --phase distill --model TEACHER_DIR (--student-layers N [--copy-layers 0,2,4] [--student-hidden H [--student-intermediate I] [--student-heads A]] | --student DIR) " +
  "(--train FILE.jsonl | --corpus FILE) --out DIR [--alpha-ce X] [--alpha-soft X] [--temperature T] [--soft-target classifier|mlm] [--alpha-hidden X] [--alpha-emb X] " +
  "[--alpha-attn X] [--alpha-cos X] [--alpha-mlm X] [--mlm-probability 0.15] [--eval FILE.jsonl] " +
  TRAINING_USAGE;

/** True when argv asks for `--phase distill` (read before the train command's own flags, which differ). */
export function isDistillPhase(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === "--phase=distill" || (a === "--phase" && argv[i + 1] === "distill"));
}

export async function distill(argv: string[]): Promise<void> {
  const flags = Flags.parse("train --phase distill", argv, {
    phase: { type: "string" },
    model: { type: "string" },
    student: { type: "string" },
    "student-layers": { type: "string" },
    "student-hidden": { type: "string" },
    "student-intermediate": { type: "string" },
    "student-heads": { type: "string" },
    "copy-layers": { type: "string" },
    train: { type: "string" },
    corpus: { type: "string" },
    eval: { type: "string" },
    out: { type: "string" },
    "alpha-ce": { type: "string" },
    "alpha-soft": { type: "string" },
    "alpha-hidden": { type: "string" },
    "alpha-emb": { type: "string" },
    "alpha-attn": { type: "string" },
    "alpha-cos": { type: "string" },
    "alpha-mlm": { type: "string" },
    temperature: { type: "string" },
    "soft-target": { type: "string" },
    "mlm-probability": { type: "string" },
    ...TRAINING_FLAGS,
  });
  if (flags.string("phase") !== "distill") throw new OptionError("BAD_FLAG", "dynabert train --phase distill: --phase must be distill", { option: "--phase" });
  const out = flags.string("out");
  const resume = flags.bool("resume");
  const trainPath = flags.string("train", undefined);
  const corpusPath = flags.string("corpus", undefined);
  if ((trainPath === undefined) === (corpusPath === undefined)) {
    throw new OptionError("BAD_FLAG", "dynabert train --phase distill: give exactly one of --train FILE.jsonl (labelled examples) or --corpus FILE (text)", { option: "--train" });
  }
  const alpha = (term: string) => flags.number(`alpha-${term}`, 0, (n) => n >= 0, "a non-negative number");
  const weights: DistillWeights = { ce: alpha("ce"), soft: alpha("soft"), hidden: alpha("hidden"), emb: alpha("emb"), attn: alpha("attn"), cos: alpha("cos"), mlm: alpha("mlm") };
  const softTarget = flags.string("soft-target", corpusPath !== undefined ? "mlm" : "classifier") as SoftTarget;
  if (softTarget !== "classifier" && softTarget !== "mlm") throw new OptionError("BAD_FLAG", "--soft-target must be classifier or mlm", { option: "--soft-target" });
  const options: DistillOptions = {
    weights,
    temperature: flags.number("temperature", 1, (n) => n > 0, "a positive number"),
    softTarget,
    mlmProbability: flags.number("mlm-probability", 0.15, (n) => n > 0 && n <= 1, "a probability in (0, 1]"),
    ...readTrainingFlags(flags, { epochs: 3, learningRate: 5e-5 }),
  };
  const saveEvery = readSaveEvery(flags);

  const teacherDir = flags.string("model");
  const teacherFiles = await readModelFolder(teacherDir);
  const teacherModel = await DynaBert.load(teacherFiles);
  const teacherWeights = join(teacherDir, "model.safetensors");
  const teacherHead = readMlmHead(teacherModel.engine.core, teacherModel.config, parseSafetensors(teacherFiles.weights, teacherWeights), teacherWeights);

  // The student: the checkpoint in --out when resuming, a saved student (--student), or one built from the teacher.
  const resumeState = resume ? await readResumeState(out) : undefined;
  let student: StudentParts;
  let origin: string;
  const studentDir = resume ? out : flags.string("student", undefined);
  if (studentDir !== undefined) {
    if (!resume) {
      for (const f of ["student-layers", "student-hidden", "student-intermediate", "student-heads", "copy-layers"]) {
        if (flags.has(f)) throw new OptionError("BAD_FLAG", `--student DIR continues a saved student: --${f} (which builds a new one) cannot go with it`, { option: `--${f}` });
      }
    }
    student = await loadStudent(await readModelFolder(studentDir), await readOptional(join(studentDir, PROJECTION_FILE)), teacherModel.config.hiddenSize);
    origin = resume ? `resumed from ${out}` : `student ${studentDir}`;
  } else {
    const layers = flags.positiveInt("student-layers");
    if (flags.has("student-hidden")) {
      if (flags.has("copy-layers")) throw new OptionError("BAD_FLAG", "--copy-layers copies teacher layers: it cannot go with a new --student-hidden", { option: "--copy-layers" });
      student = await tinybertStudent(teacherModel, {
        layers,
        hidden: flags.positiveInt("student-hidden"),
        intermediate: flags.has("student-intermediate") ? flags.positiveInt("student-intermediate") : undefined,
        heads: flags.has("student-heads") ? flags.positiveInt("student-heads") : undefined,
        seed: options.seed,
      });
      const c = student.model.config;
      origin = `TinyBERT student: fresh, ${layers} layers, hidden ${c.hiddenSize}, intermediate ${c.intermediateSize}, ${c.numAttentionHeads} heads` + (student.projection ? `, projection ${c.hiddenSize}→${teacherModel.config.hiddenSize}` : "");
    } else {
      for (const f of ["student-intermediate", "student-heads"]) {
        if (flags.has(f)) throw new OptionError("BAD_FLAG", `--${f} shapes a new TinyBERT student: give --student-hidden too`, { option: `--${f}` });
      }
      const copy = flags.string("copy-layers", undefined)?.split(",").map((s) => Number(s.trim()));
      student = await distilbertStudent(teacherModel, { layers, copyLayers: copy, teacherHead });
      origin = `DistilBERT student: teacher layers ${student.copiedLayers!.join(", ")} copied`;
    }
  }

  const model = student.model;
  if (!model.tokenizer) throw new OptionError("NO_VOCAB", `dynabert train --phase distill: ${teacherDir} has no vocab.txt`, { option: "--model" });
  const maxLength = Math.min(options.maxLength!, model.config.maxPositionEmbeddings);
  let data: DistillData;
  if (trainPath !== undefined) data = { kind: "examples", examples: await readExamples(trainPath, "--train", model) };
  else {
    const text = await readText(corpusPath!, "--corpus");
    data = { kind: "sequences", sequences: corpusSequences(model.tokenizer, model.config, parseCorpus(text, corpusPath!), maxLength, corpusPath!) };
  }
  const evalPath = flags.string("eval", undefined);
  const evalSet = evalPath === undefined ? undefined : await readExamples(evalPath, "--eval", model);

  const distiller = new Distiller(model, { model: teacherModel, head: teacherHead }, data, { ...options, maxLength }, { projection: student.projection, head: student.head });
  const history: unknown[] = resumeState?.history ?? [];
  if (resumeState) distiller.restore(resumeState);
  const terms = Object.entries(weights).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v}`).join(", ");
  console.error(
    `dynabert train --phase distill: ${origin}; ${data.kind === "examples" ? data.examples.length + " examples" : data.sequences.length + " sequences"}, ` +
      `losses ${terms} (T ${options.temperature}${weights.soft ? `, soft on ${softTarget} logits` : ""}), ${distiller.state.totalSteps} steps of batch ${options.batchSize}, lr ${options.learningRate}` +
      (resumeState ? `, resuming at step ${distiller.state.step}` : ""),
  );
  const progress = new Progress("distill", distiller.state.totalSteps);
  let tokens = 0;
  const items = data.kind === "examples" ? data.examples.length : data.sequences.length;
  const stepsPerEpoch = Math.ceil(items / options.batchSize);
  const onStep = (info: DistillStepInfo): boolean => {
    tokens += info.tokens;
    progress.update(info.step, { loss: info.loss.toFixed(4), lr: info.learningRate.toExponential(2), "tok/s": progress.perSecond(tokens) });
    const terms = Object.fromEntries(Object.entries(info.losses).filter(([k]) => k !== "total" && weights[k as keyof DistillWeights] !== 0));
    history.push({ step: info.step, loss: info.loss, terms, lr: info.learningRate, grad_norm: info.gradNorm });
    const epochEnd = info.step % stepsPerEpoch === 0 || info.step === info.totalSteps;
    if (epochEnd && evalSet) {
      const result = distiller.evaluate(evalSet);
      history.push({ step: info.step, eval: result });
      console.error(`  eval after step ${info.step}: student accuracy ${(100 * result.accuracy).toFixed(2)}`);
    }
    return epochEnd || (saveEvery !== undefined && info.step % saveEvery === 0);
  };
  do {
    distiller.run(onStep);
    await writeFolder(out, distillCheckpointFiles(distiller, history));
  } while (!distiller.done);
  console.error(`saved ${out}` + (distiller.projection ? ` (W_p in ${PROJECTION_FILE})` : ""));
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new OptionError("UNREADABLE_FILE", `${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { option: flag });
  }
}

async function readExamples(path: string, flag: string, model: DynaBert): Promise<Example[]> {
  return parseLabelledJsonl(await readText(path, flag), path, model.config);
}

async function readResumeState(out: string) {
  let stateText: string;
  let optimizer: Uint8Array;
  try {
    stateText = await readFile(join(out, TRAINER_STATE_FILE), "utf8");
    optimizer = new Uint8Array(await readFile(join(out, OPTIMIZER_FILE)));
  } catch (e) {
    throw new OptionError("RESUME_MISMATCH", `--resume: ${out} holds no distillation checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { option: "--resume" });
  }
  return parseDistillSnapshot(stateText, optimizer, out);
}
