// model.select(): on the h12 fixture, with and without an (invented) accuracy
// table, every choice is checked by brute force over all candidates against
// the model's measured latency fit; impossible and malformed budgets fail
// typed; switching to the chosen sub-network allocates no wasm memory.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DynaBert, flopsPerSequence, subNetwork, syntheticBatch } from "../../src/node.js";
import { ConfigError, OptionError } from "../../src/errors.js";
import { PAPER_DEPTHS, PAPER_WIDTHS, SUBNET_TABLE_KEY } from "../../src/select/candidates.js";
import * as trainTable from "../../src/train/subnet-table.js";
import type { LatencyModel } from "../../src/select/latency-model.js";
import { memoryMB } from "../../src/select/memory.js";
import type { Budget, Selection } from "../../src/select/select.js";

const H12 = join(import.meta.dirname, "..", "fixtures", "golden", "h12");
const SEQ = 32;

const PAPER = PAPER_DEPTHS.flatMap((depth) => PAPER_WIDTHS.map((width) => ({ width, depth })));

/** Invented accuracies: rising with size plus noise, so not monotone in FLOPs, and one tie. */
function inventedTable(): { seq: number; examples: number; rows: object[] } {
  let state = 99;
  const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const rows = PAPER.map(({ width, depth }) => ({ width, depth, accuracy: Math.round((0.7 + 0.2 * width * depth + 0.06 * rand()) * 1000) / 1000, flops: 0, params: 0, latency_ms: 0 }));
  rows[5].accuracy = rows[2].accuracy; // a tie, settled by fewer FLOPs
  return { seq: SEQ, examples: 100, rows };
}

interface Cost {
  width: number;
  depth: number;
  accuracy?: number;
  flops: number;
  latency: number;
  memory: number;
}

/** Independent recomputation of every candidate's cost at batch × SEQ. */
function bruteCosts(model: DynaBert, lm: LatencyModel, batch: number, accuracy?: Map<string, number>): Cost[] {
  return PAPER.map(({ width, depth }) => {
    const sub = subNetwork(model.config, width, depth);
    const flops = flopsPerSequence(model.config, sub, SEQ) * batch;
    return { width, depth, accuracy: accuracy?.get(`${width},${depth}`), flops, latency: lm.interceptMs + lm.msPerFlop * flops, memory: memoryMB(model.config, sub, batch, SEQ) };
  });
}

function fits(c: Cost, b: Budget): boolean {
  return (b.latencyMs === undefined || c.latency <= b.latencyMs) && (b.flops === undefined || c.flops <= b.flops) && (b.memoryMB === undefined || c.memory <= b.memoryMB);
}

function find(costs: Cost[], s: Selection): Cost {
  const c = costs.find((x) => x.width === s.width && x.depth === s.depth);
  assert.ok(c, `selected (${s.width}, ${s.depth}) is not a candidate`);
  return c;
}

/** Budgets at and between every candidate's cost, alone and combined. */
function budgetsFrom(costs: Cost[]): Budget[] {
  const out: Budget[] = [];
  const sorted = [...costs].sort((a, b) => a.flops - b.flops);
  for (let i = 0; i < sorted.length; i++) {
    const c = sorted[i];
    const next = sorted[i + 1] ?? c;
    out.push({ latencyMs: c.latency * (1 + 1e-9) }, { flops: (c.flops + next.flops) / 2 }, { memoryMB: c.memory * (1 + 1e-9) });
    out.push({ latencyMs: next.latency * (1 + 1e-9), memoryMB: c.memory * (1 + 1e-9) });
  }
  out.push({ latencyMs: 1e9, flops: 1e15, memoryMB: 1e6 });
  return out;
}

