/**
 * Character classes of BertTokenizerFast's normalizer and pre-tokenizer, by
 * code point. The tables are probed from HF's Rust implementation (see
 * unicode-tables.ts) instead of using \p{..}, whose Unicode version varies
 * between JS engines.
 */
import { CJK_RANGES, CONTROL_RANGES, MARK_RANGES, PUNCTUATION_RANGES, WHITESPACE_RANGES } from "./unicode-tables.js";

/** Binary search in a flat, sorted list of inclusive [first, last] pairs. */
function inRanges(ranges: readonly number[], cp: number): boolean {
  let lo = 0;
  let hi = (ranges.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[2 * mid]) hi = mid - 1;
    else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

const CONTROL_BIT = 1;
const WHITESPACE_BIT = 2;
const PUNCTUATION_BIT = 4;

/** Bit flags for code points 0–127: most text is ASCII and this is the hot path. */
const ASCII_CLASS = new Uint8Array(128);
for (let cp = 0; cp < 128; cp++) {
  ASCII_CLASS[cp] =
    (inRanges(CONTROL_RANGES, cp) ? CONTROL_BIT : 0) |
    (inRanges(WHITESPACE_RANGES, cp) ? WHITESPACE_BIT : 0) |
    (inRanges(PUNCTUATION_RANGES, cp) ? PUNCTUATION_BIT : 0);
}

/** Removed by text cleaning: control (but not \t \n \r), format, private use, U+0000, U+FFFD. */
export function isRemovedByCleaning(cp: number): boolean {
  if (cp < 128) return cp === 0 || (ASCII_CLASS[cp] & CONTROL_BIT) !== 0;
  return cp === 0xfffd || inRanges(CONTROL_RANGES, cp);
}

/** Whitespace: mapped to a plain space by cleaning, and a word boundary. */
export function isWhitespace(cp: number): boolean {
  if (cp < 128) return (ASCII_CLASS[cp] & WHITESPACE_BIT) !== 0;
  return inRanges(WHITESPACE_RANGES, cp);
}

/** Punctuation: ASCII punctuation (including $ + < = > ^ ` | ~) and Unicode P*; each one is a word. */
export function isPunctuation(cp: number): boolean {
  if (cp < 128) return (ASCII_CLASS[cp] & PUNCTUATION_BIT) !== 0;
  return inRanges(PUNCTUATION_RANGES, cp);
}

/** A mark dropped when stripping accents (after NFD). */
export function isStrippedMark(cp: number): boolean {
  return cp >= MARK_RANGES[0] && inRanges(MARK_RANGES, cp);
}

/** A CJK ideograph, given spaces on both sides so it becomes its own word. */
export function isCjk(cp: number): boolean {
  return cp >= CJK_RANGES[0] && inRanges(CJK_RANGES, cp);
}
