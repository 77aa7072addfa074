/**
 * Starts the example Worker locally in workerd, the way it would be deployed:
 * wrangler bundles it (`deploy --dry-run --outdir`, no network, no account)
 * and miniflare serves that bundle on 127.0.0.1 over real HTTP.
 * Used by tests/runtimes/worker.test.ts and scripts/worker-soak.mjs.
 *
 *   const worker = await startWorker();   // { url, bundleDir, timings, stop() }
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const here = dirname(fileURLToPath(import.meta.url));
const wranglerBin = join(here, "../../node_modules/wrangler/bin/wrangler.js");

/** The module rules of wrangler.toml, in miniflare's spelling, for the bundle's side files. */
const MODULE_RULES = [
  { type: "CompiledWasm", include: ["**/*.wasm"] },
  { type: "Data", include: ["**/*.safetensors"] },
  { type: "Text", include: ["**/*.txt"] },
];

/** Bundles the Worker with wrangler into a fresh temporary folder; returns it. */
export function bundleWorker() {
  const outdir = mkdtempSync(join(tmpdir(), "dynabert-worker-"));
  const run = spawnSync(process.execPath, [wranglerBin, "deploy", "--dry-run", "--outdir", outdir], {
    cwd: here,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1" },
  });
  if (run.status !== 0) {
    rmSync(outdir, { recursive: true, force: true });
    throw new Error(`wrangler bundle failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
  return outdir;
}

export async function startWorker() {
  const t0 = performance.now();
  const bundleDir = bundleWorker();
  const t1 = performance.now();
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(bundleDir, "worker.js"),
    modulesRoot: bundleDir,
    modulesRules: MODULE_RULES,
    compatibilityDate: "2026-04-01",
    cf: false,
    host: "127.0.0.1",
    port: 0,
  });
  const url = await mf.ready;
  const t2 = performance.now();
  return {
    url,
    bundleDir,
    timings: { bundleMs: t1 - t0, startMs: t2 - t1 },
    async stop() {
      await mf.dispose();
      rmSync(bundleDir, { recursive: true, force: true });
    },
  };
}
