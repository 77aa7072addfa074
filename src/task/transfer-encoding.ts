/**
 * Content-Transfer-Encoding and charset decoding for text parts.
 *
 * The corpus package already turned each message file into a string (as
 * UTF-8), so 7bit/8bit bodies are used as they are. Quoted-printable and
 * base64 bodies are turned back into bytes and decoded by their charset:
 * UTF-8 as UTF-8 (TextDecoder, invalid bytes → U+FFFD), everything else as
 * windows-1252 — which is what the WHATWG Encoding standard does for the
 * "us-ascii" and "iso-8859-1" labels, the bulk of this corpus. Other
 * charsets (gb2312, koi8-r, …) come out as windows-1252 mojibake: decoding
 * them would need ICU tables that not every JS runtime has, and the cleaned
 * text must be the same on every runtime so the split is too.
 */

const UTF8 = new TextEncoder();

export function decodeTransferEncoding(body: string, encoding: string | undefined, charset: string | undefined): string {
  const enc = (encoding ?? "").trim().toLowerCase();
  if (enc === "quoted-printable") return decodeBytes(quotedPrintableBytes(body), charset);
  if (enc === "base64") return decodeBytes(base64Bytes(body), charset);
  return body;
}

/**
 * RFC 2045 §6.7: "=" at the end of a line (trailing spaces allowed) is a soft
 * line break and vanishes; "=XX" (hex, either case) is one byte; any other
 * "=" is kept literally, as robust decoders do.
 */
export function quotedPrintableBytes(body: string): Uint8Array {
  const text = body.replace(/=[ \t]*\r?\n/g, "");
  const out = new Uint8Array(text.length * 3); // a UTF-16 unit is at most 3 UTF-8 bytes
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      out[n++] = parseInt(text.slice(i + 1, i + 3), 16);
      i += 2;
    } else if (c < 0x80) {
      out[n++] = c;
    } else {
      // Not legal in QP, but the string may hold any character: keep it as its UTF-8 bytes.
      const cp = text.codePointAt(i)!;
      n += UTF8.encodeInto(String.fromCodePoint(cp), out.subarray(n)).written;
      if (cp > 0xffff) i++;
    }
  }
  return out.slice(0, n);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

const BASE64_VALUE = new Int8Array(128).fill(-1);
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("").forEach((ch, i) => (BASE64_VALUE[ch.charCodeAt(0)] = i));

/** RFC 2045 §6.8: characters outside the alphabet (line breaks, junk) are ignored; decoding stops at "=". */
export function base64Bytes(body: string): Uint8Array {
  const out: number[] = [];
  let acc = 0; // bits not yet emitted, lowest `bits` of them valid
  let bits = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x3d) break;
    const v = c < 128 ? BASE64_VALUE[c] : -1;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** windows-1252 bytes 0x80–0x9F; the five bytes it leaves undefined map to the C1 control of the same value. */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
];

const UTF16LE = new TextDecoder("utf-16le");

export function decodeBytes(bytes: Uint8Array, charset: string | undefined): string {
  const cs = (charset ?? "").trim().toLowerCase();
  if (cs === "utf-8" || cs === "utf8") return new TextDecoder("utf-8").decode(bytes);
  // Each byte becomes one UTF-16LE code unit, decoded in one call (utf-16le is in every TextDecoder).
  const units = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const cp = b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : b;
    units[2 * i] = cp & 0xff;
    units[2 * i + 1] = cp >> 8;
  }
  return UTF16LE.decode(units);
}
