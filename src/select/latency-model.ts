/**
 * The on-device latency model: latency ≈ a + b·FLOPs, fitted by least squares
 * to a short probe of a few sub-networks. In this engine every width is a
 * prefix of the same packed GEMM panels, so time follows FLOPs closely
 * (BENCHMARKS.md: all 12 sub-networks within 10% of FLOPs-predicted); `a`
 * absorbs the per-call cost FLOPs do not count (embeddings, LayerNorm, JS).
 *
 * The model is plain JSON so a Worker can be handed one measured elsewhere:
 * Workers' clock does not advance during synchronous compute, so a probe
 * there measures nothing.
 */
import { syntheticBatch } from "../bench/timing.js";
import type { DynaBert } from "../dynabert.js";
import { OptionError } from "../errors.js";
import { flopsPerSequence } from "../model/subnetwork.js";

export interface LatencyPoint {
  readonly width: number;
  readonly depth: number;
  /** FLOPs of one call (batch × per-sequence). */
  readonly flops: number;
  /** Median wall time of one forward call, ms. */
  readonly ms: number;
}

export interface LatencyModel {
  /** a: ms per forward call that FLOPs do not explain (≥ 0). */
  readonly interceptMs: number;
  /** b: ms per FLOP (> 0). */
  readonly msPerFlop: number;
  /** "least-squares" (a, b free) or "through-origin" (a = 0) when the free fit gave a < 0 or b ≤ 0. */
  readonly fit: "least-squares" | "through-origin";
  /** What was measured, when this model came from a probe (absent for a hand-made model). */
  readonly probe?: {
    readonly batch: number;
    readonly seq: number;
    readonly points: readonly LatencyPoint[];
    /** Wall time the whole probe took, warm-up included. */
    readonly elapsedMs: number;
  };
}

export interface CalibrateOptions {
  /** Sequences per probe call. Default 1. */
  readonly batch?: number;
  /** Tokens per probe sequence. Default min(64, max_position_embeddings). */
  readonly seq?: number;
  /** Stop starting new rounds once this much time has gone. Default 200 ms; at least one timed round always runs. */
  readonly budgetMs?: number;
  /** Timed rounds at most (each times every probe sub-network once). Default 5. */
  readonly maxRounds?: number;
}

/**
 * The probe's sub-networks: the largest and smallest paper configurations
 * first (they set the slope), then three between them.
 */
export const PROBE_CONFIGS: ReadonlyArray<{ readonly width: number; readonly depth: number }> = [
  { width: 1, depth: 1 },
  { width: 0.25, depth: 0.5 },
  { width: 0.5, depth: 0.75 },
  { width: 0.75, depth: 0.5 },
  { width: 0.5, depth: 1 },
];

/** Predicted ms of one forward call costing `flops`. */
export function predictLatencyMs(model: LatencyModel, flops: number): number {
  return model.interceptMs + model.msPerFlop * flops;
}

/** Times the probe sub-networks on this device and fits a + b·FLOPs. */
export function calibrateLatency(model: DynaBert, options: CalibrateOptions = {}): LatencyModel {
  const batch = positiveInteger("batch", options.batch ?? 1);
  const seq = positiveInteger("seq", options.seq ?? Math.min(64, model.config.maxPositionEmbeddings));
  if (seq > model.config.maxPositionEmbeddings) {
    throw new OptionError("PROBE_SEQ_TOO_LONG", `calibration seq ${seq} exceeds max_position_embeddings ${model.config.maxPositionEmbeddings}`, {
      option: "seq",
    });
  }
  const budgetMs = positiveNumber("budgetMs", options.budgetMs ?? 200);
  const maxRounds = positiveInteger("maxRounds", options.maxRounds ?? 5);

  const input = syntheticBatch(model.config.vocabSize, batch, seq);
  const start = performance.now();
  // One untimed call each: the first call of a shape pays for wasm tier-up and scratch growth.
  for (const c of PROBE_CONFIGS) model.forward(input, c);
  const samples: number[][] = PROBE_CONFIGS.map(() => []);
  for (let round = 0; round < maxRounds; round++) {
    if (round > 0 && performance.now() - start >= budgetMs) break;
    PROBE_CONFIGS.forEach((c, i) => {
      const t0 = performance.now();
      model.forward(input, c);
      samples[i].push(performance.now() - t0);
    });
  }
  const elapsedMs = performance.now() - start;
  const points = PROBE_CONFIGS.map((c, i) => ({
    width: c.width,
    depth: c.depth,
    flops: flopsPerSequence(model.config, model.subNetwork(c), seq) * batch,
    ms: median(samples[i]),
  }));
  const fitted = fitLatency(points);
  return { ...fitted, probe: { batch, seq, points, elapsedMs } };
}

