/**
 * The distillation loop: epochs of shuffled batches (labelled examples or
 * corpus sequences), BERT masking when the MLM term is on, one distillation
 * step per batch, global-norm clipping and AdamW with linear warmup/decay
 * over the student, W_p and the MLM head — and state that saves and resumes
 * exactly (the batch, masks and dropout of step s depend only on the seed and s).
 */
import type { DynaBert } from "../../dynabert.js";
import { OptionError } from "../../errors.js";
import { checkBatch, type CheckedBatch } from "../../model/inputs.js";
import { readRowMajor, writeRowMajor } from "../../model/parameters.js";
import { batchIndices, encodeExamples, seededRandom, type Example } from "../data.js";
import { evaluate, type EvalResult } from "../evaluate.js";
import { padSequences } from "../mlm/corpus.js";
import { initMlmHead, type MlmHead } from "../mlm/head.js";
import { maskTokens, type MaskingOptions } from "../mlm/masking.js";
import { AdamW } from "../optimizer.js";
import { LOSS_TERMS, type DistillLosses, type DistillLossOptions } from "./objective.js";
import { DistillParameters } from "./params.js";
import { initProjection, type Projection } from "./projection.js";
import { checkPair, distillStep, type DistillTeacher } from "./step.js";

export interface DistillOptions extends DistillLossOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Fraction of all steps spent warming up (default 0.1). */
  readonly warmupRatio?: number;
  readonly weightDecay?: number;
  readonly maxGradNorm?: number;
  /** Longest sequence (examples are truncated to it; a corpus was cut to it). */
  readonly maxLength?: number;
  /** Fraction of tokens the MLM term predicts (default 0.15). */
  readonly mlmProbability?: number;
  /** The student's hidden and attention dropout (default: its config's). */
  readonly dropout?: number;
  readonly seed?: number;
}

/** Labelled examples (`--train`) or `[CLS] … [SEP]` id sequences of a corpus (`--corpus`). */
export type DistillData =
  | { readonly kind: "examples"; readonly examples: readonly Example[] }
  | { readonly kind: "sequences"; readonly sequences: readonly (readonly number[])[] };

export interface DistillStepInfo {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  /** Weighted total of this step. */
  readonly loss: number;
  /** Each term's own value (soft with its T²). */
  readonly losses: DistillLosses;
  readonly learningRate: number;
  readonly gradNorm: number;
  /** Real (non-padding) tokens of this batch. */
  readonly tokens: number;
}

export interface DistillSnapshot {
  readonly state: { kind: "distillation"; step: number; totalSteps: number; items: number; options: DistillOptions };
  /** `m.<name>` and `v.<name>` row-major for every trained tensor (student, `fit_dense.*`, `cls.predictions.*`). */
  readonly moments: Map<string, Float32Array>;
}

/** Options a resumed run must share with the saved one (anything else would not continue it). */
const RESUME_KEYS = ["batchSize", "seed", "maxLength", "mlmProbability", "temperature", "softTarget"] as const;

/** A seed for (run seed, step, purpose): a step's masks and dropout never depend on earlier steps. */
function stepSeed(seed: number, step: number, purpose: number): number {
  return (Math.imul(seed ^ 0x1b873593, 0x9e3779b1) + Math.imul(step + 1, 0x85ebca6b) + Math.imul(purpose, 0xc2b2ae35)) >>> 0;
}

export class Distiller {
  readonly params: DistillParameters;
  readonly optimizer: AdamW;
  /** W_p (when the hidden sizes differ and a hidden-state term is on) and the MLM head (when an MLM term is on), in the student's arena. */
  readonly projection?: Projection;
  readonly head?: MlmHead;
  private readonly stepsPerEpoch: number;
  private readonly masking?: MaskingOptions;
  private epochOrder: number[][] = [];
  private orderEpoch = -1;

