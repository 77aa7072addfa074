/**
 * One accumulated training step over several sub-networks, in the official
 * order (depth descending, then width descending): forward each student
 * sub-network, its loss, backward, gradients summed. No optimiser update here.
 */
import type { DynaBert } from "../dynabert.js";
import { OptionError } from "../errors.js";
import { checkBatch, type BatchInput } from "../model/inputs.js";
import { backward, forwardTrain } from "./graph.js";
import { checkLabels, DEFAULT_LAMBDAS, distillationLoss, taskLoss, type Lambdas, type TeacherOutputs } from "./objectives.js";
import type { TrainableParameters } from "./params.js";

export type Phase = "finetune" | "final" | "width" | "depth";
export type TeacherWidth = "same" | "full";

export interface StepOptions {
  readonly phase: Phase;
  readonly widths: readonly number[];
  readonly depths: readonly number[];
  readonly lambdas?: Partial<Lambdas>;
  readonly teacherWidth?: TeacherWidth;
  /** Hidden dropout while training (off when absent, as `grad` runs). */
  readonly dropout?: { readonly p: number; readonly attentionP?: number; readonly seed: number };
}

export interface SubnetResult {
  readonly width: number;
  readonly depth: number;
  readonly keptLayers: readonly number[];
  readonly loss: number;
}

export interface LabelledBatch extends BatchInput {
  /** `[batch]` class ids. */
  readonly labels: ArrayLike<number>;
}

/** The sub-networks of a step in training order. */
export function trainingOrder(widths: readonly number[], depths: readonly number[]): Array<{ width: number; depth: number }> {
  const desc = (xs: readonly number[]) => [...new Set(xs)].sort((a, b) => b - a);
  return desc(depths).flatMap((depth) => desc(widths).map((width) => ({ width, depth })));
}

export function resolveLambdas(phase: Phase, given: Partial<Lambdas> = {}): Lambdas {
  const base = phase === "depth" ? DEFAULT_LAMBDAS.depth : DEFAULT_LAMBDAS.width;
  return { logit: given.logit ?? base.logit, emb: given.emb ?? base.emb, hidden: given.hidden ?? base.hidden };
}

export function accumulateStep(
  student: DynaBert,
  params: TrainableParameters,
  batch: LabelledBatch,
  options: StepOptions,
  teacher?: DynaBert,
): SubnetResult[] {
  const { core, weights } = student.engine;
  const config = student.config;
  const checked = checkBatch(config, batch);
  const distill = options.phase === "width" || options.phase === "depth";
  if (distill && !teacher) throw new OptionError("TEACHER_REQUIRED", `--phase ${options.phase} distils from a teacher: give --teacher DIR`, { option: "--teacher" });
  const labels = distill ? undefined : checkLabels(batch.labels, checked.batch, config.numLabels);
  const lambdas = resolveLambdas(options.phase, options.lambdas);
  const depths = options.phase === "width" ? [1] : options.depths;
  const teacherCache = new Map<number, TeacherOutputs>();
  const teacherAt = (width: number): TeacherOutputs => {
    let out = teacherCache.get(width);
    if (!out) {
      const r = teacher!.forward(batch, { width, depth: 1, hiddenStates: true });
      out = { logits: r.logits!.data, hiddenStates: r.hiddenStates!.data, layers: teacher!.config.numHiddenLayers };
      teacherCache.set(width, out);
    }
    return out;
  };

  const results: SubnetResult[] = [];
  for (const { width, depth } of trainingOrder(options.widths, depths)) {
    const sub = student.subNetwork({ width, depth });
    const mark = core.arena.mark();
    try {
      // Each sub-network draws its own masks: the seed is mixed with its position in the step.
      const dropout = options.dropout && { p: options.dropout.p, attentionP: options.dropout.attentionP, seed: (Math.imul(options.dropout.seed, 0x9e3779b1) + results.length * 0x85ebca6b) >>> 0 };
      const graph = forwardTrain(core, config, weights, checked, sub, dropout);
      let loss: number;
      if (labels) loss = taskLoss(core, graph, labels);
      else {
        // DynaBERT_W's teacher is the fixed full model; DynaBERT's is the width-adaptive one at this width (or full).
        const teacherWidth = options.phase === "depth" && (options.teacherWidth ?? "same") === "same" ? width : 1;
        loss = distillationLoss(core, graph, teacherAt(teacherWidth), lambdas);
      }
      backward(core, config, weights, params.grads, graph);
      results.push({ width, depth, keptLayers: sub.keptLayers, loss });
    } finally {
      core.arena.release(mark);
    }
  }
  return results;
}
