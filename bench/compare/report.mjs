// The comparison's markdown tables and SVG plot, from the results JSON
// (see compare.bench.mjs for its shape). Pure formatting: no measuring here.
import { lineChartSvg } from "../../src/report/plot.ts";

/** Ratios reported per row: [label, numerator runtime, denominator runtime] — "how many times faster the denominator is". */
export const RATIOS = [
  ["ort-web 1T / engine 1T", "ort-web-1t", "engine-1t"],
  ["ort-node 1T / engine 1T", "ort-node-1t", "engine-1t"],
  ["engine 1T / engine relaxed", "engine-1t", "engine-relaxed"],
  ["engine 1T / engine 2T", "engine-1t", "engine-2t"],
  ["ort-web 1T / ort-web 2T", "ort-web-1t", "ort-web-2t"],
  ["ort-web 2T / engine 2T", "ort-web-2t", "engine-2t"],
  ["ort-node 2T / engine 2T", "ort-node-2t", "engine-2t"],
  ["ort-web 2T / engine relaxed 2T", "ort-web-2t", "engine-relaxed-2t"],
  ["engine relaxed 1T / engine relaxed 2T", "engine-relaxed", "engine-relaxed-2t"],
];

const STYLE = {
  "engine-1t": { color: "#1f77b4" },
  "engine-relaxed": { color: "#17becf" },
  "engine-2t": { color: "#1f77b4", dash: "6 3" },
  "engine-relaxed-2t": { color: "#17becf", dash: "6 3" },
  "ort-web-1t": { color: "#d62728" },
  "ort-web-2t": { color: "#d62728", dash: "6 3" },
  "ort-node-1t": { color: "#2ca02c" },
  "ort-node-2t": { color: "#2ca02c", dash: "6 3" },
};

/** Cores other processes kept busy during a cell above which its row is marked † (timed on a shared machine). */
const BUSY = 0.2;

const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

export function ratio(row, num, den) {
  const a = row.runtimes[num]?.median_ms;
  const b = row.runtimes[den]?.median_ms;
  return a && b ? a / b : undefined;
}

/** [runtime id, column label, peak GFLOP/s it is measured against]: 2 threads against twice the one-core peak. */
function peakColumns(results) {
  const { baseline_gflops: base, relaxed_gflops: relaxed } = results.peak;
  const live = new Set(results.runtimes.filter((r) => r.available).map((r) => r.id));
  return [
    ["engine-1t", "engine 1T % of peak", base],
    ["engine-relaxed", "relaxed % of relaxed peak", relaxed],
    ["engine-2t", "engine 2T % of 2 × peak", base && 2 * base],
    ["engine-relaxed-2t", "relaxed 2T % of 2 × relaxed peak", relaxed && 2 * relaxed],
  ].filter(([id, , peak]) => live.has(id) && peak);
}

export function markdownReport(results) {
  const live = results.runtimes.filter((r) => r.available);
  const peaks = peakColumns(results);
  const out = [];
  for (const shape of results.shapes) {
    const rows = results.rows.filter((r) => r.batch === shape.batch && r.seq === shape.seq);
    out.push(`### batch ${shape.batch} × seq ${shape.seq}: median ms (GFLOP/s)\n`);
    out.push(`| width | depth | GFLOP | ${[...live.map((r) => r.label), ...peaks.map(([, l]) => l)].join(" | ")} | other processes (cores) |`);
    out.push(`|---:|---:|---:|${[...live, ...peaks].map(() => "---:|").join("")}---:|`);
    for (const row of rows) {
      const cells = live.map((r) => {
        const m = row.runtimes[r.id];
        return m ? `${fmtMs(m.median_ms)} (${m.gflops.toFixed(1)})` : "—";
      });
      const pct = peaks.map(([id, , peak]) => (row.runtimes[id] ? `${((100 * row.runtimes[id].gflops) / peak).toFixed(0)}%` : "—"));
      const other = row.other_processes_cores == null ? "n/a" : `${row.other_processes_cores.toFixed(2)}${row.other_processes_cores > BUSY ? " †" : ""}`;
      out.push(`| ${row.width} | ${row.depth} | ${(row.flops / 1e9).toFixed(2)} | ${[...cells, ...pct].join(" | ")} | ${other} |`);
    }
    const ratios = RATIOS.filter(([, a, b]) => live.some((r) => r.id === a) && live.some((r) => r.id === b));
    if (ratios.length) {
      out.push(`\nRatios of medians (> 1: the second runtime is faster), batch ${shape.batch} × seq ${shape.seq}:\n`);
      out.push(`| width | depth | ${ratios.map(([l]) => l).join(" | ")} |`);
      out.push(`|---:|---:|${ratios.map(() => "---:|").join("")}`);
      for (const row of rows) {
        out.push(`| ${row.width} | ${row.depth} | ${ratios.map(([, a, b]) => (ratio(row, a, b) ? `${ratio(row, a, b).toFixed(2)}×` : "—")).join(" | ")} |`);
      }
    }
    if (rows.some((r) => r.other_processes_cores > BUSY)) out.push(`\n† other processes kept more than ${BUSY} of a core busy while this row was timed: its 2-thread columns competed with them.`);
    out.push("");
  }
  for (const rerun of results.reruns ?? []) {
    out.push(`Re-timed in a later run (${rerun.date.slice(0, 16)}Z, \`${rerun.command}\`) because other processes disturbed the first timing: ${rerun.rows.map((k) => k.replace(/^(\S+) (\S+) (\S+) (\S+)$/, "width $1 depth $2 at $3 × $4")).join("; ")}.\n`);
  }
  const missing = results.runtimes.filter((r) => !r.available);
  if (missing.length) {
    out.push("Not measured:\n");
    for (const r of missing) out.push(`- ${r.label}: n/a — ${r.reason}`);
    out.push("");
  }
  return out.join("\n");
}

