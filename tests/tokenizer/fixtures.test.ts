// Every case in tests/fixtures/tokenizer/*.json, produced by HF's Rust
// `tokenizers` (scripts/gen-tokenizer-fixtures.mjs), must come out of our
// BertTokenizer identically: ids, token type ids, attention masks, decoded text.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { BertTokenizer, type EncodeInput } from "../../src/tokenizer/index.js";

const DIR = join(import.meta.dirname, "../fixtures/tokenizer");

interface Fixture {
  oracle: string;
  vocabFile: string;
  tokenizerConfig: string;
  singles: { text: string; ids: number[]; typeIds: number[] }[];
  truncatedSingles: { text: string; maxLength: number; ids: number[]; typeIds: number[] }[];
  pairs: { a: string; b: string; maxLength: number | null; ids: number[]; typeIds: number[] }[];
  batches: {
    inputs: EncodeInput[];
    padding: "longest" | "max_length";
    maxLength?: number;
    ids: number[][];
    typeIds: number[][];
    attentionMask: number[][];
  }[];
  decodes: { ids: number[]; skipSpecialTokens: boolean; text: string }[];
}

const files = readdirSync(DIR).filter((f) => f.endsWith(".json")).sort();

test("fixture files exist", () => {
  assert.ok(files.length >= 4, `expected the generated fixtures in ${DIR}, found ${files.join(", ")}`);
});

test("the cased vocab still has its CRLF line ends (a checkout that rewrote them would hide the CRLF case)", () => {
  const text = readFileSync(join(DIR, "vocab-cased-crlf.txt"), "utf8");
  assert.ok(text.includes("\r\n") && !/[^\r]\n/.test(text), "vocab-cased-crlf.txt must use CRLF line ends only");
});

for (const file of files) {
  const fixture = JSON.parse(readFileSync(join(DIR, file), "utf8")) as Fixture;
  const tokenizer = BertTokenizer.fromFiles({ vocab: readFileSync(join(DIR, fixture.vocabFile), "utf8"), tokenizerConfig: fixture.tokenizerConfig });
  const show = (ids: readonly number[]) => ids.map((id) => tokenizer.vocab.idToToken(id) ?? `<${id}>`).join(" ");

  /** Compares one case; the message names the case and shows both token sequences. */
  const same = (label: string, actual: readonly number[], expected: readonly number[]) => {
    if (actual.length === expected.length && actual.every((v, i) => v === expected[i])) return;
    const at = actual.findIndex((v, i) => v !== expected[i]);
    assert.fail(`${file} ${label}\n  first difference at position ${at}\n  expected: ${show(expected)}\n  actual:   ${show(actual)}\n  expected ids: ${expected.join(",")}\n  actual ids:   ${actual.join(",")}`);
  };

  describe(`${file} (oracle: ${fixture.oracle})`, () => {
    test(`${fixture.singles.length} single texts`, () => {
      assert.ok(fixture.singles.length > 0);
      for (const [i, c] of fixture.singles.entries()) {
        const enc = tokenizer.encode(c.text);
        same(`singles[${i}] ${JSON.stringify(c.text)} input ids`, enc.inputIds, c.ids);
        same(`singles[${i}] ${JSON.stringify(c.text)} token type ids`, enc.tokenTypeIds, c.typeIds);
        same(`singles[${i}] attention mask`, enc.attentionMask, c.ids.map(() => 1));
      }
    });

    test(`${fixture.truncatedSingles.length} truncated single texts`, () => {
      for (const [i, c] of fixture.truncatedSingles.entries()) {
        const enc = tokenizer.encode(c.text, { maxLength: c.maxLength, truncation: true });
        same(`truncatedSingles[${i}] maxLength ${c.maxLength} ${JSON.stringify(c.text)}`, enc.inputIds, c.ids);
        same(`truncatedSingles[${i}] token type ids`, enc.tokenTypeIds, c.typeIds);
      }
    });

    test(`${fixture.pairs.length} text pairs, with and without truncation`, () => {
      for (const [i, c] of fixture.pairs.entries()) {
        const options = c.maxLength === null ? {} : { maxLength: c.maxLength, truncation: true };
        const enc = tokenizer.encode([c.a, c.b], options);
        const label = `pairs[${i}] maxLength ${c.maxLength} ${JSON.stringify([c.a, c.b])}`;
        same(`${label} input ids`, enc.inputIds, c.ids);
        same(`${label} token type ids`, enc.tokenTypeIds, c.typeIds);
      }
    });

    test(`${fixture.batches.length} padded batches`, () => {
      for (const [i, c] of fixture.batches.entries()) {
        const enc = tokenizer.encodeBatch(c.inputs, { padding: c.padding, maxLength: c.maxLength });
        assert.equal(enc.inputIds.length, c.ids.length, `batches[${i}] row count`);
        for (let r = 0; r < c.ids.length; r++) {
          same(`batches[${i}] row ${r} input ids`, enc.inputIds[r], c.ids[r]);
          same(`batches[${i}] row ${r} token type ids`, enc.tokenTypeIds[r], c.typeIds[r]);
          same(`batches[${i}] row ${r} attention mask`, enc.attentionMask[r], c.attentionMask[r]);
        }
      }
    });

    test(`${fixture.decodes.length} decodes`, () => {
      for (const [i, c] of fixture.decodes.entries()) {
        assert.equal(tokenizer.decode(c.ids, { skipSpecialTokens: c.skipSpecialTokens }), c.text, `${file} decodes[${i}] of ${show(c.ids)}`);
      }
    });
  });
}
