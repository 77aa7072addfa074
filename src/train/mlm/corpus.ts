/**
 * Pre-training text: a corpus file of one document per line, plain text or
 * JSONL objects with a "text" string, cut into model-sized sequences
 * `[CLS] tokens [SEP]` and padded into batches.
 */
import type { BertConfig } from "../../checkpoint/config.js";
import { InputError, OptionError } from "../../errors.js";
import type { CheckedBatch } from "../../model/inputs.js";
import type { BertTokenizer } from "../../tokenizer/index.js";

/**
 * The documents of a corpus. It is JSONL when its first non-blank line is a
 * JSON object (then every line must be one with a "text" string); otherwise
 * every non-blank line is one document.
 */
export function parseCorpus(text: string, fileName: string): string[] {
  const lines = text.split(/\r?\n/);
  const first = lines.find((l) => l.trim() !== "");
  if (first === undefined) throw new InputError("EMPTY_BATCH", `${fileName}: the corpus has no documents`);
  if (!looksLikeJsonObject(first)) return lines.filter((l) => l.trim() !== "");
  const docs: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${fileName}:${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new InputError("BAD_EXAMPLE", `${where}: not valid JSON (${(e as Error).message}); a JSONL corpus needs one {"text": …} object per line`);
    }
    if (row === null || typeof row !== "object" || typeof (row as { text?: unknown }).text !== "string") {
      throw new InputError("BAD_EXAMPLE", `${where}: expected an object with a "text" string`);
    }
    docs.push((row as { text: string }).text);
  });
  return docs;
}

function looksLikeJsonObject(line: string): boolean {
  if (!line.trimStart().startsWith("{")) return false;
  try {
    const v = JSON.parse(line);
    return v !== null && typeof v === "object" && !Array.isArray(v);
  } catch {
    return false;
  }
}

/**
 * Each document's WordPiece ids, cut into consecutive pieces of at most
 * maxLength − 2 tokens, each wrapped as `[CLS] piece [SEP]` (so long
 * documents are used whole rather than truncated). Documents with no tokens
 * are skipped.
 */
export function corpusSequences(tokenizer: BertTokenizer, config: BertConfig, docs: readonly string[], maxLength: number, fileName: string): number[][] {
  if (!Number.isInteger(maxLength) || maxLength < 3) {
    throw new OptionError("BAD_FLAG", `max length ${maxLength} leaves no room for a token between [CLS] and [SEP] (at least 3)`, { option: "--max-length" });
  }
  const piece = maxLength - 2;
  const out: number[][] = [];
  docs.forEach((doc, d) => {
    const ids = tokenizer.convertTokensToIds(tokenizer.tokenize(doc));
    for (const id of ids) {
      if (id >= config.vocabSize) {
        throw new InputError("TOKEN_ID_OUT_OF_RANGE", `${fileName}: document ${d + 1} has token id ${id}, but the model's vocab_size is ${config.vocabSize}`);
      }
    }
    for (let i = 0; i < ids.length; i += piece) out.push([tokenizer.clsTokenId, ...ids.slice(i, i + piece), tokenizer.sepTokenId]);
  });
  if (out.length === 0) throw new InputError("EMPTY_BATCH", `${fileName}: no document has any token`);
  return out;
}

/** Sequences right-padded to the longest, token types 0: `[batch][seq]` flattened. */
export function padSequences(sequences: readonly (readonly number[])[], padId: number): CheckedBatch {
  const batch = sequences.length;
  const seq = sequences.reduce((m, s) => Math.max(m, s.length), 0);
  const inputIds = new Int32Array(batch * seq).fill(padId);
  const attentionMask = new Int32Array(batch * seq);
  sequences.forEach((s, b) => {
    inputIds.set(s, b * seq);
    attentionMask.fill(1, b * seq, b * seq + s.length);
  });
  return { batch, seq, inputIds, attentionMask, tokenTypeIds: new Int32Array(batch * seq) };
}
