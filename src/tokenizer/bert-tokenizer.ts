/**
 * BERT's WordPiece tokenizer, matching HF's BertTokenizerFast (the Rust
 * `tokenizers` pipeline): special tokens split out of the raw text →
 * BertNormalizer → BertPreTokenizer → WordPiece → [CLS] A [SEP] (B [SEP]),
 * with longest_first truncation and right padding.
 *
 * Pure TypeScript with no runtime APIs: reading vocab.txt is the caller's job.
 */
import { parseTokenizerConfig, type SpecialTokenNames } from "./config.js";
import { decodeWordPieces } from "./decoder.js";
import { TokenizerError } from "./errors.js";
import { normalizeText, type NormalizerOptions } from "./normalizer.js";
import { preTokenize } from "./pre-tokenizer.js";
import { splitOnSpecialTokens } from "./special-tokens.js";
import { longestFirstLengths } from "./truncation.js";
import { describe, Vocab } from "./vocab.js";
import { wordPieceIds, type WordPieceOptions } from "./wordpiece.js";

export interface BertTokenizerOptions {
  /** Lowercase the text. Default true (bert-base-uncased). */
  readonly doLowerCase?: boolean;
  /** Remove accents (NFD, then drop marks). Default: the same as doLowerCase, as in HF. */
  readonly stripAccents?: boolean;
  /** Make every CJK ideograph its own word. Default true. */
  readonly tokenizeChineseChars?: boolean;
  /** Used when truncation or `padding: "max_length"` is asked for without a maxLength. */
  readonly modelMaxLength?: number;
  /** Special token spellings, when a vocab uses other ones. Defaults: [UNK] [CLS] [SEP] [PAD] [MASK]. */
  readonly specialTokens?: SpecialTokenNames;
}

/** One text, or a pair of texts encoded as one sequence with segment ids 0 and 1. */
export type EncodeInput = string | readonly [string, string];

export interface EncodeOptions {
  /** Longest output, special tokens included. */
  readonly maxLength?: number;
  /**
   * Cut content tokens (longest_first) so the output fits maxLength (or
   * modelMaxLength). Default: on when maxLength is given, as in HF.
   */
  readonly truncation?: boolean;
}

export interface BatchEncodeOptions extends EncodeOptions {
  /** "longest": pad every row to the batch's longest; "max_length": to maxLength. Default false. */
  readonly padding?: "longest" | "max_length" | boolean;
}

export interface Encoding {
  /** `[seq]` token ids: [CLS] A [SEP] (B [SEP]). */
  readonly inputIds: number[];
  /** `[seq]` 0 for [CLS], A and its [SEP]; 1 for B and its [SEP]; 0 for padding. */
  readonly tokenTypeIds: number[];
  /** `[seq]` 1 for real tokens, 0 for padding. */
  readonly attentionMask: number[];
}

export interface BatchEncoding {
  /** `[batch][seq]`; rows are equally long when padded. */
  readonly inputIds: number[][];
  readonly tokenTypeIds: number[][];
  readonly attentionMask: number[][];
}

export interface DecodeOptions {
  /** Leave out [CLS], [SEP], [PAD], [UNK] and [MASK]. Default false, as in HF. */
  readonly skipSpecialTokens?: boolean;
}

/** HF's `max_input_chars_per_word`. */
const MAX_INPUT_CHARS_PER_WORD = 100;

export class BertTokenizer {
  readonly vocab: Vocab;
  readonly doLowerCase: boolean;
  readonly stripAccents: boolean;
  readonly tokenizeChineseChars: boolean;
  readonly modelMaxLength: number | undefined;
  readonly unkToken: string;
  readonly clsToken: string;
  readonly sepToken: string;
  readonly padToken: string;
  readonly maskToken: string;
  readonly unkTokenId: number;
  readonly clsTokenId: number;
  readonly sepTokenId: number;
  readonly padTokenId: number;
  /** Undefined when the vocab has no mask token (it is optional for inference). */
  readonly maskTokenId: number | undefined;

