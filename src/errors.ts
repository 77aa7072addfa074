/**
 * Typed errors. Everything this package throws on bad input is a DynaBertError
 * with a stable `code` (for programs) and a message that names the offending
 * file, tensor, field or position (for people).
 */

/** Extra facts about an error, for programs that want more than the message. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/** Codes are open-ended strings; the unions below list the ones this package throws. */
type OpenCode<Known extends string> = Known | (string & {});

export class DynaBertError extends Error {
  override name = "DynaBertError";
  readonly code: string;
  readonly details?: ErrorDetails;

  constructor(code: string, message: string, details?: ErrorDetails) {
    super(message);
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

export type CheckpointErrorCode = OpenCode<
  | "HEADER_TOO_SMALL" // file shorter than the 8-byte header length
  | "HEADER_TOO_LARGE" // header length above the 100 MB limit
  | "HEADER_PAST_END" // header length runs past the end of the file
  | "HEADER_START" // header does not begin with '{'
  | "HEADER_UTF8" // header is not valid UTF-8
  | "HEADER_JSON" // header is not valid JSON (or has duplicate keys, non-integer numbers)
  | "METADATA_INVALID" // __metadata__ is not a string→string map
  | "TENSOR_ENTRY_INVALID" // a header entry is not {dtype, shape, data_offsets}
  | "DTYPE_UNKNOWN" // dtype not in the safetensors spec
  | "SHAPE_INVALID" // shape not a list of non-negative integers
  | "OFFSETS_INVALID" // data_offsets not two integers with begin ≤ end
  | "OFFSETS_PAST_END" // data_offsets end past the data buffer
  | "BYTE_LENGTH_MISMATCH" // end − begin ≠ numel × dtype size
  | "TENSORS_OVERLAP" // two tensors share bytes
  | "BUFFER_GAP" // bytes between tensors that no tensor indexes
  | "BUFFER_TRAILING_BYTES" // bytes after the last tensor that no tensor indexes
  | "TENSOR_UNKNOWN" // a name that is not a BERT parameter
  | "TENSOR_DUPLICATE" // two names map to the same parameter
  | "TENSOR_MISSING" // an expected parameter is absent
  | "SHAPE_MISMATCH" // a parameter's shape disagrees with config.json
  | "DTYPE_UNSUPPORTED" // a parameter stored in a dtype other than F32/F16/BF16
  | "WRITE_INVALID" // writer given an inconsistent tensor or metadata
>;

/** A checkpoint file (safetensors) or one of its tensors is unusable. */
export class CheckpointError extends DynaBertError {
  override name = "CheckpointError";
  declare readonly code: CheckpointErrorCode;
  /** The file the problem is in, when known. */
  readonly file?: string;
  /** The tensor the problem is about: its name in the file, or the canonical name of a missing one. */
  readonly tensor?: string;

  constructor(
    code: CheckpointErrorCode,
    message: string,
    where: { file?: string; tensor?: string; details?: ErrorDetails } = {},
  ) {
    super(code, where.file !== undefined ? `${where.file}: ${message}` : message, where.details);
    if (where.file !== undefined) this.file = where.file;
    if (where.tensor !== undefined) this.tensor = where.tensor;
  }
}

export type ConfigErrorCode = OpenCode<
  | "CONFIG_JSON" // not valid JSON, or not an object
  | "CONFIG_FIELD_MISSING" // a required field is absent
  | "CONFIG_FIELD_INVALID" // a field has the wrong type or an impossible value
  | "CONFIG_UNSUPPORTED" // a valid HF setting this engine does not implement
>;

/** A model configuration (config.json) is invalid or asks for something unsupported. */
export class ConfigError extends DynaBertError {
  override name = "ConfigError";
  declare readonly code: ConfigErrorCode;
  readonly file?: string;
  /** The config.json key at fault, when there is one. */
  readonly field?: string;

  constructor(
    code: ConfigErrorCode,
    message: string,
    where: { file?: string; field?: string; details?: ErrorDetails } = {},
  ) {
    super(code, where.file !== undefined ? `${where.file}: ${message}` : message, where.details);
    if (where.file !== undefined) this.file = where.file;
    if (where.field !== undefined) this.field = where.field;
  }
}

export type InputErrorCode = OpenCode<
  | "TOKEN_ID_OUT_OF_RANGE"
  | "TOKEN_TYPE_ID_OUT_OF_RANGE"
  | "SEQUENCE_TOO_LONG"
  | "MULTIPLIER_OUT_OF_RANGE"
  | "EMPTY_BATCH"
  | "RAGGED_BATCH"
  | "MASK_VALUE_INVALID"
>;

/**
 * Bad model input. The static constructors build the messages for the common
 * cases so every caller words them the same way, with the offending value and
 * its position.
 */
export class InputError extends DynaBertError {
  override name = "InputError";
  declare readonly code: InputErrorCode;

  constructor(code: InputErrorCode, message: string, details?: ErrorDetails) {
    super(code, message, details);
  }

  /** A token id outside [0, vocabSize) at row `batchIndex`, column `position`. */
  static tokenIdOutOfRange(id: number, vocabSize: number, batchIndex: number, position: number): InputError {
    return new InputError(
      "TOKEN_ID_OUT_OF_RANGE",
      `token id ${id} at batch row ${batchIndex}, position ${position} is out of range: vocab_size is ${vocabSize}, so ids must be integers in 0…${vocabSize - 1}`,
      { id, vocabSize, batchIndex, position },
    );
  }

  /** A token type id outside [0, typeVocabSize). */
  static tokenTypeIdOutOfRange(id: number, typeVocabSize: number, batchIndex: number, position: number): InputError {
    return new InputError(
      "TOKEN_TYPE_ID_OUT_OF_RANGE",
      `token type id ${id} at batch row ${batchIndex}, position ${position} is out of range: type_vocab_size is ${typeVocabSize}, so type ids must be integers in 0…${typeVocabSize - 1}`,
      { id, typeVocabSize, batchIndex, position },
    );
  }

  /** A sequence longer than the position-embedding table. */
  static sequenceTooLong(length: number, maxPositionEmbeddings: number, batchIndex?: number): InputError {
    const which = batchIndex === undefined ? "sequence" : `sequence at batch row ${batchIndex}`;
    return new InputError(
      "SEQUENCE_TOO_LONG",
      `${which} has ${length} tokens, more than max_position_embeddings = ${maxPositionEmbeddings}`,
      { length, maxPositionEmbeddings, batchIndex },
    );
  }

  /** A width or depth multiplier outside (0, 1]. */
  static multiplierOutOfRange(which: "width" | "depth", value: number): InputError {
    return new InputError("MULTIPLIER_OUT_OF_RANGE", `${which} multiplier must be in (0, 1], got ${value}`, {
      which,
      value,
    });
  }

  static emptyBatch(): InputError {
    return new InputError("EMPTY_BATCH", "the batch is empty: give at least one sequence");
  }

  /** Row `batchIndex` of `what` has `length` entries where `expected` were needed. */
  static raggedBatch(what: string, batchIndex: number, length: number, expected: number): InputError {
    return new InputError(
      "RAGGED_BATCH",
      `${what} row ${batchIndex} has ${length} entries but every row must have ${expected}; pad the batch to one length`,
      { what, batchIndex, length, expected },
    );
  }

  /** An attention-mask entry that is neither 0 nor 1. */
  static maskValueInvalid(value: number, batchIndex: number, position: number): InputError {
    return new InputError(
      "MASK_VALUE_INVALID",
      `attention mask value ${value} at batch row ${batchIndex}, position ${position} must be 0 or 1`,
      { value, batchIndex, position },
    );
  }
}

/** An option object passed to an API or the CLI has a missing, unknown or invalid entry. */
export class OptionError extends DynaBertError {
  override name = "OptionError";
  /** The option at fault, e.g. "latencyMs" or "--teacher-width". */
  readonly option?: string;

  constructor(code: string, message: string, where: { option?: string; details?: ErrorDetails } = {}) {
    super(code, message, where.details);
    if (where.option !== undefined) this.option = where.option;
  }
}
