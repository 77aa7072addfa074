// BERT masking: how many positions each sequence predicts, which ones may be
// chosen, the 80/10/10 corruption split within binomial bounds, uniform
// choice of positions and of random tokens, and determinism from the seed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../src/train/data.js";
import { IGNORE_LABEL, maskTokens, predictionCount, type MaskingOptions } from "../../src/train/mlm/masking.js";

const V = 120;
const [PAD, UNK, CLS, SEP, MASK] = [0, 1, 2, 3, 4];
const OPTIONS: MaskingOptions = { probability: 0.15, maskTokenId: MASK, randomVocab: V, specialIds: new Set([PAD, UNK, CLS, SEP, MASK]) };

/** `rows` sequences `[CLS] … [SEP] [PAD]…` of content length `lengths(b)`, a fraction `unkRate` of the content [UNK]. */
function corpus(rows: number, seq: number, lengths: (b: number) => number, seed: number, unkRate = 0) {
  const random = seededRandom(seed);
  const ids = new Int32Array(rows * seq).fill(PAD);
  const mask = new Int32Array(rows * seq);
  for (let b = 0; b < rows; b++) {
    const n = lengths(b);
    const row = [CLS, ...Array.from({ length: n }, () => (random() < unkRate ? UNK : 5 + Math.floor(random() * (V - 5)))), SEP];
    ids.set(row, b * seq);
    mask.fill(1, b * seq, b * seq + row.length);
  }
  return { ids, mask };
}

/** Python's round (BERT's reference rounds this way), written out independently of the engine's. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  if (x - f !== 0.5) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}

/** |observed − expected| within `sigmas` binomial standard deviations. */
function withinBinomial(observed: number, trials: number, p: number, sigmas: number, what: string) {
  const sd = Math.sqrt(trials * p * (1 - p));
  assert.ok(Math.abs(observed - trials * p) <= sigmas * sd, `${what}: ${observed} of ${trials}, expected ${(trials * p).toFixed(1)} ± ${sigmas}·${sd.toFixed(1)}`);
}

