/**
 * The readable text of an email: its body without the header fields, with
 * MIME structure resolved the way a mail reader shows it.
 *
 * - multipart/alternative: the first text/plain alternative, else the first
 *   that yields any text (so HTML-only mail keeps its HTML, as text);
 * - every other multipart (mixed, related, signed, …): the texts of all its
 *   parts in order; preamble and epilogue ("This is a multi-part message in
 *   MIME format.") are dropped;
 * - message/rfc822 (a forwarded mail): that message's text, recursively;
 * - text/html: decoded, then tags stripped (html.ts); other text/*: decoded;
 * - anything else (images, application/*, …): nothing — attachments are not text.
 *
 * A multipart whose boundary parameter is missing or never occurs in the body
 * is read as text/plain, so malformed mail keeps its words. Nesting deeper
 * than MAX_DEPTH yields nothing.
 */
import { contentType, splitEntity, type Entity } from "./rfc822.js";
import { htmlToText } from "./html.js";
import { decodeTransferEncoding } from "./transfer-encoding.js";

const MAX_DEPTH = 8;

/** The text parts of `raw` (a full RFC 822 message), joined by blank lines. */
export function messageText(raw: string): string {
  return entityTexts(splitEntity(raw), 0).join("\n\n");
}

function entityTexts(entity: Entity, depth: number): string[] {
  if (depth > MAX_DEPTH) return [];
  const ct = contentType(entity.headers);
  if (ct.type === "multipart") {
    const parts = splitMultipart(entity.body, ct.params.get("boundary"));
    if (parts !== undefined) {
      const children = parts.map((p) => ({ entity: p, texts: entityTexts(p, depth + 1) }));
      if (ct.subtype === "alternative") {
        const isPlain = (e: Entity) => {
          const c = contentType(e.headers);
          return c.type === "text" && c.subtype === "plain";
        };
        const chosen = children.find((c) => isPlain(c.entity) && c.texts.length > 0) ?? children.find((c) => c.texts.length > 0);
        return chosen?.texts ?? [];
      }
      return children.flatMap((c) => c.texts);
    }
  } else if (ct.type === "message" && ct.subtype === "rfc822") {
    return entityTexts(splitEntity(entity.body), depth + 1);
  } else if (ct.type !== "text") {
    return [];
  }
  const decoded = decodeTransferEncoding(entity.body, entity.headers.get("content-transfer-encoding"), ct.params.get("charset"));
  const text = ct.type === "text" && ct.subtype === "html" ? htmlToText(decoded) : decoded;
  return text.trim() === "" ? [] : [text];
}

/**
 * The body parts between "--boundary" delimiter lines (RFC 2046 §5.1.1): a
 * delimiter is a line that starts with "--" + boundary, optionally followed by
 * "--" (the closing one) and whitespace. Undefined when there is no boundary
 * or it never occurs, so the caller can fall back to plain text.
 */
export function splitMultipart(body: string, boundary: string | undefined): Entity[] | undefined {
  if (boundary === undefined || boundary === "") return undefined;
  const delimiter = "--" + boundary;
  const lines = body.split("\n");
  const parts: Entity[] = [];
  let current: string[] | undefined; // lines of the part being read; undefined in the preamble
  let seen = false;
  for (const line of lines) {
    if (line.startsWith(delimiter)) {
      const rest = line.slice(delimiter.length);
      const closing = rest.startsWith("--");
      if ((closing ? rest.slice(2) : rest).trim() === "") {
        seen = true;
        if (current !== undefined) parts.push(splitEntity(current.join("\n")));
        if (closing) {
          current = undefined;
          break; // the epilogue is not a part
        }
        current = [];
        continue;
      }
    }
    current?.push(line);
  }
  if (current !== undefined) parts.push(splitEntity(current.join("\n"))); // a last part without a closing delimiter
  return seen ? parts : undefined;
}
