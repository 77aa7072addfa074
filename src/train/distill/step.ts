/**
 * One distillation step without the optimiser update: the teacher's inference
 * forward (hidden states and attention maps as the terms need them), the
 * student's training forward, every weighted loss term, and the backward pass
 * into the student's parameters, W_p and the MLM head (DistillParameters).
 * Teacher and student see the same batch — the masked one when the MLM loss
 * is on, as DistilBERT feeds both the masked input.
 */
import type { DynaBert } from "../../dynabert.js";
import { OptionError } from "../../errors.js";
import { forward } from "../../model/forward.js";
import type { CheckedBatch } from "../../model/inputs.js";
import { backward, forwardTrain, type DropoutOptions } from "../graph.js";
import type { MlmHead } from "../mlm/head.js";
import { mlmHeadStep } from "../mlm/head-step.js";
import { distillationTerms, weightedTotal, type DistillLosses, type DistillLossOptions, type DistillTeacherOutputs } from "./objective.js";
import type { DistillParameters } from "./params.js";
import { vocabSoftLoss } from "./vocab-soft.js";

export interface DistillTeacher {
  readonly model: DynaBert;
  /** Its MLM head (in its arena), needed for the soft loss on MLM logits. */
  readonly head?: MlmHead;
}

export interface DistillStepInput {
  /** Checked against the student's config (the pair shares vocabulary and positions: `checkPair`). */
  readonly batch: CheckedBatch;
  /** `[B]` class ids, for the ce term. */
  readonly labels?: Int32Array;
  /** `[B·S]` masked-LM targets (IGNORE_LABEL where nothing is predicted), for the mlm term. */
  readonly mlmLabels?: Int32Array;
}

export interface DistillStepOptions extends DistillLossOptions {
  /** Hidden and attention-probability dropout of the student (the teacher runs in inference mode). */
  readonly dropout?: DropoutOptions;
}

/** A teacher and a student can be distilled together only if they read the same ids. */
export function checkPair(teacher: DynaBert, student: DynaBert): void {
  const t = teacher.config;
  const s = student.config;
  const differ = (what: string, a: number, b: number) => {
    throw new OptionError("BAD_FLAG", `teacher and student must share ${what}: the teacher has ${a}, the student ${b}`, { option: "--student" });
  };
  if (t.vocabSize !== s.vocabSize) differ("the vocabulary (vocab_size)", t.vocabSize, s.vocabSize);
  if (t.typeVocabSize !== s.typeVocabSize) differ("type_vocab_size", t.typeVocabSize, s.typeVocabSize);
  if (t.maxPositionEmbeddings < s.maxPositionEmbeddings) differ("positions (max_position_embeddings at least the student's)", t.maxPositionEmbeddings, s.maxPositionEmbeddings);
}

/** Runs the step; gradients are added into `params` (zeroed by the optimiser). Returns each term's value and the weighted total. */
export function distillStep(student: DynaBert, params: DistillParameters, teacher: DistillTeacher, input: DistillStepInput, options: DistillStepOptions): DistillLosses {
  const w = options.weights;
  const softOnMlm = w.soft !== 0 && options.softTarget === "mlm";
  const needHidden = w.hidden !== 0 || w.emb !== 0 || w.cos !== 0 || softOnMlm;

  const t = teacher.model;
  const { core: tCore, weights: tWeights } = t.engine;
  const tOut = forward(tCore, t.config, tWeights, input.batch, t.subNetwork(), { hiddenStates: needHidden, attentions: w.attn !== 0 });
  const teacherOutputs: DistillTeacherOutputs = {
    logits: tOut.logits?.data,
    hiddenStates: tOut.hiddenStates?.data,
    attentions: tOut.attentions?.data,
    layers: t.config.numHiddenLayers,
    hidden: t.config.hiddenSize,
    heads: t.config.numAttentionHeads,
  };

  const { core } = student.engine;
  const config = student.config;
  const mark = core.arena.mark();
  try {
    const graph = forwardTrain(core, config, params.graphWeights, input.batch, student.subNetwork(), options.dropout, { probGrads: w.attn !== 0 });
    const losses = distillationTerms(core, graph, teacherOutputs, options, { projection: params.projection, projectionGrads: params.projectionGrads }, input.labels);
    if (w.mlm !== 0 || softOnMlm) {
      if (!params.head || !params.headGrads) throw new OptionError("NO_MLM_HEAD", "the masked-LM terms need the student's MLM head");
    }
    if (w.mlm !== 0) {
      if (!input.mlmLabels) throw new Error("the mlm term needs masked-LM labels");
      const targets = { wordEmbeddings: params.graphWeights.wordEmbeddings, wordEmbeddingsGrad: params.grads.wordEmbeddings };
      losses.mlm = mlmHeadStep(core, config, params.head!, params.headGrads!, targets, graph, input.mlmLabels, w.mlm).loss;
    }
    if (softOnMlm) {
      if (!teacher.head) throw new OptionError("NO_MLM_HEAD", "--soft-target mlm needs the teacher's masked-LM head (cls.predictions.* in its model.safetensors)", { option: "--soft-target" });
      losses.soft = vocabSoftLoss(core, config, graph, {
        teacher: t,
        teacherHead: teacher.head,
        teacherLast: teacherOutputs.hiddenStates!.subarray(t.config.numHiddenLayers * input.batch.batch * input.batch.seq * t.config.hiddenSize),
        head: params.head!,
        headGrads: params.headGrads!,
        wordEmbeddings: params.graphWeights.wordEmbeddings,
        wordEmbeddingsGrad: params.grads.wordEmbeddings,
        temperature: options.temperature ?? 1,
        weight: w.soft,
      });
    }
    losses.total = weightedTotal(losses, w);
    backward(core, config, params.graphWeights, params.grads, graph);
    return losses;
  } finally {
    core.arena.release(mark);
  }
}
