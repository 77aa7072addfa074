/**
 * The DynaBERT task of the demo and the ablation: SpamAssassin bodies
 * (headers stripped), the deterministic train/dev/test split of src/task, and
 * a WordPiece vocabulary learned from the training split.
 */
import { loadSpamAssassinSplits } from "../task/spam-assassin.js";
import { spamAssassinLabelNames } from "../task/spam-assassin.js";
import { trainWordPiece } from "../task/wordpiece-trainer.js";
import type { Example } from "../train/data.js";
import type { Task } from "./pipeline.js";

export interface SpamTask extends Task {
  readonly labels: readonly string[];
  /** vocab.txt text learned from the training split. */
  readonly vocab: string;
}

export async function spamAssassinTask(options: { classes: 2 | 3; vocabSize: number }): Promise<SpamTask> {
  const splits = await loadSpamAssassinSplits({ classes: options.classes });
  const toExamples = (rows: ReadonlyArray<{ text: string; label: number }>): Example[] => rows.map((r) => ({ input: r.text, label: r.label }));
  const train = toExamples(splits.train);
  const vocab = trainWordPiece(
    splits.train.map((e) => e.text),
    { vocabSize: options.vocabSize },
  );
  return {
    name: `SpamAssassin ${options.classes === 2 ? "ham vs spam" : "easy ham / hard ham / spam"}`,
    labels: spamAssassinLabelNames(options.classes),
    train,
    dev: toExamples(splits.dev),
    test: toExamples(splits.test),
    vocab: vocab.tokens.join("\n") + "\n",
  };
}
