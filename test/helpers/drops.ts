import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type DropRecord = Record<string, string>;

/** Writes rows as a CSV drop (header from the union of keys, quoted where needed). */
export function writeCsvDrop(
  rows: readonly DropRecord[],
  name = 'drop.csv',
  dir = mkdtempSync(join(tmpdir(), 'prov-drop-')),
): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c] ?? '')).join(','))];
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** A valid template row for person `n` (override any column). */
export function person(n: number, overrides: DropRecord = {}): DropRecord {
  return {
    userName: `person${n}@example.com`,
    givenName: `Given${n}`,
    familyName: `Family${n}`,
    email: `person${n}@example.com`,
    employeeNumber: `E${n}`,
    active: 'true',
    department: 'Engineering',
    ...overrides,
  };
}
