// A small learnable task and a freshly initialised model folder for training
// tests: texts of syllable tokens from the h12 fixture's vocabulary, label 1
// when the text contains "ba".
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseBertConfig } from "../../src/checkpoint/config.js";
import { modelToFiles } from "../../src/model/save.js";
import { DynaBert } from "../../src/node.js";
import { seededRandom } from "../../src/train/data.js";

const H12 = join(import.meta.dirname, "..", "fixtures", "golden", "h12");
export const SYLLABLES = readFileSync(join(H12, "vocab.txt"), "utf8").split("\n").filter((t) => /^[a-z]+$/.test(t));

export function syntheticExamples(count: number, seed: number): Array<{ text: string; label: number }> {
  const random = seededRandom(seed);
  const others = SYLLABLES.filter((s) => s !== "ba");
  return Array.from({ length: count }, (_, i) => {
    const words = Array.from({ length: 4 + Math.floor(random() * 5) }, () => others[Math.floor(random() * others.length)]);
    const label = i % 2;
    if (label === 1) words[Math.floor(random() * words.length)] = "ba";
    return { text: words.join(" "), label };
  });
}

export function writeJsonl(dir: string, name: string, rows: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return path;
}

/** A BERT-initialised 2-layer, 12-head model over the h12 vocabulary, saved as an HF folder. */
export async function freshModelFolder(options: { layers?: number; seed?: number } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "dynabert-model-"));
  const config = parseBertConfig(
    JSON.stringify({
      model_type: "bert",
      architectures: ["BertForSequenceClassification"],
      vocab_size: 120,
      hidden_size: 48,
      num_hidden_layers: options.layers ?? 2,
      num_attention_heads: 12,
      intermediate_size: 96,
      max_position_embeddings: 40,
      type_vocab_size: 2,
      num_labels: 2,
      hidden_act: "gelu",
    }),
  );
  const model = await DynaBert.random(config, { seed: options.seed ?? 3 });
  const files = modelToFiles(model);
  files["vocab.txt"] = readFileSync(join(H12, "vocab.txt"), "utf8");
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return dir;
}
