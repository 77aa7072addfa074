// The Deno example (deno 2.9.6 from npm) runs the built package and prints
// logits that equal Node's exactly: the same wasm gives the same f32 bits
// (`--simd baseline`). By default Deno, which validates relaxed SIMD, runs the
// relaxed build, whose logits may differ from Node's baseline ones by f32
// rounding only.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { before, describe, it } from "node:test";
import { DynaBert } from "../../dist/node.js";
import { MODEL_DIR } from "./helpers/classify-cases.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DENO = join(ROOT, "node_modules", "deno", "bin.cjs");
const SCRIPT = join(ROOT, "examples", "deno", "classify.ts");
const run = promisify(execFile);

function deno(args: string[]) {
  return run(process.execPath, [DENO, "run", "--allow-read", "--no-prompt", SCRIPT, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  });
}

const RUNS: { texts: string[]; width: number; depth: number }[] = [
  { texts: ["bala bale bali", "zzz unknown", ""], width: 1, depth: 1 },
  { texts: ["ba be bi bo bu", "balu, bama! bame?"], width: 0.5, depth: 0.75 },
  { texts: ["bapa bano"], width: 0.25, depth: 0.5 },
];

describe("Deno example", () => {
  let model: DynaBert;
  before(async () => {
    model = await DynaBert.load(MODEL_DIR);
  });

  const nodeLogits = (texts: string[], width: number, depth: number) => {
    const { logits } = model.forward(model.tokenize(texts), { width, depth });
    const K = model.config.numLabels;
    return texts.map((_, b) => Array.from(logits!.data.subarray(b * K, (b + 1) * K)));
  };

  for (const { texts, width, depth } of RUNS) {
    it(`prints Node's logits bit for bit at width ${width}, depth ${depth} with --simd baseline`, async () => {
      assert.equal(model.wasmVariant, "baseline");
      const { stdout } = await deno([MODEL_DIR, "--width", String(width), "--depth", String(depth), "--simd", "baseline", ...texts]);
      const printed = JSON.parse(stdout);
      assert.deepEqual(printed, { width, depth, wasmVariant: "baseline", labels: ["negative", "neutral", "positive"], logits: nodeLogits(texts, width, depth) });
    });
  }

  // The fixture's golden.json records PyTorch's own f32 error (against f64) per sub-network:
  // the size of an f32 rounding difference in this network. Node's baseline and Deno's relaxed
  // build are each an f32 evaluation about that far from exact, so they may differ by twice it.
  const golden = JSON.parse(readFileSync(join(MODEL_DIR, "golden.json"), "utf8")) as { configs: { max_abs_diff_f32_vs_f64: { logits: number } }[] };
  const tolerance = 2 * Math.max(...golden.configs.map((c) => c.max_abs_diff_f32_vs_f64.logits));

  for (const { texts, width, depth } of RUNS) {
    it(`by default runs the relaxed build, within twice PyTorch's f32 error of Node's baseline logits, at width ${width}, depth ${depth}`, async () => {
      const { stdout } = await deno([MODEL_DIR, "--width", String(width), "--depth", String(depth), ...texts]);
      const printed = JSON.parse(stdout) as { wasmVariant: string; logits: number[][] };
      assert.equal(printed.wasmVariant, "relaxed", "Deno 2.9 validates relaxed SIMD, so auto should pick the relaxed build");
      const expected = nodeLogits(texts, width, depth);
      assert.equal(printed.logits.length, expected.length);
      const diff = Math.max(...printed.logits.flatMap((row, b) => row.map((z, j) => Math.abs(z - expected[b][j]))));
      assert.ok(diff <= tolerance, `Deno relaxed vs Node baseline: max |Δlogit| ${diff} > ${tolerance}`);
    });
  }

  it("reports the package's typed error and exits 1 on a bad width", async () => {
    await assert.rejects(deno([MODEL_DIR, "--width", "2", "bala"]), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.equal(JSON.parse(e.stderr).error.code, "MULTIPLIER_OUT_OF_RANGE");
      return true;
    });
  });
});
