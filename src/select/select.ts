/**
 * Budgeted selection: the most accurate (width, depth) whose predicted
 * latency, FLOPs and memory all fit the given budgets. Pure arithmetic over
 * the config and a latency model, so it costs microseconds per request.
 */
import type { BertConfig } from "../checkpoint/config.js";
import { OptionError } from "../errors.js";
import { flopsPerSequence, subNetwork } from "../model/subnetwork.js";
import { paperCandidates, storedSubnetTable, tableCandidates, type Candidate } from "./candidates.js";
import { predictLatencyMs, type LatencyModel } from "./latency-model.js";
import { memoryMB } from "./memory.js";

export interface Budget {
  /** Predicted ms of one forward call at (batch, seq). */
  readonly latencyMs?: number;
  /** FLOPs of one forward call: batch × FLOPs per sequence (pooler and classifier included). */
  readonly flops?: number;
  /** MiB (2^20 bytes) of weights read plus activation scratch (see memory.ts). */
  readonly memoryMB?: number;
}

export interface SelectOptions {
  /** Sequences per call. Default 1. */
  readonly batch?: number;
  /** Tokens per sequence. Default: the stored table's seq, else 128; capped at max_position_embeddings. */
  readonly seq?: number;
}

export interface Selection {
  readonly width: number;
  readonly depth: number;
  readonly predictedLatencyMs: number;
  /** FLOPs of one call at (batch, seq). */
  readonly flops: number;
  readonly memoryMB: number;
  /** Accuracy from the stored table; absent when the checkpoint has none. */
  readonly accuracy?: number;
  /** Why this one, in words. */
  readonly reason: string;
}

/** One candidate's predicted cost at (batch, seq). */
export interface CandidateCost extends Candidate {
  readonly predictedLatencyMs: number;
  readonly flops: number;
  readonly memoryMB: number;
}

const BUDGET_KEYS = ["latencyMs", "flops", "memoryMB"] as const;
type BudgetKey = (typeof BUDGET_KEYS)[number];
const COST_OF: Record<BudgetKey, (c: CandidateCost) => number> = {
  latencyMs: (c) => c.predictedLatencyMs,
  flops: (c) => c.flops,
  memoryMB: (c) => c.memoryMB,
};

export function checkBudget(budget: unknown): Budget {
  if (budget === null || typeof budget !== "object" || Array.isArray(budget)) {
    throw new OptionError("BUDGET_INVALID", "the budget must be an object { latencyMs?, flops?, memoryMB? }", { option: "budget" });
  }
  const entries = Object.entries(budget as Record<string, unknown>).filter(([, v]) => v !== undefined);
  for (const [key, value] of entries) {
    if (!(BUDGET_KEYS as readonly string[]).includes(key)) {
      throw new OptionError("BUDGET_UNKNOWN", `unknown budget ${JSON.stringify(key)}: use latencyMs, flops or memoryMB`, { option: key });
    }
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new OptionError("BUDGET_INVALID", `budget ${key} must be a positive finite number, got ${JSON.stringify(value)}`, { option: key });
    }
  }
  if (entries.length === 0) {
    throw new OptionError("BUDGET_EMPTY", "give at least one budget: latencyMs, flops or memoryMB", { option: "budget" });
  }
  return budget as Budget;
}

/** Batch and seq with their defaults, validated against the config. */
export function resolveShape(config: BertConfig, options: SelectOptions): { batch: number; seq: number } {
  const table = storedSubnetTable(config);
  const batch = options.batch ?? 1;
  const seq = options.seq ?? Math.min(table?.seq ?? 128, config.maxPositionEmbeddings);
  for (const [name, value] of [["batch", batch], ["seq", seq]] as const) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
      throw new OptionError("OPTION_INVALID", `${name} must be a positive integer, got ${JSON.stringify(value)}`, { option: name });
    }
  }
  if (seq > config.maxPositionEmbeddings) {
    throw new OptionError("OPTION_INVALID", `seq ${seq} exceeds max_position_embeddings ${config.maxPositionEmbeddings}`, { option: "seq" });
  }
  return { batch, seq };
}

