// Argument parsers shared by the command lines (bin/cli.ts, boards/cli.ts): each returns the
// value or throws commander's InvalidArgumentError saying what is allowed (the CLI prints it
// on one line and exits 2).
import { InvalidArgumentError } from "commander";
import { accessSync, constants, statSync } from "node:fs";

/** A number written in decimal (`-0.5`, `2e-3`, `+5`, `5.`), else NaN: Number() alone also
 *  takes `0x10`, `0b1`, `0o7`, padding (" 5") and "" (0), which no option here means. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
export function decimal(text: string): number {
  return DECIMAL.test(text) ? Number(text) : NaN;
}
/** A comma-separated list's numbers, each decimal() (spaces beside the commas allowed). */
export function decimals(text: string): number[] {
  return text.split(",").map((part) => decimal(part.trim()));
}
export function number(text: string, what: string): number {
  const value = decimal(text);
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`expected ${what}.`);
  return value;
}
export const positive = (text: string) => {
  const value = number(text, "a number > 0");
  if (!(value > 0)) throw new InvalidArgumentError("expected a number > 0.");
  return value;
};
export const nonNegative = (text: string) => {
  const value = number(text, "a number ≥ 0");
  if (value < 0) throw new InvalidArgumentError("expected a number ≥ 0.");
  return value;
};
/** A whole number from `low` to `high` (by default the largest u32: seeds and counts are u32s). */
export const wholeAtLeast = (low: number, high = 2 ** 32 - 1) => (text: string) => {
  const what = `a whole number from ${low} to ${high}`;
  const value = number(text, what);
  if (!Number.isInteger(value) || value < low || value > high) throw new InvalidArgumentError(`expected ${what}.`);
  return value;
};
export const port = (text: string) => {
  const value = number(text, "a port, a whole number from 0 to 65535");
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new InvalidArgumentError("expected a port, a whole number from 0 to 65535.");
  return value;
};
export const fraction = (text: string) => {
  const value = number(text, "a fraction in [0, 1)");
  if (value < 0 || value >= 1) throw new InvalidArgumentError("expected a fraction in [0, 1).");
  return value;
};
/** A name or a path: anything but empty (an empty --out would be the current directory). */
export const nonEmpty = (what: string) => (text: string) => {
  if (text.trim() === "") throw new InvalidArgumentError(`expected ${what}, not an empty string.`);
  return text;
};
/** A regular file that can be read (not a directory, a device or a missing path). */
export const existingFile = (text: string): string => {
  let stat;
  try {
    stat = statSync(text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(code === "ENOENT" ? "no such file." : `cannot be read (${code}).`);
  }
  if (stat.isDirectory()) throw new InvalidArgumentError("a directory; expected a file.");
  if (!stat.isFile()) throw new InvalidArgumentError("not a regular file.");
  try {
    accessSync(text, constants.R_OK);
  } catch {
    throw new InvalidArgumentError("not readable.");
  }
  return text;
};
