/**
 * `dynabert tokenize`: the unpadded ids `infer` would feed the model, for texts
 * or sentence pairs. Needs only vocab.txt (and tokenizer_config.json when present).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { OptionError } from "../errors.js";
import { BertTokenizer, type EncodeInput } from "../tokenizer/index.js";
import { Flags } from "./args.js";
import { readJsonFile, stringList } from "./io.js";

export const tokenizeUsage = "dynabert tokenize --model DIR --input FILE.json [--max-length N]";

export async function tokenize(argv: string[]): Promise<void> {
  const flags = Flags.parse("tokenize", argv, { model: { type: "string" }, input: { type: "string" }, "max-length": { type: "string" } });
  const dir = flags.string("model");
  const inputPath = flags.string("input");
  const maxLength = flags.has("max-length") ? flags.positiveInt("max-length") : undefined;
  const request = await readJsonFile(inputPath, "--input");
  const tokenizer = BertTokenizer.fromFiles({
    vocab: await readText(join(dir, "vocab.txt"), true),
    tokenizerConfig: await readText(join(dir, "tokenizer_config.json"), false),
  });
  const inputs = inputsFromRequest(request, inputPath);
  const encoded = tokenizer.encodeBatch(inputs, { maxLength, truncation: maxLength !== undefined, padding: false });
  process.stdout.write(
    JSON.stringify({ input_ids: encoded.inputIds, token_type_ids: encoded.tokenTypeIds, attention_mask: encoded.attentionMask }) + "\n",
  );
}

function inputsFromRequest(request: Record<string, unknown>, path: string): EncodeInput[] {
  if ("texts" in request) return stringList(request, "texts", path);
  const pairs = request.pairs;
  if (!Array.isArray(pairs)) throw new OptionError("BAD_JSON", `${path}: expected "texts" (an array of strings) or "pairs" (an array of [a, b])`);
  return pairs.map((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "string" || typeof p[1] !== "string") {
      throw new OptionError("BAD_JSON", `${path}: pairs[${i}] must be [string, string]`);
    }
    return [p[0], p[1]] as const;
  });
}

async function readText(path: string, required: true): Promise<string>;
async function readText(path: string, required: false): Promise<string | undefined>;
async function readText(path: string, required: boolean): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new OptionError("UNREADABLE_FILE", `--model: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { option: "--model" });
  }
}
