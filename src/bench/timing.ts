/**
 * Times one sub-network's forward pass the way `dynabert bench` reports it:
 * warm-up, then `runs` timed calls, median and minimum. (bench/ uses
 * benchmark.js for the recorded tables; this is the on-device one-liner.)
 */
import type { DynaBert } from "../dynabert.js";
import { flopsPerSequence } from "../model/subnetwork.js";

export interface TimingResult {
  readonly median_ms: number;
  readonly min_ms: number;
  /** FLOPs of one call (all sequences of the batch). */
  readonly flops: number;
  /** flops / median time. */
  readonly gflops: number;
  readonly runs: number;
}

export interface TimingOptions {
  readonly batch: number;
  readonly seq: number;
  readonly width: number;
  readonly depth: number;
  readonly runs: number;
  readonly warmup?: number;
}

/** A deterministic batch of ids in [5, vocab) with a full attention mask. */
export function syntheticBatch(vocabSize: number, batch: number, seq: number): { inputIds: Int32Array[] } {
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const rows = Array.from({ length: batch }, () => Int32Array.from({ length: seq }, () => 5 + (next() % (vocabSize - 5))));
  return { inputIds: rows };
}

export function timeForward(model: DynaBert, options: TimingOptions): TimingResult {
  const input = syntheticBatch(model.config.vocabSize, options.batch, options.seq);
  const sub = model.subNetwork(options);
  for (let i = 0; i < (options.warmup ?? 2); i++) model.forward(input, options);
  const times: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const start = performance.now();
    model.forward(input, options);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  const flops = flopsPerSequence(model.config, sub, options.seq) * options.batch;
  return { median_ms: median, min_ms: times[0], flops, gflops: flops / (median * 1e6), runs: options.runs };
}
