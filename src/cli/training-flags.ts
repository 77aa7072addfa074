/**
 * The optimisation flags `train`, `pretrain` and `train --phase distill`
 * share: one spec and one reader, so a flag means the same thing (and is
 * checked the same way) in every training command.
 */
import type { FlagSpec, Flags } from "./args.js";

export const TRAINING_FLAGS: FlagSpec = {
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  lr: { type: "string" },
  "max-length": { type: "string" },
  warmup: { type: "string" },
  "weight-decay": { type: "string" },
  dropout: { type: "string" },
  seed: { type: "string" },
  "save-every": { type: "string" },
  resume: { type: "boolean" },
};

export const TRAINING_USAGE =
  "[--epochs N] [--batch-size B] [--lr X] [--max-length N] [--warmup 0.1] [--weight-decay 0.01] [--dropout P] [--seed N] [--save-every N] [--resume]";

export interface TrainingFlagValues {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly maxLength: number;
  readonly warmupRatio: number;
  readonly weightDecay: number;
  /** Undefined: the checkpoint's own dropout probabilities. */
  readonly dropout: number | undefined;
  readonly seed: number;
}

/** The shared flags with this command's defaults for epochs and learning rate. */
export function readTrainingFlags(flags: Flags, defaults: { epochs: number; learningRate: number }): TrainingFlagValues {
  return {
    epochs: flags.number("epochs", defaults.epochs, (n) => n > 0, "a positive number"),
    batchSize: flags.positiveInt("batch-size", 32),
    learningRate: flags.number("lr", defaults.learningRate, (n) => n > 0, "a positive number"),
    maxLength: flags.positiveInt("max-length", 128),
    warmupRatio: flags.number("warmup", 0.1, (n) => n >= 0 && n <= 1, "a fraction in [0, 1]"),
    weightDecay: flags.number("weight-decay", 0.01, (n) => n >= 0, "a non-negative number"),
    dropout: flags.has("dropout") ? flags.number("dropout", undefined, (n) => n >= 0 && n < 1, "a probability in [0, 1)") : undefined,
    seed: flags.positiveInt("seed", 42),
  };
}

/** `--save-every N`: also checkpoint every N steps (undefined: only at epoch ends, where the command does). */
export function readSaveEvery(flags: Flags): number | undefined {
  return flags.has("save-every") ? flags.positiveInt("save-every") : undefined;
}
