/**
 * The memory a sub-network needs for one forward call: the weights it reads
 * plus the activation scratch the forward pass allocates in the arena.
 *
 * Counted: parametersUsed × 4 bytes (f32; embeddings, pooler and classifier
 * included, as the paper counts) and every scratch tensor model/forward.ts
 * allocates for (batch, seq), each rounded up to the arena's 64-byte
 * alignment. Not counted: the padding of packed weight panels, the wasm
 * module's own data below heap_base, the tokenizer, and the JS copies of
 * optional outputs (hidden states, attentions). The pooled and logits lines
 * are counted even for a checkpoint without a head (at most a few hundred bytes).
 */
import type { BertConfig } from "../checkpoint/config.js";
import { parametersUsed, type SubNetwork } from "../model/subnetwork.js";

/** Matches bindings/arena.ts: every tensor starts on a 64-byte line. */
const ARENA_ALIGN = 64;
export const BYTES_PER_MB = 1024 * 1024;

export function weightBytes(config: BertConfig, sub: SubNetwork): number {
  return parametersUsed(config, sub) * 4;
}

/** Arena bytes model/forward.ts allocates for one call at batch × seq (all 4-byte elements). */
export function activationBytes(config: BertConfig, sub: SubNetwork, batch: number, seq: number): number {
  const M = batch * seq;
  const D = config.hiddenSize;
  const A = sub.attentionWidth;
  const elements = [
    M, M, M, M, // input ids, token types, mask (i32), additive mask (f32): [B, S]
    M * D, M * D, M * D, // hidden, after-attention hidden, residual sum: [M, D]
    M * A, M * A, M * A, M * A, // query, key, value, context: [M, A]
    batch * sub.heads * seq * seq, // attention probabilities: [B, heads, S, S]
    M * sub.intermediate, // FFN intermediate: [M, I]
    batch * D, // pooled [CLS]: [B, D]
    batch * config.numLabels, // logits: [B, K]
  ];
  return elements.reduce((sum, n) => sum + Math.ceil((n * 4) / ARENA_ALIGN) * ARENA_ALIGN, 0);
}

export function memoryMB(config: BertConfig, sub: SubNetwork, batch: number, seq: number): number {
  return (weightBytes(config, sub) + activationBytes(config, sub, batch, seq)) / BYTES_PER_MB;
}
