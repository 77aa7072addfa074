/**
 * `dynabert demo` — the main job: the DynaBERT pipeline on SpamAssassin at a
 * small default size (teacher, rewiring, DynaBERT_W, DynaBERT, evaluation of
 * the 12 sub-networks), ending with the table and where the results went.
 */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { freshModel, teacherConfig } from "../method/models.js";
import { runMethod, teacherAccuracy, trainTeacher, type PipelineSettings, type Reporter } from "../method/pipeline.js";
import { resultsJson, resultsMarkdown, resultsSvg } from "../method/report.js";
import { spamAssassinTask } from "../method/spam-task.js";
import { flopsPerSequence, subNetwork } from "../model/subnetwork.js";
import { Flags } from "./args.js";
import { writeFileAtomic } from "./files.js";
import { Progress } from "./progress.js";

export const demoUsage = "dynabert demo [--out DIR] [--train-limit N] [--epochs-scale X] [--classes 2|3]";

/** Sized to finish in under 10 minutes on two cores (the engine uses one). */
export const DEMO_SETTINGS: PipelineSettings = {
  batchSize: 32,
  maxLength: 64,
  seed: 42,
  teacher: { epochs: 3, learningRate: 1e-3 },
  width: { epochs: 2, learningRate: 5e-4 },
  depth: { epochs: 2, learningRate: 5e-4 },
  latencyRuns: 5,
};

export const DEMO_TEACHER = { layers: 4, hidden: 96, heads: 12, intermediate: 384, maxPositions: 128 };

export async function demo(argv: string[]): Promise<void> {
  const flags = Flags.parse("demo", argv, {
    out: { type: "string" },
    "train-limit": { type: "string" },
    "epochs-scale": { type: "string" },
    classes: { type: "string" },
  });
  const out = resolve(flags.string("out", undefined) ?? "demo-output");
  const classes = flags.number("classes", 2, (n) => n === 2 || n === 3, "2 or 3") as 2 | 3;
  const scale = flags.number("epochs-scale", 1, (n) => n > 0, "a positive number");
  const settings = scaleEpochs(DEMO_SETTINGS, scale);
  const started = performance.now();
  const reporter = consoleReporter();

  reporter.stage("data", "SpamAssassin bodies, deterministic split, WordPiece vocabulary from the training split");
  const task = await spamAssassinTask({ classes, vocabSize: 4000, trainLimit: flags.has("train-limit") ? flags.positiveInt("train-limit") : 1200 });
  console.error(`  ${task.train.length} train / ${task.dev.length} dev / ${task.test.length} test examples`);
  const config = teacherConfig(DEMO_TEACHER, task.vocab.split("\n").length - 1, task.labels);
  const teacher = await freshModel(config, task.vocab, settings.seed);
  trainTeacher(teacher, task, settings, reporter);
  const teacherAcc = teacherAccuracy(teacher, task, settings);
  console.error(`  teacher test accuracy ${(100 * teacherAcc).toFixed(2)}%`);
  const result = await runMethod("dynabert", teacher, task, settings, reporter);

  const results = resultsJson(
    task.name,
    { accuracy: teacherAcc, flops: flopsPerSequence(config, subNetwork(config, 1, 1), settings.maxLength) },
    { dynabert: result.rows },
    { settings: { ...settings, teacher_shape: DEMO_TEACHER, train_examples: task.train.length }, machine: `${process.platform} ${process.arch}, Node ${process.version}` },
  );
  await mkdir(out, { recursive: true });
  await writeFileAtomic(join(out, "results.json"), JSON.stringify(results, null, 1));
  await writeFileAtomic(join(out, "results.md"), resultsMarkdown(results));
  await writeFileAtomic(join(out, "results.svg"), resultsSvg(results));
  console.log("\n" + resultsMarkdown(results));
  const worst = Math.min(...result.rows.map((r) => r.accuracy));
  console.log(`Worst sub-network ${(100 * worst).toFixed(2)}% vs teacher ${(100 * teacherAcc).toFixed(2)}% (${(100 * (teacherAcc - worst)).toFixed(2)} points).`);
  console.log(`Results: ${join(out, "results.json")}, ${join(out, "results.md")}; plot: ${join(out, "results.svg")}`);
  console.log(`Done in ${((performance.now() - started) / 60000).toFixed(1)} min.`);
}

function scaleEpochs(s: PipelineSettings, k: number): PipelineSettings {
  const f = (st: { epochs: number; learningRate: number }) => ({ ...st, epochs: st.epochs * k });
  return { ...s, teacher: f(s.teacher), width: f(s.width), depth: f(s.depth) };
}

/** Stage banners and one progress bar per stage, on stderr. */
export function consoleReporter(): Reporter {
  const bars = new Map<string, Progress>();
  const started = new Map<string, number>();
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
        started.set(stage, performance.now());
      }
      tokens.set(stage, (tokens.get(stage) ?? 0) + info.tokens);
      const seconds = (performance.now() - started.get(stage)!) / 1000;
      bar.update(info.step, { loss: info.loss.toFixed(4), lr: info.learningRate.toExponential(1), "tok/s": (tokens.get(stage)! / Math.max(seconds, 1e-3)).toFixed(0) });
    },
    evalRow(done, total) {
      if (done === total || process.stderr.isTTY) process.stderr.write(`${process.stderr.isTTY ? "\r\x1b[K" : ""}  evaluated ${done}/${total} sub-networks${done === total ? "\n" : ""}`);
    },
  };
}
