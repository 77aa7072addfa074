/**
 * Vocabulary trimming for a sliced export: keep only the WordPiece entries a
 * corpus's tokenization uses, plus every special token, and renumber them.
 *
 * WordPiece is greedy longest-match-first, so a word segmented with the full
 * vocabulary V is segmented identically with any V' ⊂ V that still holds the
 * pieces it used (no longer piece can appear in V' that was not in V); a word
 * that became [UNK] under V stays [UNK]. A word *outside* the corpus may need
 * a piece that was dropped and then becomes [UNK] with the trimmed vocab —
 * trimming is only exact on text like the corpus.
 */
import { OptionError } from "../errors.js";
import type { BertTokenizer } from "../tokenizer/index.js";

export interface VocabTrim {
  /** Original ids kept, ascending: new id i is original id keptIds[i]. */
  readonly keptIds: readonly number[];
  /** The trimmed vocab.txt: the kept tokens in keptIds order, one per line. */
  readonly vocabText: string;
  /** tokenizer_config.json with added-token ids renumbered; undefined when the model had none. */
  readonly tokenizerConfig?: string;
  /** Original id → new id (only for kept ids). */
  readonly newId: ReadonlyMap<number, number>;
}

/**
 * The texts of a corpus file: JSONL (`.jsonl`; every non-empty line an object
 * whose string fields `text`, `text_a`, `text_b` are taken) or plain text (one
 * text per line).
 */
export function corpusTexts(content: string, fileName: string): string[] {
  const lines = content.split(/\r\n|\r|\n/);
  if (!fileName.toLowerCase().endsWith(".jsonl")) return lines.filter((l) => l.trim().length > 0);
  const texts: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new OptionError("BAD_CORPUS", `${fileName} line ${i + 1}: not valid JSON (${(e as Error).message})`, { option: "--vocab-from" });
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      throw new OptionError("BAD_CORPUS", `${fileName} line ${i + 1}: expected a JSON object with "text" (or "text_a"/"text_b")`, { option: "--vocab-from" });
    }
    const record = obj as Record<string, unknown>;
    const found = ["text", "text_a", "text_b"].filter((k) => typeof record[k] === "string").map((k) => record[k] as string);
    if (found.length === 0) {
      throw new OptionError("BAD_CORPUS", `${fileName} line ${i + 1}: no string field "text", "text_a" or "text_b"`, { option: "--vocab-from" });
    }
    texts.push(...found);
  });
  return texts;
}

/**
 * Keeps the ids `tokenizer` produces on `texts`, the tokenizer's special
 * tokens, the config's pad id, and every token tokenizer_config.json declares
 * (added_tokens_decoder, additional_special_tokens).
 */
export function trimVocab(
  tokenizer: BertTokenizer,
  texts: Iterable<string>,
  options: { readonly tokenizerConfig?: string; readonly padTokenId: number | null },
): VocabTrim {
  const vocab = tokenizer.vocab;
  const keep = new Set<number>();
  const keepToken = (token: string) => {
    const id = vocab.tokenToId(token);
    if (id !== undefined) keep.add(id);
  };
  for (const token of [tokenizer.padToken, tokenizer.unkToken, tokenizer.clsToken, tokenizer.sepToken, tokenizer.maskToken]) keepToken(token);
  if (options.padTokenId !== null) keep.add(options.padTokenId);

  const configObject = parseConfigObject(options.tokenizerConfig);
  const added = configObject?.added_tokens_decoder;
  if (isRecord(added)) {
    for (const entry of Object.values(added)) if (isRecord(entry) && typeof entry.content === "string") keepToken(entry.content);
  }
  const extraSpecials = configObject?.additional_special_tokens;
  if (Array.isArray(extraSpecials)) {
    for (const t of extraSpecials) {
      if (typeof t === "string") keepToken(t);
      else if (isRecord(t) && typeof t.content === "string") keepToken(t.content);
    }
  }

  for (const text of texts) {
    for (const token of tokenizer.tokenize(text)) keepToken(token);
  }

  const keptIds = [...keep].sort((a, b) => a - b);
  const newId = new Map(keptIds.map((id, i) => [id, i]));
  const vocabText = keptIds.map((id) => vocab.idToToken(id)!).join("\n") + "\n";

  let tokenizerConfig = options.tokenizerConfig;
  if (configObject && isRecord(added)) {
    // added_tokens_decoder is keyed by id: renumber it, or HF would attach the tokens to the wrong rows.
    const renumbered: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(added)) {
      const content = isRecord(entry) && typeof entry.content === "string" ? entry.content : undefined;
      const id = content === undefined ? undefined : vocab.tokenToId(content);
      if (id !== undefined) renumbered[String(newId.get(id))] = entry;
      else if (/^\d+$/.test(key) && newId.has(Number(key))) renumbered[String(newId.get(Number(key)))] = entry;
    }
    tokenizerConfig = `${JSON.stringify({ ...configObject, added_tokens_decoder: renumbered }, null, 2)}\n`;
  }
  return { keptIds, vocabText, tokenizerConfig, newId };
}

function parseConfigObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  // The tokenizer already parsed this file when the model loaded, so it is valid JSON.
  const parsed: unknown = JSON.parse(text);
  return isRecord(parsed) ? parsed : undefined;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}
