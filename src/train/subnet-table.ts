/**
 * The evaluation of every (width, depth) sub-network: accuracy (and F1 for
 * binary tasks), FLOPs per sequence, parameters used and median latency —
 * the table selection reads back from a checkpoint's config.json.
 */
import { timeForward } from "../bench/timing.js";
import type { DynaBert } from "../dynabert.js";
import { flopsPerSequence, parametersUsed } from "../model/subnetwork.js";
import { trainingOrder } from "./accumulate.js";
import type { Example } from "./data.js";
import { evaluate } from "./evaluate.js";

export interface SubnetRow {
  readonly width: number;
  readonly depth: number;
  readonly accuracy: number;
  readonly f1?: number;
  /** FLOPs of one sequence of `seq` tokens. */
  readonly flops: number;
  readonly params: number;
  /** Median forward latency at batch 1 × `seq` on the measuring machine. */
  readonly latency_ms: number;
}

export interface SubnetTable {
  readonly seq: number;
  readonly examples: number;
  readonly rows: SubnetRow[];
}

/** The key under which config.json stores the table. */
export const SUBNET_TABLE_KEY = "dynabert_subnetworks";

export const PAPER_WIDTHS = [1, 0.75, 0.5, 0.25] as const;
export const PAPER_DEPTHS = [1, 0.75, 0.5] as const;

export function evaluateSubnetworks(
  model: DynaBert,
  examples: readonly Example[],
  options: { widths?: readonly number[]; depths?: readonly number[]; seq?: number; latencyRuns?: number; onRow?: (done: number, total: number) => void } = {},
): SubnetTable {
  const seq = Math.min(options.seq ?? 128, model.config.maxPositionEmbeddings);
  const configs = trainingOrder(options.widths ?? PAPER_WIDTHS, options.depths ?? PAPER_DEPTHS);
  const rows = configs.map(({ width, depth }, i) => {
    const sub = model.subNetwork({ width, depth });
    const quality = evaluate(model, examples, { width, depth, maxLength: seq });
    const timing = timeForward(model, { batch: 1, seq, width, depth, runs: options.latencyRuns ?? 5, warmup: 1 });
    options.onRow?.(i + 1, configs.length);
    return {
      width,
      depth,
      accuracy: quality.accuracy,
      ...(quality.f1 === undefined ? {} : { f1: quality.f1 }),
      flops: flopsPerSequence(model.config, sub, seq),
      params: parametersUsed(model.config, sub),
      latency_ms: timing.median_ms,
    };
  });
  return { seq, examples: examples.length, rows };
}

export function subnetTableMarkdown(table: SubnetTable): string {
  const hasF1 = table.rows.some((r) => r.f1 !== undefined);
  const head = ["width", "depth", "accuracy %", ...(hasF1 ? ["F1 %"] : []), "GFLOPs/seq", "params M", "latency ms"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---:").join("|")}|`];
  for (const r of table.rows) {
    const cells = [r.width, r.depth, (100 * r.accuracy).toFixed(2), ...(hasF1 ? [(100 * (r.f1 ?? 0)).toFixed(2)] : []), (r.flops / 1e9).toFixed(3), (r.params / 1e6).toFixed(2), r.latency_ms.toFixed(2)];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
