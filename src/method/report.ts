/** The DynaBERT results as JSON, a markdown table and an SVG plot of accuracy against FLOPs. */
import { COLORS, lineChartSvg, type Series } from "../report/plot.js";
import type { SubnetRow } from "../train/subnet-table.js";
import type { Method } from "./pipeline.js";

export interface ResultsJson {
  readonly task: string;
  readonly teacher: { readonly accuracy: number; readonly flops: number };
  readonly methods: Partial<Record<Method, Array<{ width: number; depth: number; accuracy: number; f1?: number; flops: number; params: number; latency_ms: number }>>>;
  readonly settings?: unknown;
  readonly machine?: string;
}

const METHOD_NAMES: Record<Method, string> = {
  dynabert: "DynaBERT (rewiring + DynaBERT_W + DynaBERT)",
  rewired: "rewiring, no distillation",
  vanilla: "vanilla slimmable (no rewiring, no distillation)",
};

export function resultsJson(task: string, teacher: { accuracy: number; flops: number }, methods: Partial<Record<Method, SubnetRow[]>>, extra: { settings?: unknown; machine?: string } = {}): ResultsJson {
  return { task, teacher, methods: Object.fromEntries(Object.entries(methods).map(([m, rows]) => [m, rows!.map((r) => ({ ...r }))])), ...extra };
}

export function resultsMarkdown(results: ResultsJson): string {
  const methods = Object.keys(results.methods) as Method[];
  const first = results.methods[methods[0]]!;
  const lines = [
    `Task: ${results.task}. Teacher accuracy ${(100 * results.teacher.accuracy).toFixed(2)}% (test split).`,
    "",
    `| width | depth | GFLOPs/seq | params M | latency ms | ${methods.map((m) => `${m} acc %`).join(" | ")} |`,
    `|---:|---:|---:|---:|---:|${methods.map(() => "---:").join("|")}|`,
  ];
  first.forEach((row, i) => {
    const accs = methods.map((m) => (100 * results.methods[m]![i].accuracy).toFixed(2));
    lines.push(`| ${row.width} | ${row.depth} | ${(row.flops / 1e9).toFixed(3)} | ${(row.params / 1e6).toFixed(2)} | ${row.latency_ms.toFixed(2)} | ${accs.join(" | ")} |`);
  });
  return lines.join("\n") + "\n";
}

/** One line per (method, depth) across the widths: colour by method, dash by depth. */
export function resultsSvg(results: ResultsJson): string {
  const dashes: Record<string, string | undefined> = { "1": undefined, "0.75": "7 4", "0.5": "2 3" };
  const series: Series[] = (Object.keys(results.methods) as Method[]).flatMap((m, i) => {
    const rows = results.methods[m]!;
    return [...new Set(rows.map((r) => r.depth))].map((depth) => ({
      name: `${m}, depth ${depth}`,
      color: COLORS[i % COLORS.length],
      dash: dashes[String(depth)],
      points: rows
        .filter((r) => r.depth === depth)
        .map((r) => ({ x: r.flops / 1e9, y: 100 * r.accuracy, label: `${METHOD_NAMES[m]} (${r.width}, ${r.depth}): ${(100 * r.accuracy).toFixed(2)}%` })),
    }));
  });
  return lineChartSvg(series, {
    title: `${results.task}: every (width, depth) sub-network`,
    xLabel: "GFLOPs per sequence",
    yLabel: "test accuracy %",
    reference: { y: 100 * results.teacher.accuracy, label: "teacher" },
    width: 760,
  });
}
