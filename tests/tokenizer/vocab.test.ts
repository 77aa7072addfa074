// vocab.txt parsing follows transformers' load_vocab: universal newlines, only
// the line break stripped, later duplicates win.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TokenizerError, Vocab } from "../../src/tokenizer/index.js";

const tokensOf = (v: Vocab) => Array.from({ length: v.size }, (_, id) => v.idToToken(id));

test("ids are line indexes, and a final line break adds no token", () => {
  const v = Vocab.fromText("[PAD]\nhello\n##ing\n");
  assert.equal(v.size, 3);
  assert.deepEqual(tokensOf(v), ["[PAD]", "hello", "##ing"]);
  assert.equal(v.tokenToId("##ing"), 2);
  assert.equal(v.tokenToId("missing"), undefined);
});

test("CRLF, lone CR and LF all end a line, and a file without a final break keeps its last token", () => {
  const v = Vocab.fromText("a\r\nb\rc\nd");
  assert.deepEqual(tokensOf(v), ["a", "b", "c", "d"]);
});

test("spaces inside or around a token are part of it; only the line break is removed", () => {
  const v = Vocab.fromText(" x \n\t\n");
  assert.deepEqual(tokensOf(v), [" x ", "\t"]);
});

test("an empty line is an (empty) token, so ids after it do not shift", () => {
  const v = Vocab.fromText("a\n\nb\n");
  assert.deepEqual(tokensOf(v), ["a", "", "b"]);
  assert.equal(v.tokenToId("b"), 2);
});

test("a duplicated token takes the id of its last line; the earlier id maps to no token", () => {
  const v = Vocab.fromText("the\nx\nthe\ny\n");
  assert.equal(v.size, 4);
  assert.equal(v.tokenToId("the"), 2);
  assert.equal(v.idToToken(0), undefined);
  assert.equal(v.idToToken(2), "the");
});

test("ids outside the vocab, negative or fractional, have no token", () => {
  const v = Vocab.fromText("a\nb\n");
  for (const id of [-1, 2, 1.5, Number.NaN]) assert.equal(v.idToToken(id), undefined);
});

test("an empty vocab is a VOCAB_EMPTY error", () => {
  assert.throws(() => Vocab.fromText(""), (e: unknown) => e instanceof TokenizerError && e.code === "VOCAB_EMPTY");
  assert.throws(() => Vocab.fromTokens([]), (e: unknown) => e instanceof TokenizerError && e.code === "VOCAB_EMPTY");
});

test("vocab text that is not a string is a VOCAB_INVALID error naming what it got", () => {
  assert.throws(
    () => Vocab.fromText(new Uint8Array(3) as unknown as string),
    (e: unknown) => e instanceof TokenizerError && e.code === "VOCAB_INVALID" && /object/.test(e.message),
  );
  assert.throws(() => Vocab.fromTokens(["a", 7 as unknown as string]), (e: unknown) => e instanceof TokenizerError && e.code === "VOCAB_INVALID" && /token 1/.test(e.message));
});
