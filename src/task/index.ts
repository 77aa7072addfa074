/**
 * Task data for the demo and the ablations: the SpamAssassin corpus as
 * cleaned, deduplicated, deterministically split labelled text, and a
 * WordPiece vocabulary trainer. Reading the corpus and writing files need
 * Node (spam-assassin.ts's readSpamAssassinCorpus, prepare.ts); the rest is
 * plain logic that runs anywhere.
 */
export { cleanMessage, normalizeWhitespace, DEFAULT_MAX_CHARS, type CleanOptions } from "./clean.js";
export { TaskError, type TaskErrorCode } from "./errors.js";
export { examplesToJsonl } from "./jsonl.js";
export { messageText } from "./mime.js";
export { prepareSpamAssassinTask, DEFAULT_VOCAB_SIZE, type PrepareOptions, type PreparedTask } from "./prepare.js";
export {
  labelOfKind,
  loadSpamAssassin,
  loadSpamAssassinSplits,
  prepareMessages,
  readSpamAssassinCorpus,
  spamAssassinLabelNames,
  splitExamples,
  SPAM_ASSASSIN_GROUPS,
  type CorpusStats,
  type MailExample,
  type MailKind,
  type RawMessage,
  type SpamAssassinGroup,
  type SpamAssassinOptions,
} from "./spam-assassin.js";
export { dedupeByText, fnv1a32, stratifiedSplit, type Deduplicated, type SplitPercents, type Splits } from "./split.js";
export { BERT_SPECIAL_TOKENS, trainWordPiece, vocabText, type TrainedVocab, type WordPieceTrainerOptions } from "./wordpiece-trainer.js";
