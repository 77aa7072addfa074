/** `dynabert bench`: median latency and GFLOP/s of one sub-network on this device. */
import { presetConfig, PRESET_NAMES, type PresetName } from "../bench/presets.js";
import { timeForward } from "../bench/timing.js";
import { OptionError } from "../errors.js";
import { DynaBert, type LoadOptions } from "../node.js";
import { Flags } from "./args.js";
import { ENGINE_FLAGS, ENGINE_USAGE, engineLoadOptions } from "./engine-flags.js";

export const benchUsage =
  `dynabert bench (--preset bert-base|bert-small|bert-tiny | --model DIR) [--batch B] [--seq S] [--width W] [--depth D] [--runs N] [--json] ${ENGINE_USAGE}`;

export async function bench(argv: string[]): Promise<void> {
  const flags = Flags.parse("bench", argv, {
    ...ENGINE_FLAGS,
    preset: { type: "string" },
    model: { type: "string" },
    batch: { type: "string" },
    seq: { type: "string" },
    width: { type: "string" },
    depth: { type: "string" },
    runs: { type: "string" },
    json: { type: "boolean" },
  });
  const options = {
    batch: flags.positiveInt("batch", 1),
    seq: flags.positiveInt("seq", 128),
    width: flags.fraction("width", 1),
    depth: flags.fraction("depth", 1),
    runs: flags.positiveInt("runs", 10),
  };
  const load = engineLoadOptions(flags);
  const model = await loadBenchModel(flags, load);
  const sub = model.subNetwork(options);
  const result = { ...timeForward(model, options), simd: model.wasmVariant, threads: load.threads };
  model.dispose();
  if (flags.bool("json")) {
    process.stdout.write(JSON.stringify(result) + "\n");
    return;
  }
  console.log(
    `width ${options.width} depth ${options.depth} (heads ${sub.heads}, intermediate ${sub.intermediate}, layers ${sub.keptLayers.join(",")}), ` +
      `batch ${options.batch} × seq ${options.seq}: median ${result.median_ms.toFixed(2)} ms (min ${result.min_ms.toFixed(2)}), ` +
      `${(result.flops / 1e9).toFixed(3)} GFLOP, ${result.gflops.toFixed(2)} GFLOP/s over ${result.runs} runs`,
  );
}

async function loadBenchModel(flags: Flags, load: LoadOptions): Promise<DynaBert> {
  const dir = flags.string("model", undefined);
  const preset = flags.string("preset", undefined);
  if ((dir === undefined) === (preset === undefined)) {
    throw new OptionError("BAD_FLAG", "dynabert bench: give exactly one of --preset or --model", { option: "--preset" });
  }
  if (dir !== undefined) return DynaBert.load(dir, load);
  if (!PRESET_NAMES.includes(preset as PresetName)) {
    throw new OptionError("BAD_FLAG", `dynabert bench: --preset must be one of ${PRESET_NAMES.join(", ")}, got ${preset}`, { option: "--preset" });
  }
  return DynaBert.random(presetConfig(preset as PresetName), load);
}
