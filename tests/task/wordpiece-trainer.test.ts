// The WordPiece vocabulary trainer: layout, coverage, determinism, agreement with a
// from-scratch reference trainer, and a tokenizer built from its output.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BERT_SPECIAL_TOKENS, TaskError, trainWordPiece, vocabText } from "../../src/task/index.js";
import { BertTokenizer } from "../../src/tokenizer/index.js";
import { isCjk, isPunctuation } from "../../src/tokenizer/char-classes.js";
import { normalizeText } from "../../src/tokenizer/normalizer.js";
import { preTokenize } from "../../src/tokenizer/pre-tokenizer.js";

const WORDS = [
  "the", "then", "there", "spam", "spammer", "spamming", "offer", "offers", "free", "freedom", "money", "click", "clicking",
  "here", "hear", "unsubscribe", "subscribe", "list", "listing", "linux", "kernel", "patch", "patches", "mail", "mailing",
  "Café", "naïve", "don't", "e-mail", "你好", "😀ok", "ok😀", "ÉCOLE", "http://x.org/a?b=c",
];

const SYLLABLES = ["an", "ti", "spa", "m", "ing", "er", "re", "con", "tion", "pro", "ex", "qu", "ly", "o"];

/** `n` pseudo-random sentences of WORDS and made-up words (an LCG, so the corpus is the same everywhere). */
function corpus(n: number, seed = 12345): string[] {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 3 + (next() % 9);
    const words: string[] = [];
    for (let j = 0; j < len; j++) {
      if (next() % 3 > 0) words.push(WORDS[next() % WORDS.length]);
      else words.push(Array.from({ length: 1 + (next() % 4) }, () => SYLLABLES[next() % SYLLABLES.length]).join(""));
    }
    out.push(words.join(next() % 5 === 0 ? "\n" : " ") + (next() % 2 ? "." : "!"));
  }
  return out;
}

function wordsOf(texts: readonly string[], lowercase = true): string[] {
  const normalizer = { lowercase, stripAccents: lowercase, handleChineseChars: true };
  return texts.flatMap((t) => preTokenize(normalizeText(t, normalizer)));
}

/**
 * A from-scratch reference: recount every pair and symbol at every step, pick
 * the best by (score, count, merged string, first part), merge left to right.
 * String-keyed and slow, sharing nothing with the trainer but the spec.
 */
function referenceVocab(texts: readonly string[], vocabSize: number, minFrequency: number, scoring: "likelihood" | "frequency"): string[] {
  const counts = new Map<string, number>();
  for (const w of wordsOf(texts)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const cps = [...new Set([...counts.keys()].flatMap((w) => Array.from(w, (c) => c.codePointAt(0)!)))].sort((a, b) => a - b);
  const tokens: string[] = [
    ...BERT_SPECIAL_TOKENS,
    ...cps.map((c) => String.fromCodePoint(c)),
    ...cps.filter((c) => !isPunctuation(c) && !isCjk(c)).map((c) => "##" + String.fromCodePoint(c)),
  ];
  const words = [...counts].filter(([w]) => Array.from(w).length <= 100).map(([w, count]) => ({ pieces: Array.from(w, (c, i) => (i === 0 ? c : "##" + c)), count }));
  while (tokens.length < vocabSize) {
    const unigram = new Map<string, number>();
    const pairs = new Map<string, { a: string; b: string; count: number }>();
    for (const { pieces, count } of words) {
      pieces.forEach((p, i) => {
        unigram.set(p, (unigram.get(p) ?? 0) + count);
        if (i === 0) return;
        const key = pieces[i - 1] + "\u0000" + p;
        const entry = pairs.get(key) ?? { a: pieces[i - 1], b: p, count: 0 };
        entry.count += count;
        pairs.set(key, entry);
      });
    }
    const ranked = [...pairs.values()]
      .filter((p) => p.count >= minFrequency)
      .map((p) => ({ ...p, merged: p.a + p.b.slice(2), score: scoring === "frequency" ? p.count : p.count / (unigram.get(p.a)! * unigram.get(p.b)!) }))
      .sort((x, y) => y.score - x.score || y.count - x.count || (x.merged < y.merged ? -1 : x.merged > y.merged ? 1 : x.a < y.a ? -1 : x.a > y.a ? 1 : 0));
    if (ranked.length === 0) break;
    const best = ranked[0];
    if (!tokens.includes(best.merged)) tokens.push(best.merged);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.pieces.length; i++) {
        if (i + 1 < w.pieces.length && w.pieces[i] === best.a && w.pieces[i + 1] === best.b) {
          out.push(best.merged);
          i++;
        } else out.push(w.pieces[i]);
      }
      w.pieces = out;
    }
  }
  return tokens;
}

const TEXTS = corpus(300);

test("the same vocab as the from-scratch reference, for both scorings and several sizes and thresholds", () => {
  for (const scoring of ["frequency", "likelihood"] as const) {
    for (const [vocabSize, minFrequency] of [
      [150, 1],
      [260, 5],
      [400, 2],
    ]) {
      const trained = trainWordPiece(TEXTS, { vocabSize, minFrequency, scoring }).tokens;
      assert.deepEqual(trained, referenceVocab(TEXTS, vocabSize, minFrequency, scoring), `${scoring} vocabSize ${vocabSize} minFrequency ${minFrequency}`);
    }
  }
});

