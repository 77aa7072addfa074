// `npm test`: the as-pect kernel tests, then every tests/**/*.test.ts with Node's
// test runner (through tsx). Ends with one "N passed, N failed" line for both.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { runAspect } from "./run-aspect.mjs";

function listTests(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...listTests(path));
    else if (name.endsWith(".test.ts")) found.push(path);
  }
  return found;
}

const filter = process.argv.slice(2);
const kernels = filter.length === 0 ? runAspect() : { passed: 0, failed: 0, status: 0 };

const files = listTests("tests").filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)));
const node = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], {
  encoding: "utf8",
  env: { ...process.env, FORCE_COLOR: "0" },
  maxBuffer: 1 << 28,
});
process.stdout.write(node.stdout ?? "");
process.stderr.write(node.stderr ?? "");
const count = (label) => Number((node.stdout ?? "").match(new RegExp(`ℹ ${label} (\\d+)`))?.[1] ?? 0);
const passed = kernels.passed + count("pass");
const failed = kernels.failed + count("fail") + (node.status !== 0 && count("fail") === 0 ? 1 : 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(kernels.status !== 0 || node.status !== 0 ? 1 : 0);
