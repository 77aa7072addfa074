/**
 * Trains a BERT WordPiece vocabulary (vocab.txt) from texts.
 *
 * Words come from the project's own BertTokenizer pipeline (normalizeText,
 * then preTokenize), with the settings BertTokenizer uses for
 * `doLowerCase: lowercase` (accents stripped exactly when lowercasing, CJK
 * ideographs split), so the vocabulary is trained on exactly the words the
 * tokenizer will later look up.
 *
 * The vocabulary, in id order:
 *   1. the special tokens: [PAD] [UNK] [CLS] [SEP] [MASK] (ids 0–4);
 *   2. the alphabet: every character of the training words as a word-initial
 *      token "c", sorted by code point, then as a continuation "##c" for every
 *      character that can sit inside a word (all but punctuation and CJK
 *      ideographs, which the pre-tokenizer always makes one-character words).
 *      Both forms for every character, because WordPiece turns a whole word
 *      into [UNK] when any piece of it is missing;
 *   3. merged tokens, in the order they were learnt, until `vocabSize`.
 *
 * Merges are learnt bottom-up as in WordPiece training: every word starts as
 * its characters (continuations "##"-prefixed); each step joins the adjacent
 * pair (a, b) with the best score over all word occurrences (counted with word
 * frequency) into the token a + b-without-"##", everywhere it occurs.
 *   - "frequency" (default): count(ab) — what HF tokenizers' WordPieceTrainer
 *     runs (it is a BpeTrainer with the "##" prefix).
 *   - "likelihood": count(ab) / (count(a) · count(b)) — WordPiece's criterion
 *     as the HF course describes it: join the pair whose union raises the
 *     unigram likelihood of the corpus most. It favours pairs of rare symbols,
 *     so at small minFrequency it spends the vocab on rare strings: on the
 *     SpamAssassin train split (6000 tokens, minFrequency 2) dev mail takes
 *     2.4× as many tokens as with "frequency"; with minFrequency 50 the two
 *     are close.
 * Only pairs seen at least `minFrequency` times are joined. Ties go to the
 * higher count, then to the smaller merged string, then to the smaller first
 * part (UTF-16 order): the result depends on the multiset of words only, never
 * on input order or on Map iteration order. Training stops early when no pair
 * qualifies. Words longer than the tokenizer's 100-character limit (always
 * [UNK] at tokenization) give their characters to the alphabet but no merges.
 */
import { isCjk, isPunctuation } from "../tokenizer/char-classes.js";
import { normalizeText } from "../tokenizer/normalizer.js";
import { preTokenize } from "../tokenizer/pre-tokenizer.js";
import { BinaryHeap } from "./binary-heap.js";
import { TaskError } from "./errors.js";

export const BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** BertTokenizer's max_input_chars_per_word: longer words are [UNK] whatever the vocab. */
const MAX_WORD_CHARS = 100;
const PREFIX = "##";

export interface WordPieceTrainerOptions {
  /** Tokens in the finished vocab: specials, alphabet and merges. */
  readonly vocabSize: number;
  /** Lowercase and strip accents, as BertTokenizer with doLowerCase. Default true. */
  readonly lowercase?: boolean;
  /** A pair is merged only if it occurs at least this often. Default 2. */
  readonly minFrequency?: number;
  /** How a pair is scored; see the file comment. Default "frequency". */
  readonly scoring?: "likelihood" | "frequency";
}

export interface TrainedVocab {
  /** vocab.txt in id order. */
  readonly tokens: string[];
  /** Distinct words (after normalisation and pre-tokenization) and their total count. */
  readonly distinctWords: number;
  readonly totalWords: number;
  /** Alphabet tokens ("c" and "##c"). */
  readonly alphabetSize: number;
  /** Merge steps taken (a merge whose result was already a token adds none). */
  readonly merges: number;
}

export function trainWordPiece(texts: readonly string[], options: WordPieceTrainerOptions): TrainedVocab {
  const { vocabSize, lowercase, minFrequency, scoring } = checkOptions(options);
  if (!Array.isArray(texts)) throw new TaskError("TEXTS_INVALID", `training texts must be an array of strings, got ${typeof texts}`);

  const wordCounts = new Map<string, number>();
  const normalizer = { lowercase, stripAccents: lowercase, handleChineseChars: true };
  let totalWords = 0;
  texts.forEach((text, i) => {
    if (typeof text !== "string") throw new TaskError("TEXTS_INVALID", `training text ${i} is ${typeof text}, not a string`);
    for (const word of preTokenize(normalizeText(text, normalizer))) {
      wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
      totalWords++;
    }
  });
  if (wordCounts.size === 0) throw new TaskError("TEXTS_INVALID", "the training texts hold no word to learn from");

  const alphabet = alphabetTokens(wordCounts.keys());
  const tokens = [...BERT_SPECIAL_TOKENS, ...alphabet];
  if (tokens.length > vocabSize) {
    throw new TaskError(
      "VOCAB_TOO_SMALL",
      `vocabSize ${vocabSize} cannot hold the ${BERT_SPECIAL_TOKENS.length} special tokens and the ${alphabet.length} alphabet tokens of the training texts`,
      { vocabSize, needed: tokens.length },
    );
  }
  const merges = new PairMerger(wordCounts, alphabet, scoring, minFrequency).run(vocabSize - tokens.length, tokens);
  return { tokens, distinctWords: wordCounts.size, totalWords, alphabetSize: alphabet.length, merges };
}

