/**
 * The DynaBERT method end to end on a labelled task (Hou et al. 2020 §3):
 * fine-tune a teacher → importance and rewiring → DynaBERT_W (width-adaptive
 * distillation from the fixed rewired teacher) → DynaBERT (width- and
 * depth-adaptive distillation from DynaBERT_W) → evaluate all 12 sub-networks.
 * The ablation's other methods reuse the same stages with the task loss
 * instead of distillation, with or without rewiring.
 */
import type { DynaBert } from "../dynabert.js";
import { computeImportance } from "../rewire/importance.js";
import { rewire } from "../rewire/rewire.js";
import { batchIndices, encodeExamples, type Example } from "../train/data.js";
import { evaluate } from "../train/evaluate.js";
import { corpusSequences } from "../train/mlm/corpus.js";
import { initMlmHead } from "../train/mlm/head.js";
import { Pretrainer } from "../train/mlm/pretrainer.js";
import { evaluateSubnetworks, PAPER_DEPTHS, PAPER_WIDTHS, type SubnetRow } from "../train/subnet-table.js";
import { Trainer, type StepInfo, type TrainerOptions } from "../train/trainer.js";
import { withTextWindows, type WindowAugmentation } from "./augment.js";
import { copyModel } from "./models.js";

export interface Task {
  readonly name: string;
  readonly train: readonly Example[];
  readonly dev: readonly Example[];
  readonly test: readonly Example[];
}

export interface StageSchedule {
  readonly epochs: number;
  readonly learningRate: number;
}

export interface PipelineSettings {
  readonly batchSize: number;
  readonly maxLength: number;
  readonly seed: number;
  /** Masked-LM pre-training of the fresh teacher on the training texts before its fine-tuning (0 epochs or absent: none). */
  readonly pretrain?: StageSchedule;
  readonly teacher: StageSchedule;
  readonly width: StageSchedule;
  readonly depth: StageSchedule;
  /** Final fine-tuning of every sub-network with the task loss (0 epochs: skipped, as in the paper's default). */
  readonly final?: StageSchedule;
  /** Runs per sub-network for the latency column. */
  readonly latencyRuns: number;
  /** Training examples for the width/depth stages (a label-balanced prefix); the teacher sees all. */
  readonly distillExamples?: number;
  /**
   * Data augmentation for DynaBERT_W and DynaBERT only (the paper trains both
   * on augmented data): extra unlabelled windows of each training message,
   * labelled by the teacher. The task-loss methods never see them.
   */
  readonly augment?: WindowAugmentation;
}

export interface Reporter {
  stage(name: string, detail: string): void;
  step(stage: string, info: Pick<StepInfo, "step" | "totalSteps" | "loss" | "learningRate" | "tokens">): void;
  evalRow(done: number, total: number): void;
}

export type Method = "dynabert" | "rewired" | "vanilla";

export interface MethodResult {
  readonly method: Method;
  readonly rows: SubnetRow[];
  readonly model: DynaBert;
}

export function trainStage(model: DynaBert, task: Task, settings: PipelineSettings, options: Omit<TrainerOptions, "batchSize" | "maxLength" | "seed" | "epochs" | "learningRate"> & { schedule: StageSchedule }, report: Reporter, name: string, teacher?: DynaBert): void {
  const { schedule, ...rest } = options;
  const trainer = new Trainer(
    model,
    task.train,
    { ...rest, epochs: schedule.epochs, learningRate: schedule.learningRate, batchSize: settings.batchSize, maxLength: settings.maxLength, seed: settings.seed },
    teacher,
  );
  report.stage(name, `${trainer.state.totalSteps} steps over ${rest.widths.length * rest.depths.length} sub-network(s), lr ${schedule.learningRate}`);
  trainer.run((info) => report.step(name, info));
}

/**
 * Masked-LM pre-training of a fresh model on the training texts, in place:
 * every (maxLength − 2)-token piece of every text, as BERT pre-trains on
 * unlabelled text before fine-tuning. The MLM head lives only for this stage.
 */
export function pretrainTeacher(model: DynaBert, task: Task, settings: PipelineSettings, report: Reporter): void {
  const schedule = settings.pretrain;
  if (!schedule || schedule.epochs === 0) return;
  const limit = inputLength(model, settings);
  const texts = task.train.flatMap((e) => (typeof e.input === "string" ? [e.input] : [...e.input]));
  const sequences = corpusSequences(model.tokenizer!, model.config, texts, limit, "the training split");
  const head = initMlmHead(model.engine.core, model.config, settings.seed);
  const pretrainer = new Pretrainer(model, head, sequences, { epochs: schedule.epochs, learningRate: schedule.learningRate, batchSize: settings.batchSize, seed: settings.seed, maxLength: limit });
  report.stage("pretrain", `masked-LM on ${sequences.length} pieces of the ${texts.length} training texts, ${pretrainer.state.totalSteps} steps, lr ${schedule.learningRate}`);
  pretrainer.run((info) => report.step("pretrain", info));
}

