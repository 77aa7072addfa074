/**
 * Masked-LM pre-training: epochs of shuffled sequences, BERT masking drawn
 * per step, the MLM loss of each requested sub-network accumulated into one
 * step, global-norm clipping, AdamW with linear warmup/decay — and state that
 * saves and resumes exactly (the batch, masks and dropout of step s depend
 * only on the seed and s).
 */
import type { DynaBert } from "../../dynabert.js";
import { OptionError } from "../../errors.js";
import type { CheckedBatch } from "../../model/inputs.js";
import { readRowMajor, writeRowMajor } from "../../model/parameters.js";
import { trainingOrder } from "../accumulate.js";
import { batchIndices, seededRandom } from "../data.js";
import { backward, forwardTrain } from "../graph.js";
import { AdamW } from "../optimizer.js";
import { padSequences } from "./corpus.js";
import type { MlmHead } from "./head.js";
import { mlmHeadStep } from "./head-step.js";
import { maskTokens, type MaskingOptions } from "./masking.js";
import { encoderOnly, PretrainParameters } from "./params.js";

export interface PretrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Fraction of all steps spent warming up (default 0.1). */
  readonly warmupRatio?: number;
  readonly weightDecay?: number;
  readonly maxGradNorm?: number;
  /** The length the corpus was cut to (recorded, so a resume can check it). */
  readonly maxLength?: number;
  /** Fraction of tokens predicted (default 0.15). */
  readonly mlmProbability?: number;
  /** Hidden dropout probability (default: config hidden_dropout_prob). */
  readonly dropout?: number;
  readonly seed?: number;
  /** Sub-networks trained each step (default full width and depth only). */
  readonly widths?: readonly number[];
  readonly depths?: readonly number[];
}

export interface MlmSubnetResult {
  readonly width: number;
  readonly depth: number;
  readonly keptLayers: readonly number[];
  readonly loss: number;
}

export interface PretrainStepInfo {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  /** Sum of the sub-networks' MLM losses of this step. */
  readonly loss: number;
  readonly subnets: readonly MlmSubnetResult[];
  readonly learningRate: number;
  readonly gradNorm: number;
  /** Real (non-padding) tokens of this batch × sub-networks run. */
  readonly tokens: number;
  /** Positions predicted in this batch. */
  readonly predicted: number;
}

/** The saved form: counters and options as JSON, AdamW moments (head included) as named f32 tensors. */
export interface PretrainSnapshot {
  readonly state: { step: number; totalSteps: number; sequences: number; options: PretrainOptions };
  /** `m.<name>` and `v.<name>` row-major, for every parameter (canonical names, `cls.predictions.*` for the head). */
  readonly moments: Map<string, Float32Array>;
}

export interface MlmStepOptions {
  readonly widths: readonly number[];
  readonly depths: readonly number[];
  readonly dropout?: { readonly p: number; readonly seed: number };
}

/**
 * One accumulated MLM step without the update: for each sub-network (depth
 * descending, then width), forward, MLM loss on the positions whose label is
 * not IGNORE_LABEL, backward; gradients summed into `params`.
 */
export function accumulateMlmStep(model: DynaBert, params: PretrainParameters, batch: CheckedBatch, labels: Int32Array, options: MlmStepOptions): MlmSubnetResult[] {
  const { core, weights } = model.engine;
  const config = model.config;
  const encoder = encoderOnly(weights);
  const targets = { wordEmbeddings: weights.wordEmbeddings, wordEmbeddingsGrad: params.grads.wordEmbeddings };
  const results: MlmSubnetResult[] = [];
  for (const { width, depth } of trainingOrder(options.widths, options.depths)) {
    const sub = model.subNetwork({ width, depth });
    const mark = core.arena.mark();
    try {
      const dropout = options.dropout && { p: options.dropout.p, seed: (Math.imul(options.dropout.seed, 0x9e3779b1) + results.length * 0x85ebca6b) >>> 0 };
      const graph = forwardTrain(core, config, encoder, batch, sub, dropout);
      const { loss } = mlmHeadStep(core, config, params.head, params.headGrads, targets, graph, labels);
      backward(core, config, encoder, params.grads, graph);
      results.push({ width, depth, keptLayers: sub.keptLayers, loss });
    } finally {
      core.arena.release(mark);
    }
  }
  return results;
}

