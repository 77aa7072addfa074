/**
 * Tokens back to text as HF's WordPiece decoder does (with cleanup on):
 * a "##" piece is glued to the token before it, any other token gets a space
 * before it, then each token (with that space) is cleaned of the spaces BERT
 * puts before punctuation and English contractions.
 */
const CLEANUPS: readonly (readonly [string, string])[] = [
  [" .", "."],
  [" ?", "?"],
  [" !", "!"],
  [" ,", ","],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" do not", " don't"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];

export function decodeWordPieces(tokens: readonly string[], prefix = "##"): string {
  let out = "";
  tokens.forEach((token, i) => {
    let piece = token;
    if (i > 0) piece = token.startsWith(prefix) ? token.slice(prefix.length) : ` ${token}`;
    for (const [from, to] of CLEANUPS) piece = piece.replaceAll(from, to);
    out += piece;
  });
  return out;
}
