// Header/body splitting of RFC 822 messages and Content-Type parsing, on hand-written messages.
import assert from "node:assert/strict";
import { test } from "node:test";
import { contentType, splitEntity } from "../../src/task/rfc822.js";

test("the body starts after the first empty line; later empty lines belong to the body", () => {
  const m = splitEntity("From: a@b.c\nSubject: hi\n\nline one\n\nline two\n");
  assert.equal(m.body, "line one\n\nline two\n");
  assert.equal(m.headers.get("subject"), "hi");
  assert.equal(m.headers.get("from"), "a@b.c");
});

test("CRLF line breaks split the same way and the body comes back with LF", () => {
  const m = splitEntity("From: a@b.c\r\nSubject: hi\r\n\r\nline one\r\nline two\r\n");
  assert.equal(m.body, "line one\nline two\n");
  assert.equal(m.headers.get("subject"), "hi");
});

test("a message without an empty line is all header: its body is empty", () => {
  const m = splitEntity("From: a@b.c\nSubject: no body here");
  assert.equal(m.body, "");
  assert.equal(m.headers.get("subject"), "no body here");
});

test("an empty first line means no header fields: everything after it is body", () => {
  const m = splitEntity("\nJust: text\nand more");
  assert.equal(m.headers.size, 0);
  assert.equal(m.body, "Just: text\nand more");
});

test("folded fields are unfolded, names are case-insensitive, the first occurrence wins, the mbox From line is skipped", () => {
  const raw = [
    "From someone@example.com  Thu Aug 22 12:36:23 2002",
    "Received: from a",
    "\tby b",
    "Content-Type: multipart/alternative;",
    ' boundary="xyz"',
    "SUBJECT: first",
    "Subject: second",
    "",
    "body",
  ].join("\n");
  const m = splitEntity(raw);
  assert.equal(m.headers.get("received"), "from a by b");
  assert.equal(m.headers.get("content-type"), 'multipart/alternative; boundary="xyz"');
  assert.equal(m.headers.get("subject"), "first");
  assert.equal(m.headers.has("from someone@example.com  thu aug 22 12"), false);
  assert.equal(m.body, "body");
});

test("Content-Type: type, subtype and parameters, quoted or not, lowercased names", () => {
  const ct = contentType(new Map([["content-type", 'Text/HTML; CharSet=UTF-8; name="a \\"b\\"; c"; boundary=----=_NextPart_000']]));
  assert.equal(ct.type, "text");
  assert.equal(ct.subtype, "html");
  assert.equal(ct.params.get("charset"), "UTF-8");
  assert.equal(ct.params.get("name"), 'a "b"; c');
  assert.equal(ct.params.get("boundary"), "----=_NextPart_000");
});

test("a missing or unreadable Content-Type is text/plain (RFC 2045's default)", () => {
  for (const headers of [new Map<string, string>(), new Map([["content-type", "garbage"]])]) {
    const ct = contentType(headers);
    assert.deepEqual([ct.type, ct.subtype, ct.params.get("charset")], ["text", "plain", "us-ascii"]);
  }
});