/** Fine-tunes a freshly initialised (or pre-trained) model into the teacher, in place. */
export function trainTeacher(model: DynaBert, task: Task, settings: PipelineSettings, report: Reporter): void {
  trainStage(model, task, settings, { phase: "finetune", widths: [1], depths: [1], schedule: settings.teacher }, report, "teacher");
}

/** Importance on the dev split (as the official code computes it), then rewiring, in place. */
export function importanceAndRewire(model: DynaBert, task: Task, settings: PipelineSettings, report: Reporter): void {
  report.stage("rewire", `head and neuron importance over ${task.dev.length} dev examples`);
  const limit = inputLength(model, settings);
  const batches = batchIndices(task.dev.length, settings.batchSize).map((idx) => encodeExamples(model.tokenizer!, idx.map((i) => task.dev[i]), limit));
  rewire(model, computeImportance(model, batches));
}

/**
 * One method from the fine-tuned teacher. "dynabert": rewire, DynaBERT_W from
 * the rewired teacher, DynaBERT from DynaBERT_W. "rewired": rewire, then the
 * same two stages with the task loss. "vanilla": the task-loss stages without
 * rewiring (slimmable training).
 */
export async function runMethod(method: Method, teacher: DynaBert, fullTask: Task, settings: PipelineSettings, report: Reporter): Promise<MethodResult> {
  const task = { ...fullTask, train: limitExamples(fullTask.train, settings.distillExamples) };
  const student = await copyModel(teacher);
  if (method !== "vanilla") importanceAndRewire(student, task, settings, report);
  const widths = [...PAPER_WIDTHS];
  const depths = [...PAPER_DEPTHS];
  if (method === "dynabert") {
    const distillTask = augmentedTask(task, student, settings);
    if (distillTask !== task) report.stage("augment", `${distillTask.train.length - task.train.length} extra windows (≤ ${settings.augment!.windows} per message) beside ${task.train.length} training messages, for distillation`);
    const rewiredTeacher = await copyModel(student);
    trainStage(student, distillTask, settings, { phase: "width", widths, depths: [1], schedule: settings.width }, report, "DynaBERT_W", rewiredTeacher);
    const widthTeacher = await copyModel(student);
    trainStage(student, distillTask, settings, { phase: "depth", widths, depths, teacherWidth: "same", schedule: settings.depth }, report, "DynaBERT", widthTeacher);
  } else {
    trainStage(student, task, settings, { phase: "final", widths, depths: [1], schedule: settings.width }, report, `${method}: widths`);
    trainStage(student, task, settings, { phase: "final", widths, depths, schedule: settings.depth }, report, `${method}: widths × depths`);
  }
  if (settings.final && settings.final.epochs > 0) {
    trainStage(student, task, settings, { phase: "final", widths, depths, schedule: settings.final }, report, `${method}: final fine-tuning`);
  }
  report.stage(`${method}: evaluation`, `12 sub-networks on ${task.test.length} test examples`);
  const table = evaluateSubnetworks(student, task.test, { seq: settings.maxLength, latencyRuns: settings.latencyRuns, onRow: report.evalRow });
  return { method, rows: table.rows, model: student };
}

/** The task with its training split augmented for distillation, or the task itself when settings ask for none. */
function augmentedTask(task: Task, model: DynaBert, settings: PipelineSettings): Task {
  if (!settings.augment || settings.augment.windows === 0) return task;
  return { ...task, train: withTextWindows(task.train, model.tokenizer!, inputLength(model, settings), settings.augment) };
}

/** Tokens per input the stages use: the settings' length, cut to what the model's positions allow. */
function inputLength(model: DynaBert, settings: PipelineSettings): number {
  return Math.min(settings.maxLength, model.config.maxPositionEmbeddings);
}

export function teacherAccuracy(teacher: DynaBert, task: Task, settings: PipelineSettings): number {
  return evaluate(teacher, task.test, { maxLength: settings.maxLength }).accuracy;
}

/** The first `limit` examples keeping every label's share (splits are already in hash order). */
export function limitExamples(examples: readonly Example[], limit?: number): readonly Example[] {
  if (limit === undefined || limit >= examples.length) return examples;
  const byLabel = new Map<number, Example[]>();
  for (const e of examples) {
    const group = byLabel.get(e.label);
    if (group) group.push(e);
    else byLabel.set(e.label, [e]);
  }
  const out: Example[] = [];
  for (const group of byLabel.values()) out.push(...group.slice(0, Math.round((group.length / examples.length) * limit)));
  return out;
}
