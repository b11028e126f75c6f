/*
 * How the extension and status stages name a ledger row: `dropId:row` in the ready list, batch and
 * provision records, and `dropId.row` as a Bulk operation's `bulkId` (drop ids contain neither).
 */

/** A ledger row as the extension stage names it: `dropId:row`. */
export function entryOf(dropId: string, row: number): string {
  return `${dropId}:${row}`;
}

export function parseEntry(entry: string): { dropId: string; row: number } {
  const i = entry.lastIndexOf(':');
  return { dropId: entry.slice(0, i), row: Number(entry.slice(i + 1)) };
}

/** Groups `dropId:row` entries by drop (order kept). */
export function groupByDrop(entries: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const e of entries) {
    const { dropId, row } = parseEntry(e);
    const list = groups.get(dropId) ?? [];
    list.push(row);
    groups.set(dropId, list);
  }
  return groups;
}

/** The Bulk operation's `bulkId`: short, and maps back to the ledger row. */
export function bulkIdOf(dropId: string, row: number): string {
  return `${dropId}.${row}`;
}

export function parseBulkId(bulkId: string): { dropId: string; row: number } | undefined {
  const i = bulkId.lastIndexOf('.');
  if (i <= 0) return undefined;
  const row = Number(bulkId.slice(i + 1));
  return Number.isInteger(row) && row > 0 ? { dropId: bulkId.slice(0, i), row } : undefined;
}

/** An extension batch: rows cut off the ready list together, sent as one or more Bulk requests. */
export interface BatchRecord {
  batchId: string;
  entries: string[];
  createdAt: number;
  provisions: string[];
}

/** One accepted Bulk request: its provision id and the rows it carried. */
export interface ProvisionRecord {
  provisionId: string;
  batchId: string;
  entries: string[];
  submittedAt: number;
}
