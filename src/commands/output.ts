import { terminalText, jsonText } from '../shared/safe-text.ts';

/*
 * How the CLI speaks to scripts (docs/errors.md#exit-codes): with `--json`, stdout carries exactly
 * one JSON document, the result or `{"error":{"code","message"}}`; stderr keeps the human line.
 * Timestamps in JSON are ISO 8601 strings.
 */

/** Whether the command line asks for JSON (before a `--`, which ends the options). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

let jsonOutput = false;

/** Set once by main() from the command line. */
export function setJsonOutput(on: boolean): void {
  jsonOutput = on;
}

/** A failure as scripts read it: one stderr line, and with `--json` the error object on stdout. */
export function printError(code: string, message: string): void {
  process.stderr.write(`${terminalText(message)}\n`);
  if (jsonOutput) process.stdout.write(`${jsonText(JSON.stringify({ error: { code, message } }))}\n`);
}

const EPOCH_MS_KEYS = /(At|since)$/;

/**
 * Epoch-millisecond timestamps (keys ending in `At`, and `since`) as ISO 8601 strings, at any
 * depth: what every `--json` output prints. The ledger and the API keep numbers.
 */
export function isoTimes<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => isoTimes(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] =
      EPOCH_MS_KEYS.test(k) && typeof v === 'number' && Number.isFinite(v) && v > 0
        ? new Date(v).toISOString()
        : isoTimes(v);
  }
  return out as T;
}

/** One JSON document on stdout, timestamps as ISO 8601. */
export function printJson(value: unknown): void {
  process.stdout.write(`${jsonText(JSON.stringify(isoTimes(value)))}\n`);
}
