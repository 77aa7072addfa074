/**
 * Run by relaxed.test.ts in a process that validates relaxed SIMD (Node 20:
 * `node --experimental-wasm-relaxed-simd --import tsx`): runs relaxed-jobs.ts'
 * cases and the golden models on the relaxed build (one thread, and two on
 * the threaded relaxed build), checks what the default load picks there, and prints one JSON object for the test to judge.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { instantiateCore } from "../../bindings/index.js";
import { DynaBert, readBundledWasm } from "../../src/node.js";
import { relaxedMaddRounding } from "../../src/wasm-variant.js";
import { ATTENTION_CASES, encodeF32, FIXTURES, GEMM_CASES, MODEL_FIXTURES, runAttention, runGemm } from "./relaxed-jobs.js";

const BUILD = join(import.meta.dirname, "..", "..", "build");
const relaxedBytes = readFileSync(join(BUILD, "release-relaxed.wasm"));
const core = await instantiateCore(relaxedBytes);

const gemm = Object.fromEntries(
  GEMM_CASES.map((c) => {
    const r = runGemm(core, c);
    return [c.name, { out: encodeF32(r.out), dInp: encodeF32(r.dInp), dW: encodeF32(r.dW) }];
  }),
);
const attention = Object.fromEntries(
  ATTENTION_CASES.map((c) => {
    const r = runAttention(core, c);
    return [c.name, { ctx: encodeF32(r.ctx), probs: encodeF32(r.probs) }];
  }),
);

/** Logits and hidden states of every sub-network golden.json lists, on the fixture's inputs, by config name. */
function subnetworkOutputs(model: DynaBert, dir: string): Record<string, { logits: string; hidden: string }> {
  const inputs = JSON.parse(readFileSync(join(dir, "inputs.json"), "utf8"));
  const meta = JSON.parse(readFileSync(join(dir, "golden.json"), "utf8")) as { configs: { name: string; width: number; depth: number }[] };
  const out: Record<string, { logits: string; hidden: string }> = {};
  for (const cfg of meta.configs) {
    const result = model.forward(
      { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask, tokenTypeIds: inputs.token_type_ids },
      { width: cfg.width, depth: cfg.depth, hiddenStates: true },
    );
    out[cfg.name] = { logits: encodeF32(result.logits!.data), hidden: encodeF32(result.hiddenStates!.data) };
  }
  return out;
}

const models: Record<string, Record<string, { logits: string; hidden: string }>> = {};
for (const fixture of MODEL_FIXTURES) {
  const dir = join(FIXTURES, fixture);
  models[fixture] = subnetworkOutputs(await DynaBert.load(dir, { simd: "relaxed" }), dir);
}

const h12 = join(FIXTURES, "h12");
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const selection = {
  autoVariant: (await DynaBert.load(h12)).wasmVariant,
  baselineVariant: (await DynaBert.load(h12, { simd: "baseline" })).wasmVariant,
  relaxedVariant: (await DynaBert.load(h12, { simd: "relaxed" })).wasmVariant,
  autoReadsRelaxed: sameBytes(await readBundledWasm("auto"), relaxedBytes),
  autoWithFailingValidateReadsBaseline: sameBytes(await readBundledWasm("auto", () => false), readFileSync(join(BUILD, "release.wasm"))),
};

// Two threads on the relaxed threaded build: the variant "auto" and "relaxed" pick, and the
// logits and hidden states of every h12 sub-network, to compare with one relaxed thread above.
const threaded = await DynaBert.load(h12, { threads: 2, simd: "relaxed" });
const threadedAuto = await DynaBert.load(h12, { threads: 2 });
const threadedBaseline = await DynaBert.load(h12, { threads: 2, simd: "baseline" });
const threads = {
  relaxedVariant: threaded.wasmVariant,
  autoVariant: threadedAuto.wasmVariant,
  baselineVariant: threadedBaseline.wasmVariant,
  h12: subnetworkOutputs(threaded, h12),
};
for (const m of [threaded, threadedAuto, threadedBaseline]) m.dispose();

process.stdout.write(JSON.stringify({ node: process.version, rounding: relaxedMaddRounding(), gemm, attention, models, selection, threads }));
