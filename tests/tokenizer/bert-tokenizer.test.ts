// BertTokenizer's options, padding and errors on a tiny vocab (the exact
// tokenization is checked against HF in fixtures.test.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { BertTokenizer, TokenizerError, Vocab } from "../../src/tokenizer/index.js";

// ids:           0        1        2        3       4       5    6      7        8       9
const TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "hello", "world", "##s"];
const tokenizer = new BertTokenizer(TOKENS.join("\n"), { modelMaxLength: 6 });
const code = (c: string) => (e: unknown) => e instanceof TokenizerError && e.code === c;

test("a single text is [CLS] text [SEP] with type 0 and mask 1", () => {
  assert.deepEqual(tokenizer.encode("Hello worlds"), { inputIds: [2, 7, 8, 9, 3], tokenTypeIds: [0, 0, 0, 0, 0], attentionMask: [1, 1, 1, 1, 1] });
});

test("a pair is [CLS] a [SEP] b [SEP], the second segment and its [SEP] with type 1", () => {
  assert.deepEqual(tokenizer.encode(["a", "b b"]), { inputIds: [2, 5, 3, 6, 6, 3], tokenTypeIds: [0, 0, 0, 1, 1, 1], attentionMask: [1, 1, 1, 1, 1, 1] });
});

test("maxLength alone truncates (as HF does); truncation: false keeps everything", () => {
  assert.deepEqual(tokenizer.encode("a a a a a", { maxLength: 4 }).inputIds, [2, 5, 5, 3]);
  assert.equal(tokenizer.encode("a a a a a", { maxLength: 4, truncation: false }).inputIds.length, 7);
});

test("truncation: true without maxLength uses modelMaxLength", () => {
  assert.deepEqual(tokenizer.encode("a a a a a a a a", { truncation: true }).inputIds, [2, 5, 5, 5, 5, 3]);
});

test("truncation without any length is an OPTION_INVALID error", () => {
  const noLimit = new BertTokenizer(TOKENS.join("\n"));
  assert.throws(() => noLimit.encode("a", { truncation: true }), code("OPTION_INVALID"));
});

test("an infinite maxLength means no limit", () => {
  assert.equal(tokenizer.encode("a a a a a a a a", { maxLength: Infinity }).inputIds.length, 10);
});

test("special tokens always survive truncation, down to the smallest maxLength that holds them", () => {
  assert.deepEqual(tokenizer.encode("a b", { maxLength: 2 }).inputIds, [2, 3]);
  assert.deepEqual(tokenizer.encode(["a", "b"], { maxLength: 3 }).inputIds, [2, 3, 3]);
});

test("a maxLength that cannot hold the special tokens is MAX_LENGTH_TOO_SMALL", () => {
  assert.throws(() => tokenizer.encode("a", { maxLength: 1 }), code("MAX_LENGTH_TOO_SMALL"));
  assert.throws(() => tokenizer.encode(["a", "b"], { maxLength: 2 }), code("MAX_LENGTH_TOO_SMALL"));
  assert.throws(() => tokenizer.encodeBatch(["a", ["a", "b"]], { maxLength: 2 }), (e: unknown) => code("MAX_LENGTH_TOO_SMALL")(e) && /inputs\[1\]/.test((e as Error).message));
});

test("bad maxLength and truncation values are OPTION_INVALID", () => {
  for (const maxLength of [0, -3, 2.5, Number.NaN, "8"]) {
    assert.throws(() => tokenizer.encode("a", { maxLength: maxLength as number }), code("OPTION_INVALID"), String(maxLength));
  }
  assert.throws(() => tokenizer.encode("a", { truncation: "yes" as unknown as boolean }), code("OPTION_INVALID"));
});

test("inputs that are not strings or pairs of strings are INPUT_INVALID, naming where", () => {
  assert.throws(() => tokenizer.encode(42 as unknown as string), code("INPUT_INVALID"));
  assert.throws(() => tokenizer.encode(["a"] as unknown as [string, string]), code("INPUT_INVALID"));
  assert.throws(() => tokenizer.encode(["a", null] as unknown as [string, string]), (e: unknown) => code("INPUT_INVALID")(e) && /input\[1\]/.test((e as Error).message));
  assert.throws(() => tokenizer.encodeBatch(["a", 5 as unknown as string]), (e: unknown) => code("INPUT_INVALID")(e) && /inputs\[1\]/.test((e as Error).message));
  assert.throws(() => tokenizer.encodeBatch("a" as unknown as string[]), code("INPUT_INVALID"));
  assert.throws(() => tokenizer.tokenize(undefined as unknown as string), code("INPUT_INVALID"));
});

