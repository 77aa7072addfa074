/**
 * Exact-duplicate removal and a deterministic, stratified train/dev/test
 * split keyed by the text itself — no PRNG, no dependence on input order,
 * so the split is the same on every run, machine and JS runtime.
 *
 * The rule, per stratum (e.g. label) of n items:
 *   1. order the items by (FNV-1a 32-bit hash of the text's UTF-8 bytes,
 *      then the text by UTF-16 code units — never localeCompare, which
 *      varies by locale — to break hash ties);
 *   2. n_dev = round(n·dev/100), n_test = round(n·test/100),
 *      n_train = n − n_dev − n_test (percentages are integers);
 *   3. the first n_train items go to train, the next n_dev to dev, the rest to test.
 * Each split then lists its items in that same (hash, text) order, strata mixed.
 * Deduplicate first: two equal texts would otherwise be free to land in two splits.
 */
import { TaskError } from "./errors.js";

export interface SplitPercents {
  /** Percent of each stratum in dev; an integer. Default 10. */
  readonly dev?: number;
  /** Percent of each stratum in test; an integer. Default 10. Train gets the rest. */
  readonly test?: number;
}

export interface Splits<T> {
  readonly train: T[];
  readonly dev: T[];
  readonly test: T[];
}

export interface Deduplicated<T> {
  /** The first item of every distinct text whose copies all agree on their stratum, in input order. */
  readonly kept: T[];
  /** Items dropped as later copies of a kept text. */
  readonly duplicates: number;
  /** Items dropped because copies of their text disagree on the stratum (e.g. one ham, one spam). */
  readonly conflicting: number;
}

/** Keeps one item per distinct text; a text whose copies disagree on `stratum` is dropped altogether. */
export function dedupeByText<T extends { readonly text: string }>(items: readonly T[], stratum: (item: T) => number | string): Deduplicated<T> {
  const byText = new Map<string, { first: T; count: number; agree: boolean }>();
  for (const item of items) {
    const seen = byText.get(item.text);
    if (seen === undefined) byText.set(item.text, { first: item, count: 1, agree: true });
    else {
      seen.count++;
      if (stratum(seen.first) !== stratum(item)) seen.agree = false;
    }
  }
  const kept: T[] = [];
  let duplicates = 0;
  let conflicting = 0;
  for (const { first, count, agree } of byText.values()) {
    if (agree) {
      kept.push(first);
      duplicates += count - 1;
    } else {
      conflicting += count;
    }
  }
  return { kept, duplicates, conflicting };
}

export function stratifiedSplit<T extends { readonly text: string }>(
  items: readonly T[],
  stratum: (item: T) => number | string,
  percents: SplitPercents = {},
): Splits<T> {
  const dev = percent(percents.dev ?? 10, "dev");
  const test = percent(percents.test ?? 10, "test");
  if (dev + test > 100) throw new TaskError("OPTION_INVALID", `dev (${dev}%) and test (${test}%) together exceed 100%`, { option: "percents" });
  const keyed = items.map((item) => ({ item, hash: fnv1a32(item.text) }));
  const strata = new Map<number | string, typeof keyed>();
  for (const k of keyed) {
    const s = stratum(k.item);
    const list = strata.get(s);
    if (list === undefined) strata.set(s, [k]);
    else list.push(k);
  }
  const train: typeof keyed = [];
  const devOut: typeof keyed = [];
  const testOut: typeof keyed = [];
  for (const list of strata.values()) {
    list.sort(byHashThenText);
    const n = list.length;
    const nDev = Math.round((n * dev) / 100);
    const nTest = Math.round((n * test) / 100);
    const nTrain = n - nDev - nTest;
    train.push(...list.slice(0, nTrain));
    devOut.push(...list.slice(nTrain, nTrain + nDev));
    testOut.push(...list.slice(nTrain + nDev));
  }
  const ordered = (list: typeof keyed) => list.sort(byHashThenText).map((k) => k.item);
  return { train: ordered(train), dev: ordered(devOut), test: ordered(testOut) };
}

function byHashThenText(a: { hash: number; item: { text: string } }, b: { hash: number; item: { text: string } }): number {
  if (a.hash !== b.hash) return a.hash - b.hash;
  return a.item.text < b.item.text ? -1 : a.item.text > b.item.text ? 1 : 0;
}

function percent(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 100) {
    throw new TaskError("OPTION_INVALID", `${name} must be an integer percentage in 0…100, got ${String(value)}`, { option: name });
  }
  return value;
}

const UTF8 = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`: an unsigned integer. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of UTF8.encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}