  private readonly normalizer: NormalizerOptions;
  private readonly wordPiece: WordPieceOptions;
  /** The special tokens present in the vocab: split out of raw text, and dropped by skipSpecialTokens. */
  private readonly specialTokens: readonly string[];

  constructor(vocab: Vocab | string, options: BertTokenizerOptions = {}) {
    this.vocab = typeof vocab === "string" ? Vocab.fromText(vocab) : vocab;
    if (!(this.vocab instanceof Vocab)) throw new TokenizerError("VOCAB_INVALID", `vocab must be a Vocab or vocab.txt text, got ${describe(vocab)}`);
    this.doLowerCase = booleanOption(options.doLowerCase, "doLowerCase", true);
    this.stripAccents = booleanOption(options.stripAccents, "stripAccents", this.doLowerCase);
    this.tokenizeChineseChars = booleanOption(options.tokenizeChineseChars, "tokenizeChineseChars", true);
    if (options.modelMaxLength !== undefined) positiveInteger(options.modelMaxLength, "modelMaxLength");
    this.modelMaxLength = options.modelMaxLength;

    const names = options.specialTokens ?? {};
    this.unkToken = names.unk ?? "[UNK]";
    this.clsToken = names.cls ?? "[CLS]";
    this.sepToken = names.sep ?? "[SEP]";
    this.padToken = names.pad ?? "[PAD]";
    this.maskToken = names.mask ?? "[MASK]";
    this.unkTokenId = this.requireToken(this.unkToken, "unknown");
    this.clsTokenId = this.requireToken(this.clsToken, "classifier");
    this.sepTokenId = this.requireToken(this.sepToken, "separator");
    this.padTokenId = this.requireToken(this.padToken, "padding");
    this.maskTokenId = this.vocab.tokenToId(this.maskToken);
    this.specialTokens = [this.padToken, this.unkToken, this.clsToken, this.sepToken, this.maskToken].filter(
      (t, i, all) => t.length > 0 && this.vocab.has(t) && all.indexOf(t) === i,
    );

    this.normalizer = { lowercase: this.doLowerCase, stripAccents: this.stripAccents, handleChineseChars: this.tokenizeChineseChars };
    let maxTokenLength = 0;
    for (let id = 0; id < this.vocab.size; id++) maxTokenLength = Math.max(maxTokenLength, this.vocab.idToToken(id)?.length ?? 0);
    this.wordPiece = { unkId: this.unkTokenId, maxInputCharsPerWord: MAX_INPUT_CHARS_PER_WORD, continuingSubwordPrefix: "##", maxTokenLength };
  }

  /**
   * From the texts of vocab.txt and (optionally) tokenizer_config.json, whose
   * do_lower_case, strip_accents, tokenize_chinese_chars, model_max_length and
   * special token names are honoured. `overrides` win over the config.
   */
  static fromFiles(files: { readonly vocab: string; readonly tokenizerConfig?: string }, overrides: BertTokenizerOptions = {}): BertTokenizer {
    if (files === null || typeof files !== "object") throw new TokenizerError("OPTION_INVALID", `fromFiles needs { vocab, tokenizerConfig? }, got ${describe(files)}`);
    const config = files.tokenizerConfig === undefined ? undefined : parseTokenizerConfig(files.tokenizerConfig);
    return new BertTokenizer(Vocab.fromText(files.vocab), {
      doLowerCase: overrides.doLowerCase ?? config?.doLowerCase,
      stripAccents: overrides.stripAccents ?? config?.stripAccents,
      tokenizeChineseChars: overrides.tokenizeChineseChars ?? config?.tokenizeChineseChars,
      modelMaxLength: overrides.modelMaxLength ?? config?.modelMaxLength,
      specialTokens: { ...config?.specialTokens, ...overrides.specialTokens },
    });
  }

  /** WordPiece tokens of one text, without [CLS]/[SEP]. */
  tokenize(text: string): string[] {
    return this.contentIds(checkText(text, "text")).map((id) => this.vocab.idToToken(id)!);
  }

