// Merging a re-timing run into an earlier one (compare.bench.mjs --replace-in):
// a re-timed cell replaces the earlier cell only if other processes disturbed
// it less, so re-timing on a busy machine can never make a table worse.

const key = (r) => `${r.width} ${r.depth} ${r.batch} ${r.seq}`;
const disturbance = (r) => r.other_processes_cores ?? Infinity;

/** The earlier run with the less disturbed of each pair of rows; what was swapped in is listed under `reruns`. */
export function replaceRows(earlier, rerun) {
  const fresh = new Map(rerun.rows.map((r) => [key(r), { ...r, rerun_at: r.rerun_at ?? rerun.date }]));
  const replaced = [];
  const rows = earlier.rows.map((r) => {
    const candidate = fresh.get(key(r));
    if (!candidate || disturbance(candidate) >= disturbance(r)) return r;
    replaced.push(key(r));
    return candidate;
  });
  const reruns = [...(earlier.reruns ?? [])];
  if (replaced.length) reruns.push({ date: rerun.date, command: rerun.command, rows: replaced });
  return { ...earlier, rows, reruns };
}
