import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * A finished drop's rows are compacted into pages: one compressed string per PAGE_ROWS rows
 * instead of three hash fields per row. A hash field costs some 70 bytes of Redis bookkeeping
 * beside its value, and neighbouring outcomes (same keys, same provision ids) compress well.
 */
export const PAGE_ROWS = 1000;

/** A row as the ledger hashes hold it: its state and its outcome and record as stored JSON. */
export interface RawRow {
  state: string;
  out: string | null;
  data: string | null;
}

export function pageOf(row: number): number {
  return Math.floor((row - 1) / PAGE_ROWS);
}

/** The row numbers of a page (1-based rows), up to `total`. */
export function rowsOfPage(page: number, total: number): number[] {
  const first = page * PAGE_ROWS + 1;
  const last = Math.min(total, first + PAGE_ROWS - 1);
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
}

export function encodePage(rows: ReadonlyMap<number, RawRow>): Buffer {
  const entries = [...rows].sort(([a], [b]) => a - b).map(([row, r]) => [row, r.state, r.out, r.data]);
  return deflateRawSync(JSON.stringify(entries));
}

export function decodePage(buf: Buffer): Map<number, RawRow> {
  const entries = JSON.parse(inflateRawSync(buf).toString('utf8')) as [number, string, string | null, string | null][];
  return new Map(entries.map(([row, state, out, data]) => [row, { state, out, data }]));
}
