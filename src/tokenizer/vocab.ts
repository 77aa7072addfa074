/**
 * A WordPiece vocabulary read from vocab.txt text: one token per line, the id
 * is the line index.
 *
 * Parsed the way transformers' `load_vocab` reads it (the path BertTokenizerFast
 * takes when a model ships only vocab.txt): lines end at "\n", "\r\n" or a lone
 * "\r" (Python's universal newlines); only the line break is removed, other
 * spaces stay part of the token; a final line break does not start another
 * token. When a token appears twice the later line wins its id, and the earlier
 * id then maps to no token (as in HF's id→token table).
 */
import { TokenizerError } from "./errors.js";

export class Vocab {
  /** token → id; a duplicated token holds the id of its last line. */
  private readonly ids: Map<string, number>;
  /** id → token; `undefined` at ids whose token was taken by a later duplicate. */
  private readonly tokens: (string | undefined)[];

  private constructor(tokens: (string | undefined)[], ids: Map<string, number>) {
    this.tokens = tokens;
    this.ids = ids;
  }

  /** Reads vocab.txt text (already decoded from UTF-8 by the caller). */
  static fromText(text: string): Vocab {
    if (typeof text !== "string") {
      throw new TokenizerError("VOCAB_INVALID", `vocab must be the text of vocab.txt (a string), got ${describe(text)}`);
    }
    if (text.length === 0) throw new TokenizerError("VOCAB_EMPTY", "vocab.txt is empty: it must list one token per line");
    const lines = text.split(/\r\n|\r|\n/);
    // A trailing line break ends the last line; it does not add an empty token.
    if (lines[lines.length - 1] === "") lines.pop();
    return Vocab.fromTokens(lines);
  }

  /** Builds a vocab from tokens listed in id order (id = index). */
  static fromTokens(list: readonly string[]): Vocab {
    if (list.length === 0) throw new TokenizerError("VOCAB_EMPTY", "the vocab has no tokens");
    const ids = new Map<string, number>();
    const tokens: (string | undefined)[] = Array.from(list);
    list.forEach((token, id) => {
      if (typeof token !== "string") throw new TokenizerError("VOCAB_INVALID", `vocab token ${id} is ${describe(token)}, not a string`);
      const earlier = ids.get(token);
      if (earlier !== undefined) tokens[earlier] = undefined;
      ids.set(token, id);
    });
    return new Vocab(tokens, ids);
  }

  /** Number of ids, i.e. of lines (duplicates included): the embedding matrix's row count. */
  get size(): number {
    return this.tokens.length;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 ? this.tokens[id] : undefined;
  }

  has(token: string): boolean {
    return this.ids.has(token);
  }
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value).slice(0, 40)}`;
}
