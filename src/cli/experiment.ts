/**
 * The run shared by `dynabert demo` and `dynabert ablation`: build the
 * SpamAssassin task, fine-tune a teacher, run each method from it, evaluate
 * every sub-network, and write results.json / results.md / results.svg.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { freshModel, teacherConfig, type TeacherShape } from "../method/models.js";
import { pretrainTeacher, runMethod, teacherAccuracy, trainTeacher, type Method, type PipelineSettings, type Reporter } from "../method/pipeline.js";
import { resultsJson, resultsMarkdown, resultsSvg, type ResultsJson } from "../method/report.js";
import { spamAssassinTask } from "../method/spam-task.js";
import { flopsPerSequence, subNetwork } from "../model/subnetwork.js";
import { modelToFiles } from "../model/save.js";
import type { DynaBert } from "../dynabert.js";
import type { BertConfig } from "../checkpoint/config.js";
import { SUBNET_TABLE_KEY, type SubnetRow, type SubnetTable } from "../train/subnet-table.js";
import { writeFileAtomic, writeFolder } from "./files.js";
import { Progress } from "./progress.js";

export interface Experiment {
  readonly methods: readonly Method[];
  readonly settings: PipelineSettings;
  readonly teacher: TeacherShape;
  readonly classes: 2 | 3;
  readonly vocabSize: number;
  readonly out: string;
  /** Also save each method's trained model (HF folder) under `out/<method>/`, and the teacher under `out/teacher/`. */
  readonly saveModels?: boolean;
}

export async function runExperiment(exp: Experiment, reporter: Reporter = consoleReporter()): Promise<ResultsJson> {
  const started = performance.now();
  reporter.stage("data", "SpamAssassin bodies, deterministic split, WordPiece vocabulary from the training split");
  const task = await spamAssassinTask({ classes: exp.classes, vocabSize: exp.vocabSize });
  console.error(`  ${task.train.length} train / ${task.dev.length} dev / ${task.test.length} test examples`);
  const config = teacherConfig(exp.teacher, task.vocab.split("\n").length - 1, task.labels);
  const teacher = await freshModel(config, task.vocab, exp.settings.seed);
  pretrainTeacher(teacher, task, exp.settings, reporter);
  trainTeacher(teacher, task, exp.settings, reporter);
  const teacherAcc = teacherAccuracy(teacher, task, exp.settings);
  console.error(`  teacher test accuracy ${(100 * teacherAcc).toFixed(2)}%`);
  const rows: Partial<Record<Method, SubnetRow[]>> = {};
  if (exp.saveModels) await writeFolder(join(exp.out, "teacher"), modelToFiles(teacher));
  for (const method of exp.methods) {
    const result = await runMethod(method, teacher, task, exp.settings, reporter);
    rows[method] = result.rows;
    if (exp.saveModels) await writeFolder(join(exp.out, method), modelToFiles(result.model, withSubnetTable(result.model, result.rows, exp.settings.maxLength, task.test.length)));
  }
  const minutes = (performance.now() - started) / 60000;
  const results = resultsJson(
    task.name,
    { accuracy: teacherAcc, flops: flopsPerSequence(config, subNetwork(config, 1, 1), exp.settings.maxLength) },
    rows,
    {
      settings: { ...exp.settings, teacher_shape: exp.teacher, classes: exp.classes, vocab_size: exp.vocabSize, train_examples: task.train.length, distill_examples: exp.settings.distillExamples ?? task.train.length, minutes: Number(minutes.toFixed(1)) },
      machine: `${process.platform} ${process.arch}, Node ${process.version}`,
    },
  );
  await mkdir(exp.out, { recursive: true });
  await writeFileAtomic(join(exp.out, "results.json"), JSON.stringify(results, null, 1) + "\n");
  await writeFileAtomic(join(exp.out, "results.md"), resultsMarkdown(results));
  await writeFileAtomic(join(exp.out, "results.svg"), resultsSvg(results));
  console.log("\n" + resultsMarkdown(results));
  for (const method of exp.methods) {
    const worst = Math.min(...rows[method]!.map((r) => r.accuracy));
    console.log(`${method}: worst sub-network ${(100 * worst).toFixed(2)}% vs teacher ${(100 * teacherAcc).toFixed(2)}% (${(100 * (teacherAcc - worst)).toFixed(2)} points below).`);
  }
  console.log(`Results: ${join(exp.out, "results.json")} and results.md; plot: ${join(exp.out, "results.svg")}`);
  console.log(`Done in ${minutes.toFixed(1)} min.`);
  return results;
}

/** Stage banners and one progress bar per stage, on stderr. */
export function consoleReporter(): Reporter {
  const bars = new Map<string, Progress>();
  const tokens = new Map<string, number>();
  return {
    stage(name, detail) {
      console.error(`\n== ${name}: ${detail}`);
    },
    step(stage, info) {
      let bar = bars.get(stage);
      if (!bar) {
        bar = new Progress(`  ${stage}`, info.totalSteps);
        bars.set(stage, bar);
      }
      tokens.set(stage, (tokens.get(stage) ?? 0) + info.tokens);
      bar.update(info.step, { loss: info.loss.toFixed(4), lr: info.learningRate.toExponential(1), "tok/s": bar.perSecond(tokens.get(stage)!) });
    },
    evalRow(done, total) {
      if (done === total || process.stderr.isTTY) process.stderr.write(`${process.stderr.isTTY ? "\r\x1b[K" : ""}  evaluated ${done}/${total} sub-networks${done === total ? "\n" : ""}`);
    },
  };
}

/** The model's config with its evaluation table stored, as `dynabert eval` stores it (select reads it). */
function withSubnetTable(model: DynaBert, rows: SubnetRow[], seq: number, examples: number): BertConfig {
  const table: SubnetTable = { seq, examples, rows };
  return { ...model.config, extra: { ...model.config.extra, [SUBNET_TABLE_KEY]: table } };
}
