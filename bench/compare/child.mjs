// Runs a bench/compare child script in a fresh Node process and returns the
// JSON object it prints last. Children import dist/ (the shipped build), so
// tsx's loader is dropped from their flags (it would inflate RSS and import
// time); V8 flags such as --experimental-wasm-relaxed-simd are kept.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

function childExecArgv() {
  const out = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === "--import" || argv[i] === "--require" || argv[i] === "--loader") && /tsx/.test(argv[i + 1] ?? "")) i++;
    else if (/^--(import|require|loader)=.*tsx/.test(argv[i])) continue;
    else out.push(argv[i]);
  }
  return out;
}

export function runChild(script, args) {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...childExecArgv(), path, ...args], { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${script} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      const last = stdout.trim().split("\n").pop();
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script} printed no JSON:\n${stdout}\n${stderr}`));
      }
    });
  });
}