describe("select without an accuracy table", () => {
  let model: DynaBert;
  before(async () => {
    model = await DynaBert.load(H12);
  });

  it("rejects bad budgets before probing", () => {
    const bad: Array<[unknown, string]> = [
      [{}, "BUDGET_EMPTY"],
      [{ latencyMs: undefined }, "BUDGET_EMPTY"],
      [null, "BUDGET_INVALID"],
      [[5], "BUDGET_INVALID"],
      [{ latencyMs: -1 }, "BUDGET_INVALID"],
      [{ latencyMs: 0 }, "BUDGET_INVALID"],
      [{ flops: Number.NaN }, "BUDGET_INVALID"],
      [{ memoryMB: Infinity }, "BUDGET_INVALID"],
      [{ memoryMB: "5" }, "BUDGET_INVALID"],
      [{ latency: 5 }, "BUDGET_UNKNOWN"],
    ];
    for (const [budget, code] of bad) {
      assert.throws(() => model.select(budget as Budget), (e: unknown) => e instanceof OptionError && e.code === code, JSON.stringify(budget));
    }
    assert.equal(model.latencyModel, undefined, "a bad budget must not start the probe");
    assert.throws(() => model.select({ flops: 1e9 }, { seq: 41 }), (e: unknown) => e instanceof OptionError && e.option === "seq");
  });

  it("picks the largest sub-network that fits every budget", () => {
    for (const batch of [1, 2]) {
      model.select({ flops: 1e15 }, { seq: SEQ, batch }); // probes once, on first use
      const lm = model.latencyModel!;
      assert.ok(lm.probe && lm.msPerFlop > 0);
      const costs = bruteCosts(model, lm, batch);
      for (const budget of budgetsFrom(costs)) {
        const s = model.select(budget, { seq: SEQ, batch });
        const chosen = find(costs, s);
        assert.ok(fits(chosen, budget), `(${s.width}, ${s.depth}) breaks ${JSON.stringify(budget)}`);
        assert.equal(s.accuracy, undefined);
        assert.equal(s.flops, chosen.flops);
        assert.ok(Math.abs(s.predictedLatencyMs - chosen.latency) <= 1e-12 * chosen.latency);
        const larger = costs.filter((c) => fits(c, budget) && c.flops > chosen.flops);
        assert.deepEqual(larger, [], `larger sub-networks fit ${JSON.stringify(budget)}`);
        assert.match(s.reason, /largest/);
      }
    }
  });

  it("names the budget and the smallest achievable value when nothing fits", () => {
    const costs = bruteCosts(model, model.calibrate(), 1);
    const minFlops = Math.min(...costs.map((c) => c.flops));
    const minLatency = Math.min(...costs.map((c) => c.latency));
    assert.throws(
      () => model.select({ flops: minFlops - 1, memoryMB: 1e6 }, { seq: SEQ }),
      (e: unknown) =>
        e instanceof OptionError &&
        e.code === "BUDGET_UNREACHABLE" &&
        e.option === "flops" &&
        e.message.includes(`smallest achievable ${minFlops} FLOPs`) &&
        (e.details as Record<string, { smallestAchievable: number }>).flops.smallestAchievable === minFlops,
    );
    assert.throws(
      () => model.select({ latencyMs: minLatency / 2 }, { seq: SEQ }),
      (e: unknown) => e instanceof OptionError && e.option === "latencyMs" && /budget latencyMs [0-9.e-]+ \(smallest achievable [0-9.]+ ms\)/.test(e.message),
    );
  });

  it("uses an injected latency model instead of probing", async () => {
    const fresh = await DynaBert.load(H12);
    fresh.latencyModel = { interceptMs: 1, msPerFlop: 1e-6, fit: "least-squares" };
    const costs = bruteCosts(fresh, fresh.latencyModel, 1);
    const budget = { latencyMs: costs[6].latency + 1e-9 };
    const s = fresh.select(budget, { seq: SEQ });
    assert.equal(fresh.latencyModel.probe, undefined, "no probe ran");
    assert.ok(s.predictedLatencyMs <= budget.latencyMs);
    assert.throws(() => {
      fresh.latencyModel = { interceptMs: 1, msPerFlop: -1, fit: "least-squares" };
    }, OptionError);
  });

  it("switches to the chosen sub-network with no new wasm memory or copies", () => {
    const batch = syntheticBatch(model.config.vocabSize, 2, SEQ);
    model.forward(batch, { width: 1, depth: 1 }); // the largest, once
    const memory = model.memoryBytes;
    const used = model.engine.core.arena.usedBytes;
    for (const budget of budgetsFrom(bruteCosts(model, model.calibrate(), 2))) {
      const s = model.select(budget, { seq: SEQ, batch: 2 });
      model.forward(batch, s);
    }
    for (const c of PAPER) model.forward(batch, c);
    assert.equal(model.memoryBytes, memory);
    assert.equal(model.engine.core.arena.usedBytes, used);
  });
});