/** Every candidate (table rows, else the paper's 12) with its predicted cost. */
export function candidateCosts(config: BertConfig, latency: LatencyModel, options: SelectOptions = {}): CandidateCost[] {
  const { batch, seq } = resolveShape(config, options);
  const table = storedSubnetTable(config);
  const candidates = table ? tableCandidates(table) : paperCandidates();
  return candidates.map((c) => {
    const sub = subNetwork(config, c.width, c.depth);
    const flops = flopsPerSequence(config, sub, seq) * batch;
    return { ...c, flops, predictedLatencyMs: predictLatencyMs(latency, flops), memoryMB: memoryMB(config, sub, batch, seq) };
  });
}

export function selectSubNetwork(config: BertConfig, budgetIn: unknown, latency: LatencyModel, options: SelectOptions = {}): Selection {
  const budget = checkBudget(budgetIn);
  const { batch, seq } = resolveShape(config, options);
  const costs = candidateCosts(config, latency, { batch, seq });
  const given = BUDGET_KEYS.filter((k) => budget[k] !== undefined);
  const fitting = costs.filter((c) => given.every((k) => COST_OF[k](c) <= budget[k]!));
  if (fitting.length === 0) throw unreachable(budget, given, costs, batch, seq);

  const hasAccuracy = costs.every((c) => c.accuracy !== undefined);
  // With a table: most accurate, then fewest FLOPs. Without: most FLOPs (the biggest that fits).
  // Remaining ties: less memory, then candidate order.
  const better = (a: CandidateCost, b: CandidateCost): boolean => {
    if (hasAccuracy && a.accuracy !== b.accuracy) return a.accuracy! > b.accuracy!;
    if (a.flops !== b.flops) return hasAccuracy ? a.flops < b.flops : a.flops > b.flops;
    return a.memoryMB < b.memoryMB;
  };
  const best = fitting.reduce((b, c) => (better(c, b) ? c : b));
  const within = given.map((k) => `${k} ≤ ${budget[k]}`).join(", ");
  const reason = hasAccuracy
    ? `most accurate (${(100 * best.accuracy!).toFixed(2)}% in the stored table) of ${fitting.length}/${costs.length} sub-networks within ${within} at batch ${batch} × seq ${seq}`
    : `largest (most FLOPs) of ${fitting.length}/${costs.length} sub-networks within ${within} at batch ${batch} × seq ${seq}; no accuracy table in config.json (run dynabert eval to store one)`;
  return {
    width: best.width,
    depth: best.depth,
    predictedLatencyMs: best.predictedLatencyMs,
    flops: best.flops,
    memoryMB: best.memoryMB,
    ...(best.accuracy === undefined ? {} : { accuracy: best.accuracy }),
    reason,
  };
}

function unreachable(budget: Budget, given: BudgetKey[], costs: CandidateCost[], batch: number, seq: number): OptionError {
  const minimum = (k: BudgetKey) => Math.min(...costs.map(COST_OF[k]));
  const tooSmall = given.filter((k) => minimum(k) > budget[k]!);
  // Each budget may be reachable alone but not together; then name them all.
  const named = tooSmall.length > 0 ? tooSmall : given;
  const parts = named.map((k) => `${k} ${budget[k]} (smallest achievable ${formatCost(k, minimum(k))})`);
  const why = tooSmall.length > 0 ? "is below what any sub-network needs" : "cannot all be met by one sub-network";
  return new OptionError("BUDGET_UNREACHABLE", `budget ${parts.join(", ")} ${why} at batch ${batch} × seq ${seq}`, {
    option: named[0],
    details: Object.fromEntries(named.map((k) => [k, { budget: budget[k], smallestAchievable: minimum(k) }])),
  });
}

function formatCost(key: BudgetKey, value: number): string {
  if (key === "latencyMs") return `${value.toFixed(3)} ms`;
  if (key === "memoryMB") return `${value.toFixed(3)} MB`;
  return `${Math.round(value)} FLOPs`;
}
