/**
 * Node only: writes the SpamAssassin task to a folder —
 *   train.jsonl, dev.jsonl, test.jsonl  (`{"text","label"}` lines, see jsonl.ts)
 *   vocab.txt                           (WordPiece, trained on train.jsonl's texts only)
 * and returns what it wrote and the counts behind it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { examplesToJsonl } from "./jsonl.js";
import {
  prepareMessages,
  readSpamAssassinCorpus,
  spamAssassinLabelNames,
  splitExamples,
  type CorpusStats,
  type RawMessage,
  type SpamAssassinOptions,
} from "./spam-assassin.js";
import type { SplitPercents } from "./split.js";
import { trainWordPiece, vocabText, type WordPieceTrainerOptions } from "./wordpiece-trainer.js";

export interface PrepareOptions extends SpamAssassinOptions {
  readonly percents?: SplitPercents;
  /** Vocab trainer options; vocabSize defaults to 6000. */
  readonly vocab?: Partial<WordPieceTrainerOptions>;
  /** The raw corpus when already read (readSpamAssassinCorpus); read from the package otherwise. */
  readonly corpus?: readonly RawMessage[];
}

export interface PreparedTask {
  readonly files: { readonly train: string; readonly dev: string; readonly test: string; readonly vocab: string };
  readonly labelNames: readonly string[];
  /** Examples per split and label id. */
  readonly counts: { readonly train: number[]; readonly dev: number[]; readonly test: number[] };
  readonly corpus: CorpusStats;
  readonly vocabSize: number;
}

export const DEFAULT_VOCAB_SIZE = 6000;

export async function prepareSpamAssassinTask(dir: string, options: PrepareOptions = {}): Promise<PreparedTask> {
  const classes = options.classes ?? 2;
  const { examples, stats } = prepareMessages(options.corpus ?? (await readSpamAssassinCorpus()), options);
  const splits = splitExamples(examples, options.percents);
  const vocab = trainWordPiece(
    splits.train.map((e) => e.text),
    { ...options.vocab, vocabSize: options.vocab?.vocabSize ?? DEFAULT_VOCAB_SIZE },
  );
  await mkdir(dir, { recursive: true });
  const files = { train: join(dir, "train.jsonl"), dev: join(dir, "dev.jsonl"), test: join(dir, "test.jsonl"), vocab: join(dir, "vocab.txt") };
  await writeFile(files.train, examplesToJsonl(splits.train));
  await writeFile(files.dev, examplesToJsonl(splits.dev));
  await writeFile(files.test, examplesToJsonl(splits.test));
  await writeFile(files.vocab, vocabText(vocab.tokens));
  const countLabels = (list: readonly { label: number }[]) => {
    const c = new Array<number>(classes).fill(0);
    for (const e of list) c[e.label]++;
    return c;
  };
  return {
    files,
    labelNames: spamAssassinLabelNames(classes),
    counts: { train: countLabels(splits.train), dev: countLabels(splits.dev), test: countLabels(splits.test) },
    corpus: stats,
    vocabSize: vocab.tokens.length,
  };
}