  /**
   * `extras`: a projection or head the student already has (from a student
   * checkpoint or DistilBERT's copy); the ones the losses need but are not
   * given are initialised fresh from the seed.
   */
  constructor(
    readonly student: DynaBert,
    readonly teacher: DistillTeacher,
    private readonly data: DistillData,
    readonly options: DistillOptions,
    extras: { projection?: Projection; head?: MlmHead } = {},
  ) {
    const w = options.weights;
    for (const term of LOSS_TERMS) {
      const v = w[term];
      if (!(Number.isFinite(v) && v >= 0)) throw new OptionError("BAD_FLAG", `--alpha-${term} must be a non-negative number, got ${v}`, { option: `--alpha-${term}` });
    }
    if (LOSS_TERMS.every((term) => w[term] === 0)) {
      throw new OptionError("BAD_FLAG", "distillation needs at least one loss term: give one of --alpha-ce, --alpha-soft, --alpha-hidden, --alpha-emb, --alpha-attn, --alpha-cos, --alpha-mlm");
    }
    const T = options.temperature ?? 1;
    if (!(Number.isFinite(T) && T > 0)) throw new OptionError("BAD_FLAG", `--temperature must be positive, got ${T}`, { option: "--temperature" });
    const softTarget = options.softTarget ?? "classifier";
    if (softTarget !== "classifier" && softTarget !== "mlm") throw new OptionError("BAD_FLAG", `--soft-target must be classifier or mlm, got ${JSON.stringify(softTarget)}`, { option: "--soft-target" });
    if (!(options.epochs > 0) || !Number.isInteger(options.batchSize) || !(options.batchSize > 0) || !(options.learningRate > 0)) {
      throw new OptionError("BAD_FLAG", "epochs, batch size and learning rate must be positive");
    }
    const items = this.itemCount;
    if (items === 0) throw new OptionError("BAD_FLAG", "distillation needs at least one example or sequence");
    if (!student.tokenizer) throw new OptionError("NO_VOCAB", "distillation needs the student's vocab.txt");
    checkPair(teacher.model, student);

    const softClassifier = w.soft !== 0 && softTarget === "classifier";
    const classifierLoss = w.ce !== 0 || softClassifier;
    if (w.ce !== 0 && data.kind !== "examples") throw new OptionError("LABELS_MISSING", "--alpha-ce is the task loss: it needs labelled data (--train FILE.jsonl), not a corpus", { option: "--alpha-ce" });
    if (classifierLoss && !student.engine.weights.classifier) throw new OptionError("NO_CLASSIFIER", "--alpha-ce / --alpha-soft on classifier logits need a student with a classifier");
    if (softClassifier && !teacher.model.engine.weights.classifier) {
      throw new OptionError("NO_CLASSIFIER", "the teacher has no classifier: distil the masked-LM logits instead (--soft-target mlm)", { option: "--soft-target" });
    }
    if (softClassifier && teacher.model.config.numLabels !== student.config.numLabels) {
      throw new OptionError("BAD_FLAG", `teacher and student classify into different label sets (${teacher.model.config.numLabels} vs ${student.config.numLabels})`);
    }
    if (w.soft !== 0 && softTarget === "mlm" && !teacher.head) {
      throw new OptionError("NO_MLM_HEAD", "--soft-target mlm compares masked-LM logits: the teacher's model.safetensors has no cls.predictions.* head", { option: "--soft-target" });
    }
    if (w.attn !== 0 && teacher.model.config.numAttentionHeads !== student.config.numAttentionHeads) {
      throw new OptionError("BAD_FLAG", `attention maps are matched head by head: the teacher has ${teacher.model.config.numAttentionHeads} heads, the student ${student.config.numAttentionHeads}`, { option: "--alpha-attn" });
    }

    const { core, weights } = student.engine;
    const seed = options.seed ?? 42;
    const Dt = teacher.model.config.hiddenSize;
    const Ds = student.config.hiddenSize;
    const needProjection = Ds !== Dt && (w.hidden !== 0 || w.emb !== 0 || w.cos !== 0);
    if (extras.projection && (extras.projection.outFeatures !== Dt || extras.projection.inFeatures !== Ds)) {
      throw new OptionError("BAD_FLAG", `the projection maps ${extras.projection.inFeatures} → ${extras.projection.outFeatures}, this pair needs ${Ds} → ${Dt}`);
    }
    this.projection = needProjection ? (extras.projection ?? initProjection(core, Dt, Ds, stepSeed(seed, -1, 3), student.config.initializerRange)) : undefined;
    const needHead = w.mlm !== 0 || (w.soft !== 0 && softTarget === "mlm");
    this.head = needHead ? (extras.head ?? initMlmHead(core, student.config, stepSeed(seed, -1, 4))) : undefined;
    if (w.mlm !== 0) {
      const tok = student.tokenizer;
      if (tok.maskTokenId === undefined) throw new OptionError("NO_MASK_TOKEN", `the vocab has no mask token "${tok.maskToken}": the masked-LM term needs one`);
      this.masking = {
        probability: options.mlmProbability ?? 0.15,
        maskTokenId: tok.maskTokenId,
        randomVocab: Math.min(tok.vocab.size, student.config.vocabSize),
        specialIds: new Set([tok.clsTokenId, tok.sepTokenId, tok.padTokenId, tok.unkTokenId, tok.maskTokenId]),
      };
    }

    this.params = new DistillParameters(core, weights, classifierLoss, this.projection, this.head);
    this.stepsPerEpoch = Math.ceil(items / options.batchSize);
    const totalSteps = Math.ceil(options.epochs * this.stepsPerEpoch);
    this.optimizer = new AdamW(
      core,
      this.params,
      { learningRate: options.learningRate, weightDecay: options.weightDecay ?? 0.01, maxGradNorm: options.maxGradNorm ?? 1 },
      { totalSteps, warmupSteps: Math.round((options.warmupRatio ?? 0.1) * totalSteps) },
    );
  }