/** A seed for (run seed, step, purpose) so masks and dropout of a step never depend on earlier steps. */
function stepSeed(seed: number, step: number, purpose: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(step + 1, 0x85ebca6b) + Math.imul(purpose, 0xc2b2ae35)) >>> 0;
}

export class Pretrainer {
  readonly params: PretrainParameters;
  readonly optimizer: AdamW;
  private readonly stepsPerEpoch: number;
  private readonly masking: MaskingOptions;
  private readonly padId: number;
  /** The shuffled batches of epoch `orderEpoch` (recomputed when the epoch changes). */
  private epochOrder: number[][] = [];
  private orderEpoch = -1;

  /** `sequences`: `[CLS] … [SEP]` id lists (corpusSequences), at most maxPositionEmbeddings long. */
  constructor(
    readonly model: DynaBert,
    head: MlmHead,
    private readonly sequences: readonly (readonly number[])[],
    readonly options: PretrainOptions,
  ) {
    const tokenizer = model.tokenizer;
    if (!tokenizer) throw new OptionError("NO_VOCAB", "pre-training needs the model's vocab.txt");
    if (tokenizer.maskTokenId === undefined) throw new OptionError("NO_MASK_TOKEN", `the vocab has no mask token "${tokenizer.maskToken}": masked-LM pre-training needs one`);
    if (!(options.epochs > 0) || !Number.isInteger(options.batchSize) || !(options.batchSize > 0) || !(options.learningRate > 0)) {
      throw new OptionError("BAD_FLAG", "epochs, batch size and learning rate must be positive");
    }
    if (sequences.length === 0) throw new OptionError("BAD_FLAG", "pre-training needs at least one sequence");
    const longest = sequences.reduce((m, s) => Math.max(m, s.length), 0);
    if (longest > model.config.maxPositionEmbeddings) {
      throw new OptionError("BAD_FLAG", `a sequence of ${longest} tokens exceeds max_position_embeddings ${model.config.maxPositionEmbeddings}`, { option: "--max-length" });
    }
    this.padId = tokenizer.padTokenId;
    this.masking = {
      probability: options.mlmProbability ?? 0.15,
      maskTokenId: tokenizer.maskTokenId,
      randomVocab: Math.min(tokenizer.vocab.size, model.config.vocabSize),
      specialIds: new Set([tokenizer.clsTokenId, tokenizer.sepTokenId, tokenizer.padTokenId, tokenizer.unkTokenId, tokenizer.maskTokenId]),
    };
    this.stepsPerEpoch = Math.ceil(sequences.length / options.batchSize);
    const totalSteps = Math.ceil(options.epochs * this.stepsPerEpoch);
    const { core, weights } = model.engine;
    this.params = new PretrainParameters(core, encoderOnly(weights), head);
    this.optimizer = new AdamW(
      core,
      this.params,
      { learningRate: options.learningRate, weightDecay: options.weightDecay ?? 0.01, maxGradNorm: options.maxGradNorm ?? 1 },
      { totalSteps, warmupSteps: Math.round((options.warmupRatio ?? 0.1) * totalSteps) },
    );
  }

  get head(): MlmHead {
    return this.params.head;
  }

  get state(): { step: number; totalSteps: number } {
    return { step: this.optimizer.state.step, totalSteps: this.optimizer.schedule.totalSteps };
  }

  get done(): boolean {
    return this.optimizer.state.step >= this.optimizer.schedule.totalSteps;
  }

  /** The corrupted batch and labels of step `step` (a pure function of the seed and the step). */
  batchAt(step: number): { batch: CheckedBatch; labels: Int32Array; predicted: number } {
    const seed = this.options.seed ?? 42;
    const epoch = Math.floor(step / this.stepsPerEpoch);
    if (epoch !== this.orderEpoch) {
      this.epochOrder = batchIndices(this.sequences.length, this.options.batchSize, seededRandom(seed * 1000003 + epoch));
      this.orderEpoch = epoch;
    }
    const padded = padSequences(this.epochOrder[step % this.stepsPerEpoch].map((i) => this.sequences[i]), this.padId);
    const masked = maskTokens(padded.inputIds, padded.attentionMask, padded.batch, padded.seq, this.masking, seededRandom(stepSeed(seed, step, 1)));
    return { batch: { ...padded, inputIds: masked.inputIds }, labels: masked.labels, predicted: masked.counts.predicted };
  }

