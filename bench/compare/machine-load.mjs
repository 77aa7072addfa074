// How much CPU other processes took while a cell was timed: the whole
// machine's busy time (/proc/stat) minus this process's own (all its threads,
// ort-web's workers included). A cell where this is well above zero was timed
// on a shared machine and its 2-thread columns especially are suspect.
// Linux only; elsewhere the figure is null.
import { readFileSync } from "node:fs";

const USER_HZ = 100; // /proc/stat ticks per second on Linux

function machineBusySeconds() {
  try {
    const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks;
    return (user + nice + system + irq + softirq + steal) / USER_HZ;
  } catch {
    return null;
  }
}

const ownSeconds = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

/** Starts a measurement; the returned function gives the other processes' average cores busy since then. */
export function startLoadMeter() {
  const busy0 = machineBusySeconds();
  const own0 = ownSeconds();
  const t0 = performance.now();
  return () => {
    const busy1 = machineBusySeconds();
    if (busy0 === null || busy1 === null) return null;
    const wall = (performance.now() - t0) / 1e3;
    return Math.max(0, (busy1 - busy0 - (ownSeconds() - own0)) / wall);
  };
}