describe("BERT masking", () => {
  it("predicts max(1, round(0.15·n)) of each sequence's n candidates, never a special or padding token", () => {
    const rows = 500;
    const seq = 130;
    const { ids, mask } = corpus(rows, seq, (b) => b % 128, 1, 0.03); // content lengths 0…127, [UNK]s among them
    const out = maskTokens(ids, mask, rows, seq, OPTIONS, seededRandom(7));
    let predicted = 0;
    let candidatesTotal = 0;
    for (let b = 0; b < rows; b++) {
      let candidates = 0;
      let chosen = 0;
      for (let s = 0; s < seq; s++) {
        const i = b * seq + s;
        const candidate = mask[i] === 1 && !OPTIONS.specialIds.has(ids[i]);
        if (candidate) candidates++;
        if (out.labels[i] !== IGNORE_LABEL) {
          assert.ok(candidate, `row ${b} position ${s} (id ${ids[i]}, mask ${mask[i]}) must not be predicted`);
          assert.equal(out.labels[i], ids[i], "the label is the original token");
          chosen++;
        } else {
          assert.equal(out.inputIds[i], ids[i], `row ${b} position ${s}: unpredicted tokens stay as they were`);
        }
      }
      const expected = candidates === 0 ? 0 : Math.max(1, roundHalfEven(candidates * 0.15));
      assert.equal(chosen, expected, `row ${b}: ${candidates} candidates`);
      predicted += chosen;
      candidatesTotal += candidates;
    }
    assert.equal(predicted, out.counts.predicted);
    // Long sequences hold the 15% rate; the max(1, ·) lifts it slightly for short ones.
    const rate = predicted / candidatesTotal;
    assert.ok(rate >= 0.15 && rate <= 0.16, `overall rate ${rate}`);
    assert.equal(predictionCount(0, 0.15), 0);
    assert.equal(predictionCount(1, 0.15), 1);
    assert.equal(predictionCount(10, 0.15), 2); // 1.5 rounds half to even
    assert.equal(predictionCount(100, 0.15), 15);
    assert.equal(predictionCount(3, 1), 3);
  });

  it("corrupts 80% to [MASK], 10% to a random token, keeps 10%, within binomial bounds", () => {
    const rows = 2000;
    const seq = 66;
    const { ids, mask } = corpus(rows, seq, () => 64, 2);
    const out = maskTokens(ids, mask, rows, seq, OPTIONS, seededRandom(11));
    let n = 0;
    let masked = 0;
    let same = 0;
    let other = 0;
    const randomTokens = new Array<number>(V).fill(0);
    for (let i = 0; i < ids.length; i++) {
      if (out.labels[i] === IGNORE_LABEL) continue;
      n++;
      if (out.inputIds[i] === MASK) masked++;
      else if (out.inputIds[i] === ids[i]) same++;
      else {
        other++;
        randomTokens[out.inputIds[i]]++;
      }
    }
    assert.equal(n, rows * 10); // round(64 · 0.15) = 10 per row
    // A random draw can hit [MASK] or the original token itself (1/V each).
    withinBinomial(masked, n, 0.8 + 0.1 / V, 5, "[MASK]");
    withinBinomial(same, n, 0.1 + 0.1 / V, 5, "unchanged");
    withinBinomial(other, n, 0.1 * (1 - 2 / V), 5, "random token");
    // Random tokens come uniformly from the whole vocabulary, specials included (as BERT and HF draw
    // them): χ² over the ids. A draw equal to [MASK] or to the original (uniform over the 115 ids ≥ 5)
    // is not seen as "other", hence the expected counts.
    let chi2 = 0;
    for (let id = 0; id < V; id++) {
      if (id === MASK) continue;
      const expected = ((n * 0.1) / V) * (id < 5 ? 1 : 1 - 1 / (V - 5));
      chi2 += (randomTokens[id] - expected) ** 2 / expected;
    }
    const df = V - 2;
    assert.ok(chi2 < df + 6 * Math.sqrt(2 * df), `χ² ${chi2.toFixed(1)} with ${df} degrees of freedom`);
    assert.ok(randomTokens[PAD] + randomTokens[CLS] + randomTokens[SEP] > 0, "specials are among the random draws");
  });

  it("chooses positions uniformly", () => {
    const rows = 4000;
    const seq = 22;
    const { ids, mask } = corpus(rows, seq, () => 20, 3);
    const out = maskTokens(ids, mask, rows, seq, OPTIONS, seededRandom(5));
    const perPosition = new Array<number>(seq).fill(0);
    for (let i = 0; i < ids.length; i++) if (out.labels[i] !== IGNORE_LABEL) perPosition[i % seq]++;
    assert.equal(perPosition[0], 0, "[CLS]");
    assert.equal(perPosition[21], 0, "[SEP]");
    for (let s = 1; s <= 20; s++) withinBinomial(perPosition[s], rows, 3 / 20, 5, `position ${s}`); // round(20 · 0.15) = 3 of 20
  });

  it("the same seed gives the same masks; another seed does not", () => {
    const { ids, mask } = corpus(64, 40, (b) => 5 + (b % 30), 4, 0.03);
    const run = (seed: number) => maskTokens(ids, mask, 64, 40, OPTIONS, seededRandom(seed));
    assert.deepEqual(run(3), run(3));
    assert.notDeepEqual(run(3).labels, run(4).labels);
  });

  it("rejects a probability outside (0, 1]", () => {
    const { ids, mask } = corpus(1, 5, () => 3, 1);
    for (const probability of [0, -0.1, 1.5, NaN]) {
      assert.throws(() => maskTokens(ids, mask, 1, 5, { ...OPTIONS, probability }, seededRandom(1)), { code: "BAD_FLAG" });
    }
  });
});
