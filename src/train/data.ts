/**
 * Labelled text for training and evaluation: JSONL lines `{"text", "label"}`
 * or `{"text_a", "text_b", "label"}` (label an integer id, or a name from the
 * model's label2id), shuffled and batched reproducibly.
 */
import type { BertConfig } from "../checkpoint/config.js";
import { InputError } from "../errors.js";
import type { BatchEncoding, BertTokenizer, EncodeInput } from "../tokenizer/index.js";

export interface Example {
  readonly input: EncodeInput;
  readonly label: number;
}

export function parseLabelledJsonl(text: string, fileName: string, config: BertConfig): Example[] {
  const out: Example[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${fileName}:${i + 1}`;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new InputError("BAD_EXAMPLE", `${where}: not valid JSON (${(e as Error).message})`);
    }
    if (row === null || typeof row !== "object") throw new InputError("BAD_EXAMPLE", `${where}: expected a JSON object`);
    let input: EncodeInput;
    if (typeof row.text === "string") input = row.text;
    else if (typeof row.text_a === "string" && typeof row.text_b === "string") input = [row.text_a, row.text_b];
    else throw new InputError("BAD_EXAMPLE", `${where}: expected "text" or "text_a" and "text_b" strings`);
    out.push({ input, label: labelId(row.label, config, where) });
  });
  if (out.length === 0) throw new InputError("EMPTY_BATCH", `${fileName}: no examples`);
  return out;
}

function labelId(label: unknown, config: BertConfig, where: string): number {
  if (typeof label === "number" && Number.isInteger(label) && label >= 0 && label < config.numLabels) return label;
  if (typeof label === "string" && label in config.label2id) return config.label2id[label];
  throw new InputError(
    "LABEL_OUT_OF_RANGE",
    `${where}: label ${JSON.stringify(label)} is not a class of this model (ids 0…${config.numLabels - 1} or names ${config.id2label.join(", ")})`,
  );
}

/** mulberry32: a small seeded PRNG, so the same seed gives the same order everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Example indices in batches of `size`, shuffled (Fisher–Yates) by `random` when given. */
export function batchIndices(count: number, size: number, random?: () => number): number[][] {
  const order = Array.from({ length: count }, (_, i) => i);
  if (random) {
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  const out: number[][] = [];
  for (let i = 0; i < count; i += size) out.push(order.slice(i, i + size));
  return out;
}

/** Tokenizes examples into one padded, labelled batch. */
export function encodeExamples(tokenizer: BertTokenizer, examples: readonly Example[], maxLength: number): BatchEncoding & { labels: number[] } {
  const enc = tokenizer.encodeBatch(
    examples.map((e) => e.input),
    { maxLength, truncation: true, padding: "longest" },
  );
  return { ...enc, labels: examples.map((e) => e.label) };
}
