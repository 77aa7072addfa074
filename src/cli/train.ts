/**
 * `dynabert train`: fine-tuning and the DynaBERT phases (width, depth, final)
 * on labelled JSONL, with checkpoints in the HF format that resume exactly.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { OptionError } from "../errors.js";
import { DynaBert } from "../node.js";
import { trainingOrder, type Phase, type TeacherWidth } from "../train/accumulate.js";
import { OPTIMIZER_FILE, TRAINER_STATE_FILE, parseTrainerSnapshot, trainerCheckpointFiles } from "../train/checkpoint.js";
import { parseLabelledJsonl, type Example } from "../train/data.js";
import { Trainer, type StepInfo, type TrainerOptions } from "../train/trainer.js";
import { readSaveEvery, readTrainingFlags, TRAINING_FLAGS, TRAINING_USAGE } from "./training-flags.js";
import { Flags } from "./args.js";
import { distill, isDistillPhase } from "./distill.js";
import { writeFolder } from "./files.js";
import { Progress } from "./progress.js";

export const trainUsage =
  "dynabert train --phase finetune|width|depth|final|distill --model DIR [--teacher DIR] --train FILE.jsonl [--eval FILE.jsonl] --out DIR [--widths …] [--depths …] [--teacher-width same|full] [--lambda-logit X] [--lambda-emb X] [--lambda-hidden X] " +
  TRAINING_USAGE;

const PHASES: readonly Phase[] = ["finetune", "width", "depth", "final"];

export async function train(argv: string[]): Promise<void> {
  if (isDistillPhase(argv)) return distill(argv);
  const flags = Flags.parse("train", argv, {
    phase: { type: "string" },
    model: { type: "string" },
    teacher: { type: "string" },
    train: { type: "string" },
    eval: { type: "string" },
    out: { type: "string" },
    widths: { type: "string" },
    depths: { type: "string" },
    "teacher-width": { type: "string" },
    "lambda-logit": { type: "string" },
    "lambda-emb": { type: "string" },
    "lambda-hidden": { type: "string" },
    ...TRAINING_FLAGS,
  });
  const phase = flags.string("phase") as Phase;
  if (!PHASES.includes(phase)) throw new OptionError("BAD_FLAG", `dynabert train: --phase must be one of ${PHASES.join(", ")}`, { option: "--phase" });
  const out = flags.string("out");
  const resume = flags.bool("resume");
  const teacherWidth = flags.string("teacher-width", "same") as TeacherWidth;
  if (teacherWidth !== "same" && teacherWidth !== "full") throw new OptionError("BAD_FLAG", "dynabert train: --teacher-width must be same or full", { option: "--teacher-width" });
  const lambda = (name: string) => (flags.has(name) ? flags.number(name) : undefined);
  const allWidths = phase === "finetune" ? [1] : [1, 0.75, 0.5, 0.25];
  const allDepths = phase === "depth" || phase === "final" ? [1, 0.75, 0.5] : [1];
  const options: TrainerOptions = {
    phase,
    widths: multiplierList(flags, "widths", allWidths),
    depths: phase === "width" ? [1] : multiplierList(flags, "depths", allDepths),
    teacherWidth,
    lambdas: { logit: lambda("lambda-logit"), emb: lambda("lambda-emb"), hidden: lambda("lambda-hidden") },
    ...readTrainingFlags(flags, { epochs: 3, learningRate: 2e-5 }),
  };
  const saveEvery = readSaveEvery(flags);

  // Resuming loads the weights from the checkpoint in --out, not from --model.
  const resumeState = resume ? await readResumeState(out) : undefined;
  const student = await DynaBert.load(resumeState ? out : flags.string("model"));
  const teacherDir = flags.string("teacher", undefined);
  if ((phase === "width" || phase === "depth") && teacherDir === undefined) {
    throw new OptionError("TEACHER_REQUIRED", `dynabert train: --phase ${phase} distils from a teacher: give --teacher DIR`, { option: "--teacher" });
  }
  const teacher = teacherDir === undefined ? undefined : await DynaBert.load(teacherDir);
  const trainSet = await readExamples(flags.string("train"), "--train", student);
  const evalPath = flags.string("eval", undefined);
  const evalSet = evalPath === undefined ? undefined : await readExamples(evalPath, "--eval", student);

  const trainer = new Trainer(student, trainSet, options, teacher);
  const history: unknown[] = resumeState?.history ?? [];
  if (resumeState) {
    trainer.restore(resumeState);
    console.error(`resuming ${out} at step ${trainer.state.step}/${trainer.state.totalSteps}`);
  }
  const configs = trainingOrder(options.widths, options.depths);
  console.error(
    `dynabert train --phase ${phase}: ${trainSet.length} examples, ${configs.length} sub-network(s) per step, ` +
      `${trainer.state.totalSteps} steps of batch ${options.batchSize}, lr ${options.learningRate}`,
  );
  const progress = new Progress(`train ${phase}`, trainer.state.totalSteps);
  let tokens = 0;
  const stepsPerEpoch = Math.ceil(trainSet.length / options.batchSize);
  /** Logs one step; returns true when a checkpoint is due (the loop then pauses so the files can be written). */
  const onStep = (info: StepInfo): boolean => {
    tokens += info.tokens;
    progress.update(info.step, { loss: info.loss.toFixed(4), lr: info.learningRate.toExponential(2), "tok/s": progress.perSecond(tokens) });
    history.push({ step: info.step, loss: info.loss, lr: info.learningRate, grad_norm: info.gradNorm });
    const epochEnd = info.step % stepsPerEpoch === 0 || info.step === info.totalSteps;
    if (epochEnd && evalSet) {
      const results = trainer.evaluate(evalSet, configs);
      history.push({ step: info.step, eval: results });
      console.error(`  eval after step ${info.step}: ` + results.map((r) => `(${r.width}, ${r.depth}) acc ${(100 * r.accuracy).toFixed(2)}`).join("  "));
    }
    return epochEnd || (saveEvery !== undefined && info.step % saveEvery === 0);
  };
  do {
    trainer.run(onStep);
    await writeFolder(out, trainerCheckpointFiles(trainer, history));
  } while (!trainer.done);
  console.error(`saved ${out}`);
}

async function readResumeState(out: string) {
  let stateText: string;
  let optimizer: Uint8Array;
  try {
    stateText = await readFile(join(out, TRAINER_STATE_FILE), "utf8");
    optimizer = new Uint8Array(await readFile(join(out, OPTIMIZER_FILE)));
  } catch (e) {
    throw new OptionError("RESUME_MISMATCH", `--resume: ${out} holds no training checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { option: "--resume" });
  }
  return parseTrainerSnapshot(stateText, optimizer, out);
}

async function readExamples(path: string, flag: string, model: DynaBert): Promise<Example[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new OptionError("UNREADABLE_FILE", `${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { option: flag });
  }
  return parseLabelledJsonl(text, path, model.config);
}

export function multiplierList(flags: Flags, name: string, fallback: number[]): number[] {
  const raw = flags.string(name, undefined);
  if (raw === undefined) return fallback;
  const list = raw.split(",").map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((x) => !(x > 0 && x <= 1))) {
    throw new OptionError("BAD_FLAG", `--${name} must be a comma-separated list of numbers in (0, 1], got ${JSON.stringify(raw)}`, { option: `--${name}` });
  }
  return list;
}
