// Interleaved timing of several runtimes on one (sub-network, shape) cell:
// one call per runtime per round, the starting runtime rotating each round,
// so load from elsewhere and thermal or frequency drift land on every runtime
// alike instead of on whichever happened to be timed during a bad minute.
// Every call here takes ≥ 10 ms, so each sample is one call timed alone
// (what benchmark.js itself does once a call outlasts its minimum sample time).

export const TOLERANCE = 1e-3;

export class CrossCheckError extends Error {}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Largest |a − b| and where, NaN counting as infinitely far. */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) return { diff: Infinity, index: -1 };
  let diff = 0;
  let index = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= diff)) {
      diff = Number.isNaN(d) ? Infinity : d;
      index = i;
    }
  }
  return { diff, index };
}

/**
 * First call of every runtime on the cell: the warm-up, and the check that its
 * logits equal the reference runtime's (the first one) within TOLERANCE.
 * Returns { [id]: { warmMs, maxAbsDiff, maxAbsLogit } }; throws CrossCheckError naming the
 * runtime, cell and difference otherwise.
 */
export async function crossCheck(runtimes, cell) {
  const out = {};
  let reference;
  for (const rt of runtimes) {
    const { ms, logits } = await rt.run(cell);
    if (!reference) reference = { label: rt.label, logits: Float32Array.from(logits) };
    const { diff, index } = maxAbsDiff(logits, reference.logits);
    if (!(diff <= TOLERANCE)) {
      throw new CrossCheckError(
        `${rt.label} logits differ from ${reference.label}'s by ${diff} (> ${TOLERANCE}) at index ${index} ` +
          `(${logits[index]} vs ${reference.logits[index]}) for width ${cell.width}, depth ${cell.depth}, batch ${cell.batch} × seq ${cell.seq}: not timing a wrong answer`,
      );
    }
    out[rt.id] = { warmMs: ms, maxAbsDiff: diff, maxAbsLogit: Math.max(...Array.from(logits, Math.abs)) };
  }
  return out;
}

/**
 * Rounds until every runtime has `minRounds` samples and either `seconds` have
 * passed or `maxRounds` are done. Returns { [id]: { ms: number[], cpuMs: number[] } }.
 */
export async function sampleInterleaved(runtimes, cell, { minRounds, maxRounds, seconds }) {
  const samples = Object.fromEntries(runtimes.map((rt) => [rt.id, { ms: [], cpuMs: [] }]));
  const start = performance.now();
  for (let round = 0; round < maxRounds; round++) {
    if (round >= minRounds && performance.now() - start >= seconds * 1e3) break;
    for (let k = 0; k < runtimes.length; k++) {
      const rt = runtimes[(round + k) % runtimes.length];
      const { ms, cpuMs } = await rt.run(cell);
      samples[rt.id].ms.push(ms);
      samples[rt.id].cpuMs.push(cpuMs);
    }
  }
  return samples;
}