  private get itemCount(): number {
    return this.data.kind === "examples" ? this.data.examples.length : this.data.sequences.length;
  }

  get state(): { step: number; totalSteps: number } {
    return { step: this.optimizer.state.step, totalSteps: this.optimizer.schedule.totalSteps };
  }

  get done(): boolean {
    return this.optimizer.state.step >= this.optimizer.schedule.totalSteps;
  }

  /** The (masked) batch of step `step` with its labels: a pure function of the seed and the step. */
  batchAt(step: number): { batch: CheckedBatch; labels?: Int32Array; mlmLabels?: Int32Array } {
    const seed = this.options.seed ?? 42;
    const epoch = Math.floor(step / this.stepsPerEpoch);
    if (epoch !== this.orderEpoch) {
      this.epochOrder = batchIndices(this.itemCount, this.options.batchSize, seededRandom(seed * 1000003 + epoch));
      this.orderEpoch = epoch;
    }
    const indices = this.epochOrder[step % this.stepsPerEpoch];
    const maxLength = Math.min(this.options.maxLength ?? 128, this.student.config.maxPositionEmbeddings);
    let batch: CheckedBatch;
    let labels: Int32Array | undefined;
    if (this.data.kind === "examples") {
      const examples = indices.map((i) => (this.data as { examples: readonly Example[] }).examples[i]);
      const encoded = encodeExamples(this.student.tokenizer!, examples, maxLength);
      batch = checkBatch(this.student.config, encoded);
      labels = Int32Array.from(encoded.labels);
    } else {
      const sequences = (this.data as { sequences: readonly (readonly number[])[] }).sequences;
      batch = padSequences(indices.map((i) => sequences[i]), this.student.tokenizer!.padTokenId);
    }
    if (!this.masking) return { batch, labels };
    const masked = maskTokens(batch.inputIds, batch.attentionMask, batch.batch, batch.seq, this.masking, seededRandom(stepSeed(seed, step, 1)));
    return { batch: { ...batch, inputIds: masked.inputIds }, labels, mlmLabels: masked.labels };
  }

