/**
 * Progress of long work: on a TTY one line rewritten in place with a bar,
 * ETA and the caller's fields; otherwise a plain log line every few seconds
 * (and at the end), so CI logs stay readable.
 */
export class Progress {
  private readonly start = performance.now();
  private lastLog = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly logEveryMs = 5000,
  ) {}

  /** `count` per second since this progress started, or "…" before there is a meaningful interval. */
  perSecond(count: number): string {
    const seconds = (performance.now() - this.start) / 1000;
    return seconds < 0.2 ? "…" : (count / seconds).toFixed(0);
  }

  update(done: number, fields: Record<string, string>): void {
    const now = performance.now();
    const elapsed = (now - this.start) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const info = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join("  ");
    if (this.stream.isTTY) {
      const width = 24;
      const filled = Math.round((done / this.total) * width);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      this.stream.write(`\r\x1b[K${this.label} ${bar} ${done}/${this.total}  ETA ${formatSeconds(eta)}  ${info}`);
      if (done >= this.total) this.stream.write("\n");
    } else if (done >= this.total || now - this.lastLog >= this.logEveryMs || done === 1) {
      this.lastLog = now;
      this.stream.write(`${this.label} ${done}/${this.total} (${((100 * done) / this.total).toFixed(0)}%)  elapsed ${formatSeconds(elapsed)}  ETA ${formatSeconds(eta)}  ${info}\n`);
    }
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
