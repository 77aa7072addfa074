/**
 * Reads the fields of a HF tokenizer_config.json that BertTokenizerFast
 * honours; every other field is ignored, as transformers does.
 */
import { TokenizerError } from "./errors.js";
import { describe } from "./vocab.js";

/** Names of the special tokens, when a config renames them. */
export interface SpecialTokenNames {
  readonly unk?: string;
  readonly cls?: string;
  readonly sep?: string;
  readonly pad?: string;
  readonly mask?: string;
}

export interface TokenizerConfigFields {
  readonly doLowerCase?: boolean;
  /** `null` in the file means "follow doLowerCase", as leaving it out does. */
  readonly stripAccents?: boolean;
  readonly tokenizeChineseChars?: boolean;
  /** Absent when the file has none or uses HF's "no limit" placeholder (int(1e30)). */
  readonly modelMaxLength?: number;
  readonly specialTokens: SpecialTokenNames;
}

const SPECIAL_FIELDS = { unk: "unk_token", cls: "cls_token", sep: "sep_token", pad: "pad_token", mask: "mask_token" } as const;

export function parseTokenizerConfig(text: string): TokenizerConfigFields {
  if (typeof text !== "string") {
    throw new TokenizerError("CONFIG_INVALID", `tokenizer_config.json must be given as its text (a string), got ${describe(text)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError("CONFIG_INVALID", `tokenizer_config.json is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new TokenizerError("CONFIG_INVALID", `tokenizer_config.json must hold a JSON object, got ${describe(json)}`);
  }
  const obj = json as Record<string, unknown>;
  const specialTokens: Record<string, string> = {};
  for (const [key, field] of Object.entries(SPECIAL_FIELDS)) {
    const name = tokenName(obj[field], field);
    if (name !== undefined) specialTokens[key] = name;
  }
  return {
    doLowerCase: optionalBoolean(obj, "do_lower_case"),
    stripAccents: optionalBoolean(obj, "strip_accents"),
    tokenizeChineseChars: optionalBoolean(obj, "tokenize_chinese_chars"),
    modelMaxLength: modelMaxLength(obj.model_max_length),
    specialTokens,
  };
}

function optionalBoolean(obj: Record<string, unknown>, field: string): boolean | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") {
    throw new TokenizerError("CONFIG_INVALID", `tokenizer_config.json field "${field}" must be true, false or null, got ${describe(value)}`, { field });
  }
  return value;
}

function modelMaxLength(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new TokenizerError("CONFIG_INVALID", `tokenizer_config.json field "model_max_length" must be a positive integer, got ${describe(value)}`, {
      field: "model_max_length",
    });
  }
  // transformers writes int(1e30) to mean "no limit"; no real model is that long.
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A special token is saved as a string or as an AddedToken object `{ content, ... }`. */
function tokenName(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "object" && typeof (value as { content?: unknown }).content === "string") return (value as { content: string }).content;
  throw new TokenizerError("CONFIG_INVALID", `tokenizer_config.json field "${field}" must be a token string or { "content": string }, got ${describe(value)}`, {
    field,
  });
}
