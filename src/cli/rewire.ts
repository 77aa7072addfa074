/**
 * `dynabert importance` (head and neuron importance over labelled data) and
 * `dynabert rewire` (apply it: heads and neurons sorted by importance).
 */
import { readFile } from "node:fs/promises";
import { OptionError } from "../errors.js";
import type { IdRows } from "../model/inputs.js";
import { modelToFiles } from "../model/save.js";
import { DynaBert } from "../node.js";
import { computeImportance, type Importance } from "../rewire/importance.js";
import { checkImportance, rewire } from "../rewire/rewire.js";
import type { LabelledBatch } from "../train/accumulate.js";
import { batchIndices, encodeExamples, parseLabelledJsonl } from "../train/data.js";
import { Flags } from "./args.js";
import { writeFileAtomic, writeFolder } from "./files.js";
import { Progress } from "./progress.js";

export const importanceUsage = "dynabert importance --model DIR --data FILE.jsonl|FILE.json --out IMP.json [--batch-size 32] [--max-length 128]";
export const rewireUsage = "dynabert rewire --model DIR --importance IMP.json --out DIR";

export async function importance(argv: string[]): Promise<void> {
  const flags = Flags.parse("importance", argv, {
    model: { type: "string" },
    data: { type: "string" },
    out: { type: "string" },
    "batch-size": { type: "string" },
    "max-length": { type: "string" },
  });
  const out = flags.string("out");
  const model = await DynaBert.load(flags.string("model"));
  const batches = await readLabelledBatches(model, flags.string("data"), flags.positiveInt("batch-size", 32), flags.positiveInt("max-length", 128));
  const progress = new Progress("importance", batches.length);
  const imp = computeImportance(model, batches, (done) => progress.update(done, {}));
  await writeFileAtomic(out, importanceToJson(imp));
  console.error(`wrote ${out}`);
}

export async function rewireCommand(argv: string[]): Promise<void> {
  const flags = Flags.parse("rewire", argv, { model: { type: "string" }, importance: { type: "string" }, out: { type: "string" } });
  const impPath = flags.string("importance");
  const out = flags.string("out");
  const model = await DynaBert.load(flags.string("model"));
  const imp = await readImportance(impPath);
  checkImportance(model, imp, impPath);
  rewire(model, imp);
  await writeFolder(out, { ...modelToFiles(model), "importance.json": importanceToJson(imp) });
  console.error(`wrote the rewired model to ${out} (importance saved beside it as importance.json)`);
}

export function importanceToJson(imp: Importance): string {
  return JSON.stringify({ head_importance: imp.headImportance, neuron_importance: imp.neuronImportance });
}

async function readImportance(path: string): Promise<Importance> {
  let raw: { head_importance?: number[][]; neuron_importance?: number[][] };
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new OptionError("UNREADABLE_FILE", `--importance ${path}: ${(e as Error).message}`, { option: "--importance" });
  }
  return { headImportance: raw.head_importance ?? [], neuronImportance: raw.neuron_importance ?? [] };
}

/** JSONL text examples (as `train` reads) in batches, or one JSON batch of ids with "labels" (as `grad` reads). */
async function readLabelledBatches(model: DynaBert, path: string, batchSize: number, maxLength: number): Promise<LabelledBatch[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new OptionError("UNREADABLE_FILE", `--data ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { option: "--data" });
  }
  const request = parseJsonObject(text);
  if (request && "input_ids" in request) {
    return [
      {
        inputIds: request.input_ids as IdRows,
        attentionMask: request.attention_mask as IdRows | undefined,
        tokenTypeIds: request.token_type_ids as IdRows | undefined,
        labels: request.labels as number[],
      },
    ];
  }
  if (!model.tokenizer) throw new OptionError("NO_VOCAB", `--data ${path} holds text, but the model has no vocab.txt`);
  const examples = parseLabelledJsonl(text, path, model.config);
  const limit = Math.min(maxLength, model.config.maxPositionEmbeddings);
  return batchIndices(examples.length, batchSize).map((idx) => encodeExamples(model.tokenizer!, idx.map((i) => examples[i]), limit));
}

/** The text as one JSON object, or undefined when it is not one (JSONL has several lines). */
function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
