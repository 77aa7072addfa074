/**
 * DynaBERT's sub-network arithmetic (DESIGN.md §2), exactly as the reference
 * implementation computes it so checkpoints and results are interchangeable.
 */
import type { BertConfig } from "../checkpoint/config.js";
import { InputError } from "../errors.js";

export interface SubNetwork {
  readonly width: number;
  readonly depth: number;
  /** Attention heads kept per layer: round(H·width), at least 1. */
  readonly heads: number;
  /** Columns of Q/K/V kept: heads · attention head size. */
  readonly attentionWidth: number;
  /** FFN neurons kept: max(1, int(heads/H · intermediate_size)). */
  readonly intermediate: number;
  /** Indices of the layers run, ascending: floor(i / depth) for i < round(depth·L). */
  readonly keptLayers: readonly number[];
}

/** Python's round(): ties go to the even neighbour (JS Math.round sends them up). */
export function pythonRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function checkMultiplier(name: "width" | "depth", value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw InputError.multiplierOutOfRange(name, value as number);
  }
  return value;
}

export function subNetwork(config: BertConfig, width = 1, depth = 1): SubNetwork {
  checkMultiplier("width", width);
  checkMultiplier("depth", depth);
  const H = config.numAttentionHeads;
  const L = config.numHiddenLayers;
  // Below 1/(2H) the reference would keep zero heads and fail; keep one.
  const heads = Math.max(1, pythonRound(H * width));
  // Same float order as the reference: int(round(H·w)/H · full).
  const intermediate = Math.max(1, Math.trunc((heads / H) * config.intermediateSize));
  const depthCount = Math.max(1, pythonRound(depth * L));
  const keptLayers: number[] = [];
  for (let i = 0; i < depthCount; i++) keptLayers.push(Math.min(L - 1, Math.floor(i / depth)));
  return {
    width,
    depth,
    heads,
    attentionWidth: heads * config.attentionHeadSize,
    intermediate,
    keptLayers,
  };
}

/**
 * Multiply-adds ×2 of one sequence through the sub-network (the usual FLOPs
 * convention), counting the GEMMs and attention matmuls; softmax, LayerNorm
 * and GELU are O(S·D) and left out as every BERT FLOPs table does.
 */
export function flopsPerSequence(config: BertConfig, sub: SubNetwork, seq: number, withHead = true): number {
  const D = config.hiddenSize;
  const A = sub.attentionWidth;
  const I = sub.intermediate;
  const perLayer =
    2 * seq * D * A * 3 + // Q, K, V
    2 * seq * seq * A * 2 + // scores and P·V over the kept heads
    2 * seq * A * D + // attention output dense
    2 * seq * D * I * 2; // FFN in and out
  const head = withHead ? 2 * D * D + 2 * D * config.numLabels : 0;
  return perLayer * sub.keptLayers.length + head;
}

/** Parameters a sub-network touches (embeddings included, as the paper counts). */
export function parametersUsed(config: BertConfig, sub: SubNetwork, withHead = true): number {
  const D = config.hiddenSize;
  const A = sub.attentionWidth;
  const I = sub.intermediate;
  const embeddings = (config.vocabSize + config.maxPositionEmbeddings + config.typeVocabSize) * D + 2 * D;
  const perLayer = 3 * (D * A + A) + (A * D + D) + 2 * D + (D * I + I) + (I * D + D) + 2 * D;
  const head = withHead ? D * D + D + config.numLabels * D + config.numLabels : 0;
  return embeddings + perLayer * sub.keptLayers.length + head;
}