/** vocab.txt text: one token per line, a final line break. */
export function vocabText(tokens: readonly string[]): string {
  return tokens.join("\n") + "\n";
}

function alphabetTokens(words: Iterable<string>): string[] {
  const chars = new Set<number>();
  for (const word of words) for (const ch of word) chars.add(ch.codePointAt(0)!);
  const sorted = [...chars].sort((a, b) => a - b);
  const initial = sorted.map((cp) => String.fromCodePoint(cp));
  const continuing = sorted.filter((cp) => !isPunctuation(cp) && !isCjk(cp)).map((cp) => PREFIX + String.fromCodePoint(cp));
  return [...initial, ...continuing];
}

/** A pair's place in the merge order, with the strings its ties are broken by. */
interface RankedPair {
  readonly pair: number;
  readonly score: number;
  readonly count: number;
  /** a + b without "##": the token the merge makes. */
  readonly merged: string;
  readonly first: string;
}

/** Best first: higher score, then higher count, then the smaller merged string, then the smaller first part. */
function rankedBefore(p: RankedPair, q: RankedPair): boolean {
  if (p.score !== q.score) return p.score > q.score;
  if (p.count !== q.count) return p.count > q.count;
  if (p.merged !== q.merged) return p.merged < q.merged;
  return p.first < q.first;
}

/**
 * The merge loop. Symbols are token ids local to training; a pair (a, b) is
 * keyed a·2^21 + b (ids stay below 2^21, so keys stay below 2^53).
 *
 * Finding the best pair: under "likelihood" a merge changes the scores of
 * every pair that shares a symbol with it, so each step scans all pairs.
 * Under "frequency" a pair's score is its count, which only falls — except
 * for pairs a merge creates or adds to — so a heap of (count, pair) entries
 * suffices: an entry whose count is out of date when it reaches the top is
 * put back with the current count, and every pair whose count rose in a step
 * gets a fresh entry. Both give the order `rankedBefore` defines.
 * (Existing pairs can only rise when a merge re-creates a token that is
 * already in the vocab; 320k random small corpora produced no such merge, but
 * the rule — and `run`'s check for an existing token — cover it anyway.)
 */
class PairMerger {
  /** Symbol id → token string. */
  private readonly symbols: string[] = [];
  private readonly symbolIds = new Map<string, number>();
  /** Per word: its current symbols (its characters at first), and how often the word occurs. */
  private readonly words: { symbols: number[]; count: number }[] = [];
  /** Occurrences of each symbol over all words (weighted by word count), by symbol id. */
  private readonly symbolCounts: number[] = [];
  /** Occurrences of each adjacent pair; pairs that no longer occur are deleted. */
  private readonly pairCounts = new Map<number, number>();
  /** The words a pair has occurred in (a superset once merges remove it from some). */
  private readonly pairWords = new Map<number, Set<number>>();
  /** "frequency" only: candidate pairs, best first, some of them out of date. */
  private readonly heap = new BinaryHeap<RankedPair>(rankedBefore);
  /** "frequency" only: each pair touched in the current merge step → its count before the step. */
  private readonly countsBefore = new Map<number, number>();

  constructor(
    wordCounts: ReadonlyMap<string, number>,
    alphabet: readonly string[],
    private readonly scoring: "likelihood" | "frequency",
    private readonly minFrequency: number,
  ) {
    for (const token of alphabet) this.symbolId(token);
    for (const [word, count] of wordCounts) {
      const chars = Array.from(word);
      if (chars.length > MAX_WORD_CHARS) continue;
      const symbols = chars.map((ch, i) => this.symbolIds.get(i === 0 ? ch : PREFIX + ch)!);
      const index = this.words.length;
      this.words.push({ symbols, count });
      this.addWord(index, +1);
    }
    this.pushRisen();
  }

  /** Learns up to `budget` new tokens, appending them to `tokens`; returns the merge steps taken. */
  run(budget: number, tokens: string[]): number {
    let added = 0;
    let steps = 0;
    while (added < budget) {
      const best = this.scoring === "frequency" ? this.popBest() : this.scanBest();
      if (best === undefined) break;
      const a = Math.floor(best.pair / PAIR_SHIFT);
      const b = best.pair - a * PAIR_SHIFT;
      const isNew = !this.symbolIds.has(best.merged);
      const id = this.symbolId(best.merged);
      if (isNew) {
        tokens.push(best.merged);
        added++;
      }
      for (const w of this.pairWords.get(best.pair)!) this.mergeInWord(w, a, b, id);
      this.pairWords.delete(best.pair); // no word holds the pair any more
      this.pushRisen();
      steps++;
    }
    return steps;
  }

