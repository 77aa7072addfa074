// The tokenizer must run in Cloudflare Workers and Deno: nothing it loads may
// import Node built-ins or touch Node globals. Follows every relative import.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";

const ENTRY = resolve(import.meta.dirname, "../../src/tokenizer/index.ts");
const NODE_ONLY = [/\bfrom\s+["']node:/, /\brequire\s*\(/, /\bprocess\./, /\bBuffer\b/, /\b__dirname\b/, /import\.meta\.(url|dirname)/];

test("src/tokenizer and everything it imports use no Node APIs", () => {
  const seen = new Set<string>();
  const queue = [ENTRY];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const pattern of NODE_ONLY) assert.doesNotMatch(text, pattern, `${file} uses ${pattern}`);
    for (const [, spec] of text.matchAll(/\bfrom\s+["']([^"']+)["']/g)) {
      assert.ok(spec.startsWith("."), `${file} imports the package "${spec}"`);
      queue.push(join(dirname(file), spec.replace(/\.js$/, ".ts")));
    }
  }
  assert.ok(seen.size >= 10, `followed ${seen.size} files`);
});
