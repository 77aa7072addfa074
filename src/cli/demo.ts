/**
 * `dynabert demo` — the main job: the DynaBERT pipeline on SpamAssassin at a
 * small default size (teacher, rewiring, DynaBERT_W, DynaBERT, evaluation of
 * the 12 sub-networks), ending with the table and where the results went.
 */
import { resolve } from "node:path";
import type { TeacherShape } from "../method/models.js";
import type { PipelineSettings } from "../method/pipeline.js";
import { Flags } from "./args.js";
import { runExperiment } from "./experiment.js";

export const demoUsage = "dynabert demo [--out DIR] [--classes 2|3]";

/** Sized to finish in under 10 minutes on two cores (the engine uses one). */
export const DEMO_SETTINGS: PipelineSettings = {
  batchSize: 32,
  maxLength: 64,
  seed: 42,
  teacher: { epochs: 2, learningRate: 2e-3 },
  width: { epochs: 2, learningRate: 5e-4 },
  depth: { epochs: 2, learningRate: 5e-4 },
  latencyRuns: 5,
  distillExamples: 1200,
};

export const DEMO_TEACHER: TeacherShape = { layers: 4, hidden: 96, heads: 12, intermediate: 384, maxPositions: 128 };

export async function demo(argv: string[]): Promise<void> {
  const flags = Flags.parse("demo", argv, { out: { type: "string" }, classes: { type: "string" } });
  await runExperiment({
    methods: ["dynabert"],
    settings: DEMO_SETTINGS,
    teacher: DEMO_TEACHER,
    classes: flags.number("classes", 2, (n) => n === 2 || n === 3, "2 or 3") as 2 | 3,
    vocabSize: 4000,
    out: resolve(flags.string("out", undefined) ?? "demo-output"),
    saveModels: true,
  });
}
