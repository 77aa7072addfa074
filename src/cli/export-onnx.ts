/** `dynabert export --format onnx`: one (width, depth) sub-network as an ONNX (opset 17) file. */
import { writeFile } from "node:fs/promises";
import { presetConfig, PRESET_NAMES, type PresetName } from "../bench/presets.js";
import { OptionError } from "../errors.js";
import { buildOnnxModel, checkpointSource, encodeOnnxModel, OPSET, randomSource, type ExportSource } from "../export/onnx/index.js";
import { readBundledWasm, readModelFolder } from "../node.js";
import { Flags } from "./args.js";

export const exportOnnxUsage =
  "dynabert export (--model DIR | --preset bert-base|bert-small|bert-tiny) --format onnx --out FILE.onnx [--width W] [--depth D] [--fused] [--last-hidden-state]";

export async function exportOnnx(argv: string[]): Promise<void> {
  const flags = Flags.parse("export", argv, {
    model: { type: "string" },
    preset: { type: "string" },
    format: { type: "string" },
    out: { type: "string" },
    width: { type: "string" },
    depth: { type: "string" },
    fused: { type: "boolean" },
    "last-hidden-state": { type: "boolean" },
  });
  const format = flags.string("format");
  if (format !== "onnx") {
    throw new OptionError("BAD_FLAG", `dynabert export: --format must be onnx, got ${JSON.stringify(format)}`, { option: "--format" });
  }
  const out = flags.string("out");
  const options = {
    width: flags.fraction("width", 1),
    depth: flags.fraction("depth", 1),
    fused: flags.bool("fused"),
    lastHiddenState: flags.bool("last-hidden-state"),
  };
  const source = await loadSource(flags);
  const model = buildOnnxModel(source, options);
  const chunks = encodeOnnxModel(model);
  try {
    await writeFile(out, chunks);
  } catch (e) {
    throw new OptionError("UNWRITABLE_FILE", `--out ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { option: "--out" });
  }
  const bytes = chunks.reduce((n, c) => n + c.byteLength, 0);
  const outputs = model.graph.outputs.map((o) => o.name).join(", ");
  console.log(
    `wrote ${out} (${(bytes / 1048576).toFixed(1)} MiB, opset ${OPSET}, ${options.fused ? "onnxruntime-fused" : "plain"} graph, outputs ${outputs}): ` +
      `${model.docString}`,
  );
}

async function loadSource(flags: Flags): Promise<ExportSource> {
  const dir = flags.string("model", undefined);
  const preset = flags.string("preset", undefined);
  if ((dir === undefined) === (preset === undefined)) {
    throw new OptionError("BAD_FLAG", "dynabert export: give exactly one of --model or --preset", { option: "--model" });
  }
  const wasm = await readBundledWasm();
  if (dir !== undefined) return checkpointSource(await readModelFolder(dir), wasm);
  if (!PRESET_NAMES.includes(preset as PresetName)) {
    throw new OptionError("BAD_FLAG", `dynabert export: --preset must be one of ${PRESET_NAMES.join(", ")}, got ${preset}`, { option: "--preset" });
  }
  // Same seed as DynaBert.random and `dynabert bench --preset`: the exported weights are the ones benchmarked there.
  return randomSource(presetConfig(preset as PresetName), wasm);
}
