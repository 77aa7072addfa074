/**
 * The two halves of an RFC 822 / MIME entity: the header fields, and the body
 * after the first empty line. Line breaks are CRLF or LF (a mix is fine); the
 * body comes back with LF only.
 *
 * An entity without an empty line is all header and has no body (RFC 822
 * makes the body optional), so its body is "". Lines in the header block that
 * are not `Name: value` fields (the mbox "From " line, junk) are skipped.
 */

export interface Entity {
  /** Field name (lowercased) → unfolded value of its first occurrence, trimmed. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

export interface ContentType {
  /** Lowercased, e.g. "text". */
  readonly type: string;
  /** Lowercased, e.g. "plain". */
  readonly subtype: string;
  /** Parameter name (lowercased) → value with quotes removed; e.g. boundary, charset. */
  readonly params: ReadonlyMap<string, string>;
}

export function splitEntity(raw: string): Entity {
  const text = raw.includes("\r") ? raw.replace(/\r\n?/g, "\n") : raw;
  // The header block ends at the first empty line; one at the very start means no header fields.
  let headerEnd: number;
  let bodyStart: number;
  if (text.startsWith("\n")) {
    headerEnd = 0;
    bodyStart = 1;
  } else {
    const blank = text.indexOf("\n\n");
    headerEnd = blank < 0 ? text.length : blank;
    bodyStart = blank < 0 ? text.length : blank + 2;
  }
  return { headers: parseHeaderBlock(text.slice(0, headerEnd)), body: text.slice(bodyStart) };
}

const FIELD = /^([!-9;-~]+)[ \t]*:(.*)$/; // RFC 822 field names: printable ASCII except ":"

function parseHeaderBlock(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  let name: string | undefined;
  let value = "";
  const flush = () => {
    if (name !== undefined && !headers.has(name)) headers.set(name, value.trim());
    name = undefined;
  };
  for (const line of block.split("\n")) {
    if ((line.startsWith(" ") || line.startsWith("\t")) && name !== undefined) {
      value += " " + line.trim(); // folded continuation of the field above
      continue;
    }
    flush();
    const m = FIELD.exec(line);
    if (m) {
      name = m[1].toLowerCase();
      value = m[2];
    }
  }
  flush();
  return headers;
}

/** RFC 2045's default when Content-Type is absent or unreadable: text/plain; charset=us-ascii. */
const DEFAULT_CONTENT_TYPE: ContentType = { type: "text", subtype: "plain", params: new Map([["charset", "us-ascii"]]) };

export function contentType(headers: ReadonlyMap<string, string>): ContentType {
  const value = headers.get("content-type");
  if (value === undefined) return DEFAULT_CONTENT_TYPE;
  const m = /^\s*([^\s/;]+)\s*\/\s*([^\s;]+)/.exec(value);
  if (!m) return DEFAULT_CONTENT_TYPE;
  const params = new Map<string, string>();
  // name=token or name="quoted string" (backslash escapes), after each ";".
  const param = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]*))/g;
  for (let p = param.exec(value); p !== null; p = param.exec(value)) {
    const key = p[1].toLowerCase();
    if (!params.has(key)) params.set(key, p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3]);
  }
  return { type: m[1].toLowerCase(), subtype: m[2].toLowerCase(), params };
}
