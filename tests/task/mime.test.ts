// The readable text of hand-written MIME messages: which parts are kept, and how they are decoded.
import assert from "node:assert/strict";
import { test } from "node:test";
import { messageText, splitMultipart } from "../../src/task/mime.js";

const crlf = (lines: string[]) => lines.join("\r\n");
const lf = (lines: string[]) => lines.join("\n");

test("a plain message is its body", () => {
  assert.equal(messageText(lf(["Subject: x", "", "Hello there.", "Bye."])), "Hello there.\nBye.");
});

test("quoted-printable: soft line breaks vanish, =XX become bytes decoded by the charset", () => {
  const raw = lf([
    'Content-Type: text/plain; charset="iso-8859-1"',
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Caf=E9 au lait, 5=3D5, a very long li=",
    "ne and =93smart quotes=94 = kept",
  ]);
  assert.equal(messageText(raw), "Café au lait, 5=5, a very long line and \u201csmart quotes\u201d = kept");
});

test("quoted-printable in UTF-8, with CRLF soft breaks", () => {
  const raw = crlf(["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: Quoted-Printable", "", "na=C3=AFve =E2=82=AC=", "10"]);
  assert.equal(messageText(raw), "naïve €10");
});

test("base64 text parts are decoded by their charset", () => {
  const text = "Grüße — 你好";
  const raw = lf(["Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: base64", "", ...Buffer.from(text).toString("base64").match(/.{1,12}/g)!]);
  assert.equal(messageText(raw), text);
});

const ALTERNATIVE = [
  "From: a@b.c",
  'Content-Type: multipart/alternative; boundary="b1"',
  "",
  "This is a multi-part message in MIME format.",
  "--b1",
  "Content-Type: text/html",
  "",
  "<html><body><p>Buy <b>now</b>!</p></body></html>",
  "--b1",
  "Content-Type: text/plain",
  "",
  "Buy now!",
  "--b1--",
  "epilogue text",
];

test("multipart/alternative keeps the text/plain alternative only; preamble and epilogue are dropped", () => {
  assert.equal(messageText(lf(ALTERNATIVE)), "Buy now!");
  assert.equal(messageText(crlf(ALTERNATIVE)), "Buy now!");
});

test("multipart/alternative without a text/plain part keeps the HTML, as text", () => {
  const raw = lf(ALTERNATIVE.filter((_, i) => i < 8 || i > 11));
  assert.equal(messageText(raw).replace(/\s+/g, " ").trim(), "Buy now!");
});

test("multipart/mixed keeps every text part in order, nested ones too, and drops attachments", () => {
  const raw = lf([
    'Content-Type: multipart/mixed; boundary="outer"',
    "",
    "--outer",
    'Content-Type: multipart/alternative; boundary="inner"',
    "",
    "--inner",
    "Content-Type: text/plain",
    "",
    "First part.",
    "--inner",
    "Content-Type: text/html",
    "",
    "<p>First part.</p>",
    "--inner--",
    "--outer",
    "Content-Type: image/gif; name=x.gif",
    "Content-Transfer-Encoding: base64",
    "",
    "R0lGODlhAQABAAAAACw=",
    "--outer",
    "Content-Type: application/octet-stream",
    "",
    "binary junk",
    "--outer",
    "Content-Type: text/plain; name=notes.txt",
    "Content-Disposition: attachment",
    "",
    "Second part.",
    "--outer--",
  ]);
  assert.equal(messageText(raw), "First part.\n\nSecond part.");
});

test("message/rfc822 parts contribute the forwarded message's body, not its headers", () => {
  const raw = lf([
    'Content-Type: multipart/mixed; boundary="m"',
    "",
    "--m",
    "",
    "See below.",
    "--m",
    "Content-Type: message/rfc822",
    "",
    "From: x@y.z",
    "Subject: forwarded",
    "",
    "Original text.",
    "--m--",
  ]);
  assert.equal(messageText(raw), "See below.\n\nOriginal text.");
});

test("a multipart whose boundary never occurs, or is missing, is read as plain text", () => {
  const body = "no delimiters here\nat all";
  assert.equal(messageText(lf(['Content-Type: multipart/mixed; boundary="zzz"', "", body])), body);
  assert.equal(messageText(lf(["Content-Type: multipart/mixed", "", body])), body);
});

test("a part lacking the closing delimiter still counts; a delimiter needs the whole line", () => {
  const parts = splitMultipart(lf(["--b", "", "one", "--bx not a delimiter", "--b  ", "", "two"]), "b")!;
  assert.deepEqual(
    parts.map((p) => p.body),
    ["one\n--bx not a delimiter", "two"],
  );
});

test("non-text top-level messages have no text", () => {
  assert.equal(messageText(lf(["Content-Type: application/pdf", "", "%PDF-1.4"])), "");
});
