/**
 * WordPiece as HF's Rust model does it: greedy longest-match-first from the
 * start of the word, continuation pieces spelled "##piece"; a word longer than
 * `maxInputCharsPerWord` code points, or one with no full segmentation,
 * becomes a single unknown token.
 */
import type { Vocab } from "./vocab.js";

export interface WordPieceOptions {
  readonly unkId: number;
  /** Longer words (counted in code points, not UTF-16 units) become [UNK]. HF's default is 100. */
  readonly maxInputCharsPerWord: number;
  readonly continuingSubwordPrefix: string;
  /** Longest token in the vocab, in UTF-16 units: no longer candidate can match, so none is tried. */
  readonly maxTokenLength: number;
}

/** Appends the ids of `word`'s pieces to `out`. */
export function wordPieceIds(word: string, vocab: Vocab, options: WordPieceOptions, out: number[]): void {
  // Offsets (UTF-16) of each code point's start, then the end: pieces never split a surrogate pair.
  const bounds: number[] = [];
  for (let i = 0; i < word.length; ) {
    bounds.push(i);
    i += word.codePointAt(i)! > 0xffff ? 2 : 1;
  }
  const chars = bounds.length;
  bounds.push(word.length);
  if (chars > options.maxInputCharsPerWord) {
    out.push(options.unkId);
    return;
  }
  const pieces: number[] = [];
  const prefix = options.continuingSubwordPrefix;
  for (let start = 0; start < chars; ) {
    let end = chars;
    const limit = options.maxTokenLength - (start > 0 ? prefix.length : 0);
    while (end > start && bounds[end] - bounds[start] > limit) end--;
    let id: number | undefined;
    for (; end > start; end--) {
      const piece = word.slice(bounds[start], bounds[end]);
      id = vocab.tokenToId(start > 0 ? prefix + piece : piece);
      if (id !== undefined) break;
    }
    if (id === undefined) {
      out.push(options.unkId);
      return;
    }
    pieces.push(id);
    start = end;
  }
  for (const id of pieces) out.push(id);
}