test("padding 'longest' pads every row to the longest with [PAD], type 0 and mask 0", () => {
  const batch = tokenizer.encodeBatch(["a", ["b", "a a"], ""], { padding: "longest" });
  assert.deepEqual(batch.inputIds, [
    [2, 5, 3, 0, 0, 0],
    [2, 6, 3, 5, 5, 3],
    [2, 3, 0, 0, 0, 0],
  ]);
  assert.deepEqual(batch.tokenTypeIds, [
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 1, 1, 1],
    [0, 0, 0, 0, 0, 0],
  ]);
  assert.deepEqual(batch.attentionMask, [
    [1, 1, 1, 0, 0, 0],
    [1, 1, 1, 1, 1, 1],
    [1, 1, 0, 0, 0, 0],
  ]);
});

test("padding 'max_length' pads to maxLength and truncates longer rows to it", () => {
  const batch = tokenizer.encodeBatch(["a", "a a a a a"], { padding: "max_length", maxLength: 5 });
  assert.deepEqual(batch.inputIds, [
    [2, 5, 3, 0, 0],
    [2, 5, 5, 5, 3],
  ]);
});

test("padding uses the vocab's [PAD] id, wherever it is", () => {
  const moved = new BertTokenizer(["[UNK]", "[CLS]", "[SEP]", "x", "[PAD]"].join("\n"));
  assert.deepEqual(moved.encodeBatch(["x x", ""], { padding: true }).inputIds, [
    [1, 3, 3, 2],
    [1, 2, 4, 4],
  ]);
});

test("no padding leaves rows ragged; padding 'max_length' with no length at all is OPTION_INVALID", () => {
  assert.deepEqual(tokenizer.encodeBatch(["a", "a a"]).inputIds.map((r) => r.length), [3, 4]);
  const noLimit = new BertTokenizer(TOKENS.join("\n"));
  assert.throws(() => noLimit.encodeBatch(["a"], { padding: "max_length" }), code("OPTION_INVALID"));
  assert.throws(() => tokenizer.encodeBatch(["a"], { padding: "left" as "longest" }), code("OPTION_INVALID"));
});

test("special tokens written in the text are kept whole and exact-case; others are tokenized", () => {
  assert.deepEqual(tokenizer.tokenize("a[MASK]b [mask]"), ["a", "[MASK]", "b", "[UNK]", "[UNK]", "[UNK]"]);
});

test("a vocab missing [UNK], [CLS], [SEP] or [PAD] is SPECIAL_TOKEN_MISSING naming the token; [MASK] is optional", () => {
  for (const missing of ["[UNK]", "[CLS]", "[SEP]", "[PAD]"]) {
    const vocab = TOKENS.filter((t) => t !== missing).join("\n");
    assert.throws(() => new BertTokenizer(vocab), (e: unknown) => code("SPECIAL_TOKEN_MISSING")(e) && (e as Error).message.includes(missing), missing);
  }
  const noMask = new BertTokenizer(TOKENS.filter((t) => t !== "[MASK]").join("\n"));
  assert.equal(noMask.maskTokenId, undefined);
});

test("an empty vocab is VOCAB_EMPTY; a vocab that is neither text nor a Vocab is VOCAB_INVALID", () => {
  assert.throws(() => new BertTokenizer(""), code("VOCAB_EMPTY"));
  assert.throws(() => BertTokenizer.fromFiles({ vocab: "" }), code("VOCAB_EMPTY"));
  assert.throws(() => new BertTokenizer(42 as unknown as string), code("VOCAB_INVALID"));
});

test("a Vocab object can be shared between tokenizers", () => {
  const vocab = Vocab.fromTokens(TOKENS);
  assert.deepEqual(new BertTokenizer(vocab).encode("hello").inputIds, [2, 7, 3]);
});

test("decode joins ## pieces, can skip special tokens, and skips ids with no token", () => {
  assert.equal(tokenizer.decode([2, 7, 8, 9, 3]), "[CLS] hello worlds [SEP]");
  assert.equal(tokenizer.decode([2, 7, 8, 9, 3, 0], { skipSpecialTokens: true }), "hello worlds");
  assert.equal(tokenizer.decode([7, 99, 8]), "hello world");
  assert.throws(() => tokenizer.decode([1.5]), code("INPUT_INVALID"));
});

test("convertIdsToTokens gives undefined for unknown ids; convertTokensToIds gives [UNK]'s id for unknown tokens", () => {
  assert.deepEqual(tokenizer.convertIdsToTokens([7, 99]), ["hello", undefined]);
  assert.deepEqual(tokenizer.convertTokensToIds(["hello", "nope"]), [7, 1]);
});

test("errors are TokenizerErrors with a code, and Errors", () => {
  try {
    tokenizer.encode(1 as unknown as string);
    assert.fail("should have thrown");
  } catch (e) {
    assert.ok(e instanceof TokenizerError && e instanceof Error);
    assert.equal(e.name, "TokenizerError");
    assert.equal(typeof e.code, "string");
  }
});
