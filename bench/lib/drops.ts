import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { generateEmployeeImport } from '../../src/demo/employee-import.ts';
import { DEMO_COLUMNS, generateDrop, toCsv, type DemoDrop, type DemoRecord } from '../../src/demo/generate.ts';
import { csvLine } from '../../src/shared/ledger/report.ts';

/**
 * Drop shapes the benchmarks use, all from the deterministic demo generator:
 * - `demo`: the realistic mix (org tree in shuffled order, 2.5 % bad rows, people who already exist);
 * - `flat`: everyone new and valid, no references to other people (clean per-row call counts);
 * - `identityOnly`: `flat` without Spend/Travel columns (rows end after the identity stage).
 */
export type DropShape = 'demo' | 'flat' | 'identityOnly';

const NEVER = 1_000_000_000;
const REFS = ['managerEmployeeNumber', 'spend.reportApproverEmployeeNumber', 'travel.managerEmployeeNumber'] as const;
const EXTENSION_COLUMNS = DEMO_COLUMNS.filter((c) => c.startsWith('spend.') || c.startsWith('travel.'));

/**
 * `tag` makes the people distinct from another drop's (employee numbers, userNames, emails), so
 * several drops can run against one simulator without meeting each other's users.
 */
export function benchDrop(people: number, shape: DropShape, seed = 1, tag?: number): DemoDrop {
  const drop =
    shape === 'demo'
      ? generateDrop({ people, seed })
      : generateDrop({ people, seed, badEvery: NEVER, existingEvery: NEVER });
  if (tag !== undefined) {
    for (const r of drop.records) retag(r, tag);
    for (const r of drop.existing) retag(r, tag);
  }
  if (shape === 'demo') return drop;
  for (const r of drop.records) {
    for (const c of REFS) r[c] = '';
    if (shape === 'identityOnly') for (const c of EXTENSION_COLUMNS) r[c] = '';
  }
  return drop;
}

export async function writeDrop(path: string, records: readonly DemoRecord[]): Promise<void> {
  await writeFile(path, toCsv(records));
}

/** Same person, another title: the drop has one field to PATCH. */
export function withTitle(r: DemoRecord, title: string): DemoRecord {
  return { ...r, title };
}

/** Employee numbers (and references to them), userName and email made unique to `tag`. */
function retag(r: DemoRecord, tag: number): void {
  const emp = (v: string): string => (v === '' ? v : `E${String(tag).padStart(4, '0')}${v.slice(1)}`);
  r.employeeNumber = emp(r.employeeNumber);
  for (const c of REFS) r[c] = emp(r[c]);
  r.userName = r.userName.replace('@', `.t${tag}@`);
  if (r.email.includes('@')) r.email = r.email.replace('@', `.t${tag}@`);
}

const BLOCK = 10_000;

/**
 * A large demo-shaped CSV written block by block (bounded memory): each block is a demo drop of
 * 10,000 people whose employee numbers, userNames and emails are made unique across blocks.
 */
export async function writeLargeCsv(path: string, rows: number, seed = 1): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (s: string): Promise<void> => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(csvLine(DEMO_COLUMNS));
  for (let b = 0, left = rows; left > 0; b += 1, left -= BLOCK) {
    const { records } = generateDrop({ people: Math.min(BLOCK, left), seed: seed + b });
    for (const r of records) {
      retag(r, b);
      await write(csvLine(DEMO_COLUMNS.map((c) => r[c])));
    }
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

/**
 * A large legacy employee import of about `lines` lines (the demo generator's mix of record types)
 * written block by block: each block is a demo file of 10,000 people with numbers of its own.
 * Returns the bytes and the lines written.
 */
export async function writeLargeEmployeeImport(
  path: string,
  lines: number,
  seed = 1,
): Promise<{ bytes: number; lines: number }> {
  const out = createWriteStream(path);
  let bytes = 0;
  let written = 0;
  const write = async (s: string): Promise<void> => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  for (let b = 0; written < lines; b += 1) {
    const { text } = generateEmployeeImport({ people: BLOCK, seed: seed + b, offset: b * BLOCK, noHeader: b > 0 });
    const blockLines = text.split('\r\n').filter((l) => l !== '');
    const take = blockLines.slice(0, lines - written);
    written += take.length;
    await write(`${take.join('\r\n')}\r\n`);
  }
  out.end();
  await once(out, 'finish');
  return { bytes, lines: written };
}