/** One latency-against-GFLOP panel per shape, stacked in one SVG. */
export function plotSvg(results) {
  const W = 700;
  const H = 420;
  const live = results.runtimes.filter((r) => r.available);
  const panels = results.shapes.map((shape, i) => {
    const rows = results.rows.filter((r) => r.batch === shape.batch && r.seq === shape.seq);
    const series = live.map((r) => ({
      name: r.label,
      ...STYLE[r.id],
      points: rows.filter((row) => row.runtimes[r.id]).map((row) => ({ x: row.flops / 1e9, y: row.runtimes[r.id].median_ms, label: `${r.label}, width ${row.width}, depth ${row.depth}: ${fmtMs(row.runtimes[r.id].median_ms)} ms` })),
    }));
    const svg = lineChartSvg(series, { title: `BERT-base sub-networks, batch ${shape.batch} × seq ${shape.seq}`, xLabel: "GFLOP per call", yLabel: "median latency (ms)", width: W, height: H });
    return svg.replace('<svg xmlns="http://www.w3.org/2000/svg"', `<svg x="0" y="${i * H}"`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H * panels.length}" viewBox="0 0 ${W} ${H * panels.length}">\n${panels.join("")}</svg>\n`;
}

/** The issue's targets against what was measured (undefined where a runtime was n/a). */
export function summarize(r) {
  const row = (w, d, b, s) => r.rows.find((x) => x.width === w && x.depth === d && x.batch === b && x.seq === s);
  const fullRow = row(1, 1, 1, 128) ?? row(1, 1, r.shapes[0].batch, r.shapes[0].seq);
  const engineRss = r.rss.find((x) => x.label.startsWith("engine, random"));
  const cold = r.cold_start[0];
  return {
    at: fullRow ? `width 1, depth 1, batch ${fullRow.batch} × seq ${fullRow.seq}` : null,
    engine_vs_ort_web_1t: fullRow && ratio(fullRow, "ort-web-1t", "engine-1t"),
    relaxed_vs_ort_web_1t: fullRow && ratio(fullRow, "ort-web-1t", "engine-relaxed"),
    engine_2t_over_1t: fullRow && ratio(fullRow, "engine-1t", "engine-2t"),
    engine_2t_vs_ort_web_2t: fullRow && ratio(fullRow, "ort-web-2t", "engine-2t"),
    relaxed_2t_vs_ort_web_2t: fullRow && ratio(fullRow, "ort-web-2t", "engine-relaxed-2t"),
    engine_1t_fraction_of_peak: fullRow && r.peak.baseline_gflops ? fullRow.runtimes["engine-1t"].gflops / r.peak.baseline_gflops : undefined,
    relaxed_fraction_of_relaxed_peak: fullRow?.runtimes["engine-relaxed"] && r.peak.relaxed_gflops ? fullRow.runtimes["engine-relaxed"].gflops / r.peak.relaxed_gflops : undefined,
    cold_start_ms: cold?.totalMs,
    rss_excess_mib: engineRss?.excessMiB,
  };
}

export function summaryMarkdown(r) {
  const s = r.summary;
  const f = (x, digits = 2, unit = "") => (x === undefined || x === null ? "n/a" : `${x.toFixed(digits)}${unit}`);
  const lines = [`Targets (issue 6), at ${s.at}:`, ""];
  lines.push(`| target | measured |`, `|---|---:|`);
  lines.push(`| engine 1T ≥ 1.4× faster than ort-web 1T | ${f(s.engine_vs_ort_web_1t, 2, "×")} |`);
  lines.push(`| engine relaxed SIMD ≥ 2× faster than ort-web 1T | ${f(s.relaxed_vs_ort_web_1t, 2, "×")} |`);
  lines.push(`| engine 2 threads ≥ 1.8× faster than 1 thread | ${f(s.engine_2t_over_1t, 2, "×")} |`);
  lines.push(`| engine 2 threads ≥ 1.4× faster than ort-web 2T: baseline SIMD | ${f(s.engine_2t_vs_ort_web_2t, 2, "×")} |`);
  lines.push(`| the same, relaxed SIMD (what "auto" loads where it runs) | ${f(s.relaxed_2t_vs_ort_web_2t, 2, "×")} |`);
  lines.push(`| cold start (demo model, 1 × 64) < 400 ms | ${f(s.cold_start_ms, 0, " ms")} |`);
  lines.push(`| peak RSS ≤ weights + 64 MiB (engine, BERT-base 1 × 128) | weights + ${f(s.rss_excess_mib, 0, " MiB")} |`);
  lines.push("", `Engine 1T at that cell: ${f(s.engine_1t_fraction_of_peak === undefined ? undefined : 100 * s.engine_1t_fraction_of_peak, 0)}% of the wasm SIMD mul+add peak (${f(r.peak.baseline_gflops, 1)} GFLOP/s).`);
  if (s.relaxed_fraction_of_relaxed_peak !== undefined) lines.push(`Engine relaxed 1T: ${f(100 * s.relaxed_fraction_of_relaxed_peak, 0)}% of the relaxed-SIMD madd peak (${f(r.peak.relaxed_gflops, 1)} GFLOP/s).`);
  for (const n of r.peak.notes ?? []) lines.push(`Peak: ${n}.`);
  const worst = r.runtimes
    .filter((rt) => rt.available && rt.id !== "engine-1t")
    .map((rt) => `${rt.label} ${Math.max(...r.rows.map((x) => x.runtimes[rt.id]?.max_abs_diff_vs_engine ?? 0)).toExponential(1)}`);
  const biggest = Math.max(...r.rows.map((x) => x.runtimes["engine-1t"]?.max_abs_logit ?? 0));
  if (worst.length) lines.push(`Cross-check before timing, largest |Δ logit| against engine 1T over all cells (limit 1e-3; the largest |logit| is ${biggest.toFixed(3)}): ${worst.join(", ")}.`);
  const fullRow = r.rows.find((x) => x.width === 1 && x.depth === 1 && x.batch === 1 && x.seq === 128) ?? r.rows[0];
  if (fullRow) {
    const used = r.runtimes.filter((rt) => fullRow.runtimes[rt.id]).map((rt) => `${rt.label} ${fullRow.runtimes[rt.id].cores_used.toFixed(2)}`);
    lines.push(`Cores busy (process CPU time / wall time, median) at width 1, depth 1, ${fullRow.batch} × ${fullRow.seq}: ${used.join(", ")}.`);
  }
  for (const [family, c] of Object.entries(r.export_choice)) lines.push(`${family}: plain export ${c.plain_median_ms.toFixed(0)} ms, fused ${c.fused_median_ms.toFixed(0)} ms at the full model 1 × 128 → ${c.variant} used.`);
  if (r.rss.length) {
    lines.push("", "| peak RSS, BERT-base 1 × 128 | max RSS MiB | process before the model MiB | weights MiB | max RSS − weights MiB |", "|---|---:|---:|---:|---:|");
    for (const x of r.rss) {
      if (x.error) lines.push(`| ${x.label} | ${x.error} | | | |`);
      else lines.push(`| ${x.label} | ${(x.maxRss / 2 ** 20).toFixed(0)} | ${(x.baselineMaxRss / 2 ** 20).toFixed(0)} | ${(x.weightsBytes / 2 ** 20).toFixed(0)} | ${x.excessMiB.toFixed(0)} |`);
    }
  }
  if (r.cold_start.length) {
    lines.push("", "| cold start, demo model (4 × 96, vocab 4000), 1 × 64 | median ms | compile + instantiate + load | first forward | runs |", "|---|---:|---:|---:|---:|");
    for (const c of r.cold_start) lines.push(c.error ? `| ${c.label} | ${c.error} | | | |` : `| ${c.label} | ${c.totalMs.toFixed(0)} | ${c.loadMs.toFixed(0)} | ${c.forwardMs.toFixed(1)} | ${c.runs} |`);
  }
  return lines.join("\n") + "\n";
}
