/**
 * A small SVG line chart (accuracy against FLOPs, one line per method, as in
 * the paper's figures) with no dependencies, so reports render anywhere.
 */

export interface Series {
  readonly name: string;
  /** CSS colour; default from a palette by index. */
  readonly color?: string;
  /** SVG stroke-dasharray, e.g. "6 3"; default solid. */
  readonly dash?: string;
  /** Points in any order; drawn sorted by x. */
  readonly points: ReadonlyArray<{ x: number; y: number; label?: string }>;
}

export interface PlotOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** A horizontal reference line (e.g. the teacher's accuracy). */
  readonly reference?: { y: number; label: string };
  readonly width?: number;
  readonly height?: number;
}

export const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

export function lineChartSvg(series: readonly Series[], options: PlotOptions): string {
  const W = options.width ?? 640;
  const H = options.height ?? 420;
  const m = { left: 64, right: 170, top: 40, bottom: 52 };
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).concat(options.reference ? [options.reference.y] : []);
  const [x0, x1] = niceRange(Math.min(0, ...xs), Math.max(...xs));
  const [y0, y1] = niceRange(Math.min(...ys), Math.max(...ys));
  const px = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * (W - m.left - m.right);
  const py = (y: number) => H - m.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - m.top - m.bottom);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2 - m.right / 2 + m.left / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`);
  for (const t of ticks(x0, x1)) {
    out.push(`<line x1="${px(t)}" y1="${m.top}" x2="${px(t)}" y2="${H - m.bottom}" stroke="#eee"/>`);
    out.push(`<text x="${px(t)}" y="${H - m.bottom + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    out.push(`<line x1="${m.left}" y1="${py(t)}" x2="${W - m.right}" y2="${py(t)}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end">${formatTick(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  if (options.reference) {
    const y = py(options.reference.y);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${W - m.right}" y2="${y}" stroke="#555" stroke-dasharray="5 4"/>`);
  }
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(" ")}"/>`);
    for (const p of pts) {
      out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(p.label ?? `${s.name}: ${p.y}`)}</title></circle>`);
    }
    const ly = m.top + 14 + i * 20;
    out.push(`<line x1="${W - m.right + 12}" y1="${ly - 4}" x2="${W - m.right + 36}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${W - m.right + 42}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  if (options.reference) {
    const ly = m.top + 14 + series.length * 20;
    out.push(`<line x1="${W - m.right + 12}" y1="${ly - 4}" x2="${W - m.right + 36}" y2="${ly - 4}" stroke="#555" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${W - m.right + 42}" y="${ly}">${escapeXml(options.reference.label)}</text>`);
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function niceRange(lo: number, hi: number): [number, number] {
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.06;
  return [lo - pad, hi + pad];
}

function ticks(lo: number, hi: number): number[] {
  const span = hi - lo;
  const step0 = Math.pow(10, Math.floor(Math.log10(span / 5)));
  const step = [1, 2, 5, 10].map((f) => f * step0).find((s) => span / s <= 7) ?? step0 * 10;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function formatTick(t: number): string {
  return Math.abs(t) >= 1000 || (Math.abs(t) < 0.01 && t !== 0) ? t.toExponential(1) : String(Number(t.toPrecision(4)));
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}
