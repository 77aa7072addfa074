/**
 * `dynabert export`: `--format hf` (the default) writes one (width, depth)
 * sub-network as a standalone, physically sliced HF-style folder;
 * `--format onnx` goes to the ONNX exporter (export-onnx.ts).
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { OptionError } from "../errors.js";
import { slicedCheckpointFiles, type ExportDtype } from "../export/sliced.js";
import { corpusTexts, trimVocab, type VocabTrim } from "../export/vocab-trim.js";
import { DynaBert } from "../node.js";
import { Flags } from "./args.js";
import { exportOnnx, exportOnnxUsage } from "./export-onnx.js";
import { writeFolder } from "./files.js";

export const exportHfUsage = "dynabert export --model DIR --width W --depth D --out DIR [--format hf] [--dtype f32|f16|int8] [--vocab-from CORPUS.txt|CORPUS.jsonl]";
export const exportUsage = `${exportHfUsage}\n  ${exportOnnxUsage}`;

/** int8: linear and embedding weights I8 with per-row F32 scales, the rest F32 (src/export/sliced.ts). */
const DTYPES: Record<string, ExportDtype> = { f32: "F32", f16: "F16", int8: "INT8" };

export async function exportCommand(argv: string[]): Promise<void> {
  if (formatOf(argv) === "onnx") return exportOnnx(argv);
  const flags = Flags.parse("export", argv, {
    model: { type: "string" },
    format: { type: "string" },
    out: { type: "string" },
    width: { type: "string" },
    depth: { type: "string" },
    dtype: { type: "string" },
    "vocab-from": { type: "string" },
  });
  const format = flags.string("format", "hf");
  if (format !== "hf") {
    throw new OptionError("BAD_FLAG", `dynabert export: --format must be hf or onnx, got ${JSON.stringify(format)}`, { option: "--format" });
  }
  const dir = flags.string("model");
  const out = flags.string("out");
  const width = flags.fraction("width", 1);
  const depth = flags.fraction("depth", 1);
  if (resolve(out) === resolve(dir)) {
    throw new OptionError("BAD_FLAG", `dynabert export: --out ${out} is the --model folder; the export would overwrite its source`, { option: "--out" });
  }
  const dtypeName = flags.string("dtype", undefined) ?? "f32";
  const dtype = Object.hasOwn(DTYPES, dtypeName) ? DTYPES[dtypeName] : undefined;
  if (dtype === undefined) {
    throw new OptionError("BAD_FLAG", `dynabert export: --dtype must be f32, f16 or int8, got ${JSON.stringify(dtypeName)}`, { option: "--dtype" });
  }

  const model = await DynaBert.load(dir);
  const corpus = flags.string("vocab-from", undefined);
  let vocab: VocabTrim | undefined;
  if (corpus !== undefined) {
    if (!model.tokenizer) throw new OptionError("NO_VOCAB", `--vocab-from needs the model's vocab.txt, and ${dir} has none`, { option: "--vocab-from" });
    let text: string;
    try {
      text = await readFile(corpus, "utf8");
    } catch (e) {
      throw new OptionError("UNREADABLE_FILE", `--vocab-from ${corpus}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { option: "--vocab-from" });
    }
    vocab = trimVocab(model.tokenizer, corpusTexts(text, corpus), {
      tokenizerConfig: model.tokenizerFiles.tokenizerConfig,
      padTokenId: model.config.padTokenId,
    });
  }

  const exported = slicedCheckpointFiles(model, { width, depth, dtype, vocab });
  try {
    await writeFolder(out, exported.files);
  } catch (e) {
    throw new OptionError("UNWRITABLE_FILE", `--out ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { option: "--out" });
  }
  const c = exported.config;
  const bytes = (exported.files["model.safetensors"] as Uint8Array).byteLength;
  console.log(
    `wrote ${out} (${(bytes / 1048576).toFixed(2)} MiB ${dtype}, ${exported.parameters} parameters): ` +
      `${c.numAttentionHeads} heads × ${c.attentionHeadSize}, intermediate ${c.intermediateSize}, ${c.numHiddenLayers} layers, vocab ${c.vocabSize}` +
      (vocab ? ` (trimmed from ${model.config.vocabSize}; words the trimmed vocab cannot segment become [UNK])` : ""),
  );
}

/** The --format value (`--format X` or `--format=X`), looked up before parsing since each format takes other flags. */
function formatOf(argv: readonly string[]): string | undefined {
  let format: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === "--format") format = argv[i + 1];
    else if (arg.startsWith("--format=")) format = arg.slice("--format=".length);
  });
  return format;
}
