/**
 * Redis keys of the extension and status stages. They share the queue prefix (a `{hash tag}`),
 * so every multi-key script stays in one cluster slot.
 */
export interface ExtensionKeys {
  /** List of `dropId:row` entries whose identity is in place, waiting for a batch. */
  ready: string;
  /** Flush generation: a flush increments it before it cuts the list (see handoff.ts). */
  flushGen: string;
  /** Batch id sequence. */
  batchSeq: string;
  /** Hash batchId -> JSON { entries, createdAt, provisions }. Deleted once the batch is sent. */
  batches: string;
  /** Sorted set batchId -> createdAt of batches not yet fully sent (the sweep re-enqueues them). */
  unsent: string;
  /** Hash provisionId -> JSON { batchId, entries, submittedAt }. Deleted once settled. */
  provisions: string;
  /** Hash provisionId -> id of its current (delayed) status job, for the webhook to promote. */
  statusJobs: string;
  /** Prefix of webhook event-id de-duplication keys. */
  eventPrefix: string;
}

export function extensionKeys(prefix: string): ExtensionKeys {
  const base = `${prefix}:ext`;
  return {
    ready: `${base}:ready`,
    flushGen: `${base}:flushgen`,
    batchSeq: `${base}:batchseq`,
    batches: `${base}:batches`,
    unsent: `${base}:unsent`,
    provisions: `${base}:prov`,
    statusJobs: `${base}:statusjob`,
    eventPrefix: `${base}:event:`,
  };
}

/** A ledger row as the extension stage names it: `dropId:row` (drop ids never contain ':'). */
export function entryOf(dropId: string, row: number): string {
  return `${dropId}:${row}`;
}

export function parseEntry(entry: string): { dropId: string; row: number } {
  const i = entry.lastIndexOf(':');
  return { dropId: entry.slice(0, i), row: Number(entry.slice(i + 1)) };
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
