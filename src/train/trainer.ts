/**
 * The training loop shared by every phase: epochs of shuffled batches, one
 * accumulated step over the phase's sub-networks per batch, global-norm
 * clipping, AdamW with linear warmup/decay, evaluation after each epoch,
 * and state that can be saved and resumed exactly.
 */
import type { DynaBert } from "../dynabert.js";
import { OptionError } from "../errors.js";
import { listParameters, readRowMajor, writeRowMajor } from "../model/parameters.js";
import { accumulateStep, type Phase, type SubnetResult, type TeacherWidth } from "./accumulate.js";
import { batchIndices, encodeExamples, seededRandom, type Example } from "./data.js";
import { evaluate, type EvalResult } from "./evaluate.js";
import type { Lambdas } from "./objectives.js";
import { AdamW } from "./optimizer.js";
import { TrainableParameters } from "./params.js";

export interface TrainerOptions {
  readonly phase: Phase;
  readonly widths: readonly number[];
  readonly depths: readonly number[];
  readonly lambdas?: Partial<Lambdas>;
  readonly teacherWidth?: TeacherWidth;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Fraction of all steps spent warming up (default 0.1). */
  readonly warmupRatio?: number;
  readonly weightDecay?: number;
  readonly maxGradNorm?: number;
  readonly maxLength?: number;
  /** Hidden and attention dropout probability (default: config hidden_dropout_prob and attention_probs_dropout_prob). */
  readonly dropout?: number;
  readonly seed?: number;
}

export interface StepInfo {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  /** Sum of the sub-networks' losses of this step. */
  readonly loss: number;
  readonly subnets: readonly SubnetResult[];
  /** Learning rate used by this step. */
  readonly learningRate: number;
  readonly gradNorm: number;
  /** Non-padding tokens of this batch (× sub-networks run). */
  readonly tokens: number;
}

export interface TrainerState {
  /** Optimiser steps taken. */
  readonly step: number;
  readonly totalSteps: number;
}

/** The saved form of a trainer: counters as JSON, AdamW moments as named f32 tensors. */
export interface TrainerSnapshot {
  readonly state: { step: number; totalSteps: number; options: TrainerOptions };
  /** `m.<name>` and `v.<name>` row-major, for every parameter (canonical names). */
  readonly moments: Map<string, Float32Array>;
}

export class Trainer {
  readonly params: TrainableParameters;
  readonly optimizer: AdamW;
  private readonly stepsPerEpoch: number;

  constructor(
    readonly student: DynaBert,
    private readonly train: readonly Example[],
    readonly options: TrainerOptions,
    private readonly teacher?: DynaBert,
  ) {
    if (!student.tokenizer) throw new OptionError("NO_VOCAB", "training needs the model's vocab.txt");
    if (!(options.epochs > 0) || !(options.batchSize > 0) || !(options.learningRate > 0)) {
      throw new OptionError("BAD_FLAG", "epochs, batch size and learning rate must be positive");
    }
    this.stepsPerEpoch = Math.ceil(train.length / options.batchSize);
    const totalSteps = Math.ceil(options.epochs * this.stepsPerEpoch);
    const { core, weights } = student.engine;
    this.params = new TrainableParameters(core, weights);
    this.optimizer = new AdamW(
      core,
      this.params,
      { learningRate: options.learningRate, weightDecay: options.weightDecay ?? 0.01, maxGradNorm: options.maxGradNorm ?? 1 },
      { totalSteps, warmupSteps: Math.round((options.warmupRatio ?? 0.1) * totalSteps) },
    );
  }

  get state(): TrainerState {
    return { step: this.optimizer.state.step, totalSteps: this.optimizer.schedule.totalSteps };
  }

  get done(): boolean {
    return this.optimizer.state.step >= this.optimizer.schedule.totalSteps;
  }

