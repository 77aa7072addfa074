/**
 * The task-data error. It extends the package-wide DynaBertError so one
 * `instanceof DynaBertError` catches everything the package throws.
 */
import { DynaBertError, type ErrorDetails } from "../errors.js";

type OpenCode<Known extends string> = Known | (string & {});

export type TaskErrorCode = OpenCode<
  | "MESSAGE_INVALID" // a raw message is not a string
  | "OPTION_INVALID" // an option has the wrong type or an impossible value
  | "CORPUS_INVALID" // the corpus package returned something other than the documented records
  | "VOCAB_TOO_SMALL" // vocabSize cannot hold the special tokens and the alphabet of the training texts
  | "TEXTS_INVALID" // the training texts are not an array of strings, or hold no word
>;

export class TaskError extends DynaBertError {
  override name = "TaskError";
  declare readonly code: TaskErrorCode;

  constructor(code: TaskErrorCode, message: string, details?: ErrorDetails) {
    super(code, message, details);
  }
}