test("special tokens first ([PAD] is id 0), then the alphabet, then merges; exactly vocabSize tokens", () => {
  const v = trainWordPiece(TEXTS, { vocabSize: 200 });
  assert.deepEqual(v.tokens.slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  assert.equal(v.tokens.length, 200);
  assert.equal(new Set(v.tokens).size, 200, "no duplicates");
  const alphabet = v.tokens.slice(5, 5 + v.alphabetSize);
  assert.ok(alphabet.every((t) => Array.from(t.replace(/^##/, "")).length === 1));
  assert.ok(v.tokens.slice(5 + v.alphabetSize).every((t) => Array.from(t.replace(/^##/, "")).length >= 2));
  const tokenizer = new BertTokenizer(vocabText(v.tokens));
  assert.deepEqual([tokenizer.padTokenId, tokenizer.unkTokenId, tokenizer.clsTokenId, tokenizer.sepTokenId, tokenizer.maskTokenId], [0, 1, 2, 3, 4]);
});

test("deterministic: the same vocab twice, and whatever the order of the texts", () => {
  const a = trainWordPiece(TEXTS, { vocabSize: 250 }).tokens;
  assert.deepEqual(trainWordPiece(TEXTS, { vocabSize: 250 }).tokens, a);
  assert.deepEqual(trainWordPiece([...TEXTS].reverse(), { vocabSize: 250 }).tokens, a);
});

test("every character of the training words is a token, and a continuation token unless punctuation or CJK", () => {
  const v = new Set(trainWordPiece(TEXTS, { vocabSize: 150 }).tokens);
  for (const word of wordsOf(TEXTS)) {
    for (const ch of word) {
      const cp = ch.codePointAt(0)!;
      assert.ok(v.has(ch), `missing ${ch}`);
      assert.equal(v.has("##" + ch), !isPunctuation(cp) && !isCjk(cp), `##${ch}`);
    }
  }
});

test("a tokenizer built from the vocab never gives [UNK] on the training texts and round-trips every word", () => {
  for (const vocabSize of [120, 300]) {
    const tokenizer = new BertTokenizer(vocabText(trainWordPiece(TEXTS, { vocabSize }).tokens));
    for (const text of TEXTS) assert.ok(!tokenizer.encode(text).inputIds.includes(tokenizer.unkTokenId), text);
    const words = new Set(wordsOf(TEXTS));
    // Unseen words made of seen characters must also come back whole.
    for (const w of [...words]) words.add(Array.from(w).reverse().join(""));
    for (const word of words) {
      const ids = tokenizer.encode(word).inputIds.slice(1, -1);
      assert.ok(!ids.includes(tokenizer.unkTokenId), word);
      assert.equal(tokenizer.decode(ids), word);
    }
  }
});

test("lowercase: false keeps case and accents, and a cased tokenizer round-trips", () => {
  const v = trainWordPiece(TEXTS, { vocabSize: 200, lowercase: false });
  assert.ok(v.tokens.includes("C") && v.tokens.includes("##É") && v.tokens.includes("##ï"));
  const tokenizer = new BertTokenizer(vocabText(v.tokens), { doLowerCase: false });
  for (const word of ["Café", "ÉCOLE", "naïve"]) assert.equal(tokenizer.decode(tokenizer.encode(word).inputIds.slice(1, -1)), word);
});

test("training stops early when no pair reaches minFrequency; words over 100 characters give characters but no merges", () => {
  const v = trainWordPiece(["ab cd ab"], { vocabSize: 1000, minFrequency: 3 });
  assert.deepEqual(v.tokens.slice(5), ["a", "b", "c", "d", "##a", "##b", "##c", "##d"]);
  assert.equal(v.merges, 0);
  const long = "xy".repeat(60);
  const w = trainWordPiece([`${long} ${long} ${long}`], { vocabSize: 1000, minFrequency: 1 });
  assert.deepEqual(w.tokens.slice(5), ["x", "y", "##x", "##y"]);
});

test("bad options and texts are TaskErrors naming the problem", () => {
  const code = (fn: () => unknown, expected: string, pattern: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof TaskError && e.code === expected && pattern.test(e.message));
  code(() => trainWordPiece(TEXTS, { vocabSize: 20 }), "VOCAB_TOO_SMALL", /vocabSize 20 .* alphabet/);
  code(() => trainWordPiece(TEXTS, { vocabSize: 4 }), "OPTION_INVALID", /vocabSize/);
  code(() => trainWordPiece(TEXTS, { vocabSize: 100.5 }), "OPTION_INVALID", /vocabSize/);
  code(() => trainWordPiece(TEXTS, { vocabSize: 100, minFrequency: 0 }), "OPTION_INVALID", /minFrequency/);
  code(() => trainWordPiece(TEXTS, { vocabSize: 100, scoring: "bpe" as "frequency" }), "OPTION_INVALID", /scoring/);
  code(() => trainWordPiece(TEXTS, { vocabSize: 100, lowercase: "yes" as unknown as boolean }), "OPTION_INVALID", /lowercase/);
  code(() => trainWordPiece("text" as unknown as string[], { vocabSize: 100 }), "TEXTS_INVALID", /array/);
  code(() => trainWordPiece(["ok", 3 as unknown as string], { vocabSize: 100 }), "TEXTS_INVALID", /text 1/);
  code(() => trainWordPiece([" ", "\u0000"], { vocabSize: 100 }), "TEXTS_INVALID", /no word/);
});
