/**
 * Data augmentation for the distillation stages (Hou et al. 2020 §4.1 train
 * DynaBERT_W and DynaBERT on augmented data; their augmenter replaces words,
 * TinyBERT's). Here the messages are longer than the model's input, so the
 * unlabelled extra inputs are the windows of a message that truncation never
 * shows: tokens [k·n, (k+1)·n) for k = 1, 2, … (n = maxLength − 2, the room
 * left by [CLS] and [SEP]), each moved forward to a word start so it does not
 * open on a "##" piece. Distillation needs no label for them (the teacher's
 * logits and hidden states are the targets); they carry their message's label
 * only because Example has one, and no task-loss stage ever sees them.
 */
import { TaskError } from "../task/errors.js";
import type { BertTokenizer } from "../tokenizer/index.js";
import type { Example } from "../train/data.js";

export interface WindowAugmentation {
  /** Extra windows per message at most (0: none). */
  readonly windows: number;
  /** A window shorter than this many tokens is dropped (a message's short tail adds little). */
  readonly minTokens?: number;
}

/** The examples followed by their extra windows (message order, then window order). */
export function withTextWindows(examples: readonly Example[], tokenizer: BertTokenizer, maxLength: number, options: WindowAugmentation): Example[] {
  const { windows } = options;
  if (!Number.isInteger(windows) || windows < 0) throw new TaskError("OPTION_INVALID", `augmentation windows must be a whole number ≥ 0, got ${windows}`);
  const room = maxLength - 2;
  if (room < 1) throw new TaskError("OPTION_INVALID", `maxLength ${maxLength} leaves no room for tokens beside [CLS] and [SEP]`);
  const minTokens = options.minTokens ?? Math.ceil(room / 4);
  const extra: Example[] = [];
  for (const example of examples) {
    if (typeof example.input !== "string") continue; // pairs: no natural window
    const tokens = tokenizer.tokenize(example.input);
    for (let k = 1; k <= windows; k++) {
      let start = k * room;
      while (start < tokens.length && tokens[start].startsWith("##")) start++;
      const piece = tokens.slice(start, start + room);
      if (piece.length < minTokens) break;
      extra.push({ input: joinWordPieces(piece), label: example.label });
    }
  }
  return [...examples, ...extra];
}

/** WordPiece tokens as text that tokenizes back to them: "##" pieces glued to the token before. */
function joinWordPieces(tokens: readonly string[]): string {
  let text = "";
  for (const token of tokens) text += token.startsWith("##") ? token.slice(2) : (text === "" ? "" : " ") + token;
  return text;
}
