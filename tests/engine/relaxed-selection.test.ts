// Choosing the build of the core (LoadOptions.simd) in this process — Node 20
// without --experimental-wasm-relaxed-simd validates no relaxed SIMD, so here
// "auto" must fall back to the baseline and "relaxed" must fail with a typed
// error. (relaxed.test.ts checks the other side, in a process that runs it.)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DynaBert, OptionError, readBundledWasm } from "../../src/node.js";
import { checkSimdOption, pickWasmVariant, relaxedMaddRounding } from "../../src/wasm-variant.js";

const ROOT = join(import.meta.dirname, "..", "..");
const BASELINE = readFileSync(join(ROOT, "build", "release.wasm"));
const RELAXED = readFileSync(join(ROOT, "build", "release-relaxed.wasm"));
const H12 = join(ROOT, "tests", "fixtures", "golden", "h12");
const runsRelaxed = WebAssembly.validate(RELAXED) && relaxedMaddRounding() !== undefined;

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

function isOptionError(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof OptionError, `expected an OptionError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.option, "simd");
    return true;
  };
}

describe("LoadOptions.simd", () => {
  it('accepts "auto", "baseline", "relaxed" (undefined is "auto") and names anything else', () => {
    assert.equal(checkSimdOption(undefined), "auto");
    for (const s of ["auto", "baseline", "relaxed"]) assert.equal(checkSimdOption(s), s);
    for (const bad of ["fast", "Relaxed", "", 1, null, true]) {
      assert.throws(() => checkSimdOption(bad), (e: unknown) => isOptionError("SIMD_INVALID")(e) && (e as Error).message.includes(JSON.stringify(bad)));
    }
  });

  it("a bad value fails the load before any wasm is read", async () => {
    await assert.rejects(DynaBert.load(H12, { simd: "fast" as "auto" }), isOptionError("SIMD_INVALID"));
  });

  it('picks relaxed only where it runs; "baseline" never asks; "relaxed" where it cannot run is SIMD_UNSUPPORTED', () => {
    let asked = 0;
    const runs = (answer: boolean) => () => (asked++, answer);
    assert.equal(pickWasmVariant("baseline", runs(true)), "baseline");
    assert.equal(asked, 0);
    assert.equal(pickWasmVariant("auto", runs(true)), "relaxed");
    assert.equal(pickWasmVariant("auto", runs(false)), "baseline");
    assert.equal(pickWasmVariant("relaxed", runs(true)), "relaxed");
    assert.throws(() => pickWasmVariant("relaxed", runs(false)), isOptionError("SIMD_UNSUPPORTED"));
  });

  it("the bundled-wasm reader validates the relaxed build's bytes and falls back to release.wasm when validate says no", async () => {
    const seen: Uint8Array[] = [];
    const bytes = await readBundledWasm("auto", (b) => (seen.push(new Uint8Array(b as ArrayBuffer)), false));
    assert.ok(same(bytes, BASELINE), "auto with a failing validate must read build/release.wasm");
    assert.equal(seen.length, 1);
    assert.ok(same(seen[0], RELAXED), "validate was not given build/release-relaxed.wasm");
    assert.ok(same(await readBundledWasm("baseline", () => assert.fail("baseline must not validate")), BASELINE));
  });

  it("a validator that says yes is not enough: the relaxed_madd probe must run too", async () => {
    const bytes = await readBundledWasm("auto", () => true);
    assert.ok(same(bytes, runsRelaxed ? RELAXED : BASELINE), `runsRelaxed=${runsRelaxed}`);
  });

  it('"auto" and "baseline" load the baseline build here; wasmVariant says so', { skip: runsRelaxed && "this runtime runs relaxed SIMD" }, async () => {
    assert.equal((await DynaBert.load(H12)).wasmVariant, "baseline");
    assert.equal((await DynaBert.load(H12, { simd: "baseline" })).wasmVariant, "baseline");
  });

  it('"relaxed" in a runtime without relaxed SIMD is an OptionError that says what to do', { skip: runsRelaxed && "this runtime runs relaxed SIMD" }, async () => {
    await assert.rejects(DynaBert.load(H12, { simd: "relaxed" }), (e: unknown) => {
      isOptionError("SIMD_UNSUPPORTED")(e);
      assert.match((e as Error).message, /--experimental-wasm-relaxed-simd/);
      assert.match((e as Error).message, /"auto" or "baseline"/);
      return true;
    });
  });

  it('threads: 2 follows simd the same way: "auto" loads the baseline threaded build here, "relaxed" is SIMD_UNSUPPORTED before any worker starts', { skip: runsRelaxed && "this runtime runs relaxed SIMD" }, async () => {
    const model = await DynaBert.load(H12, { threads: 2 });
    try {
      assert.equal(model.wasmVariant, "baseline");
    } finally {
      model.dispose();
    }
    await assert.rejects(DynaBert.load(H12, { threads: 2, simd: "relaxed" }), isOptionError("SIMD_UNSUPPORTED"));
  });

  it("with options.wasm, simd is checked against the module: a mismatch is SIMD_MISMATCH, a match or auto loads", async () => {
    await assert.rejects(DynaBert.load(H12, { wasm: BASELINE, simd: "relaxed" }), isOptionError("SIMD_MISMATCH"));
    assert.equal((await DynaBert.load(H12, { wasm: BASELINE, simd: "baseline" })).wasmVariant, "baseline");
    assert.equal((await DynaBert.load(H12, { wasm: BASELINE })).wasmVariant, "baseline");
  });
});
