/**
 * `dynabert demo`: what the engine shows until the trainer lands — one random
 * BERT, every (width, depth) sub-network of the paper timed on this device
 * with no re-load and no weight copy between them.
 */
import { presetConfig, PRESET_NAMES, type PresetName } from "../bench/presets.js";
import { timeForward } from "../bench/timing.js";
import { OptionError } from "../errors.js";
import { parametersUsed } from "../model/subnetwork.js";
import { DynaBert } from "../node.js";
import { Flags } from "./args.js";

export const demoUsage = "dynabert demo [--preset bert-small] [--seq 128] [--runs 5]";

export const PAPER_WIDTHS = [1, 0.75, 0.5, 0.25] as const;
export const PAPER_DEPTHS = [1, 0.75, 0.5] as const;

export async function demo(argv: string[]): Promise<void> {
  const flags = Flags.parse("demo", argv, { preset: { type: "string" }, seq: { type: "string" }, runs: { type: "string" } });
  const preset = flags.string("preset", "bert-small");
  if (!PRESET_NAMES.includes(preset as PresetName)) {
    throw new OptionError("BAD_FLAG", `dynabert demo: --preset must be one of ${PRESET_NAMES.join(", ")}`, { option: "--preset" });
  }
  const seq = flags.positiveInt("seq", 128);
  const runs = flags.positiveInt("runs", 5);
  const config = presetConfig(preset as PresetName);
  console.log(
    `dynabert demo: ${preset} (L=${config.numHiddenLayers}, D=${config.hiddenSize}, H=${config.numAttentionHeads}, I=${config.intermediateSize}), ` +
      `random weights, batch 1 × ${seq}, median of ${runs} runs per sub-network`,
  );
  const model = await DynaBert.random(config);
  const rows: string[][] = [];
  let fullMs = 0;
  const total = PAPER_WIDTHS.length * PAPER_DEPTHS.length;
  for (const depth of PAPER_DEPTHS) {
    for (const width of PAPER_WIDTHS) {
      progress(`timing ${rows.length + 1}/${total} (width ${width}, depth ${depth})`);
      const sub = model.subNetwork({ width, depth });
      const t = timeForward(model, { batch: 1, seq, width, depth, runs });
      if (width === 1 && depth === 1) fullMs = t.median_ms;
      rows.push([
        String(width),
        String(depth),
        String(sub.heads),
        String(sub.intermediate),
        sub.keptLayers.join(","),
        (parametersUsed(config, sub) / 1e6).toFixed(1),
        (t.flops / 1e9).toFixed(3),
        t.median_ms.toFixed(2),
        t.gflops.toFixed(1),
        (fullMs / t.median_ms).toFixed(2) + "×",
      ]);
    }
  }
  progress("");
  printTable(["width", "depth", "heads", "ffn", "layers", "params M", "GFLOP", "ms", "GFLOP/s", "speed-up"], rows);
  console.log("\nThe trainer (DynaBERT_W, DynaBERT) is not built yet: this demo shows the engine's sub-networks only.");
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padStart(widths[i])).join(" | ") + " |";
  console.log(line(header));
  console.log("|" + widths.map((w) => "-".repeat(w + 1) + ":").join("|") + "|");
  for (const r of rows) console.log(line(r));
}

/** One status line: rewritten in place on a TTY, plain log lines otherwise. */
function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${message ? "  " + message : ""}`);
  else if (message) process.stderr.write(`  ${message}\n`);
}