describe("select with the accuracy table in config.json", () => {
  let dir: string;
  let model: DynaBert;
  let accuracy: Map<string, number>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "dynabert-select-"));
    cpSync(H12, dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    const table = inventedTable();
    config[SUBNET_TABLE_KEY] = table;
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    accuracy = new Map(table.rows.map((r) => { const row = r as { width: number; depth: number; accuracy: number }; return [`${row.width},${row.depth}`, row.accuracy]; }));
    model = await DynaBert.load(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("picks the most accurate sub-network within budget (ties: fewer FLOPs)", () => {
    const s0 = model.select({ flops: 1e15 }); // default seq is the table's
    const costs = bruteCosts(model, model.latencyModel!, 1, accuracy);
    assert.equal(s0.flops, find(costs, s0).flops, "default seq is the table's seq");
    const chosenSet = new Set<string>();
    let differsFromLargest = 0;
    for (const budget of budgetsFrom(costs)) {
      const s = model.select(budget);
      const chosen = find(costs, s);
      chosenSet.add(`${s.width},${s.depth}`);
      assert.ok(fits(chosen, budget), `(${s.width}, ${s.depth}) breaks ${JSON.stringify(budget)}`);
      assert.equal(s.accuracy, chosen.accuracy);
      const better = costs.filter(
        (c) => fits(c, budget) && (c.accuracy! > chosen.accuracy! || (c.accuracy === chosen.accuracy && c.flops < chosen.flops)),
      );
      assert.deepEqual(better, [], `a better sub-network fits ${JSON.stringify(budget)}`);
      assert.match(s.reason, /most accurate/);
      const largest = costs.filter((c) => fits(c, budget)).reduce((a, c) => (c.flops > a.flops ? c : a));
      if (largest !== chosen) differsFromLargest++;
    }
    assert.ok(differsFromLargest > 0, "the invented table should make accuracy and size disagree somewhere");
    assert.ok(chosenSet.size >= 3, `budgets should exercise several choices, got ${[...chosenSet].join(" ")}`);
  });

  it("rejects a malformed stored table", async () => {
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    config[SUBNET_TABLE_KEY].rows[3].accuracy = 97.5; // a percentage, not a fraction
    const bad = await DynaBert.load({ config: JSON.stringify(config), weights: new Uint8Array(readFileSync(join(dir, "model.safetensors"))) });
    bad.latencyModel = { interceptMs: 0, msPerFlop: 1e-6, fit: "through-origin" };
    assert.throws(() => bad.select({ flops: 1e15 }), (e: unknown) => e instanceof ConfigError && e.field === SUBNET_TABLE_KEY && /rows\[3\]\.accuracy/.test(e.message));
  });
});

it("keeps the paper grid and table key equal to train/subnet-table.ts", () => {
  assert.deepEqual(PAPER_WIDTHS, trainTable.PAPER_WIDTHS);
  assert.deepEqual(PAPER_DEPTHS, trainTable.PAPER_DEPTHS);
  assert.equal(SUBNET_TABLE_KEY, trainTable.SUBNET_TABLE_KEY);
});