  /** Runs steps until `onStep` returns true or training is done. */
  run(onStep: (info: DistillStepInfo) => boolean | void): void {
    const seed = this.options.seed ?? 42;
    const dropoutP = this.options.dropout ?? this.student.config.hiddenDropoutProb;
    const attentionP = this.options.dropout ?? this.student.config.attentionProbsDropoutProb;
    while (!this.done) {
      const step = this.optimizer.state.step;
      const input = this.batchAt(step);
      const losses = distillStep(this.student, this.params, this.teacher, input, {
        weights: this.options.weights,
        temperature: this.options.temperature,
        softTarget: this.options.softTarget,
        dropout: dropoutP > 0 || attentionP > 0 ? { p: dropoutP, attentionP, seed: stepSeed(seed, step, 2) } : undefined,
      });
      const learningRate = this.optimizer.learningRate;
      const gradNorm = this.optimizer.step();
      let tokens = 0;
      for (const m of input.batch.attentionMask) tokens += m;
      const stop = onStep({
        step: step + 1,
        totalSteps: this.optimizer.schedule.totalSteps,
        epoch: Math.floor(step / this.stepsPerEpoch),
        loss: losses.total,
        losses,
        learningRate,
        gradNorm,
        tokens,
      });
      if (stop === true) return;
    }
  }

  /** Accuracy of the student (full size) on labelled examples. */
  evaluate(examples: readonly Example[]): EvalResult {
    return evaluate(this.student, examples, { maxLength: this.options.maxLength });
  }

  snapshot(): DistillSnapshot {
    const { core } = this.student.engine;
    const moments = new Map<string, Float32Array>();
    this.params.list.forEach((p, i) => {
      const { m, v } = this.optimizer.momentsOf(i);
      moments.set(`m.${p.name}`, readRowMajor(core, p, m));
      moments.set(`v.${p.name}`, readRowMajor(core, p, v));
    });
    return {
      state: { kind: "distillation", step: this.optimizer.state.step, totalSteps: this.optimizer.schedule.totalSteps, items: this.itemCount, options: this.options },
      moments,
    };
  }

  /**
   * Restores counters and moments saved by `snapshot` (the student, W_p and
   * the head come with the checkpoint). Refuses a run that would not continue
   * the saved one: other data size, epochs, batch size, seed, masking or losses.
   */
  restore(snapshot: DistillSnapshot): void {
    const saved = snapshot.state;
    const mismatch = (what: string, was: unknown, now: unknown) => {
      throw new OptionError("RESUME_MISMATCH", `cannot resume: the saved run has ${what} ${JSON.stringify(was)}, this one ${JSON.stringify(now)}`, { option: "--resume" });
    };
    if (saved.kind !== "distillation") mismatch("kind", saved.kind, "distillation");
    if (saved.items !== this.itemCount) mismatch("examples/sequences", saved.items, this.itemCount);
    if (saved.totalSteps !== this.optimizer.schedule.totalSteps) mismatch("total steps", saved.totalSteps, this.optimizer.schedule.totalSteps);
    for (const term of LOSS_TERMS) {
      const was = saved.options?.weights?.[term] ?? null;
      if (was !== this.options.weights[term]) mismatch(`--alpha-${term}`, was, this.options.weights[term]);
    }
    for (const key of RESUME_KEYS) {
      const was = JSON.stringify(saved.options?.[key] ?? null);
      const now = JSON.stringify(this.options[key] ?? null);
      if (was !== now) mismatch(key, saved.options?.[key] ?? null, this.options[key] ?? null);
    }
    const { core } = this.student.engine;
    this.params.list.forEach((p, i) => {
      const { m, v } = this.optimizer.momentsOf(i);
      for (const [key, tensor] of [[`m.${p.name}`, m], [`v.${p.name}`, v]] as const) {
        const values = snapshot.moments.get(key);
        if (!values) throw new OptionError("RESUME_MISMATCH", `cannot resume: the optimizer state has no ${key}`, { option: "--resume" });
        if (values.length !== p.value.shape.reduce((a, b) => a * b, 1)) throw new OptionError("RESUME_MISMATCH", `cannot resume: optimizer state ${key} has ${values.length} values`, { option: "--resume" });
        writeRowMajor(core, p, values, tensor);
      }
    });
    this.optimizer.state.step = saved.step;
  }
}
