/**
 * `dynabert eval`: every (width, depth) sub-network on a labelled set —
 * accuracy (F1 for binary tasks), FLOPs, parameters, median latency — printed
 * as a table and stored in the checkpoint's config.json for `select`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { bertConfigToJson } from "../checkpoint/config.js";
import { OptionError } from "../errors.js";
import { DynaBert } from "../node.js";
import { parseLabelledJsonl } from "../train/data.js";
import { evaluateSubnetworks, SUBNET_TABLE_KEY, subnetTableMarkdown } from "../train/subnet-table.js";
import { Flags } from "./args.js";
import { ENGINE_FLAGS, ENGINE_USAGE, engineLoadOptions } from "./engine-flags.js";
import { writeFileAtomic } from "./files.js";
import { Progress } from "./progress.js";
import { multiplierList } from "./train.js";

export const evalUsage = `dynabert eval --model DIR --eval FILE.jsonl [--widths 1,.75,.5,.25] [--depths 1,.75,.5] [--seq 128] [--runs 5] [--json] [--no-save] ${ENGINE_USAGE}`;

export async function evalCommand(argv: string[]): Promise<void> {
  const flags = Flags.parse("eval", argv, {
    ...ENGINE_FLAGS,
    model: { type: "string" },
    eval: { type: "string" },
    widths: { type: "string" },
    depths: { type: "string" },
    seq: { type: "string" },
    runs: { type: "string" },
    json: { type: "boolean" },
    "no-save": { type: "boolean" },
  });
  const dir = flags.string("model");
  const evalPath = flags.string("eval");
  const model = await DynaBert.load(dir, engineLoadOptions(flags));
  let text: string;
  try {
    text = await readFile(evalPath, "utf8");
  } catch (e) {
    throw new OptionError("UNREADABLE_FILE", `--eval ${evalPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { option: "--eval" });
  }
  const examples = parseLabelledJsonl(text, evalPath, model.config);
  const widths = multiplierList(flags, "widths", [1, 0.75, 0.5, 0.25]);
  const depths = multiplierList(flags, "depths", [1, 0.75, 0.5]);
  const progress = new Progress("eval", widths.length * depths.length);
  const table = evaluateSubnetworks(model, examples, {
    widths,
    depths,
    seq: flags.positiveInt("seq", 128),
    latencyRuns: flags.positiveInt("runs", 5),
    onRow: (done) => progress.update(done, {}),
  });
  process.stdout.write(flags.bool("json") ? JSON.stringify(table) + "\n" : subnetTableMarkdown(table) + "\n");
  if (!flags.bool("no-save")) {
    const config = { ...model.config, extra: { ...model.config.extra, [SUBNET_TABLE_KEY]: table } };
    await writeFileAtomic(join(dir, "config.json"), bertConfigToJson(config));
    console.error(`stored the table in ${join(dir, "config.json")} under "${SUBNET_TABLE_KEY}"`);
  }
}
