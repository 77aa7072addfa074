/**
 * Checks a batch against the model before any of it reaches wasm: a bad id
 * must become an InputError naming the row and column, never an
 * out-of-bounds read in a kernel.
 */
import type { BertConfig } from "../checkpoint/config.js";
import { InputError } from "../errors.js";

export type IdRows = ArrayLike<ArrayLike<number>>;

export interface BatchInput {
  /** `[batch][seq]` token ids; every row the same length (pad them). */
  readonly inputIds: IdRows;
  /** `[batch][seq]` of 0/1; default all ones. */
  readonly attentionMask?: IdRows;
  /** `[batch][seq]` segment ids; default all zeros. */
  readonly tokenTypeIds?: IdRows;
}

export interface CheckedBatch {
  readonly batch: number;
  readonly seq: number;
  /** Flattened `[batch][seq]` each. */
  readonly inputIds: Int32Array;
  readonly attentionMask: Int32Array;
  readonly tokenTypeIds: Int32Array;
}

type Rejection = (value: number, row: number, position: number) => InputError;

export function checkBatch(config: BertConfig, input: BatchInput): CheckedBatch {
  const ids = input?.inputIds;
  if (!isRows(ids)) throw new InputError("RAGGED_BATCH", "inputIds must be an array of rows of token ids");
  const batch = ids.length;
  if (batch === 0) throw InputError.emptyBatch();
  const seq = rowOf(ids, 0, "inputIds").length;
  if (seq === 0) throw new InputError("EMPTY_BATCH", "inputIds row 0 is empty: a sequence needs at least one token");
  if (seq > config.maxPositionEmbeddings) throw InputError.sequenceTooLong(seq, config.maxPositionEmbeddings);

  const inputIds = flatten(ids, batch, seq, "inputIds", config.vocabSize, (v, b, s) => InputError.tokenIdOutOfRange(v, config.vocabSize, b, s));
  const attentionMask =
    input.attentionMask === undefined
      ? new Int32Array(batch * seq).fill(1)
      : flatten(input.attentionMask, batch, seq, "attentionMask", 2, InputError.maskValueInvalid);
  const tokenTypeIds =
    input.tokenTypeIds === undefined
      ? new Int32Array(batch * seq)
      : flatten(input.tokenTypeIds, batch, seq, "tokenTypeIds", config.typeVocabSize, (v, b, s) =>
          InputError.tokenTypeIdOutOfRange(v, config.typeVocabSize, b, s),
        );
  return { batch, seq, inputIds, attentionMask, tokenTypeIds };
}

function isRows(x: unknown): x is IdRows {
  return x !== null && typeof x === "object" && typeof (x as IdRows).length === "number";
}

function rowOf(rows: IdRows, b: number, what: string): ArrayLike<number> {
  const row = rows[b];
  if (!isRows(row)) throw new InputError("RAGGED_BATCH", `${what} row ${b} is not an array`);
  return row;
}

/** Copies `[batch][seq]` into one Int32Array, checking each value is an integer in [0, limit). */
function flatten(rows: IdRows, batch: number, seq: number, what: string, limit: number, reject: Rejection): Int32Array {
  if (!isRows(rows) || rows.length !== batch) {
    throw new InputError("RAGGED_BATCH", `${what} must have ${batch} rows like inputIds, got ${isRows(rows) ? rows.length : typeof rows}`);
  }
  const out = new Int32Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    const row = rowOf(rows, b, what);
    if (row.length !== seq) throw InputError.raggedBatch(what, b, row.length, seq);
    for (let s = 0; s < seq; s++) {
      const v = row[s];
      if (!Number.isInteger(v) || v < 0 || v >= limit) throw reject(v, b, s);
      out[b * seq + s] = v;
    }
  }
  return out;
}
