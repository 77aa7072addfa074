/** Flag parsing shared by the subcommands: typed getters with errors that name the flag. */
import { parseArgs } from "node:util";
import { OptionError } from "../errors.js";

export type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

export class Flags {
  private constructor(
    private readonly command: string,
    private readonly values: Record<string, string | boolean | undefined>,
  ) {}

  static parse(command: string, argv: string[], spec: FlagSpec): Flags {
    try {
      const { values } = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false });
      return new Flags(command, values as Record<string, string | boolean | undefined>);
    } catch (e) {
      throw new OptionError("BAD_FLAG", `dynabert ${command}: ${(e as Error).message}`);
    }
  }

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  bool(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string;
  string(name: string, fallback: string | undefined): string | undefined;
  string(name: string, ...fallback: [string | undefined] | []): string | undefined {
    const v = this.values[name];
    if (typeof v === "string") return v;
    if (fallback.length > 0) return fallback[0];
    throw new OptionError("MISSING_FLAG", `dynabert ${this.command}: --${name} is required`, { option: `--${name}` });
  }

  number(name: string, fallback?: number, check: (n: number) => boolean = Number.isFinite, what = "a number"): number {
    const raw = this.string(name, fallback === undefined ? undefined : String(fallback));
    if (raw === undefined) throw new OptionError("MISSING_FLAG", `dynabert ${this.command}: --${name} is required`, { option: `--${name}` });
    const n = Number(raw);
    if (raw.trim() === "" || !check(n)) {
      throw new OptionError("BAD_FLAG", `dynabert ${this.command}: --${name} must be ${what}, got ${JSON.stringify(raw)}`, { option: `--${name}` });
    }
    return n;
  }

  positiveInt(name: string, fallback?: number): number {
    return this.number(name, fallback, (n) => Number.isInteger(n) && n > 0, "a positive integer");
  }

  /** A multiplier in (0, 1]. */
  fraction(name: string, fallback?: number): number {
    return this.number(name, fallback, (n) => n > 0 && n <= 1, "a number in (0, 1]");
  }
}
