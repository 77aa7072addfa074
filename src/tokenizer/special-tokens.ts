/**
 * Special tokens written in the input text ("hello [MASK] world") are found
 * before normalization, as BertTokenizerFast's added vocabulary does: matched
 * exactly and case-sensitively, leftmost first and longest on a tie, never
 * lowercased or split; the text between them is tokenized normally.
 */

export interface TextSegment {
  readonly text: string;
  /** Set when the segment is one whole special token. */
  readonly special: boolean;
}

export function splitOnSpecialTokens(text: string, specials: readonly string[]): TextSegment[] {
  const segments: TextSegment[] = [];
  let pos = 0;
  for (;;) {
    let bestAt = -1;
    let best = "";
    for (const token of specials) {
      const at = text.indexOf(token, pos);
      if (at >= 0 && (bestAt < 0 || at < bestAt || (at === bestAt && token.length > best.length))) {
        bestAt = at;
        best = token;
      }
    }
    if (bestAt < 0) break;
    if (bestAt > pos) segments.push({ text: text.slice(pos, bestAt), special: false });
    segments.push({ text: best, special: true });
    pos = bestAt + best.length;
  }
  if (pos < text.length) segments.push({ text: text.slice(pos), special: false });
  return segments;
}