  /**
   * Runs steps until `stop()` says so or training is done. The batch of step
   * s is fixed by (seed, s), so a resumed run continues exactly where the
   * saved one stopped.
   */
  run(onStep: (info: StepInfo) => boolean | void): void {
    const seed = this.options.seed ?? 42;
    const maxLength = Math.min(this.options.maxLength ?? 128, this.student.config.maxPositionEmbeddings);
    const dropoutP = this.options.dropout ?? this.student.config.hiddenDropoutProb;
    const attentionP = this.options.dropout ?? this.student.config.attentionProbsDropoutProb;
    let epochOrder: number[][] = [];
    let orderEpoch = -1;
    while (!this.done) {
      const step = this.optimizer.state.step;
      const epoch = Math.floor(step / this.stepsPerEpoch);
      if (epoch !== orderEpoch) {
        epochOrder = batchIndices(this.train.length, this.options.batchSize, seededRandom(seed * 1000003 + epoch));
        orderEpoch = epoch;
      }
      const examples = epochOrder[step % this.stepsPerEpoch].map((i) => this.train[i]);
      const batch = encodeExamples(this.student.tokenizer!, examples, maxLength);
      const subnets = accumulateStep(
        this.student,
        this.params,
        batch,
        {
          phase: this.options.phase,
          widths: this.options.widths,
          depths: this.options.depths,
          lambdas: this.options.lambdas,
          teacherWidth: this.options.teacherWidth,
          dropout: dropoutP > 0 || attentionP > 0 ? { p: dropoutP, attentionP, seed: (seed * 7919 + step) >>> 0 } : undefined,
        },
        this.teacher,
      );
      const learningRate = this.optimizer.learningRate;
      const gradNorm = this.optimizer.step();
      const realTokens = batch.attentionMask.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
      const stop = onStep({
        step: step + 1,
        totalSteps: this.optimizer.schedule.totalSteps,
        epoch,
        loss: subnets.reduce((a, s) => a + s.loss, 0),
        subnets,
        learningRate,
        gradNorm,
        tokens: realTokens * subnets.length,
      });
      if (stop === true) return;
    }
  }

  /** Accuracy of every (width, depth) asked for, on `examples`. */
  evaluate(examples: readonly Example[], configs: ReadonlyArray<{ width: number; depth: number }>): Array<{ width: number; depth: number } & EvalResult> {
    return configs.map((c) => ({ ...c, ...evaluate(this.student, examples, { ...c, maxLength: this.options.maxLength }) }));
  }

  snapshot(): TrainerSnapshot {
    const { core } = this.student.engine;
    const moments = new Map<string, Float32Array>();
    this.params.list.forEach((p, i) => {
      const { m, v } = this.optimizer.momentsOf(i);
      moments.set(`m.${p.name}`, readRowMajor(core, p, m));
      moments.set(`v.${p.name}`, readRowMajor(core, p, v));
    });
    return { state: { step: this.optimizer.state.step, totalSteps: this.optimizer.schedule.totalSteps, options: this.options }, moments };
  }

  /** Restores counters and moments saved by `snapshot` (the weights come with the checkpoint itself). */
  restore(snapshot: TrainerSnapshot): void {
    const { core, weights } = this.student.engine;
    if (snapshot.state.totalSteps !== this.optimizer.schedule.totalSteps) {
      throw new OptionError("RESUME_MISMATCH", `cannot resume: the saved run plans ${snapshot.state.totalSteps} steps, this one ${this.optimizer.schedule.totalSteps} (same data, epochs and batch size needed)`);
    }
    const entries = listParameters(weights);
    this.params.list.forEach((p, i) => {
      const { m, v } = this.optimizer.momentsOf(i);
      for (const [key, tensor] of [[`m.${p.name}`, m], [`v.${p.name}`, v]] as const) {
        const values = snapshot.moments.get(key);
        if (!values) throw new OptionError("RESUME_MISMATCH", `cannot resume: optimizer state has no ${key}`);
        writeRowMajor(core, entries[i], values, tensor);
      }
    });
    this.optimizer.state.step = snapshot.state.step;
  }
}
