// `npm pack` as a user receives it: only the built entries, types, the wasm,
// README and LICENSE; installable offline from the tarball alone; `import`
// and `require` of "dynabert" in Node load a folder with the bundled wasm;
// and a Worker importing "dynabert" gets the core entry, without node:fs.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { DynaBert } from "../../dist/node.js";
import { MODEL_DIR } from "./helpers/classify-cases.js";

const ROOT = join(import.meta.dirname, "..", "..");
const run = promisify(execFile);
const npm = (args: string[], cwd: string) => run("npm", args, { cwd, env: { ...process.env, npm_config_update_notifier: "false" } });

const EXPECTED_FILES = [
  "LICENSE",
  "README.md",
  "build/release-relaxed.wasm", // LoadOptions.simd (Node, Deno)
  "build/release-threads-relaxed.wasm", // LoadOptions.threads with relaxed SIMD (Node, Deno)
  "build/release-threads.wasm", // LoadOptions.threads (Node, Deno)
  "build/release.wasm",
  "dist/cli.js", // the `dynabert` bin
  "dist/index.cjs",
  "dist/index.d.cts",
  "dist/index.d.ts",
  "dist/index.js",
  "dist/node.cjs",
  "dist/node.d.cts",
  "dist/node.d.ts",
  "dist/node.js",
  "dist/threads-worker.js", // the worker script of LoadOptions.threads
  "package.json",
];
const TEXTS = ["bala bale bali", "zzz unknown", "ba be bi bo bu"];
const OPTIONS = { width: 0.5, depth: 0.75 };

describe("npm pack", () => {
  let scratch: string;
  let packed: { filename: string; size: number; files: { path: string }[] };

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "dynabert-pack-"));
    // --ignore-scripts: `prepare` would rebuild dist/ and build/, which CI has already built.
    const { stdout } = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", scratch], ROOT);
    [packed] = JSON.parse(stdout);
    const app = join(scratch, "app");
    await run("mkdir", [app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "scratch", private: true }));
    // Its one dependency is in the cache after `npm ci`; the registry is only a fallback.
    await npm(["install", "--prefer-offline", "--no-audit", "--no-fund", join(scratch, packed.filename)], app);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("holds only the built entries, their types, the wasm, README and LICENSE", () => {
    assert.deepEqual(packed.files.map((f) => f.path).sort(), EXPECTED_FILES);
  });

  it("installs with nothing but its runtime dependency", () => {
    const modules = join(scratch, "app", "node_modules");
    const installed = readdirSync(modules).filter((n) => !n.startsWith("."));
    const scoped = installed.filter((n) => n.startsWith("@")).flatMap((s) => readdirSync(join(modules, s)).map((n) => `${s}/${n}`));
    const deps = Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies ?? {});
    assert.deepEqual([...installed.filter((n) => !n.startsWith("@")), ...scoped].sort(), ["dynabert", ...deps].sort());
  });

  it("classifies from a folder through both import and require, as the repository build does", async () => {
    const expected = (await DynaBert.load(MODEL_DIR)).classify(TEXTS, OPTIONS);
    const app = join(scratch, "app");
    const call = `.load(${JSON.stringify(MODEL_DIR)})).classify(${JSON.stringify(TEXTS)}, ${JSON.stringify(OPTIONS)})`;
    writeFileSync(join(app, "esm.mjs"), `import { DynaBert } from "dynabert";\nconsole.log(JSON.stringify((await DynaBert${call}));\n`);
    writeFileSync(
      join(app, "cjs.cjs"),
      `const { DynaBert } = require("dynabert");\n(async () => console.log(JSON.stringify((await DynaBert${call})))();\n`,
    );
    for (const script of ["esm.mjs", "cjs.cjs"]) {
      const { stdout } = await run(process.execPath, [script], { cwd: app });
      assert.deepEqual(JSON.parse(stdout), expected, script);
    }
  });

  it("gives a Worker bundler the core entry: no Node built-ins, the wasm as a module", async () => {
    const app = join(scratch, "app");
    writeFileSync(
      join(app, "worker.js"),
      'import { DynaBert } from "dynabert";\nimport wasm from "dynabert/wasm/release.wasm";\n' +
        "export default { fetch: () => new Response(String(wasm instanceof WebAssembly.Module && typeof DynaBert.load)) };\n",
    );
    writeFileSync(join(app, "wrangler.toml"), 'name = "pack-check"\nmain = "worker.js"\ncompatibility_date = "2026-04-01"\n');
    await run(process.execPath, [join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", "out"], {
      cwd: app,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
    });
    const js = readFileSync(join(app, "out", "worker.js"), "utf8");
    assert.doesNotMatch(js, /from\s*["'](node:)?(fs|path)|readFile\(/, "the Worker bundle pulled in the Node entry");
    assert.match(js, /import wasm from "\.\/[0-9a-f]+-release\.wasm"/);
  });
});