  encode(input: EncodeInput, options: EncodeOptions = {}): Encoding {
    const [a, b] = checkInput(input, "input");
    return this.encodeChecked(a, b, resolveTruncation(options, this.modelMaxLength), "input");
  }

  encodeBatch(inputs: readonly EncodeInput[], options: BatchEncodeOptions = {}): BatchEncoding {
    if (!Array.isArray(inputs)) throw new TokenizerError("INPUT_INVALID", `encodeBatch needs an array of texts or [text, text] pairs, got ${describe(inputs)}`);
    const checked = inputs.map((input, i) => checkInput(input, `inputs[${i}]`));
    const limit = resolveTruncation(options, this.modelMaxLength);
    const padTo = this.paddingTarget(options);
    const rows = checked.map(([a, b], i) => this.encodeChecked(a, b, limit, `inputs[${i}]`));
    const length = padTo === "longest" ? rows.reduce((m, r) => Math.max(m, r.inputIds.length), 0) : padTo;
    if (length !== undefined) for (const row of rows) this.padRow(row, length);
    return { inputIds: rows.map((r) => r.inputIds), tokenTypeIds: rows.map((r) => r.tokenTypeIds), attentionMask: rows.map((r) => r.attentionMask) };
  }

  /** Ids back to text. Ids with no token (out of range, or lost to a duplicate) are skipped, as HF does. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (const token of this.convertIdsToTokens(ids)) {
      if (token === undefined) continue;
      if (options.skipSpecialTokens && this.specialTokens.includes(token)) continue;
      tokens.push(token);
    }
    return decodeWordPieces(tokens, this.wordPiece.continuingSubwordPrefix);
  }

  convertIdsToTokens(ids: ArrayLike<number>): (string | undefined)[] {
    if (ids === null || typeof ids !== "object" || typeof ids.length !== "number") {
      throw new TokenizerError("INPUT_INVALID", `ids must be an array of token ids, got ${describe(ids)}`);
    }
    return Array.from(ids, (id, i) => {
      if (typeof id !== "number" || !Number.isInteger(id)) throw new TokenizerError("INPUT_INVALID", `ids[${i}] is ${describe(id)}, not an integer token id`);
      return this.vocab.idToToken(id);
    });
  }

  /** Tokens to ids; a token not in the vocab gives the unknown token's id. */
  convertTokensToIds(tokens: readonly string[]): number[] {
    return tokens.map((t) => this.vocab.tokenToId(t) ?? this.unkTokenId);
  }

  private requireToken(token: string, role: string): number {
    const id = this.vocab.tokenToId(token);
    if (id === undefined) {
      throw new TokenizerError("SPECIAL_TOKEN_MISSING", `the vocab has no ${role} token "${token}": BERT needs it (or name another with specialTokens)`, {
        token,
      });
    }
    return id;
  }

  /**
   * Ids of one text's content: special tokens written in it, and WordPieces of
   * the rest. With `stopAt`, words stop being added once there are that many
   * ids (step 1 of truncation.ts); the last word is kept whole.
   */
  private contentIds(text: string, stopAt = Infinity): number[] {
    const ids: number[] = [];
    for (const segment of splitOnSpecialTokens(text, this.specialTokens)) {
      if (ids.length >= stopAt) break;
      if (segment.special) {
        ids.push(this.vocab.tokenToId(segment.text)!);
        continue;
      }
      for (const word of preTokenize(normalizeText(segment.text, this.normalizer))) {
        if (ids.length >= stopAt) break;
        wordPieceIds(word, this.vocab, this.wordPiece, ids);
      }
    }
    return ids;
  }