/** Least-squares a + b·x; falls back to b·x through the origin when that is not a physical fit. */
export function fitLatency(points: readonly LatencyPoint[]): Omit<LatencyModel, "probe"> {
  if (points.length < 2) throw new OptionError("PROBE_TOO_SMALL", `a latency fit needs at least 2 points, got ${points.length}`);
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.flops, 0) / n;
  const mt = points.reduce((s, p) => s + p.ms, 0) / n;
  let sxx = 0;
  let sxt = 0;
  for (const p of points) {
    sxx += (p.flops - mx) ** 2;
    sxt += (p.flops - mx) * (p.ms - mt);
  }
  const b = sxx > 0 ? sxt / sxx : 0;
  const a = mt - b * mx;
  if (b > 0 && a >= 0) return { interceptMs: a, msPerFlop: b, fit: "least-squares" };
  // Noise on a tiny model can tilt the free fit; proportional time is the physical floor.
  const sx2 = points.reduce((s, p) => s + p.flops * p.flops, 0);
  const b0 = points.reduce((s, p) => s + p.flops * p.ms, 0) / sx2;
  if (!(b0 > 0) || !Number.isFinite(b0)) {
    throw new OptionError(
      "CLOCK_UNRESOLVED",
      "the latency probe measured no time (in Cloudflare Workers the clock does not advance during compute): pass a latency model measured elsewhere (model.latencyModel = …)",
    );
  }
  return { interceptMs: 0, msPerFlop: b0, fit: "through-origin" };
}

/** Validates a latency model handed in from outside (e.g. JSON from another process). */
export function checkLatencyModel(value: unknown): LatencyModel {
  const m = value as Partial<LatencyModel> | null;
  if (m === null || typeof m !== "object") {
    throw new OptionError("LATENCY_MODEL_INVALID", "latencyModel must be an object { interceptMs, msPerFlop, fit }", { option: "latencyModel" });
  }
  if (typeof m.interceptMs !== "number" || !Number.isFinite(m.interceptMs) || m.interceptMs < 0) {
    throw new OptionError("LATENCY_MODEL_INVALID", `latencyModel.interceptMs must be a finite number ≥ 0, got ${JSON.stringify(m.interceptMs)}`, {
      option: "latencyModel",
    });
  }
  if (typeof m.msPerFlop !== "number" || !Number.isFinite(m.msPerFlop) || m.msPerFlop <= 0) {
    throw new OptionError("LATENCY_MODEL_INVALID", `latencyModel.msPerFlop must be a finite number > 0, got ${JSON.stringify(m.msPerFlop)}`, {
      option: "latencyModel",
    });
  }
  return { ...(m as LatencyModel), fit: m.fit === "through-origin" ? "through-origin" : "least-squares" };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new OptionError("OPTION_INVALID", `${name} must be a positive integer, got ${JSON.stringify(value)}`, { option: name });
  }
  return value;
}

function positiveNumber(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new OptionError("OPTION_INVALID", `${name} must be a positive finite number, got ${JSON.stringify(value)}`, { option: name });
  }
  return value;
}
