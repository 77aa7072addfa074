// tokenizer_config.json fields that BertTokenizerFast honours, and clear errors for bad ones.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTokenizerConfig } from "../../src/tokenizer/config.js";
import { BertTokenizer, TokenizerError } from "../../src/tokenizer/index.js";

const VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "cafe", "café", "Hello", "hello", "<unk>", "中", "文", "中文"].join("\n");
const isConfigError = (field: string) => (e: unknown) => e instanceof TokenizerError && e.code === "CONFIG_INVALID" && e.message.includes(field);

test("reads do_lower_case, strip_accents, tokenize_chinese_chars and model_max_length", () => {
  const c = parseTokenizerConfig('{"do_lower_case": false, "strip_accents": true, "tokenize_chinese_chars": false, "model_max_length": 128, "other": 1}');
  assert.deepEqual(c, { doLowerCase: false, stripAccents: true, tokenizeChineseChars: false, modelMaxLength: 128, specialTokens: {} });
});

test("null fields mean 'not set', and HF's int(1e30) 'no limit' becomes no modelMaxLength", () => {
  const c = parseTokenizerConfig('{"strip_accents": null, "model_max_length": 1000000000000000019884624838656}');
  assert.equal(c.stripAccents, undefined);
  assert.equal(c.modelMaxLength, undefined);
});

test("special token names come as strings or as AddedToken objects", () => {
  const c = parseTokenizerConfig('{"unk_token": "<unk>", "mask_token": {"content": "[MASK]", "lstrip": true, "__type": "AddedToken"}}');
  assert.deepEqual(c.specialTokens, { unk: "<unk>", mask: "[MASK]" });
});

test("fromFiles applies the config: cased, accents kept unless asked, CJK split unless turned off", () => {
  const cased = BertTokenizer.fromFiles({ vocab: VOCAB, tokenizerConfig: '{"do_lower_case": false}' });
  assert.deepEqual(cased.tokenize("Hello café"), ["Hello", "café"]);
  assert.equal(cased.stripAccents, false, "strip_accents follows do_lower_case when absent");
  const uncased = BertTokenizer.fromFiles({ vocab: VOCAB });
  assert.deepEqual(uncased.tokenize("Hello café"), ["hello", "cafe"]);
  const lowerKeepAccents = BertTokenizer.fromFiles({ vocab: VOCAB, tokenizerConfig: '{"strip_accents": false}' });
  assert.deepEqual(lowerKeepAccents.tokenize("CAFÉ"), ["café"]);
  const wholeCjk = BertTokenizer.fromFiles({ vocab: VOCAB, tokenizerConfig: '{"tokenize_chinese_chars": false}' });
  assert.deepEqual(wholeCjk.tokenize("中文"), ["中文"]);
  assert.deepEqual(uncased.tokenize("中文"), ["中", "文"]);
});

test("a renamed unknown token from the config is the one used", () => {
  const t = BertTokenizer.fromFiles({ vocab: VOCAB, tokenizerConfig: '{"unk_token": "<unk>"}' });
  assert.equal(t.unkTokenId, 9);
  assert.deepEqual(t.encode("zzz").inputIds, [2, 9, 3]);
});

test("overrides given to fromFiles win over the config", () => {
  const t = BertTokenizer.fromFiles({ vocab: VOCAB, tokenizerConfig: '{"do_lower_case": false, "model_max_length": 8}' }, { doLowerCase: true, modelMaxLength: 4 });
  assert.equal(t.doLowerCase, true);
  assert.equal(t.modelMaxLength, 4);
});

test("bad configs are CONFIG_INVALID errors that name the problem", () => {
  assert.throws(() => parseTokenizerConfig("{not json"), isConfigError("not valid JSON"));
  assert.throws(() => parseTokenizerConfig("[1, 2]"), isConfigError("JSON object"));
  assert.throws(() => parseTokenizerConfig('{"do_lower_case": "yes"}'), isConfigError("do_lower_case"));
  assert.throws(() => parseTokenizerConfig('{"model_max_length": 0}'), isConfigError("model_max_length"));
  assert.throws(() => parseTokenizerConfig('{"model_max_length": 12.5}'), isConfigError("model_max_length"));
  assert.throws(() => parseTokenizerConfig('{"sep_token": 5}'), isConfigError("sep_token"));
  assert.throws(() => parseTokenizerConfig(42 as unknown as string), isConfigError("string"));
});
