// The Deno example (deno 2.9.6 from npm) runs the built package and prints
// logits that equal Node's exactly: the same wasm gives the same f32 bits.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
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

  for (const { texts, width, depth } of RUNS) {
    it(`prints Node's logits bit for bit at width ${width}, depth ${depth}`, async () => {
      const { stdout } = await deno([MODEL_DIR, "--width", String(width), "--depth", String(depth), ...texts]);
      const printed = JSON.parse(stdout);
      const { logits } = model.forward(model.tokenize(texts), { width, depth });
      const K = model.config.numLabels;
      const expected = texts.map((_, b) => Array.from(logits!.data.subarray(b * K, (b + 1) * K)));
      assert.deepEqual(printed, { width, depth, labels: ["negative", "neutral", "positive"], logits: expected });
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
