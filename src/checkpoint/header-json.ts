/**
 * A strict JSON reader for safetensors headers.
 *
 * `JSON.parse` is not enough for a file from an untrusted source: it keeps the
 * last of duplicate keys silently (the spec forbids duplicates, and two readers
 * disagreeing on which copy wins is how polyglot files are built), it turns
 * `1.0` and `1e3` into integers the reference reader (serde_json into usize)
 * rejects, and objects with a `__proto__` key need care. This reader returns
 * objects as Maps (insertion order kept), rejects duplicate keys, accepts only
 * integer number literals (a valid header holds no other kind of number), and
 * caps nesting depth so a hostile header cannot exhaust the stack.
 */
import { CheckpointError } from "../errors.js";

export type HeaderJsonValue = null | boolean | number | string | HeaderJsonValue[] | HeaderJsonObject;
export type HeaderJsonObject = Map<string, HeaderJsonValue>;

/** A valid header nests three deep (root → tensor entry → shape); anything past this is hostile. */
const MAX_DEPTH = 64;

/** Parses `text` (the decoded header); errors are CheckpointError("HEADER_JSON") naming `fileName` and the position. */
export function parseHeaderJson(text: string, fileName: string): HeaderJsonValue {
  const reader = new HeaderJsonReader(text, fileName);
  reader.skipWhitespace();
  const value = reader.readValue(0);
  reader.skipWhitespace();
  if (reader.pos < text.length) reader.fail("unexpected text after the header object");
  return value;
}

class HeaderJsonReader {
  pos = 0;

  constructor(
    private readonly text: string,
    private readonly fileName: string,
  ) {}

  fail(problem: string, at: number = this.pos): never {
    throw new CheckpointError("HEADER_JSON", `header is not valid JSON: ${problem} at character ${at}`, {
      file: this.fileName,
      details: { position: at },
    });
  }

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.pos++;
    }
  }

  readValue(depth: number): HeaderJsonValue {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    if (this.pos >= this.text.length) this.fail("unexpected end of header");
    const c = this.text[this.pos];
    switch (c) {
      case "{":
        return this.readObject(depth);
      case "[":
        return this.readArray(depth);
      case '"':
        return this.readString();
      case "t":
        return this.readLiteral("true", true);
      case "f":
        return this.readLiteral("false", false);
      case "n":
        return this.readLiteral("null", null);
      default:
        if (c === "-" || (c >= "0" && c <= "9")) return this.readInteger();
        return this.fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }

  private expect(char: string): void {
    if (this.text[this.pos] !== char) {
      this.fail(this.pos >= this.text.length ? `unexpected end of header, expected '${char}'` : `expected '${char}'`);
    }
    this.pos++;
  }

  private readObject(depth: number): HeaderJsonObject {
    const object: HeaderJsonObject = new Map();
    this.pos++; // '{'
    this.skipWhitespace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return object;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail("expected a string key");
      const keyAt = this.pos;
      const key = this.readString();
      if (object.has(key)) this.fail(`duplicate key ${JSON.stringify(key)} (the safetensors spec forbids duplicates)`, keyAt);
      this.skipWhitespace();
      this.expect(":");
      this.skipWhitespace();
      object.set(key, this.readValue(depth + 1));
      this.skipWhitespace();
      if (this.text[this.pos] === ",") {
        this.pos++;
        continue;
      }
      this.expect("}");
      return object;
    }
  }

  private readArray(depth: number): HeaderJsonValue[] {
    const array: HeaderJsonValue[] = [];
    this.pos++; // '['
    this.skipWhitespace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return array;
    }
    for (;;) {
      this.skipWhitespace();
      array.push(this.readValue(depth + 1));
      this.skipWhitespace();
      if (this.text[this.pos] === ",") {
        this.pos++;
        continue;
      }
      this.expect("]");
      return array;
    }
  }

  private readLiteral<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`unexpected text, expected '${word}'`);
    this.pos += word.length;
    return value;
  }

  /** Integers only: `-?(0|[1-9][0-9]*)`; a fraction or exponent is an error. */
  private readInteger(): number {
    const t = this.text;
    const start = this.pos;
    if (t[this.pos] === "-") this.pos++;
    if (t[this.pos] === "0") {
      this.pos++;
    } else if (t[this.pos] >= "1" && t[this.pos] <= "9") {
      while (t[this.pos] >= "0" && t[this.pos] <= "9") this.pos++;
    } else {
      this.fail("invalid number");
    }
    const next = t[this.pos];
    if (next === "." || next === "e" || next === "E") {
      this.fail("non-integer number (a safetensors header holds only integers)", start);
    }
    if (next >= "0" && next <= "9") this.fail("number with a leading zero", start);
    return Number(t.slice(start, this.pos));
  }

  private readString(): string {
    const t = this.text;
    this.pos++; // opening quote
    let out = "";
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail("unterminated string");
      const c = t.charCodeAt(this.pos);
      if (c === 0x22 /* " */) {
        out += t.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail("unescaped control character in string");
      if (c !== 0x5c /* \ */) {
        this.pos++;
        continue;
      }
      out += t.slice(runStart, this.pos);
      out += this.readEscape();
      runStart = this.pos;
    }
  }

  /** Reads one escape starting at the backslash; surrogates must come in valid pairs. */
  private readEscape(): string {
    const t = this.text;
    const at = this.pos;
    const e = t[this.pos + 1];
    this.pos += 2;
    switch (e) {
      case '"':
        return '"';
      case "\\":
        return "\\";
      case "/":
        return "/";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "u": {
        const unit = this.readHex4();
        if (unit >= 0xdc00 && unit <= 0xdfff) this.fail("lone low surrogate escape in string", at);
        if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
        if (t[this.pos] !== "\\" || t[this.pos + 1] !== "u") this.fail("lone high surrogate escape in string", at);
        this.pos += 2;
        const low = this.readHex4();
        if (low < 0xdc00 || low > 0xdfff) this.fail("high surrogate escape not followed by a low surrogate", at);
        return String.fromCharCode(unit, low);
      }
      default:
        return this.fail("invalid escape in string", at);
    }
  }

  private readHex4(): number {
    const hex = this.text.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("invalid \\u escape in string");
    this.pos += 4;
    return parseInt(hex, 16);
  }
}
