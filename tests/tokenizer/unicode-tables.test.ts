// The probed character tables: well formed, and consistent with what the
// Unicode standard fixes for good (ASCII, Cc, White_Space) and with the
// general categories they claim to come from.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isCjk, isPunctuation, isRemovedByCleaning, isStrippedMark, isWhitespace } from "../../src/tokenizer/char-classes.js";
import * as tables from "../../src/tokenizer/unicode-tables.js";

const members = (ranges: readonly number[]) => {
  const out: number[] = [];
  for (let i = 0; i < ranges.length; i += 2) for (let cp = ranges[i]; cp <= ranges[i + 1]; cp++) out.push(cp);
  return out;
};

test("every table is sorted, non-overlapping [first, last] pairs of valid code points", () => {
  for (const [name, ranges] of Object.entries(tables)) {
    assert.equal(ranges.length % 2, 0, name);
    for (let i = 0; i < ranges.length; i += 2) {
      assert.ok(ranges[i] <= ranges[i + 1] && ranges[i + 1] <= 0x10ffff, `${name} pair ${i / 2}`);
      if (i > 0) assert.ok(ranges[i] > ranges[i - 1] + 1, `${name} pair ${i / 2} overlaps or touches the previous one`);
    }
  }
});

test("ASCII punctuation is exactly 33–47, 58–64, 91–96 and 123–126 (HF's definition, symbols included)", () => {
  for (let cp = 0; cp < 128; cp++) {
    const expected = (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
    assert.equal(isPunctuation(cp), expected, `U+${cp.toString(16)}`);
  }
});

test("whitespace is the White_Space property less the characters cleaning drops as controls", () => {
  const whiteSpace = [0x9, 0xa, 0xd, 0x20, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000];
  for (let cp = 0x2000; cp <= 0x200a; cp++) whiteSpace.push(cp);
  assert.deepEqual(members(tables.WHITESPACE_RANGES), whiteSpace.sort((a, b) => a - b));
  for (const cp of [0xb, 0xc, 0x85, 0x1c]) assert.ok(isRemovedByCleaning(cp) && !isWhitespace(cp), `U+${cp.toString(16)}`);
});

test("cleaning drops every Cc but tab, newline and carriage return, plus U+0000 and U+FFFD", () => {
  for (let cp = 0; cp <= 0xa0; cp++) {
    const cc = /\p{Cc}/u.test(String.fromCodePoint(cp));
    assert.equal(isRemovedByCleaning(cp), cc && cp !== 0x9 && cp !== 0xa && cp !== 0xd, `U+${cp.toString(16)}`);
  }
  assert.ok(isRemovedByCleaning(0xfffd));
  for (const cp of [0x200b, 0x200d, 0xfeff, 0xad, 0xe000, 0x10fffd]) assert.ok(isRemovedByCleaning(cp), `U+${cp.toString(16)}`);
});

test("the classes are subsets of the general categories they come from", () => {
  const check = (ranges: readonly number[], re: RegExp, name: string, recategorized: number[] = []) => {
    for (const cp of members(ranges)) {
      if (cp < 128 || recategorized.includes(cp)) continue;
      assert.ok(re.test(String.fromCodePoint(cp)), `${name} U+${cp.toString(16)}`);
    }
  };
  // Punctuation in the crate's old Unicode, moved to other categories since:
  // U+166D CANADIAN SYLLABICS CHI SIGN (now So), U+111C9 SHARADA SANDHI MARK (now Mn).
  check(tables.PUNCTUATION_RANGES, /\p{P}/u, "punctuation", [0x166d, 0x111c9]);
  check(tables.CONTROL_RANGES, /[\p{Cc}\p{Cf}\p{Co}]/u, "control");
  // Marks: only the ones NFD output can hold matter (see the generator); those must all be marks.
  for (const cp of members(tables.MARK_RANGES)) {
    const c = String.fromCodePoint(cp);
    if (c.normalize("NFD") === c) assert.ok(/\p{M}/u.test(c), `mark U+${cp.toString(16)}`);
  }
});

test("accents are marks; letters, digits and CJK are not", () => {
  for (const cp of [0x300, 0x301, 0x308, 0x30a, 0x327]) assert.ok(isStrippedMark(cp));
  for (const cp of [0x41, 0x61, 0x30, 0xe9, 0x4e2d]) assert.ok(!isStrippedMark(cp));
});

test("CJK ideographs follow the Rust ranges, which skip U+2B820–U+2B91F (the slow Python tokenizer does not)", () => {
  for (const cp of [0x4e00, 0x9fff, 0x3400, 0xf900, 0x20000, 0x2b81f, 0x2b920, 0x2ceaf, 0x2f800]) assert.ok(isCjk(cp), `U+${cp.toString(16)}`);
  for (const cp of [0x3041, 0x30a2, 0xac00, 0x2b820, 0x2b91f, 0x2ceb0, 0x41]) assert.ok(!isCjk(cp), `U+${cp.toString(16)}`);
});
