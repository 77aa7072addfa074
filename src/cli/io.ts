/** File reading for the CLI with errors that name the file. */
import { readFile } from "node:fs/promises";
import { OptionError } from "../errors.js";

export async function readJsonFile(path: string, flag: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new OptionError("UNREADABLE_FILE", `${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { option: flag });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new OptionError("BAD_JSON", `${flag} ${path}: not valid JSON (${(e as Error).message})`, { option: flag });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OptionError("BAD_JSON", `${flag} ${path}: expected a JSON object`, { option: flag });
  }
  return value as Record<string, unknown>;
}

/** A field that must be an array of strings. */
export function stringList(obj: Record<string, unknown>, key: string, where: string): string[] {
  const v = obj[key];
  if (!Array.isArray(v) || v.some((t) => typeof t !== "string")) {
    throw new OptionError("BAD_JSON", `${where}: "${key}" must be an array of strings`);
  }
  return v as string[];
}
