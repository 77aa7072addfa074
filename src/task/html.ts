/**
 * HTML to plain text, simply: comments, <script> and <style> blocks
 * go; block-level tags become a space and other tags vanish (so
 * "fr<b>ee</b>" stays one word, as a reader sees it); the common named
 * entities and all numeric ones are decoded, other entities stay as written.
 * Not an HTML parser: a stray "<" followed later by ">" eats the text between.
 */

const BLOCK_TAGS = new Set([
  "address", "article", "blockquote", "body", "br", "dd", "div", "dl", "dt", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
  "header", "hr", "html", "li", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul",
]);

const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map(Object.entries({
  amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", copy: "\u00a9", reg: "\u00ae", trade: "\u2122",
  hellip: "\u2026", mdash: "\u2014", ndash: "\u2013", lsquo: "\u2018", rsquo: "\u2019", ldquo: "\u201c", rdquo: "\u201d",
  bull: "\u2022", middot: "\u00b7", euro: "\u20ac", pound: "\u00a3", cent: "\u00a2", yen: "\u00a5", deg: "\u00b0", times: "\u00d7",
}));

export function htmlToText(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, " ")
    .replace(/<(script|style)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi, " ")
    .replace(/<\/?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>/g, (_, name: string) => (BLOCK_TAGS.has(name.toLowerCase()) ? " " : ""))
    .replace(/<![^>]*>/g, " "); // <!DOCTYPE …> and the like
  return decodeEntities(text);
}

export function decodeEntities(text: string): string {
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/g, (whole, body: string) => {
    if (body[0] === "#") {
      const cp = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      // Surrogates and out-of-range values are not characters: the entity stays as written.
      return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : whole;
    }
    return NAMED_ENTITIES.get(body) ?? whole;
  });
}
