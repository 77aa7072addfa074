// Runs the as-pect kernel tests and prints the plain "N passed, N failed" line
// CI reads (as-pect's own summary is "[Tests]: 2 / 3"). Exit code is as-pect's.
import { spawnSync } from "node:child_process";

export function runAspect() {
  const r = spawnSync("npx", ["asp", "--no-logo"], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
  const out = (r.stdout ?? "") + (r.stderr ?? "");
  process.stdout.write(out);
  const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
  const m = plain.match(/\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/);
  const total = m ? Number(m[2]) : 0;
  const passed = m ? Number(m[1]) : 0;
  const failed = r.status === 0 && m ? total - passed : Math.max(1, total - passed);
  return { passed, failed, status: r.status ?? 1 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { passed, failed, status } = runAspect();
  console.log(`kernels: ${passed} passed, ${failed} failed`);
  process.exit(status);
}
