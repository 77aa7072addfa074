/**
 * Starts the example Worker locally in workerd, the way it would be deployed:
 * wrangler bundles it (`deploy --dry-run --outdir`, no network, no account)
 * and miniflare serves that bundle on 127.0.0.1 over real HTTP.
 * Used by tests/runtimes/worker.test.ts and scripts/worker-soak.mjs.
 *
 *   const worker = await startWorker();   // { url, bundleDir, timings, stop() }
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
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

/**
 * The bundle's size as Cloudflare counts it against the plan limit (1 MB free,
 * 10 MB paid): every module of the upload, gzip-compressed.
 */
export function bundleSizes(bundleDir) {
  let raw = 0;
  let gzip = 0;
  for (const name of readdirSync(bundleDir)) {
    if (name.endsWith(".map") || name === "README.md") continue;
    const bytes = readFileSync(join(bundleDir, name));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gzip };
}

/**
 * Peak resident memory (VmHWM) of the workerd processes this process spawned:
 * an upper bound on what the isolate used, since it also counts workerd itself.
 * Linux only (reads /proc); undefined elsewhere.
 */
export function workerdPeakRssBytes() {
  let peak;
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (!/^Name:\s*workerd/m.test(status) || !new RegExp(`^PPid:\\s*${process.pid}$`, "m").test(status)) continue;
      const kb = Number(/^VmHWM:\s*(\d+) kB/m.exec(status)?.[1]);
      if (Number.isFinite(kb)) peak = Math.max(peak ?? 0, kb * 1024);
    } catch {
      // the process ended while we looked
    }
  }
  return peak;
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
