/**
 * The tokenizer's typed error. It extends the package-wide DynaBertError so
 * one `instanceof DynaBertError` catches everything the package throws.
 */
import { DynaBertError, type ErrorDetails } from "../errors.js";

type OpenCode<Known extends string> = Known | (string & {});

export type TokenizerErrorCode = OpenCode<
  | "VOCAB_INVALID" // vocab text is not a string
  | "VOCAB_EMPTY" // vocab text has no lines
  | "SPECIAL_TOKEN_MISSING" // [UNK], [CLS], [SEP] or [PAD] (or the configured name) absent from the vocab
  | "CONFIG_INVALID" // tokenizer_config.json is not JSON, not an object, or a field has the wrong type
  | "INPUT_INVALID" // a text is not a string, or a pair is not two strings
  | "OPTION_INVALID" // an option has the wrong type or value
  | "MAX_LENGTH_TOO_SMALL" // maxLength cannot hold the special tokens
>;

export class TokenizerError extends DynaBertError {
  override name = "TokenizerError";
  declare readonly code: TokenizerErrorCode;

  constructor(code: TokenizerErrorCode, message: string, details?: ErrorDetails) {
    super(code, message, details);
  }
}