  private symbolId(token: string): number {
    let id = this.symbolIds.get(token);
    if (id === undefined) {
      id = this.symbols.length;
      this.symbols.push(token);
      this.symbolIds.set(token, id);
      this.symbolCounts.push(0);
    }
    return id;
  }

  private ranked(pair: number, count: number): RankedPair {
    const a = Math.floor(pair / PAIR_SHIFT);
    const b = pair - a * PAIR_SHIFT;
    const score = this.scoring === "likelihood" ? count / (this.symbolCounts[a] * this.symbolCounts[b]) : count;
    return { pair, score, count, merged: this.symbols[a] + this.symbols[b].slice(PREFIX.length), first: this.symbols[a] };
  }

  private scanBest(): RankedPair | undefined {
    let best: RankedPair | undefined;
    for (const [pair, count] of this.pairCounts) {
      if (count < this.minFrequency) continue;
      const a = Math.floor(pair / PAIR_SHIFT);
      const score = count / (this.symbolCounts[a] * this.symbolCounts[pair - a * PAIR_SHIFT]);
      // Build the tie-break strings only when the score can compete.
      if (best !== undefined && (score < best.score || (score === best.score && count < best.count))) continue;
      const candidate = this.ranked(pair, count);
      if (best === undefined || rankedBefore(candidate, best)) best = candidate;
    }
    return best;
  }

  private popBest(): RankedPair | undefined {
    for (let top = this.heap.pop(); top !== undefined; top = this.heap.pop()) {
      const count = this.pairCounts.get(top.pair) ?? 0;
      if (count === top.count) return top;
      if (count >= this.minFrequency && count < top.count) this.heap.push(this.ranked(top.pair, count));
      // count > top.count: the rise pushed a newer entry, which is still in the heap.
    }
    return undefined;
  }

  /** Heap entries for the pairs whose count rose in this step (all of them, at the start). */
  private pushRisen(): void {
    for (const [pair, before] of this.countsBefore) {
      const count = this.pairCounts.get(pair) ?? 0;
      if (count > before && count >= this.minFrequency) this.heap.push(this.ranked(pair, count));
    }
    this.countsBefore.clear();
  }

  private mergeInWord(w: number, a: number, b: number, merged: number): void {
    const word = this.words[w];
    const s = word.symbols;
    let found = false;
    for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) found = true;
    if (!found) return; // an earlier merge already took this word's occurrences
    this.addWord(w, -1);
    const out: number[] = [];
    for (let i = 0; i < s.length; i++) {
      if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
        out.push(merged);
        i++; // left to right, non-overlapping: "aaa" with (a, a) gives "aa a"
      } else out.push(s[i]);
    }
    word.symbols = out;
    this.addWord(w, +1);
  }

  /** Adds (sign +1) or removes (−1) word `w`'s symbols and pairs from the counts. */
  private addWord(w: number, sign: 1 | -1): void {
    const { symbols, count } = this.words[w];
    const delta = sign * count;
    for (let i = 0; i < symbols.length; i++) {
      this.symbolCounts[symbols[i]] += delta;
      if (i === 0) continue;
      const pair = symbols[i - 1] * PAIR_SHIFT + symbols[i];
      const old = this.pairCounts.get(pair) ?? 0;
      if (this.scoring === "frequency" && !this.countsBefore.has(pair)) this.countsBefore.set(pair, old);
      const c = old + delta;
      if (c === 0) this.pairCounts.delete(pair);
      else this.pairCounts.set(pair, c);
      if (sign > 0) {
        let set = this.pairWords.get(pair);
        if (set === undefined) this.pairWords.set(pair, (set = new Set()));
        set.add(w);
      }
    }
  }
}

const PAIR_SHIFT = 2 ** 21;

function checkOptions(options: WordPieceTrainerOptions): Required<WordPieceTrainerOptions> {
  if (options === null || typeof options !== "object") throw new TaskError("OPTION_INVALID", "trainWordPiece needs options { vocabSize, … }");
  const { vocabSize, lowercase = true, minFrequency = 2, scoring = "frequency" } = options;
  if (!Number.isSafeInteger(vocabSize) || vocabSize < BERT_SPECIAL_TOKENS.length || vocabSize >= PAIR_SHIFT) {
    throw new TaskError("OPTION_INVALID", `vocabSize must be an integer in ${BERT_SPECIAL_TOKENS.length}…${PAIR_SHIFT - 1}, got ${String(vocabSize)}`, { option: "vocabSize" });
  }
  if (typeof lowercase !== "boolean") throw new TaskError("OPTION_INVALID", `lowercase must be true or false, got ${String(lowercase)}`, { option: "lowercase" });
  if (!Number.isSafeInteger(minFrequency) || minFrequency < 1) {
    throw new TaskError("OPTION_INVALID", `minFrequency must be a positive integer, got ${String(minFrequency)}`, { option: "minFrequency" });
  }
  if (scoring !== "likelihood" && scoring !== "frequency") {
    throw new TaskError("OPTION_INVALID", `scoring must be "likelihood" or "frequency", got ${String(scoring)}`, { option: "scoring" });
  }
  return { vocabSize, lowercase, minFrequency, scoring };
}
