/**
 * The (width, depth) configurations selection chooses from: the rows of the
 * accuracy table `dynabert eval` stored in config.json, else the paper's 12.
 */
import type { BertConfig } from "../checkpoint/config.js";
import { ConfigError } from "../errors.js";
import type { SubnetTable } from "../train/subnet-table.js";

// The same values as train/subnet-table.ts (a test holds them equal): importing
// that module would pull the trainer into the runtime bundle.
export const SUBNET_TABLE_KEY = "dynabert_subnetworks";
export const PAPER_WIDTHS = [1, 0.75, 0.5, 0.25] as const;
export const PAPER_DEPTHS = [1, 0.75, 0.5] as const;

export interface Candidate {
  readonly width: number;
  readonly depth: number;
  /** From the stored table; absent without one. */
  readonly accuracy?: number;
}

/** The paper's 12 configurations, widest and deepest first. */
export function paperCandidates(): Candidate[] {
  return PAPER_DEPTHS.flatMap((depth) => PAPER_WIDTHS.map((width) => ({ width, depth })));
}

/**
 * The stored table, checked enough that selection can trust it: rows with a
 * width and depth in (0, 1] and an accuracy in [0, 1]. Absent key → undefined.
 */
export function storedSubnetTable(config: BertConfig): SubnetTable | undefined {
  const raw = config.extra[SUBNET_TABLE_KEY];
  if (raw === undefined) return undefined;
  const bad = (why: string): never => {
    throw new ConfigError("CONFIG_FIELD_INVALID", `${SUBNET_TABLE_KEY} ${why}`, { field: SUBNET_TABLE_KEY });
  };
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) bad("must be an object { seq, examples, rows }");
  const table = raw as Partial<SubnetTable>;
  if (typeof table.seq !== "number" || !Number.isSafeInteger(table.seq) || table.seq <= 0) bad(`seq must be a positive integer, got ${JSON.stringify(table.seq)}`);
  if (!Array.isArray(table.rows) || table.rows.length === 0) bad("rows must be a non-empty array");
  table.rows!.forEach((row, i) => {
    const r = row as unknown as Record<string, unknown> | null;
    if (r === null || typeof r !== "object") bad(`rows[${i}] must be an object`);
    for (const key of ["width", "depth"] as const) {
      const v = r![key];
      if (typeof v !== "number" || !(v > 0 && v <= 1)) bad(`rows[${i}].${key} must be in (0, 1], got ${JSON.stringify(v)}`);
    }
    const acc = r!.accuracy;
    if (typeof acc !== "number" || !(acc >= 0 && acc <= 1)) bad(`rows[${i}].accuracy must be in [0, 1], got ${JSON.stringify(acc)}`);
  });
  return table as SubnetTable;
}

export function tableCandidates(table: SubnetTable): Candidate[] {
  return table.rows.map((r) => ({ width: r.width, depth: r.depth, accuracy: r.accuracy }));
}