  private encodeChecked(a: string, b: string | undefined, maxLength: number | undefined, where: string): Encoding {
    const truncate = maxLength !== undefined && maxLength !== Infinity;
    const specials = b === undefined ? 2 : 3;
    if (truncate && maxLength < specials) {
      throw new TokenizerError(
        "MAX_LENGTH_TOO_SMALL",
        `maxLength ${maxLength} cannot hold the ${specials} special tokens of ${b === undefined ? "a single text" : "a pair"} (${where})`,
        { maxLength, required: specials },
      );
    }
    let idsA = this.contentIds(a, maxLength);
    let idsB = b === undefined ? undefined : this.contentIds(b, maxLength);
    if (truncate) {
      const [keepA, keepB] = longestFirstLengths(idsA.length, idsB?.length, maxLength - specials);
      idsA = idsA.slice(0, keepA);
      idsB = idsB?.slice(0, keepB);
    }
    const inputIds = [this.clsTokenId, ...idsA, this.sepTokenId];
    const tokenTypeIds = new Array<number>(inputIds.length).fill(0);
    if (idsB !== undefined) {
      inputIds.push(...idsB, this.sepTokenId);
      for (let i = 0; i <= idsB.length; i++) tokenTypeIds.push(1);
    }
    return { inputIds, tokenTypeIds, attentionMask: new Array<number>(inputIds.length).fill(1) };
  }

  private paddingTarget(options: BatchEncodeOptions): number | "longest" | undefined {
    const padding = options.padding ?? false;
    if (padding === false) return undefined;
    if (padding === true || padding === "longest") return "longest";
    if (padding !== "max_length") {
      throw new TokenizerError("OPTION_INVALID", `padding must be "longest", "max_length" or false, got ${describe(padding)}`, { option: "padding" });
    }
    const length = options.maxLength ?? this.modelMaxLength;
    if (length === undefined || length === Infinity) {
      throw new TokenizerError("OPTION_INVALID", 'padding "max_length" needs a finite maxLength (or a tokenizer modelMaxLength)', { option: "padding" });
    }
    return length;
  }

  /** Right padding with [PAD], type id 0, mask 0; a row already longer (truncation off) stays as it is, as in HF. */
  private padRow(row: Encoding, length: number): void {
    for (let i = row.inputIds.length; i < length; i++) {
      row.inputIds.push(this.padTokenId);
      row.tokenTypeIds.push(0);
      row.attentionMask.push(0);
    }
  }
}

function checkText(text: unknown, where: string): string {
  if (typeof text !== "string") throw new TokenizerError("INPUT_INVALID", `${where} must be a string, got ${describe(text)}`);
  return text;
}

function checkInput(input: unknown, where: string): [string, string | undefined] {
  if (typeof input === "string") return [input, undefined];
  if (Array.isArray(input) && input.length === 2) return [checkText(input[0], `${where}[0]`), checkText(input[1], `${where}[1]`)];
  throw new TokenizerError("INPUT_INVALID", `${where} must be a string or a [text, text] pair, got ${describe(input)}`);
}

/** The max length to truncate to, or undefined for none. */
function resolveTruncation(options: EncodeOptions, modelMaxLength: number | undefined): number | undefined {
  if (options === null || typeof options !== "object") throw new TokenizerError("OPTION_INVALID", `options must be an object, got ${describe(options)}`);
  const { maxLength, truncation } = options;
  if (maxLength !== undefined && maxLength !== Infinity) positiveInteger(maxLength, "maxLength");
  if (truncation !== undefined && typeof truncation !== "boolean") {
    throw new TokenizerError("OPTION_INVALID", `truncation must be true or false, got ${describe(truncation)}`, { option: "truncation" });
  }
  if (!(truncation ?? maxLength !== undefined)) return undefined;
  const limit = maxLength ?? modelMaxLength;
  if (limit === undefined) {
    throw new TokenizerError("OPTION_INVALID", "truncation needs a maxLength (or a tokenizer modelMaxLength)", { option: "truncation" });
  }
  return limit;
}

function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new TokenizerError("OPTION_INVALID", `${option} must be a positive integer, got ${describe(value)}`, { option });
  }
  return value;
}

function booleanOption(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TokenizerError("OPTION_INVALID", `${option} must be true or false, got ${describe(value)}`, { option });
  return value;
}
