// One raw message → the training text: whitespace, cut, errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { cleanMessage, DEFAULT_MAX_CHARS, TaskError } from "../../src/task/index.js";

test("whitespace runs (line breaks, tabs, NBSP) become one space; the ends are trimmed", () => {
  assert.equal(cleanMessage("Subject: x\n\n  Hello,\r\n\tworld\u00a0 again  \n\n"), "Hello, world again");
});

test("the text is cut to maxChars (default 1000), never inside a surrogate pair, and trimmed", () => {
  const long = "Subject: x\n\n" + "word ".repeat(400);
  assert.equal(cleanMessage(long).length <= DEFAULT_MAX_CHARS, true);
  assert.equal(cleanMessage(long), ("word ".repeat(200)).trim());
  assert.equal(cleanMessage("\nab\u{1F600}cd", { maxChars: 3 }), "ab");
  assert.equal(cleanMessage("\nab\u{1F600}cd", { maxChars: 4 }), "ab\u{1F600}");
});

test("a message with no text part is empty", () => {
  assert.equal(cleanMessage("Subject: only headers"), "");
  assert.equal(cleanMessage("Content-Type: image/png\n\niVBORw0KGgo="), "");
});

test("bad input is a TaskError naming what is wrong", () => {
  assert.throws(() => cleanMessage(42 as unknown as string), (e: unknown) => e instanceof TaskError && e.code === "MESSAGE_INVALID");
  for (const maxChars of [0, -1, 1.5, NaN]) {
    assert.throws(() => cleanMessage("\nx", { maxChars }), (e: unknown) => e instanceof TaskError && e.code === "OPTION_INVALID" && /maxChars/.test(e.message));
  }
});
