// Window augmentation for the distillation stages (src/method/augment.ts):
// each extra example is exactly the next stretch of its message's tokens that
// truncation hides, starting on a word, and nothing is made up or lost.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withTextWindows } from "../../src/method/augment.js";
import { TaskError, trainWordPiece, vocabText } from "../../src/task/index.js";
import { BertTokenizer } from "../../src/tokenizer/index.js";
import type { Example } from "../../src/train/data.js";

const WORDS = ["spam", "offer", "meeting", "tomorrow", "unsubscribe", "remarkable", "linux", "kernel", "patches", "winning", "lottery", "agenda"];
/** A deterministic message of `n` words, some glued to digits so WordPiece splits them into "##" pieces. */
function message(n: number, seed: number): string {
  const words: string[] = [];
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const word = WORDS[x % WORDS.length];
    words.push(x % 5 === 0 ? `${word}${x % 97}` : word);
  }
  return words.join(" ");
}

const TEXTS = [message(400, 1), message(90, 2), message(7, 3), message(250, 4)];
const tokenizer = new BertTokenizer(vocabText(trainWordPiece(TEXTS, { vocabSize: 90 }).tokens));
const examples: Example[] = TEXTS.map((input, i) => ({ input, label: i % 2 }));
const MAX_LENGTH = 32;
const ROOM = MAX_LENGTH - 2;

describe("withTextWindows", () => {
  it("keeps the examples first, then for each message the windows truncation hides, token for token", () => {
    const out = withTextWindows(examples, tokenizer, MAX_LENGTH, { windows: 3, minTokens: 5 });
    assert.deepEqual(out.slice(0, examples.length), examples);
    const extra = out.slice(examples.length);
    let at = 0;
    let pieces = 0;
    for (const [i, example] of examples.entries()) {
      const tokens = tokenizer.tokenize(example.input as string);
      if (tokens.some((t) => t.startsWith("##"))) pieces++;
      for (let k = 1; k <= 3; k++) {
        let start = k * ROOM;
        while (start < tokens.length && tokens[start].startsWith("##")) start++;
        const expected = tokens.slice(start, start + ROOM);
        if (expected.length < 5) break;
        const window = extra[at++];
        assert.equal(window.label, example.label, `message ${i} window ${k}: label`);
        const got = tokenizer.tokenize(window.input as string);
        assert.deepEqual(got, expected, `message ${i} window ${k}: tokens`);
        assert.ok(!got[0].startsWith("##"), `message ${i} window ${k} opens on a "##" piece`);
      }
    }
    assert.equal(at, extra.length, "windows beyond those expected");
    assert.ok(pieces > 0, "the fixture has no ## pieces, so word starts were not exercised");
    assert.ok(extra.length >= 5, `only ${extra.length} windows: the fixture is too short to test anything`);
  });

  it("makes at most `windows` per message, none from a message that fits, and none with 0", () => {
    const one = withTextWindows(examples, tokenizer, MAX_LENGTH, { windows: 1 });
    const long = examples.filter((e) => tokenizer.tokenize(e.input as string).length >= ROOM + Math.ceil(ROOM / 4)).length;
    assert.equal(one.length - examples.length, long);
    assert.deepEqual(withTextWindows(examples, tokenizer, MAX_LENGTH, { windows: 0 }), examples);
    const fits = [{ input: message(7, 3), label: 0 }];
    assert.deepEqual(withTextWindows(fits, tokenizer, MAX_LENGTH, { windows: 5 }), fits);
  });

  it("leaves text pairs alone", () => {
    const pair: Example = { input: [message(200, 5), message(200, 6)], label: 1 };
    assert.deepEqual(withTextWindows([pair], tokenizer, MAX_LENGTH, { windows: 2 }), [pair]);
  });

  it("refuses a window count that is not a whole number ≥ 0, and a length with no room for tokens", () => {
    for (const windows of [-1, 1.5, Number.NaN]) {
      assert.throws(() => withTextWindows(examples, tokenizer, MAX_LENGTH, { windows }), (e: unknown) => e instanceof TaskError && e.code === "OPTION_INVALID");
    }
    assert.throws(() => withTextWindows(examples, tokenizer, 2, { windows: 1 }), (e: unknown) => e instanceof TaskError && /no room/.test((e as Error).message));
  });
});
