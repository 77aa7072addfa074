// The registry this project installs from mirrors only the linux-x64 build of
// some platform packages (deno's @deno/*), so `npm install` leaves the other
// platforms out of package-lock.json and `npm ci` then refuses the lock as
// out of sync. This adds lock entries for those optional packages (version,
// os, cpu, no tarball): npm ci skips them on a non-matching platform without
// fetching anything. Run after any `npm install`: node scripts/lock-platform-packages.mjs
import { readFileSync, writeFileSync } from "node:fs";

const PLATFORMS = {
  deno: {
    "@deno/win32-x64": { os: ["win32"], cpu: ["x64"] },
    "@deno/win32-arm64": { os: ["win32"], cpu: ["arm64"] },
    "@deno/darwin-x64": { os: ["darwin"], cpu: ["x64"] },
    "@deno/darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
    "@deno/linux-arm64-glibc": { os: ["linux"], cpu: ["arm64"], libc: ["glibc"] },
  },
};

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
let added = 0;
for (const [parent, platforms] of Object.entries(PLATFORMS)) {
  const parentEntry = lock.packages[`node_modules/${parent}`];
  if (!parentEntry) continue;
  for (const [name, constraint] of Object.entries(platforms)) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const version = parentEntry.optionalDependencies?.[name];
    if (!version) continue;
    lock.packages[key] = { version, ...constraint, dev: parentEntry.dev, license: "MIT", optional: true };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
console.log(`added ${added} platform package entries to package-lock.json`);
