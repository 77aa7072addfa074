// Transfer-encoding and charset decoding against Node's own decoders, and HTML to text.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeEntities, htmlToText } from "../../src/task/html.js";
import { base64Bytes, decodeBytes, quotedPrintableBytes } from "../../src/task/transfer-encoding.js";

// Node 20's TextDecoder("windows-1252") is really ISO-8859-1, so the reference here is the
// WHATWG windows-1252 index for 0x80–0x9F, written as the characters themselves (checked
// against Python's cp1252 codec, whose five undefined bytes WHATWG maps to U+0081 etc.),
// and Buffer's latin1 for every other byte.
const CP1252_80_9F = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ";

test("windows-1252 decoding of every byte matches the WHATWG table", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const latin1 = Buffer.from(all).toString("latin1");
  const expected = latin1.slice(0, 0x80) + CP1252_80_9F + latin1.slice(0xa0);
  assert.equal(decodeBytes(all, "iso-8859-1"), expected);
  assert.equal(decodeBytes(all, undefined), expected);
  assert.equal(decodeBytes(all, "gb2312"), expected); // charsets we do not decode fall back to the same
});

test("UTF-8 decoding replaces invalid bytes with U+FFFD", () => {
  assert.equal(decodeBytes(Uint8Array.from([0x61, 0xc3, 0xa9, 0xff, 0x62]), "UTF-8"), "aé\ufffdb");
});

test("base64 matches Buffer's decoder on random bytes, with line breaks and junk ignored", () => {
  let seed = 7;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24);
  for (const n of [0, 1, 2, 3, 4, 57, 58, 1000]) {
    const bytes = Uint8Array.from({ length: n }, rand);
    const encoded = Buffer.from(bytes).toString("base64");
    const wrapped = (encoded.match(/.{1,76}/g) ?? []).join("\r\n") + "\r\n";
    assert.deepEqual(base64Bytes(wrapped), bytes, `length ${n}`);
    assert.deepEqual(base64Bytes(` ${encoded.slice(0, 5)}!*${encoded.slice(5)}`), bytes, `length ${n} with junk`);
  }
});

test("quoted-printable: escapes in either case, soft breaks with trailing blanks, literal '=' kept", () => {
  const bytes = quotedPrintableBytes("a=3d=3Db=  \nc=\r\nd = e=4");
  assert.equal(Buffer.from(bytes).toString("latin1"), "a==bcd = e=4");
});

test("HTML: tags go, block tags separate words, inline tags do not, script/style/comments vanish", () => {
  const html = "<html><head><title>T</title><style>p{color:red}</style></head><body><!-- hidden --><p>one</p><div>two</div>fr<b>ee</b><br>x<script>alert(1)</script>y</body></html>";
  assert.equal(htmlToText(html).replace(/\s+/g, " ").trim(), "T one two free x y");
});

test("entities: named ones we know, all numeric ones; unknown and invalid stay as written", () => {
  assert.equal(decodeEntities("&amp;&lt;&gt;&quot;&nbsp;&#65;&#x42;&#X43;&bogus;&toString;&#xD800;&#99999999;"), '&<>"\u00a0ABC&bogus;&toString;&#xD800;&#99999999;');
});
