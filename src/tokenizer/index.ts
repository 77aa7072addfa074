/** BERT WordPiece tokenization matching HF's BertTokenizerFast. */
export {
  BertTokenizer,
  type BatchEncodeOptions,
  type BatchEncoding,
  type BertTokenizerOptions,
  type DecodeOptions,
  type EncodeInput,
  type EncodeOptions,
  type Encoding,
} from "./bert-tokenizer.js";
export type { SpecialTokenNames } from "./config.js";
export { TokenizerError, type TokenizerErrorCode } from "./errors.js";
export { Vocab } from "./vocab.js";