  /** Runs steps until `onStep` returns true or training is done. */
  run(onStep: (info: PretrainStepInfo) => boolean | void): void {
    const seed = this.options.seed ?? 42;
    const dropoutP = this.options.dropout ?? this.model.config.hiddenDropoutProb;
    const widths = this.options.widths ?? [1];
    const depths = this.options.depths ?? [1];
    while (!this.done) {
      const step = this.optimizer.state.step;
      const { batch, labels, predicted } = this.batchAt(step);
      const subnets = accumulateMlmStep(this.model, this.params, batch, labels, {
        widths,
        depths,
        dropout: dropoutP > 0 ? { p: dropoutP, seed: stepSeed(seed, step, 2) } : undefined,
      });
      const learningRate = this.optimizer.learningRate;
      const gradNorm = this.optimizer.step();
      let realTokens = 0;
      for (const m of batch.attentionMask) realTokens += m;
      const stop = onStep({
        step: step + 1,
        totalSteps: this.optimizer.schedule.totalSteps,
        epoch: Math.floor(step / this.stepsPerEpoch),
        loss: subnets.reduce((a, s) => a + s.loss, 0),
        subnets,
        learningRate,
        gradNorm,
        tokens: realTokens * subnets.length,
        predicted,
      });
      if (stop === true) return;
    }
  }

  snapshot(): PretrainSnapshot {
    const { core } = this.model.engine;
    const moments = new Map<string, Float32Array>();
    this.params.list.forEach((p, i) => {
      const { m, v } = this.optimizer.momentsOf(i);
      moments.set(`m.${p.name}`, readRowMajor(core, p, m));
      moments.set(`v.${p.name}`, readRowMajor(core, p, v));
    });
    return {
      state: { step: this.optimizer.state.step, totalSteps: this.optimizer.schedule.totalSteps, sequences: this.sequences.length, options: this.options },
      moments,
    };
  }

  /**
   * Restores counters and moments saved by `snapshot` (weights and head come
   * with the checkpoint). Refuses a run that would not continue the saved one:
   * other data size, epochs, batch size, seed or masking.
   */
  restore(snapshot: PretrainSnapshot): void {
    const saved = snapshot.state;
    const mismatch = (what: string, was: unknown, now: unknown) => {
      throw new OptionError("RESUME_MISMATCH", `cannot resume: the saved run has ${what} ${JSON.stringify(was)}, this one ${JSON.stringify(now)}`);
    };
    if (saved.sequences !== this.sequences.length) mismatch("corpus sequences", saved.sequences, this.sequences.length);
    if (saved.totalSteps !== this.optimizer.schedule.totalSteps) mismatch("total steps", saved.totalSteps, this.optimizer.schedule.totalSteps);
    const keys = ["batchSize", "seed", "maxLength", "mlmProbability", "widths", "depths"] as const;
    for (const key of keys) {
      const was = JSON.stringify(saved.options?.[key] ?? null);
      const now = JSON.stringify(this.options[key] ?? null);
      if (was !== now) mismatch(key, saved.options?.[key] ?? null, this.options[key] ?? null);
    }
    const { core } = this.model.engine;
    this.params.list.forEach((p, i) => {
      const { m, v } = this.optimizer.momentsOf(i);
      for (const [key, tensor] of [[`m.${p.name}`, m], [`v.${p.name}`, v]] as const) {
        const values = snapshot.moments.get(key);
        if (!values) throw new OptionError("RESUME_MISMATCH", `cannot resume: optimizer state has no ${key}`);
        if (values.length !== p.value.shape.reduce((a, b) => a * b, 1)) throw new OptionError("RESUME_MISMATCH", `cannot resume: optimizer state ${key} has ${values.length} values`);
        writeRowMajor(core, p, values, tensor);
      }
    });
    this.optimizer.state.step = saved.step;
  }
}
