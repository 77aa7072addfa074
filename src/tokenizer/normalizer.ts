/**
 * BertNormalizer as HF's Rust `tokenizers` runs it, in its order:
 * clean text → pad CJK ideographs with spaces → strip accents (NFD, drop
 * marks) → lowercase. (The slow Python tokenizer lowercases before stripping;
 * the fast one, which we match, strips first.)
 */
import { isCjk, isRemovedByCleaning, isStrippedMark, isWhitespace } from "./char-classes.js";

export interface NormalizerOptions {
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  readonly handleChineseChars: boolean;
}

export function normalizeText(text: string, options: NormalizerOptions): string {
  let out = cleanAndPadCjk(text, options.handleChineseChars);
  if (options.stripAccents) out = stripAccents(out);
  if (options.lowercase) out = lowercase(out);
  return out;
}

/** Drops control/format/private-use characters, U+0000, U+FFFD and lone surrogates; whitespace becomes " ". */
function cleanAndPadCjk(text: string, padCjk: boolean): string {
  let out = "";
  let runStart = 0; // start of the pending run of characters copied unchanged
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    // A lone surrogate cannot cross into Rust's UTF-8 strings: it arrives there as U+FFFD, which cleaning removes.
    const loneSurrogate = cp >= 0xd800 && cp <= 0xdfff;
    const cjk = padCjk && isCjk(cp);
    const space = cp !== 0x20 && isWhitespace(cp);
    if (loneSurrogate || cjk || space || isRemovedByCleaning(cp)) {
      out += text.slice(runStart, i);
      if (cjk) out += ` ${text.slice(i, i + width)} `;
      else if (space) out += " ";
      runStart = i + width;
    }
    i += width;
  }
  return runStart === 0 ? text : out + text.slice(runStart);
}

function stripAccents(text: string): string {
  const decomposed = text.normalize("NFD");
  let out = "";
  let runStart = 0;
  for (let i = 0; i < decomposed.length; ) {
    const cp = decomposed.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (isStrippedMark(cp)) {
      out += decomposed.slice(runStart, i);
      runStart = i + width;
    }
    i += width;
  }
  return runStart === 0 ? decomposed : out + decomposed.slice(runStart);
}

/**
 * Character by character, as Rust's `char::to_lowercase`: JS's whole-string
 * toLowerCase applies the context rule for a word-final capital sigma (Σ → ς),
 * which Rust does not (Σ → σ always). That rule is the only context-dependent
 * one in locale-free lowercasing, so only strings holding Σ go the slow way.
 */
function lowercase(text: string): string {
  if (!text.includes("\u03a3")) return text.toLowerCase();
  let out = "";
  for (const ch of text) out += ch.toLowerCase();
  return out;
}
