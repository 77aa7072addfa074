/**
 * BertPreTokenizer: words are separated by whitespace (dropped), and every
 * punctuation character is a word of its own.
 */
import { isPunctuation, isWhitespace } from "./char-classes.js";

export function preTokenize(text: string): string[] {
  const words: string[] = [];
  let wordStart = -1; // -1: not inside a word
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (isWhitespace(cp)) {
      if (wordStart >= 0) words.push(text.slice(wordStart, i));
      wordStart = -1;
    } else if (isPunctuation(cp)) {
      if (wordStart >= 0) words.push(text.slice(wordStart, i));
      words.push(text.slice(i, i + width));
      wordStart = -1;
    } else if (wordStart < 0) {
      wordStart = i;
    }
    i += width;
  }
  if (wordStart >= 0) words.push(text.slice(wordStart));
  return words;
}
