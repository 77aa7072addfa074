// The built package's threads (dist/threads-worker.js started by dist/node.js
// or dist/node.cjs) in fresh processes: Node through import and require, and
// Deno through the same Node entry. Each prints its logits with every call
// split across the threads; they must equal the single-threaded ones of the
// same build exactly (this process's, for the baseline build; Deno runs the
// relaxed pair), and the process must exit on its own — whether or not the
// model was disposed (the workers are unref'd).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { before, describe, it } from "node:test";
import { DynaBert } from "../../dist/node.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DENO = join(ROOT, "node_modules", "deno", "bin.cjs");
const MODEL_DIR = join(ROOT, "tests", "fixtures", "golden", "h6odd");
const run = promisify(execFile);
/** Generous: a process that waits on its workers would never exit, and this is the bound on that. */
const EXIT_TIMEOUT_MS = 60_000;

const INPUT = {
  inputIds: [[2, 5, 7, 9, 3, 11, 4], [2, 8, 3, 0, 0, 0, 0]],
  attentionMask: [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0]],
};

/** The body every runtime runs, given how it gets DynaBert and whether it disposes. */
function script(threads: number, dispose: boolean): string {
  return `
const model = await DynaBert.load(${JSON.stringify(MODEL_DIR)}, { threads: ${threads} });
const core = model.engine.core;
core.cutover = { linear: 0, attention: 0, layernorm: 0, gelu: 0, add: 0 };
const input = ${JSON.stringify(INPUT)};
const { logits } = model.forward({ inputIds: input.inputIds.map((r) => Int32Array.from(r)), attentionMask: input.attentionMask.map((r) => Int32Array.from(r)) });
const single = await DynaBert.load(${JSON.stringify(MODEL_DIR)}, { threads: 1 });
const alone = single.forward({ inputIds: input.inputIds.map((r) => Int32Array.from(r)), attentionMask: input.attentionMask.map((r) => Int32Array.from(r)) });
console.log(JSON.stringify({ logits: Array.from(logits.data), split: core.splitCalls.linear_forward, variant: model.wasmVariant, singleVariant: single.wasmVariant, single: Array.from(alone.logits.data) }));
${dispose ? "model.dispose();" : ""}`;
}

const RUNNERS: Record<string, (threads: number, dispose: boolean) => Promise<{ stdout: string }>> = {
  "Node, import": (t, d) =>
    run(process.execPath, ["--input-type=module", "-e", `import { DynaBert } from ${JSON.stringify(join(ROOT, "dist", "node.js"))};\n${script(t, d)}`], { cwd: ROOT, timeout: EXIT_TIMEOUT_MS }),
  "Node, require": (t, d) =>
    run(process.execPath, ["-e", `const { DynaBert } = require(${JSON.stringify(join(ROOT, "dist", "node.cjs"))});\n(async () => {${script(t, d)}})();`], { cwd: ROOT, timeout: EXIT_TIMEOUT_MS }),
  // deno eval runs inside the repository, so "@assemblyscript/loader" resolves from its node_modules.
  Deno: (t, d) =>
    run(process.execPath, [DENO, "eval", "--ext=ts", `import { DynaBert } from ${JSON.stringify(join(ROOT, "dist", "node.js"))};\n${script(t, d)}`], {
      cwd: ROOT,
      timeout: EXIT_TIMEOUT_MS,
      env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    }),
};

describe("threads in fresh processes of the built package", () => {
  let expected: number[];
  before(async () => {
    const model = await DynaBert.load(MODEL_DIR);
    const { logits } = model.forward({ inputIds: INPUT.inputIds.map((r) => Int32Array.from(r)), attentionMask: INPUT.attentionMask.map((r) => Int32Array.from(r)) });
    expected = Array.from(logits!.data);
  });

  for (const [runtime, runner] of Object.entries(RUNNERS)) {
    for (const [threads, dispose] of [[2, false], [3, true]] as const) {
      it(`${runtime}, ${threads} threads, ${dispose ? "disposed" : "not disposed"}: single-threaded logits exactly, and the process exits`, async () => {
        const { stdout } = await runner(threads, dispose);
        const printed = JSON.parse(stdout);
        assert.ok(printed.split > 0, "no call was split");
        // "auto" picks the same build family on one thread and on several: relaxed where the
        // runtime runs relaxed SIMD (Deno), baseline elsewhere (Node 20 without the flag).
        assert.equal(printed.variant, printed.singleVariant);
        assert.deepEqual(printed.logits, printed.single, "threaded logits differ from one thread's in the same process");
        if (printed.variant === "baseline") assert.deepEqual(printed.logits, expected);
      });
    }
  }
});
